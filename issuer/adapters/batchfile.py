"""Read a batch file (CSV or XLSX bytes) into rows of strings for `issuer.core.batch`.

CSV encodings, as Thai school systems export them: a UTF-8 BOM -> ``utf-8-sig``; else
valid UTF-8 -> ``utf-8``; else Windows-874 (a superset of TIS-620, what Excel's plain
"CSV" writes on Thai Windows), accepted only if the text holds Thai letters and no
control characters. XLSX through openpyxl (first worksheet, cached values): numbers and
dates are normalised to strings (1.0 -> "1.0", 40 -> "40", a date -> "2026-03-31").
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, datetime, time

from issuer.core.batch import MAX_COLUMNS, MAX_ROWS, BatchError, BatchResult, parse_batch
from issuer.core.records import Institution

MAX_BYTES = 20 * 1024 * 1024
MAX_UNZIPPED = 200 * 1024 * 1024  # an XLSX whose parts inflate beyond this is refused

_THAI = re.compile(r"[\u0e01-\u0e5b]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_ZIP, _OLE = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class BatchFileError(Exception):
    """The file cannot be read as a batch at all; `error` says why, in Thai and English."""

    def __init__(self, reason_th: str, reason_en: str) -> None:
        super().__init__(reason_en)
        self.error = BatchError(0, "", "", reason_th, reason_en)


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding name) of CSV bytes; BatchFileError if no supported encoding fits."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BatchFileError("ไฟล์เป็น UTF-16 (Unicode Text) กรุณาบันทึกเป็น CSV UTF-8",
                             "the file is UTF-16 (Unicode Text): save it as CSV UTF-8")
    candidates = [("utf-8-sig", "utf-8-sig")] if data.startswith(b"\xef\xbb\xbf") else [
        ("utf-8", "utf-8"), ("cp874", "cp874")]
    for codec, name in candidates:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if _CONTROL.search(text):
            break
        if name == "cp874" and not _THAI.search(text):
            break
        return text, name
    raise BatchFileError(
        "อ่านไฟล์ไม่ได้: ต้องเป็น CSV แบบ UTF-8 หรือ TIS-620/Windows-874 (ภาษาไทย) "
        "หรือไฟล์ Excel .xlsx",
        "cannot read the file: it must be CSV in UTF-8 or TIS-620/Windows-874 (Thai), "
        "or an Excel .xlsx workbook")


def read_csv(data: bytes) -> list[list[str]]:
    """Rows of a comma-separated file (RFC 4180 quoting, as Excel writes it)."""
    text, _ = decode_text(data)
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline="")):
            rows.append(row)
            _check_size(len(rows), len(row))
    except csv.Error as e:
        raise BatchFileError(f"รูปแบบ CSV ไม่ถูกต้อง (แถว {len(rows) + 1})",
                             f"malformed CSV near row {len(rows) + 1}: {e}") from None
    if rows and len(rows[0]) == 1 and (";" in rows[0][0] or "\t" in rows[0][0]):
        raise BatchFileError("ต้องคั่นคอลัมน์ด้วยเครื่องหมายจุลภาค (,)",
                             "columns must be separated by commas")
    return rows


def cell_text(value: object) -> str:
    """A spreadsheet cell as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def read_xlsx(data: bytes) -> list[list[str]]:
    """Rows of the first worksheet, cells normalised with `cell_text`."""
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
            inflated = sum(i.file_size for i in z.infolist())
    except zipfile.BadZipFile:
        raise BatchFileError("ไฟล์ .xlsx เสียหาย", "the .xlsx file is damaged") from None
    if "xl/workbook.xml" not in names:
        raise BatchFileError("ไฟล์นี้ไม่ใช่ Excel .xlsx (เช่น .ods หรือ .docx)",
                             "this is not an Excel .xlsx workbook (an .ods or .docx?)")
    if inflated > MAX_UNZIPPED:
        raise BatchFileError("ไฟล์ .xlsx ใหญ่เกินไปเมื่อแตกไฟล์", "the .xlsx is too large unpacked")
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds on a malformed workbook
        raise BatchFileError("อ่านไฟล์ .xlsx ไม่ได้", f"cannot read the .xlsx: {e}") from None
    try:
        rows: list[list[str]] = []
        for values in wb.worksheets[0].iter_rows(values_only=True):
            row = [cell_text(v) for v in values]
            while row and not row[-1]:
                row.pop()
            rows.append(row)
            _check_size(len(rows), len(row))
    finally:
        wb.close()
    while rows and not rows[-1]:
        rows.pop()
    return rows


def _check_size(n_rows: int, n_cols: int) -> None:
    if n_rows > MAX_ROWS + 1:
        raise BatchFileError(f"ไฟล์มีเกิน {MAX_ROWS:,} แถว กรุณาแบ่งเป็นหลายไฟล์",
                             f"more than {MAX_ROWS:,} rows: split the file")
    if n_cols > MAX_COLUMNS:
        raise BatchFileError(f"แถว {n_rows} มีเกิน {MAX_COLUMNS} คอลัมน์",
                             f"row {n_rows} has more than {MAX_COLUMNS} columns")


def read_rows(data: bytes) -> list[list[str]]:
    """Rows of a CSV or XLSX file, told apart by content, not by file name."""
    if not data:
        raise BatchFileError("ไฟล์ว่างเปล่า", "the file is empty")
    if len(data) > MAX_BYTES:
        raise BatchFileError(f"ไฟล์ใหญ่เกิน {MAX_BYTES // (1024 * 1024)} MB",
                             f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    if data.startswith(_ZIP):
        return read_xlsx(data)
    if data.startswith(_OLE):
        raise BatchFileError("ไฟล์ Excel รุ่นเก่า (.xls) ใช้ไม่ได้ กรุณาบันทึกเป็น .xlsx หรือ CSV",
                             "old Excel .xls files are not accepted: save as .xlsx or CSV")
    return read_csv(data)


def load_batch(data: bytes, institution: Institution) -> BatchResult:
    """Read and validate a batch file: records, or every error (file-level errors as row 0)."""
    try:
        rows = read_rows(data)
    except BatchFileError as e:
        return BatchResult((), (e.error,))
    return parse_batch(rows, institution)
