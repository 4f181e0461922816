"""CSV downloads, streamed in chunks, written by the one guarded writer
(`issuer.adapters.csvfile`: no cell a spreadsheet would run as a formula)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from flask import Response

from issuer.adapters.csvfile import lines

BOM = "\ufeff"  # Excel opens UTF-8 with it, Thai included


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[object]],
                 *, bom: bool = True) -> Response:
    """A streamed CSV download named `filename`."""
    def body() -> Iterator[str]:
        if bom:
            yield BOM
        yield from lines(header, rows)

    return Response(body(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
