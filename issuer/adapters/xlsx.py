"""Stream the first worksheet of an XLSX workbook as rows of text, one row at a time.

openpyxl's read-only mode spends ~30 s on a 2,000-student sheet and hides a formula
without a saved value behind an empty cell, so the sheet is read here with an
ElementTree pull parser: the cells of each ``<row>`` are turned into text and the row is
dropped before the next. Shared strings, styles (which numbers are dates) and the
workbook (which part is the first worksheet, the 1904 date system) are read first;
openpyxl's public helpers convert numbers and classify number formats, so cells read as
openpyxl reads them.

Every XML part is parsed by defusedxml with document type declarations forbidden: the
parser refuses a DTD when it meets one, so no entity is ever declared or expanded (an
entity chain, a "billion laughs", an external entity). What the parts inflate to is
counted as it comes out of the decompressor (`Inflated`): the worksheet, streamed, at most
MAX_SHEET_INFLATED bytes; every other part together (shared strings, styles, workbook,
relationships), held in memory while read, at most MAX_PARTS_INFLATED.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import IO
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

from issuer.core.batch import column_letter

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_ROW, _C, _V, _F, _IS, _T, _R = (MAIN + t for t in ("row", "c", "v", "f", "is", "t", "r"))
_CHUNK = 1 << 16
MB = 1 << 20
MAX_SHEET_INFLATED = 400 * MB  # the worksheet, streamed (2,000 x 40 cohort inline: 298 MB)
MAX_PARTS_INFLATED = 50 * MB  # every other part together, held in memory while read
MAX_SHARED_STRINGS = 1_000_000  # distinct texts (the 2,000 x 40 bench cohort has 4,264)
FORMULAS_NAMED = 20  # formula cells without a value named one by one, per column
MAX_SHEET_ROWS, MAX_SHEET_COLUMNS = 1_048_576, 16_384  # Excel's own limits


class XlsxError(Exception):
    """The workbook cannot be read; the reason in Thai and English."""

    def __init__(self, th: str, en: str) -> None:
        super().__init__(en)
        self.th, self.en = th, en


DAMAGED = ("ไฟล์ .xlsx เสียหาย", "the .xlsx file is damaged")


@dataclass(frozen=True)
class CellProblem:
    """A cell whose value cannot be trusted: a formula without a saved value, or a merged
    range. `row` and `column` (1-based row, 0-based column) locate its first cell."""

    kind: str  # "formula" or "merged"
    row: int
    column: int
    ref: str  # "H17" or "A5:A20"
    more: int = 0  # further formula cells of the same column, not named


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


def column_index(ref: str) -> int:
    """0-based column of a cell reference: "A1" -> 0, "AF17" -> 31 (-1 if it has none)."""
    letters = ref.rstrip("0123456789")
    index = _COLUMNS.get(letters)
    if index is None:
        index = -1
        if letters.isascii() and letters.isupper() and len(letters) <= 3:
            index = 0
            for ch in letters:
                index = index * 26 + ord(ch) - 64
            _COLUMNS[letters] = index = index - 1
    return index


_COLUMNS: dict[str, int] = {}


# --- safe XML ---------------------------------------------------------------------------

class Inflated:
    """What the parts of one workbook may inflate to, counted as bytes come out of the
    decompressor (a ZIP's declared sizes are checked first, but need not be true)."""

    def __init__(self, sheet: int | None = None, other: int | None = None) -> None:
        self.sheet = MAX_SHEET_INFLATED if sheet is None else sheet
        self.other = MAX_PARTS_INFLATED if other is None else other
        self.used_sheet = self.used_other = 0

    def open(self, z: zipfile.ZipFile, name: str, *, sheet: bool = False) -> _Counted:
        return _Counted(z.open(name), self, sheet)

    def take(self, n: int, sheet: bool) -> None:
        if sheet:
            self.used_sheet += n
            if self.used_sheet > self.sheet:
                raise XlsxError(*too_large("worksheet", self.sheet))
        else:
            self.used_other += n
            if self.used_other > self.other:
                raise XlsxError(*too_large("other", self.other))


def too_large(what: str, limit: int) -> tuple[str, str]:
    """The error of a workbook whose `what` ("worksheet" or "other" parts) inflates past
    `limit` bytes."""
    mb = limit // (1 << 20)
    if what == "worksheet":
        return (f"แผ่นงานในไฟล์ .xlsx เมื่อแตกไฟล์ใหญ่เกิน {mb} MB",
                f"the .xlsx worksheet unpacks to more than {mb} MB")
    return (f"ส่วนอื่นของไฟล์ .xlsx (ข้อความที่ใช้ร่วมกัน รูปแบบ ฯลฯ) เมื่อแตกไฟล์ใหญ่เกิน {mb} MB",
            f"the other parts of the .xlsx (shared texts, styles ...) unpack to more than "
            f"{mb} MB")


class _Counted(io.RawIOBase):
    """A part being inflated, its bytes charged to an `Inflated` budget."""

    def __init__(self, raw: IO[bytes], budget: Inflated, sheet: bool) -> None:
        self.raw, self.budget, self.is_sheet = raw, budget, sheet

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(_CHUNK if size is None or size < 0 else min(size, _CHUNK))
        self.budget.take(len(data), self.is_sheet)
        return data

    def close(self) -> None:
        self.raw.close()
        super().close()


REFUSED_DTD = ("ไฟล์ .xlsx ไม่ปลอดภัย (มีการประกาศ DTD) ไม่อ่านไฟล์นี้",
               "the .xlsx is refused: an XML part declares a DTD")


def _events(stream: IO[bytes], events: tuple[str, ...] = ("end",)
            ) -> Iterator[tuple[str, Element]]:
    """The pull-parser events of one XML part (defusedxml: a document type declaration,
    and so any entity declaration or external reference, is refused before it is read);
    XlsxError if it has one or is not well-formed."""
    try:
        yield from iterparse(stream, events, forbid_dtd=True, forbid_entities=True,
                             forbid_external=True)
    except DefusedXmlException:
        raise XlsxError(*REFUSED_DTD) from None
    except ParseError:
        raise XlsxError(*DAMAGED) from None


def _root(z: zipfile.ZipFile, name: str, budget: Inflated) -> Element:
    """A small part as a tree."""
    last = None
    with budget.open(z, name) as f:
        for _, element in _events(f):
            last = element
    if last is None:  # pragma: no cover - the parser fails on a part without a root
        raise XlsxError(*DAMAGED)
    return last


# --- the workbook -----------------------------------------------------------------------

def _rels(z: zipfile.ZipFile, part: str, budget: Inflated) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, part name) of `part` (e.g. xl/workbook.xml)."""
    folder, base = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", base + ".rels")
    if rels not in z.NameToInfo:
        return {}
    out = {}
    for rel in _root(z, rels, budget).iter(PKG_REL + "Relationship"):
        target = rel.get("Target", "")
        name = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join(folder, target))
        out[rel.get("Id", "")] = (rel.get("Type", "").rsplit("/", 1)[-1], name)
    return out


def _first_worksheet(z: zipfile.ZipFile, budget: Inflated) -> tuple[str, bool]:
    """(part name of the first worksheet, whether dates count from 1904)."""
    workbook = _root(z, "xl/workbook.xml", budget)
    rels = _rels(z, "xl/workbook.xml", budget)
    pr = workbook.find(MAIN + "workbookPr")
    date1904 = pr is not None and pr.get("date1904", "").lower() in ("1", "true")
    for sheet in workbook.iter(MAIN + "sheet"):
        kind, name = rels.get(sheet.get(REL + "id", ""), ("", ""))
        if kind == "worksheet" and name in z.NameToInfo:
            return name, date1904
    raise XlsxError("ไม่พบแผ่นงาน (worksheet) ในไฟล์ .xlsx", "the .xlsx holds no worksheet")


def _date_styles(z: zipfile.ZipFile, budget: Inflated) -> frozenset[int]:
    """Indexes of the cell styles (``s``) whose number format shows a date."""
    if "xl/styles.xml" not in z.NameToInfo:
        return frozenset()
    styles = _root(z, "xl/styles.xml", budget)
    custom = {_number(f.get("numFmtId"), -1, 1 << 16): f.get("formatCode", "")
              for f in styles.iter(MAIN + "numFmt")}
    xfs = styles.find(MAIN + "cellXfs")
    dates = set()
    for i, xf in enumerate(xfs if xfs is not None else ()):
        fmt_id = _number(xf.get("numFmtId"), 0, 1 << 16)
        if is_date_format(custom.get(fmt_id) or BUILTIN_FORMATS.get(fmt_id, "")):
            dates.add(i)
    return frozenset(dates)


def _text(element: Element) -> str:
    """The text of a shared or inline string: its ``t``, or the ``t`` of each rich-text
    run (phonetic guides, ``rPh``, left out)."""
    if len(element) == 1 and element[0].tag == _T:
        return element[0].text or ""
    parts = []
    for child in element:
        if child.tag == _T:
            parts.append(child.text or "")
        elif child.tag == _R:
            parts.extend(t.text or "" for t in child if t.tag == _T)
    return "".join(parts)


def _shared_strings(z: zipfile.ZipFile, rels: dict[str, tuple[str, str]], budget: Inflated
                    ) -> list[str]:
    names = [name for kind, name in rels.values() if kind == "sharedStrings"]
    name = names[0] if names else "xl/sharedStrings.xml"
    if name not in z.NameToInfo:
        return []
    strings: list[str] = []
    with budget.open(z, name) as f:
        for _, element in _events(f):
            if element.tag == MAIN + "si":
                strings.append(_text(element))
                element.clear()
                if len(strings) > MAX_SHARED_STRINGS:
                    raise XlsxError(
                        f"ไฟล์ .xlsx มีข้อความต่างกันเกิน {MAX_SHARED_STRINGS:,} รายการ",
                        f"the .xlsx holds more than {MAX_SHARED_STRINGS:,} distinct texts")
    return strings


# --- the sheet --------------------------------------------------------------------------

class XlsxSheet:
    """The first worksheet of an open workbook; `rows()` streams it once.

    Blank rows are yielded as ``[]`` (so row numbers match the spreadsheet) except at the
    end; trailing empty cells are dropped. Formula cells without a saved value and merged
    ranges over the data are appended to `problems` (merged ranges, and the count of
    formula cells past FORMULAS_NAMED in a column, once the sheet is read).
    """

    def __init__(self, z: zipfile.ZipFile, problems: list[CellProblem],
                 budget: Inflated | None = None) -> None:
        self.z, self.problems = z, problems
        self.budget = budget or Inflated()
        self.part, date1904 = _first_worksheet(z, self.budget)
        self.epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900
        self.dates = _date_styles(z, self.budget)
        self.strings = _shared_strings(z, _rels(z, "xl/workbook.xml", self.budget),
                                       self.budget)
        self.formulas: dict[int, int] = {}  # column -> formula cells without a value
        self.unnamed: dict[int, tuple[int, str]] = {}  # column -> first cell not named
        self.last_row = self.last_data_row = self.width = 0

    def rows(self) -> Iterator[list[str]]:
        try:
            yield from self._rows()
        except ParseError:
            raise XlsxError(*DAMAGED) from None
        for col, (number, ref) in self.unnamed.items():
            self.problems.append(CellProblem("formula", number, col, ref,
                                             more=self.formulas[col] - FORMULAS_NAMED))

    def _rows(self) -> Iterator[list[str]]:
        blank = 0
        with self.budget.open(self.z, self.part, sheet=True) as f:
            for _, element in _events(f):
                if element.tag == _ROW:
                    number = _number(element.get("r"), self.last_row + 1, MAX_SHEET_ROWS)
                    if number <= self.last_row:
                        raise XlsxError(*DAMAGED)
                    row = self._row(element, number)
                    element.clear()
                    blank += number - self.last_row - 1
                    self.last_row = number
                    if not row:
                        blank += 1
                        continue
                    yield from ([] for _ in range(blank))
                    blank = 0
                    self.last_data_row, self.width = number, max(self.width, len(row))
                    yield row
                elif element.tag == MAIN + "mergeCell":
                    self._merged(element.get("ref", ""))

    def _row(self, element: Element, number: int) -> list[str]:
        row: list[str] = []
        for cell in element:
            if cell.tag != _C:
                continue
            ref = cell.get("r")
            col = column_index(ref) if ref else len(row)
            if not 0 <= col < MAX_SHEET_COLUMNS:
                raise XlsxError(*DAMAGED)
            text = self._cell(cell, number, col)
            if text:
                if col < len(row):
                    raise XlsxError(*DAMAGED)
                row.extend([""] * (col - len(row)))
                row.append(text)
        return row

    def _cell(self, cell: Element, number: int, col: int) -> str:
        kind = cell.get("t", "n")
        value: str | None = None
        formula = False
        for child in cell:
            if child.tag == _V:
                value = child.text or ""
            elif child.tag == _IS:
                value = _text(child)
            elif child.tag == _F:
                formula = True
        if formula and not value and not (kind == "str" and value is not None):
            self._formula(number, col)
            return ""
        return self._convert(kind, value, cell.get("s")) if value else ""

    def _convert(self, kind: str, value: str, style: str | None) -> str:
        if kind == "s":
            index = _number(value, -1, len(self.strings) - 1)
            return self.strings[index] if index >= 0 else ""
        if kind == "b":
            return "TRUE" if value == "1" else "FALSE"
        if kind == "d":
            try:
                return cell_text(datetime.fromisoformat(value))
            except ValueError:
                return value
        if kind != "n":  # inlineStr, str (a formula's text), e (an error such as #N/A)
            return value
        try:
            number: float | int = float(value) if "." in value or "e" in value.lower() \
                else int(value)
        except ValueError:
            raise XlsxError(*DAMAGED) from None
        if style is not None and style.isdigit() and int(style) in self.dates:
            try:
                return cell_text(from_excel(number, self.epoch))
            except (ValueError, OverflowError):
                pass
        return cell_text(number)

    def _formula(self, number: int, col: int) -> None:
        count = self.formulas[col] = self.formulas.get(col, 0) + 1
        ref = f"{column_letter(col)}{number}"
        if count <= FORMULAS_NAMED:
            self.problems.append(CellProblem("formula", number, col, ref))
        elif count == FORMULAS_NAMED + 1:
            self.unnamed[col] = (number, ref)

    def _merged(self, ref: str) -> None:
        first, _, last = ref.partition(":")
        (top, left), (bottom, right) = cell_ref(first), cell_ref(last or first)
        if bottom < top or right < left:
            raise XlsxError(*DAMAGED)
        if top <= self.last_data_row and left < self.width:
            self.problems.append(CellProblem("merged", top, left, ref))


def _number(text: str | None, default: int, limit: int) -> int:
    """A whole number from an attribute or value, `default` when absent; XlsxError when
    it is not one or exceeds `limit`."""
    if text is None:
        return default
    if not text.isdigit() or int(text) > limit:
        raise XlsxError(*DAMAGED)
    return int(text)


def cell_ref(ref: str) -> tuple[int, int]:
    """(1-based row, 0-based column) of "H17"."""
    digits = ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    col = column_index(ref)
    if not digits.isdigit() or not 0 <= col < MAX_SHEET_COLUMNS:
        raise XlsxError(*DAMAGED)
    return int(digits), col
