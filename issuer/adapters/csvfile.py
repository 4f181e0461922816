"""The one CSV writer of the issuer: every cell guarded against spreadsheet formulas.

Every CSV the issuer hands out (the audit log on the web and from `transcripts audit
export`, graduates' claim links, a rejected upload's errors) is written here. A cell a
spreadsheet would run as a formula, one starting with ``= + - @``, a tab or a carriage
return (OWASP "CSV injection"), gets a leading apostrophe; so does a cell that starts
with an apostrophe, so `unguard` gives every value back exactly (the audit export is
read back and checked).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import TextIO

from issuer.core.records import FORMULA_STARTS

_GUARDED = (*FORMULA_STARTS, "'")


def guard(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_GUARDED) else text


def unguard(text: str) -> str:
    """The value `guard` was given."""
    return text[1:] if text.startswith("'") else text


def write(out: TextIO, header: Sequence[str], rows: Iterable[Sequence[object]], *,
          lineterminator: str = "\r\n") -> int:
    """Write `header` and `rows` to `out`; the number of rows written."""
    writer = csv.writer(out, lineterminator=lineterminator)
    writer.writerow([guard(h) for h in header])
    count = 0
    for row in rows:
        writer.writerow([guard(v) for v in row])
        count += 1
    return count


def lines(header: Sequence[str], rows: Iterable[Sequence[object]], *,
          every: int = 1000) -> Iterator[str]:
    """The CSV text of `header` and `rows`, `every` rows at a time (for streaming)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([guard(h) for h in header])
    for n, row in enumerate(rows, start=1):
        writer.writerow([guard(v) for v in row])
        if n % every == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()
