"""Hostile XLSX workbooks from the ASVS review (issue 10), made in the test rather than
kept as binary files: a deep entity chain, an undefined entity and a shared-strings bomb.

Each is a valid workbook (the sample's parts) with one part replaced, so everything up to
that part reads as a real file would.
"""

from __future__ import annotations

import functools
import io
import zipfile
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
MAIN_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
SHARED = "xl/sharedStrings.xml"


def _with_part(name: str, body: bytes, *, level: int = 6) -> bytes:
    """The sample school workbook with part `name` replaced (or added)."""
    src_data = (EXAMPLES / "school-batch.xlsx").read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src_data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as dst:
        for info in src.infolist():
            if info.filename != name:
                dst.writestr(info.filename, src.read(info.filename))
        dst.writestr(name, body)
    return out.getvalue()


@functools.cache
def entity_chain(depth: int = 50_000) -> bytes:
    """Shared strings whose one text is an entity defined through `depth` others: expat
    recurses once per level (the review's 259 KB file crashed the worker, SIGSEGV)."""
    decls = [b'<!ENTITY e0 "x">'] + [b'<!ENTITY e%d "&e%d;">' % (i, i - 1)
                                      for i in range(1, depth)]
    body = (b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE sst [' + b"".join(decls)
            + b"]>\n<sst " + MAIN_NS.encode() + b' count="1" uniqueCount="1"><si><t>&e%d;'
            b"</t></si></sst>" % (depth - 1))
    return _with_part(SHARED, body)


@functools.cache
def undefined_entity() -> bytes:
    """Shared strings using an entity nobody declared (a bare 500 in the review)."""
    body = (b'<?xml version="1.0" encoding="UTF-8"?>\n<sst ' + MAIN_NS.encode()
            + b' count="1" uniqueCount="1"><si><t>&nobody;</t></si></sst>')
    return _with_part(SHARED, body)


@functools.cache
def shared_strings_bomb(megabytes: int = 190) -> bytes:
    """A small file whose shared strings inflate to `megabytes` MB of distinct-looking
    texts (the review's 654 KB file took 18 s of CPU and 580 MB of memory)."""
    text = b"A" * 4000
    count = megabytes * (1 << 20) // (len(text) + 13)
    body = b"".join([b'<?xml version="1.0" encoding="UTF-8"?>\n<sst ', MAIN_NS.encode(),
                     b">", b"<si><t>%s</t></si>" % text * count, b"</sst>"])
    return _with_part(SHARED, body)
