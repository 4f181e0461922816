"""Read a batch file (CSV or XLSX) as a stream of rows of strings, and validate it.

A source is the file's bytes, a filesystem path, or a seekable binary file (a spooled
upload); rows are yielded one at a time and never held whole. CSV encodings, as Thai
school systems export them, told from the first ENCODING_PROBE bytes: a UTF-8 BOM ->
``utf-8-sig``; else valid UTF-8 -> ``utf-8``; else Windows-874 (a superset of TIS-620,
what Excel's plain "CSV" writes on Thai Windows), accepted only if the text holds Thai
letters; the rest is decoded incrementally with that codec, and a control character or
an undecodable byte anywhere refuses the file. XLSX through `issuer.adapters.xlsx` (first
worksheet, saved values; numbers and dates normalised to strings, "1.5", "40",
"2026-03-31").
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from typing import BinaryIO, TextIO

from issuer.adapters import xlsx_child
from issuer.adapters.xlsx import (
    MAX_PARTS_INFLATED,
    MAX_SHEET_INFLATED,
    CellProblem,
    XlsxError,
    XlsxSheet,
    cell_ref,
    cell_text,
)
from issuer.config import BANGKOK
from issuer.core.batch import (
    MAX_COLUMNS,
    MAX_ROWS,
    BatchError,
    BatchResult,
    column_letter,
    parse_batch,
    sort_errors,
)
from issuer.core.records import Institution

__all__ = ["BatchFileError", "Source", "cell_text", "decode_text", "load_batch", "read_csv",
           "read_rows", "read_xlsx"]

Source = bytes | str | os.PathLike[str] | BinaryIO

MB = 1024 * 1024
MAX_CSV_BYTES = 150 * MB  # 2,000 students x 40 courses: 82 MB (MB = MiB here)
MAX_XLSX_BYTES = 30 * MB  # the same as .xlsx: 16 MB (Excel's shared strings: less)
MAX_XLSX_UNPACKED = MAX_SHEET_INFLATED + MAX_PARTS_INFLATED  # declared, all parts
ENCODING_PROBE = 64 * 1024  # bytes of a CSV that decide its encoding
MAX_LINE = 1 << 20  # characters on one line of a CSV
PROGRESS_EVERY = 5_000  # data rows between calls of `progress`

_THAI = re.compile(r"[\u0e01-\u0e5b]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_ZIP, _OLE = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SPLIT_TH = "กรุณาแบ่งเป็นหลายไฟล์ (เช่น ไฟล์ละห้อง) โดยให้ทุกแถวของนักเรียนหนึ่งคนอยู่ในไฟล์เดียวกัน"
_SPLIT_EN = "split it into several files (by class, say), every row of a student in one file"


class BatchFileError(Exception):
    """The file cannot be read as a batch at all; `error` says why, in Thai and English."""

    def __init__(self, reason_th: str, reason_en: str) -> None:
        super().__init__(reason_en)
        self.error = BatchError(0, "", "", reason_th, reason_en)


UNREADABLE = (
    "อ่านไฟล์ไม่ได้: ต้องเป็น CSV แบบ UTF-8 หรือ TIS-620/Windows-874 (ภาษาไทย) หรือไฟล์ Excel .xlsx",
    "cannot read the file: it must be CSV in UTF-8 or TIS-620/Windows-874 (Thai), "
    "or an Excel .xlsx workbook")


# --- sources --------------------------------------------------------------------------

def _open(source: Source) -> tuple[BinaryIO, bool]:
    """A binary stream at its start, and whether it is ours to close."""
    if isinstance(source, bytes | bytearray | memoryview):
        return io.BytesIO(source), True
    if isinstance(source, str | os.PathLike):
        return open(source, "rb"), True  # closed by the row generator
    source.seek(0)
    return source, False


def _kind(source: Source) -> str:
    """"csv" or "xlsx", told by content; BatchFileError for an empty, old-Excel or
    oversized file."""
    stream, owned = _open(source)
    try:
        magic, size = stream.read(8), stream.seek(0, io.SEEK_END)
    finally:
        if owned:
            stream.close()
        else:
            stream.seek(0)
    if not size:
        raise BatchFileError("ไฟล์ว่างเปล่า", "the file is empty")
    if magic.startswith(_OLE):
        raise BatchFileError("ไฟล์ Excel รุ่นเก่า (.xls) ใช้ไม่ได้ กรุณาบันทึกเป็น .xlsx หรือ CSV",
                             "old Excel .xls files are not accepted: save as .xlsx or CSV")
    kind, limit = ("xlsx", MAX_XLSX_BYTES) if magic.startswith(_ZIP) else ("csv", MAX_CSV_BYTES)
    if size > limit:
        raise BatchFileError(f"ไฟล์ {kind.upper()} ใหญ่เกิน {limit // MB} MB: {_SPLIT_TH}",
                             f"the {kind.upper()} file is larger than {limit // MB} MB: "
                             f"{_SPLIT_EN}")
    return kind


def _eager(rows: Iterator[list[str]]) -> Iterator[list[str]]:
    """`rows` with its first row read now, so a file that fails at once raises here."""
    first = next(rows, None)
    return rows if first is None else itertools.chain([first], rows)


# --- CSV ------------------------------------------------------------------------------

def detect_encoding(head: bytes, *, complete: bool) -> str:
    """The codec of a CSV from its first bytes (`complete`: the whole file)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BatchFileError("ไฟล์เป็น UTF-16 (Unicode Text) กรุณาบันทึกเป็น CSV UTF-8",
                             "the file is UTF-16 (Unicode Text): save it as CSV UTF-8")
    candidates = ["utf-8-sig"] if head.startswith(codecs.BOM_UTF8) else ["utf-8", "cp874"]
    for codec in candidates:
        try:
            text = codecs.getincrementaldecoder(codec)().decode(head, final=complete)
        except UnicodeDecodeError:
            continue
        if _CONTROL.search(text) or (codec == "cp874" and not _THAI.search(text)):
            break
        return codec
    raise BatchFileError(*UNREADABLE)


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding name) of whole CSV bytes; BatchFileError if no encoding fits."""
    codec = detect_encoding(data, complete=True)
    return data.decode(codec), codec


def read_csv(source: Source) -> Iterator[list[str]]:
    """Rows of a comma-separated file (RFC 4180 quoting, as Excel writes it)."""
    stream, owned = _open(source)
    try:
        head = stream.read(ENCODING_PROBE)
        codec = detect_encoding(head, complete=len(head) < ENCODING_PROBE)
        stream.seek(0)
    except BaseException:
        if owned:
            stream.close()
        raise
    return _eager(_csv_rows(stream, codec, owned))


def _csv_rows(stream: BinaryIO, codec: str, owned: bool) -> Iterator[list[str]]:
    text = io.TextIOWrapper(stream, encoding=codec, errors="strict", newline="")
    number = 0
    try:
        for row in csv.reader(_lines(text)):
            number += 1
            if number == 1 and len(row) == 1 and (";" in row[0] or "\t" in row[0]):
                raise BatchFileError("ต้องคั่นคอลัมน์ด้วยเครื่องหมายจุลภาค (,)",
                                     "columns must be separated by commas")
            yield row
    except csv.Error as e:
        raise BatchFileError(f"รูปแบบ CSV ไม่ถูกต้อง (แถว {number + 1})",
                             f"malformed CSV near row {number + 1}: {e}") from None
    except UnicodeDecodeError:
        raise BatchFileError(*UNREADABLE) from None
    finally:
        if owned:
            text.close()
        else:
            text.detach()


def _lines(text: TextIO) -> Iterator[str]:
    """Lines as the csv module wants them; a control character refuses the file."""
    while line := text.readline(MAX_LINE):
        if _CONTROL.search(line):
            raise BatchFileError(*UNREADABLE)
        if len(line) == MAX_LINE and not line.endswith(("\n", "\r")):
            raise BatchFileError("มีบรรทัดยาวเกินไป ไฟล์นี้ไม่ใช่ CSV ของผลการเรียน",
                                 f"a line is longer than {MAX_LINE:,} characters: not a batch CSV")
        yield line


# --- XLSX -----------------------------------------------------------------------------

def read_xlsx(source: Source, problems: list[CellProblem] | None = None
              ) -> Iterator[list[str]]:
    """Rows of the first worksheet, cells as text (`issuer.adapters.xlsx`); formula cells
    without a saved value and merged ranges are appended to `problems`."""
    stream, owned = _open(source)
    try:
        z = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, EOFError):
        if owned:
            stream.close()
        raise BatchFileError("ไฟล์ .xlsx เสียหาย", "the .xlsx file is damaged") from None
    try:
        _check_zip(z)
        sheet = XlsxSheet(z, [] if problems is None else problems)
    except BaseException as e:
        z.close()
        if owned:
            stream.close()
        raise _xlsx_error(e) from None
    return _eager(_xlsx_rows(sheet, z, stream, owned))


def _check_zip(z: zipfile.ZipFile) -> None:
    if "xl/workbook.xml" not in z.NameToInfo:
        raise BatchFileError("ไฟล์นี้ไม่ใช่ Excel .xlsx (เช่น .ods หรือ .docx)",
                             "this is not an Excel .xlsx workbook (an .ods or .docx?)")
    if sum(i.file_size for i in z.infolist()) > MAX_XLSX_UNPACKED:
        limit = MAX_XLSX_UNPACKED // MB
        raise BatchFileError(f"ไฟล์ .xlsx เมื่อแตกไฟล์ใหญ่เกิน {limit} MB: {_SPLIT_TH}",
                             f"the .xlsx unpacks to more than {limit} MB: {_SPLIT_EN}")


def _xlsx_rows(sheet: XlsxSheet, z: zipfile.ZipFile, stream: BinaryIO, owned: bool
               ) -> Iterator[list[str]]:
    try:
        yield from sheet.rows()
    except (XlsxError, zipfile.BadZipFile, zlib.error, EOFError, OSError) as e:
        raise _xlsx_error(e) from None
    finally:
        z.close()
        if owned:
            stream.close()


def _xlsx_error(e: BaseException) -> BaseException:
    """A reading failure as a BatchFileError (other exceptions unchanged)."""
    if isinstance(e, BatchFileError):
        return e
    if isinstance(e, XlsxError):
        return BatchFileError(e.th, e.en)
    if isinstance(e, zipfile.BadZipFile | zlib.error | EOFError | OSError | KeyError):
        return BatchFileError("ไฟล์ .xlsx เสียหาย", "the .xlsx file is damaged")
    return e


# --- rows -----------------------------------------------------------------------------

def read_rows(source: Source, problems: list[CellProblem] | None = None, *,
              isolate: bool = False, usage: xlsx_child.Usage | None = None
              ) -> Iterator[list[str]]:
    """Rows of a CSV or XLSX file, told apart by content, not by file name, within the
    row and column limits. Problems of the file as a whole raise BatchFileError: those
    of its kind, size, encoding (as its first bytes show) and header row at once, later
    ones while the rows are read. With `isolate`, an XLSX is read by a child process
    with CPU and memory limits (`issuer.adapters.xlsx_child`; `usage` gets its figures)."""
    kind = _kind(source)
    if kind == "xlsx" and isolate:
        rows = _isolated(source, [] if problems is None else problems, usage)
    elif kind == "xlsx":
        rows = read_xlsx(source, problems)
    else:
        rows = read_csv(source)
    return _eager(_within_limits(rows))


def _isolated(source: Source, problems: list[CellProblem], usage: xlsx_child.Usage | None
              ) -> Iterator[list[str]]:
    stream, owned = _open(source)
    try:
        data = stream.read()
    finally:
        if owned:
            stream.close()
    try:
        yield from xlsx_child.read(data, problems, usage=usage)
    except xlsx_child.ChildFailed as e:
        raise BatchFileError(e.th, e.en) from None


def _within_limits(rows: Iterable[list[str]]) -> Iterator[list[str]]:
    for number, row in enumerate(rows, 1):
        if number > MAX_ROWS + 1:
            raise BatchFileError(f"ไฟล์มีเกิน {MAX_ROWS:,} แถว {_SPLIT_TH}",
                                 f"more than {MAX_ROWS:,} rows: {_SPLIT_EN}")
        if len(row) > MAX_COLUMNS:
            raise BatchFileError(f"แถว {number} มีเกิน {MAX_COLUMNS} คอลัมน์",
                                 f"row {number} has more than {MAX_COLUMNS} columns")
        yield row


def _watch(rows: Iterable[list[str]], header: list[str],
           progress: Callable[[int], None] | None) -> Iterator[list[str]]:
    """`rows`, keeping the header and reporting data rows to `progress` as they pass."""
    pending = 0
    for number, row in enumerate(rows):
        if number == 0:
            header.extend(row)
        elif progress is not None:
            pending += 1
            if pending == PROGRESS_EVERY:
                progress(pending)
                pending = 0
        yield row
    if pending and progress is not None:
        progress(pending)


# --- the batch ------------------------------------------------------------------------

def bangkok_today() -> date:
    return datetime.now(BANGKOK).date()


def load_batch(data: Source, institution: Institution, *, today: date | None = None,
               progress: Callable[[int], None] | None = None, isolate: bool = False
               ) -> BatchResult:
    """Read and validate a batch file: records, or every error (file-level errors as row 0).

    `data` is the file's bytes, a path, or a seekable binary file. `today` is the date a
    birth date must not pass (default: today in Bangkok; services should pass their
    clock's). `progress`, if given, is called with the number of data rows read since
    its last call, every PROGRESS_EVERY rows and once at the end. `isolate` reads an XLSX
    in a bounded child process (`read_rows`): what the services do with uploaded files.
    """
    problems: list[CellProblem] = []
    header: list[str] = []
    try:
        rows = _watch(read_rows(data, problems, isolate=isolate), header, progress)
        result = parse_batch(rows, institution, today=today or bangkok_today())
    except BatchFileError as e:
        return BatchResult((), (e.error,))
    if not problems:
        return result
    return BatchResult((), _with_cell_problems(result.errors, problems, header))


# --- XLSX cell problems ---------------------------------------------------------------

def _column_name(header: list[str], col: int) -> str:
    name = header[col].strip().lower() if col < len(header) else ""
    return name or column_letter(col)


def _with_cell_problems(errors: tuple[BatchError, ...], problems: list[CellProblem],
                        header: list[str]) -> tuple[BatchError, ...]:
    """The problems as errors, replacing the errors they cause (an empty cell)."""
    covered: set[tuple[int, str]] = set()
    below: dict[str, int] = {}  # column -> first row of formulas not named one by one
    out = []
    for p in problems:
        name = _column_name(header, p.column)
        out.append(_problem_error(p, name))
        if p.kind == "formula" and p.more:
            below[name] = p.row
        elif p.kind == "formula":
            covered.add((p.row, name))
        else:
            first, _, last = p.ref.partition(":")
            (top, left), (bottom, right) = cell_ref(first), cell_ref(last or first)
            covered.update((r, _column_name(header, c)) for r in range(top, bottom + 1)
                           for c in range(left, right + 1) if (r, c) != (top, left))
    kept = [e for e in errors if (e.row, e.column) not in covered
            and not (e.column in below and e.row >= below[e.column])]
    return sort_errors([*kept, *out])


def _problem_error(p: CellProblem, column: str) -> BatchError:
    if p.kind == "merged":
        return BatchError(p.row, column, "",
                          f"เซลล์ {p.ref} ถูกผสาน (merge): ยกเลิกการผสานเซลล์ "
                          "แล้วกรอกค่าให้ครบทุกแถว",
                          f"cells {p.ref} are merged: unmerge them and fill in every cell "
                          "(each row holds the whole of its student's details)")
    fix_th = "เปิดไฟล์ใน Excel แล้วบันทึกใหม่ หรือคัดลอกแล้ววางแบบค่า (Paste Values)"
    fix_en = "open the file in Excel and save it, or paste values"
    if p.more:
        return BatchError(p.row, column, "",
                          f"เซลล์ {p.ref} และอีก {p.more - 1} เซลล์ด้านล่างในคอลัมน์นี้ "
                          f"เป็นสูตรที่ไม่มีค่าที่บันทึกไว้: {fix_th}",
                          f"{p.ref} and {p.more - 1} more cells below it in this column: "
                          f"formulas without a saved value: {fix_en}")
    return BatchError(p.row, column, "", f"เซลล์ {p.ref} เป็นสูตรที่ไม่มีค่าที่บันทึกไว้: {fix_th}",
                      f"{p.ref}: a formula without a saved value: {fix_en}")
