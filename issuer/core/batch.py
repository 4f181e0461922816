"""Batch import: spreadsheet rows -> validated `StudentRecord`s, or every error at once.

Pure: the rows come from `issuer.adapters.batchfile` (CSV or XLSX), already decoded to
strings, and are consumed as they stream past: only each student's state is kept (the
first row, the parsed results), never the rows themselves. Row 1 is the header, as the
registrar sees it in a spreadsheet. The format is documented in docs/batch-format.md. A
batch with any error yields no records: it is rejected whole, and the registrar gets the
complete list to fix in one pass. Dates are judged against `today`, which the caller
passes (the core never reads the clock).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from issuer.core import grading
from issuer.core.names import NameKind, name_problem, prefix_sex_conflicts
from issuer.core.records import (
    ActivityResult,
    Assessments,
    CourseResult,
    CourseType,
    Institution,
    InstitutionKind,
    Person,
    Programme,
    Student,
    StudentRecord,
    Term,
    starts_like_formula,
)

T = TypeVar("T")
E = TypeVar("E", bound="BatchError")

MAX_ROWS = 200_000  # data rows: 2,000 students x 54 rows (40 courses) is 108,000
MAX_COLUMNS = 64
MAX_CELL = 200  # characters in one cell

STUDENT_COLUMNS = (
    "institution_code", "student_id", "national_id", "prefix_th", "first_name_th",
    "last_name_th", "prefix_en", "first_name_en", "last_name_en", "birth_date",
    "sex", "nationality_th", "religion_th", "father_name_th", "mother_name_th",
    "admission_date", "previous_school_th", "graduation_date",
    "previous_school_province_th", "leave_date", "leave_reason_th", "form_set", "form_number",
)
PROGRAMME_COLUMNS = (
    "programme_code", "programme_name_th", "programme_name_en", "programme_level",
    "programme_total_hours", "programme_cohort",
)
ITEM_COLUMNS = (
    "academic_year", "semester", "code", "name_th", "name_en", "course_type", "credits",
    "hours", "grade", "learning_area",
)
ALL_COLUMNS = ("record_type", *STUDENT_COLUMNS, *PROGRAMME_COLUMNS, *ITEM_COLUMNS)
_ORDER = {c: i for i, c in enumerate(ALL_COLUMNS)}
# Columns repeated on every row of a student, which must agree.
PER_STUDENT = (*STUDENT_COLUMNS, *PROGRAMME_COLUMNS)
# Names and other free text: never starting as a spreadsheet formula would.
TEXT_COLUMNS = frozenset({
    "prefix_th", "first_name_th", "last_name_th", "prefix_en", "first_name_en",
    "last_name_en", "nationality_th", "religion_th", "father_name_th", "mother_name_th",
    "previous_school_th", "programme_name_th", "programme_name_en", "programme_cohort",
    "previous_school_province_th", "leave_reason_th", "form_set", "form_number",
    "student_id", "code", "name_th", "name_en",
})
# People's names: which characters, sequences and lengths each allows (issuer.core.names).
NAME_COLUMNS = {
    "prefix_th": NameKind.THAI_PREFIX, "first_name_th": NameKind.THAI,
    "last_name_th": NameKind.THAI, "prefix_en": NameKind.LATIN_PREFIX,
    "first_name_en": NameKind.LATIN, "last_name_en": NameKind.LATIN,
    "father_name_th": NameKind.THAI_FULL, "mother_name_th": NameKind.THAI_FULL,
}
_ITEM_TEXT = TEXT_COLUMNS & frozenset(ITEM_COLUMNS)
_STUDENT_TEXT = TEXT_COLUMNS - _ITEM_TEXT

_REQUIRED_ALWAYS = frozenset({
    "record_type", "institution_code", "student_id", "national_id", "prefix_th",
    "first_name_th", "last_name_th", "prefix_en", "first_name_en", "last_name_en",
    "birth_date", "programme_code", "programme_name_th", "programme_name_en",
    "academic_year", "semester", "code", "name_th", "name_en", "course_type", "hours", "grade",
})
REQUIRED_COLUMNS: dict[InstitutionKind, frozenset[str]] = {
    InstitutionKind.SCHOOL: _REQUIRED_ALWAYS | {"programme_level", "credits"},
    InstitutionKind.VOCATIONAL: _REQUIRED_ALWAYS | {"programme_total_hours"},
}

RECORD_TYPES = ("course", "activity", "assessment")
ASSESSMENT_CODES = ("reading_thinking_writing", "desirable_characteristics")
SCHOOL_LEVELS = frozenset(f"{p}.{n}" for p in "ปม" for n in range(1, 7))
SEXES = ("ชาย", "หญิง")
MAX_CREDITS = Decimal(10)
_AREA_BY_THAI = {th: key for key, (th, _) in grading.LEARNING_AREAS.items()}
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_THAI_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_INTEGER = re.compile(r"\d+(\.0+)?")
_DECIMAL = re.compile(r"\d+(\.\d+)?")


@dataclass(frozen=True)
class BatchError:
    """One problem in a batch file: where it is, what it holds and why it is wrong."""

    row: int  # as a spreadsheet numbers it: the header is row 1; 0 for the whole file
    column: str
    value: str
    reason_th: str
    reason_en: str

    def __str__(self) -> str:
        where = f"แถว/row {self.row}" if self.row else "ไฟล์/file"
        if self.column:
            where += f", {self.column}"
        if self.value:
            where += f' = "{self.value}"'
        return f"{where}: {self.reason_th} / {self.reason_en}"


@dataclass(frozen=True)
class BatchWarning(BatchError):
    """Something that may be right but looks wrong (a prefix against the sex): the batch is
    imported, and the registrar confirms it before the batch goes for approval."""


def dump_warnings(warnings: Iterable[BatchWarning]) -> str:
    """Warnings as JSON, as a batch stores them."""
    return json.dumps([dataclasses.asdict(w) for w in warnings], ensure_ascii=False)


def load_warnings(text: str | None) -> tuple[BatchWarning, ...]:
    """The warnings `dump_warnings` wrote, in file order."""
    return tuple(BatchWarning(**w) for w in json.loads(text or "[]"))


@dataclass(frozen=True)
class BatchResult:
    records: tuple[StudentRecord, ...]
    errors: tuple[BatchError, ...]
    warnings: tuple[BatchWarning, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


class Invalid(ValueError):
    """A value that fails a check: the reason in Thai and English."""

    def __init__(self, th: str, en: str) -> None:
        super().__init__(en)
        self.th, self.en = th, en


# --- value checks (each returns the parsed value or raises Invalid) -------------------

def national_id_ok(text: str) -> bool:
    """13 digits whose last is the Thai mod-11 check digit of the first 12."""
    if not re.fullmatch(r"\d{13}", text):
        return False
    total = sum(int(d) * (13 - i) for i, d in enumerate(text[:12]))
    return (11 - total % 11) % 10 == int(text[12])


def parse_national_id(text: str) -> str:
    digits = text.translate(_THAI_DIGITS).replace("-", "").replace(" ", "")
    if not re.fullmatch(r"\d{13}", digits):
        raise Invalid("เลขประจำตัวประชาชนต้องเป็นตัวเลข 13 หลัก",
                      "the national ID must be 13 digits")
    if not national_id_ok(digits):
        raise Invalid("เลขประจำตัวประชาชนไม่ถูกต้อง (หลักตรวจสอบไม่ตรง)",
                      "the national ID is invalid (check digit does not match)")
    return digits


def parse_date(text: str) -> date:
    """ISO ``2026-03-31`` (Christian Era) or Thai ``31/03/2569`` (Buddhist Era)."""
    text = text.translate(_THAI_DIGITS)
    if m := _ISO_DATE.fullmatch(text):
        year, month, day = (int(g) for g in m.groups())
        if year >= 2400:
            raise Invalid("วันที่แบบ ปปปป-ดด-วว ต้องใช้ปี ค.ศ. (หรือใช้ วว/ดด/ปปปป ปี พ.ศ.)",
                          "a YYYY-MM-DD date takes a CE year (or use DD/MM/YYYY with a BE year)")
    elif m := _THAI_DATE.fullmatch(text):
        day, month, year = (int(g) for g in m.groups())
        if year < 2400:
            raise Invalid("วันที่แบบ วว/ดด/ปปปป ต้องใช้ปี พ.ศ. เช่น 31/03/2569",
                          "a DD/MM/YYYY date takes a Buddhist Era year, e.g. 31/03/2569")
        year -= 543
    else:
        raise Invalid("รูปแบบวันที่ต้องเป็น 2026-03-31 หรือ 31/03/2569",
                      "a date must look like 2026-03-31 or 31/03/2569")
    if not 1900 <= year <= 2100:
        raise Invalid("ปีของวันที่ไม่สมเหตุสมผล", "the year of the date is out of range")
    try:
        return date(year, month, day)
    except ValueError:
        raise Invalid("ไม่มีวันที่นี้ในปฏิทิน", "no such calendar date") from None


def parse_int(text: str) -> int:
    """A whole number; ``40.0`` (a spreadsheet number) is read as 40."""
    text = text.translate(_THAI_DIGITS)
    if not _INTEGER.fullmatch(text):
        raise Invalid("ต้องเป็นจำนวนเต็ม", "must be a whole number")
    return int(Decimal(text))


def parse_credits(text: str) -> Decimal:
    """Credits: > 0, at most one decimal (1, 1.0, 1.5), returned with one decimal."""
    text = text.translate(_THAI_DIGITS)
    try:
        value = Decimal(text) if _DECIMAL.fullmatch(text) else None
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        value = None
    if value is None:
        raise Invalid("หน่วยกิตต้องเป็นตัวเลข เช่น 1.0 หรือ 1.5", "credits must be a number like 1.0")
    if value != value.quantize(Decimal("0.1")):
        raise Invalid("หน่วยกิตมีทศนิยมได้ไม่เกิน 1 ตำแหน่ง", "credits take at most one decimal")
    if not 0 < value <= MAX_CREDITS:
        raise Invalid(f"หน่วยกิตต้องมากกว่า 0 และไม่เกิน {MAX_CREDITS}",
                      f"credits must be above 0 and at most {MAX_CREDITS}")
    return value.quantize(Decimal("0.1"))


def column_letter(index: int) -> str:
    """Spreadsheet column name of a 0-based index: 0 -> A, 26 -> AA."""
    name = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        name = chr(65 + rem) + name
    return name


# --- rows -----------------------------------------------------------------------------

@dataclass
class _Row:
    number: int
    values: dict[str, str]
    errors: list[BatchError]
    missing: frozenset[str]

    def get(self, col: str) -> str:
        return self.values.get(col, "")

    def fail(self, col: str, th: str, en: str, value: str | None = None) -> None:
        shown = self.get(col) if value is None else value
        self.errors.append(BatchError(self.number, col, shown, th, en))

    def required(self, col: str) -> str | None:
        value = self.get(col)
        if not value and col not in self.missing:
            self.fail(col, "ต้องกรอกค่า", "a value is required")
        return value or None

    def check(self, col: str, parse: Callable[[str], T], *, required: bool = True) -> T | None:
        """Parse a column with `parse`; record the error and return None on failure."""
        value = self.required(col) if required else (self.get(col) or None)
        if value is None:
            return None
        try:
            return parse(value)
        except Invalid as e:
            self.fail(col, e.th, e.en)
            return None

    def must_be_blank(self, col: str, what_th: str, what_en: str) -> None:
        if self.get(col):
            self.fail(col, f"ต้องเว้นว่างสำหรับ{what_th}", f"must be empty for {what_en}")


def _one_of(options: Sequence[str], th: str, en: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value not in options:
            shown = ", ".join(options)
            raise Invalid(f"{th} ต้องเป็นหนึ่งใน: {shown}", f"{en} must be one of: {shown}")
        return value
    return parse


def _academic_year(text: str) -> int:
    year = parse_int(text)
    if not 2500 <= year <= 2700:
        raise Invalid("ปีการศึกษาต้องเป็นปี พ.ศ. เช่น 2566",
                      "the academic year must be a Buddhist Era year, e.g. 2566")
    return year


MAX_SERIAL = 20
_SERIAL = re.compile(r"[0-9A-Za-z][0-9A-Za-z/.-]*")


def _serial(text: str) -> str:
    """ชุดที่ or เลขที่ of the form's serial line: Arabic digits, Latin letters, / . -."""
    if len(text) > MAX_SERIAL or not _SERIAL.fullmatch(text):
        raise Invalid(f"ต้องเป็นตัวเลขหรืออักษรละติน (ใช้ / . - ได้) ไม่เกิน {MAX_SERIAL} ตัว",
                      f"digits or Latin letters (and / . -), at most {MAX_SERIAL} characters")
    return text


def _positive(text: str) -> int:
    value = parse_int(text)
    if value <= 0:
        raise Invalid("ต้องมากกว่า 0", "must be above 0")
    return value


# --- header ---------------------------------------------------------------------------

def _read_header(header: Sequence[str]) -> tuple[dict[str, int], list[tuple[int, BatchError]]]:
    """Column name -> index, and (index, error) for unknown and repeated columns.

    Errors name the column as written in row 1, with its spreadsheet letter in the reason.
    """
    index: dict[str, int] = {}
    errors: list[tuple[int, BatchError]] = []
    for i, cell in enumerate(header):
        name, letter = cell.strip().lower(), column_letter(i)
        if not name:
            continue
        if name not in ALL_COLUMNS:
            errors.append((i, BatchError(
                1, name, "", f"ไม่รู้จักชื่อคอลัมน์นี้ (คอลัมน์ {letter}) สะกดผิดหรือไม่",
                f"unknown column name, in column {letter} (a typo?)")))
        elif name in index:
            first = column_letter(index[name])
            errors.append((i, BatchError(
                1, name, "", f"ชื่อคอลัมน์ซ้ำ (คอลัมน์ {first} และ {letter})",
                f"the column appears twice (columns {first} and {letter})")))
        else:
            index[name] = i
    return index, errors


def _missing_columns(index: dict[str, int], kind: InstitutionKind) -> list[BatchError]:
    return [BatchError(1, name, "", "ไม่มีคอลัมน์ที่จำเป็นนี้", "this required column is missing")
            for name in ALL_COLUMNS if name in REQUIRED_COLUMNS[kind] and name not in index]


def _unnamed_column(i: int) -> tuple[int, BatchError]:
    letter = column_letter(i)
    return i, BatchError(1, letter, "", f"คอลัมน์ {letter} มีข้อมูลแต่ไม่มีชื่อหัวคอลัมน์",
                         f"column {letter} has values but no header")


def _check_names(row: _Row) -> None:
    """Malformed names (Thai spelling, digits, control characters, other symbols, length)
    are errors; a value already refused as a formula is not judged again."""
    for col, kind in NAME_COLUMNS.items():
        value = row.get(col)
        if not value or starts_like_formula(value):
            continue
        problem = name_problem(value, kind)
        if problem is not None:
            row.fail(col, problem.th, problem.en)


def _prefix_warnings(row: _Row) -> list[BatchWarning]:
    """A prefix that disagrees with the sex (or with the other prefix)."""
    return [BatchWarning(row.number, col, row.get(col), why.th, why.en)
            for col, why in prefix_sex_conflicts(row.get("prefix_th"), row.get("prefix_en"),
                                                 row.get("sex"))]


def _check_formulas(row: _Row, columns: Iterable[str]) -> None:
    """A name or other text starting with ``= + - @`` (a tab, a carriage return) is an
    error: a spreadsheet opening an export would run it as a formula."""
    for col in columns:
        if starts_like_formula(row.get(col)):
            row.fail(col, "ห้ามขึ้นต้นด้วย = + - @ (สเปรดชีตจะถือเป็นสูตร)",
                     "must not start with = + - or @ (a spreadsheet would run it as a "
                     "formula)")


# --- one student ----------------------------------------------------------------------

def _check_consistency(first: _Row, row: _Row, required: frozenset[str]) -> None:
    """Each student column of `row` equals the student's first row.

    A required value left blank is "required" (not "differs"); one blank in the first
    row is reported there only.
    """
    for col in PER_STUDENT:
        value, expected = row.get(col), first.get(col)
        if value == expected or (not expected and col in required):
            continue
        if not value and col in required:
            row.fail(col, "ต้องกรอกค่า", "a value is required")
        else:
            row.fail(col, f"ไม่ตรงกับแถว {first.number} ของนักเรียนคนเดียวกัน (\"{expected}\")",
                     f"differs from row {first.number} of the same student (\"{expected}\")")


def _student(row: _Row, institution: Institution, today: date) -> Student | None:
    code = row.required("institution_code")
    if code is not None and code != institution.code:
        row.fail("institution_code", f"ไม่ตรงกับรหัสสถานศึกษาที่นำเข้า ({institution.code})",
                 f"does not match the institution being imported ({institution.code})")
    names = [row.required(c) for c in ("prefix_th", "first_name_th", "last_name_th",
                                       "prefix_en", "first_name_en", "last_name_en")]
    student_id = row.required("student_id")
    national_id = row.check("national_id", parse_national_id)
    birth = row.check("birth_date", parse_date)
    admission = row.check("admission_date", parse_date, required=False)
    graduation = row.check("graduation_date", parse_date, required=False)
    sex = row.check("sex", _one_of(SEXES, "เพศ", "sex"), required=False)
    leave = row.check("leave_date", parse_date, required=False)
    for col in ("form_set", "form_number"):
        row.check(col, _serial, required=False)
    if leave and admission and leave < admission:
        row.fail("leave_date", "วันออกจากโรงเรียนต้องไม่ก่อนวันเข้าเรียน",
                 "the leaving date cannot be before the admission date")
    if leave and birth and leave <= birth:
        row.fail("leave_date", "วันออกจากโรงเรียนต้องอยู่หลังวันเกิด",
                 "the leaving date must be after the birth date")
    if row.get("leave_reason_th") and not leave:
        row.fail("leave_date", "ต้องกรอกวันออกจากโรงเรียนเมื่อมีสาเหตุที่ออก",
                 "a leaving reason needs the leaving date")
    if birth and birth > today:
        row.fail("birth_date", f"วันเกิดอยู่ในอนาคต (วันนี้คือ {_thai_date(today)})",
                 f"the birth date is in the future (today is {today.isoformat()})")
    if birth and admission and admission <= birth:
        row.fail("admission_date", "วันเข้าเรียนต้องอยู่หลังวันเกิด",
                 "the admission date must be after the birth date")
    if birth and graduation and graduation <= birth:
        row.fail("graduation_date", "วันจบต้องอยู่หลังวันเกิด",
                 "the graduation date must be after the birth date")
    if admission and graduation and graduation < admission:
        row.fail("graduation_date", "วันจบต้องไม่ก่อนวันเข้าเรียน",
                 "the graduation date cannot be before the admission date")
    if None in names or student_id is None or national_id is None or birth is None:
        return None
    return Student(
        student_id=student_id, national_id=national_id,
        name=Person(*names),  # type: ignore[arg-type]
        birth_date=birth, sex=sex or "",
        nationality_th=row.get("nationality_th") or "ไทย",
        religion_th=row.get("religion_th"),
        father_name_th=row.get("father_name_th"),
        mother_name_th=row.get("mother_name_th"),
        admission_date=admission,
        previous_school_th=row.get("previous_school_th"),
        previous_school_province_th=row.get("previous_school_province_th"),
        leave_date=leave,
        leave_reason_th=row.get("leave_reason_th"),
    )


def _programme(row: _Row, kind: InstitutionKind) -> Programme | None:
    code, th, en = (row.required(c) for c in
                    ("programme_code", "programme_name_th", "programme_name_en"))
    if kind is InstitutionKind.SCHOOL:
        level = row.check("programme_level", _one_of(sorted(SCHOOL_LEVELS), "ระดับชั้น", "level"))
        hours = row.check("programme_total_hours", parse_int, required=False) or 0
    else:
        level = row.get("programme_level")
        hours = row.check("programme_total_hours", _positive)
    if None in (code, th, en, level, hours):
        return None
    return Programme(code, th, en, level=level, total_hours=hours,  # type: ignore[arg-type]
                     cohort=cohort_number(row.get("programme_cohort")))


def _thai_date(d: date) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year + 543}"


def cohort_number(text: str) -> str:
    """``รุ่นที่ 1/2569`` or ``1/2569`` -> ``1/2569``: the forms print the word themselves."""
    for word in ("รุ่นที่", "รุ่น"):
        if text.startswith(word):
            return text.removeprefix(word).strip()
    return text


class _Items:
    """Collects one student's courses, activities and assessments, checking duplicates
    and noting results in academic years before the year of birth (`born_be`)."""

    def __init__(self, kind: InstitutionKind, level: str, born_be: int | None) -> None:
        self.kind, self.level, self.born_be = kind, level, born_be
        self.courses: list[CourseResult] = []
        self.activities: list[ActivityResult] = []
        self.assessments: dict[str, str] = {}
        self.seen: dict[tuple, int] = {}
        self.before_birth: list[tuple[int, int]] = []  # (row, academic year), at most one
        self.before_birth_count = 0

    def _check_year(self, row: _Row, year: int | None) -> None:
        if year is not None and self.born_be is not None and year < self.born_be:
            self.before_birth_count += 1
            if not self.before_birth:
                self.before_birth.append((row.number, year))

    def _duplicate(self, row: _Row, key: tuple, col: str, what_th: str, what_en: str) -> bool:
        if key in self.seen:
            row.fail(col, f"{what_th}ซ้ำกับแถว {self.seen[key]}",
                     f"{what_en} repeats row {self.seen[key]}")
            return True
        self.seen[key] = row.number
        return False

    def add(self, row: _Row, record_type: str) -> None:
        if record_type != "course" and self.kind is InstitutionKind.VOCATIONAL:
            row.fail("record_type", "ผู้เรียนหลักสูตรฝึกอาชีพมีได้เฉพาะแถว course",
                     "vocational batches have course rows only")
        elif record_type == "course":
            self._course(row)
        elif record_type == "activity":
            self._activity(row)
        else:
            self._assessment(row)

    def _course(self, row: _Row) -> None:
        school = self.kind is InstitutionKind.SCHOOL
        year = row.check("academic_year", _academic_year)
        self._check_year(row, year)
        semesters = ("1", "2") if school else ("0", "1", "2")
        if not school and not row.get("semester"):
            semester: int | None = 0
        else:
            semester = row.check("semester", lambda v: int(_one_of(
                semesters, "ภาคเรียน", "semester")(v.translate(_THAI_DIGITS))))
        code, th, en = (row.required(c) for c in ("code", "name_th", "name_en"))
        types = ("basic", "additional") if school else ("module",)
        ctype = row.check("course_type", _one_of(types, "ประเภทรายวิชา", "course_type"))
        grade = row.required("grade")
        if grade is not None and ctype is not None and not grading.is_valid_grade(
                self.kind, CourseType(ctype), grade):
            scale = grading.SCHOOL_GRADES if school else grading.MODULE_RESULTS
            shown = ", ".join(scale)
            row.fail("grade", f"ผลการเรียนไม่ถูกต้อง ต้องเป็นหนึ่งใน: {shown}",
                     f"not a valid result; one of: {shown}")
            grade = None
        if school:
            primary = self.level.startswith("ป.")
            hours = row.check("hours", parse_int, required=False) or 0
            if primary and not row.get("credits"):
                credits: Decimal | None = Decimal(0)
                if hours <= 0 and "hours" not in row.missing:
                    row.fail("hours", "ระดับประถมต้องระบุเวลาเรียน (ชั่วโมง) เมื่อไม่มีหน่วยกิต",
                             "a primary course without credits needs its hours")
            else:
                credits = row.check("credits", parse_credits)
            area = self._area(row, code)
        else:
            row.must_be_blank("credits", "หน่วยการฝึก", "a vocational module")
            row.must_be_blank("learning_area", "หน่วยการฝึก", "a vocational module")
            hours, credits, area = row.check("hours", _positive), Decimal(0), ""
        if None in (year, semester, code, th, en, ctype, grade, credits, hours, area):
            return
        if self._duplicate(row, ("course", year, semester, code), "code",
                           "รายวิชานี้ในภาคเรียนเดียวกัน", "this course in the same term"):
            return
        self.courses.append(CourseResult(
            term=Term(year, semester), code=code, name_th=th, name_en=en,  # type: ignore[arg-type]
            course_type=CourseType(ctype), grade=grade, credits=credits,  # type: ignore[arg-type]
            hours=hours, learning_area=area))  # type: ignore[arg-type]

    @staticmethod
    def _area(row: _Row, code: str | None) -> str | None:
        given = row.get("learning_area")
        if given:
            area = given if given in grading.LEARNING_AREAS else _AREA_BY_THAI.get(given)
            if area is None:
                shown = ", ".join(grading.LEARNING_AREAS)
                row.fail("learning_area", f"ไม่รู้จักกลุ่มสาระนี้ ใช้: {shown}",
                         f"unknown learning area; use: {shown}")
            return area
        area = grading.CODE_LETTERS.get((code or "")[:1])
        if code and area is None:
            row.fail("learning_area", "ระบุกลุ่มสาระไม่ได้จากรหัสวิชา กรุณากรอก",
                     "the learning area cannot be told from the course code: fill it in")
        return area

    def _activity(self, row: _Row) -> None:
        year = row.check("academic_year", _academic_year)
        self._check_year(row, year)
        row.must_be_blank("semester", "กิจกรรม (บันทึกรายปี)", "an activity (recorded per year)")
        row.must_be_blank("credits", "กิจกรรม", "an activity")
        th, en = row.required("name_th"), row.required("name_en")
        hours = row.check("hours", _positive)
        result = row.check("grade", _one_of(grading.ACTIVITY_RESULTS, "ผลกิจกรรม",
                                            "activity result"))
        if None in (year, th, en, hours, result):
            return
        if self._duplicate(row, ("activity", year, th), "name_th", "กิจกรรมนี้ในปีเดียวกัน",
                           "this activity in the same year"):
            return
        self.activities.append(ActivityResult(year, th, en, hours, result))  # type: ignore[arg-type]

    def _assessment(self, row: _Row) -> None:
        code = row.check("code", _one_of(ASSESSMENT_CODES, "รหัสการประเมิน", "assessment code"))
        result = row.check("grade", _one_of(grading.ASSESSMENT_RESULTS, "ผลการประเมิน",
                                            "assessment result"))
        if code is None or result is None:
            return
        if not self._duplicate(row, ("assessment", code), "code", "การประเมินนี้",
                               "this assessment"):
            self.assessments[code] = result


@dataclass
class _StudentState:
    """What the batch keeps of one student while the rows stream past."""

    first: _Row
    student: Student | None
    programme: Programme | None
    items: _Items
    types: set[str] = field(default_factory=set)  # record_type values as written
    assessment_codes: set[str] = field(default_factory=set)  # codes of assessment rows

    def add(self, row: _Row) -> None:
        written = row.get("record_type")
        self.types.add(written)
        if written == "assessment":
            self.assessment_codes.add(row.get("code"))
        record_type = row.check("record_type", _one_of(RECORD_TYPES, "ชนิดแถว", "record_type"))
        if record_type:
            self.items.add(row, record_type)

    def check_complete(self, kind: InstitutionKind) -> None:
        """Course rows, and a school student's two assessments; skipped where a row's type
        or assessment code is itself wrong (already reported)."""
        if not self.types <= set(RECORD_TYPES):
            return
        if "course" not in self.types:
            self.first.fail("record_type", "นักเรียนคนนี้ไม่มีแถวผลการเรียน (course)",
                            "this student has no course rows", value="")
        codes = self.assessment_codes
        if kind is InstitutionKind.VOCATIONAL or not codes <= set(ASSESSMENT_CODES):
            return
        for code in ASSESSMENT_CODES:
            if code not in codes:
                self.first.fail("record_type", f"ไม่มีแถว assessment ของ {code}",
                                f"no assessment row for {code}", value="")

    def check_years(self) -> None:
        """One error per student whose results lie in academic years before the year of
        birth, at the first such row."""
        if not self.items.before_birth:
            return
        (number, year), more = self.items.before_birth[0], self.items.before_birth_count - 1
        born = self.first.get("birth_date")
        th = (f"ปีการศึกษา {year} อยู่ก่อนปีเกิดของนักเรียน (เกิด {born} ตามแถว "
              f"{self.first.number})" + (f" และอีก {more} แถวของนักเรียนคนนี้" if more else "")
              + ": ตรวจวันเกิดและปีการศึกษา (ปี พ.ศ.)")
        en = (f"the academic year {year} is before the student's year of birth (born {born}, "
              f"row {self.first.number})" + (f"; and {more} more row{'s' * (more > 1)} of "
                                             "this student" if more else "")
              + ": check the birth date and the academic years (Buddhist Era)")
        self.first.errors.append(BatchError(number, "academic_year", str(year), th, en))

    def record(self, institution: Institution) -> StudentRecord:
        assert self.student is not None and self.programme is not None
        items = self.items
        return StudentRecord(
            institution_code=institution.code,
            student=self.student,
            programme=self.programme,
            courses=tuple(sorted(items.courses, key=lambda c: c.term.sort_key())),
            activities=tuple(sorted(items.activities, key=lambda a: a.year)),
            assessments=Assessments(**{k: items.assessments.get(k, "")
                                       for k in ASSESSMENT_CODES}),
            graduation_date=parse_date(self.first.get("graduation_date"))
            if self.first.get("graduation_date") else None,
            form_set=self.first.get("form_set"),
            form_number=self.first.get("form_number"),
        )


def _check_across_students(firsts: Iterable[_Row]) -> None:
    """One national ID per student; one definition per programme code."""
    ids: dict[str, int] = {}
    programmes: dict[str, _Row] = {}
    for first in firsts:
        nid = first.get("national_id").translate(_THAI_DIGITS).replace("-", "").replace(" ", "")
        if nid and nid in ids:
            first.fail("national_id", f"ซ้ำกับนักเรียนคนอื่นที่แถว {ids[nid]}",
                       f"the same as another student's, row {ids[nid]}")
        ids.setdefault(nid, first.number)
        other = programmes.setdefault(first.get("programme_code"), first)
        for col in ("programme_name_th", "programme_name_en", "programme_level",
                    "programme_total_hours"):
            if first.get(col) != other.get(col):
                first.fail(col, f"หลักสูตรรหัสเดียวกันต่างจากแถว {other.number}",
                           f"the same programme code differs from row {other.number}")


# --- the batch ------------------------------------------------------------------------

class _Batch:
    """Validates rows as they stream past, keeping per-student state only."""

    def __init__(self, header: Sequence[str], institution: Institution, today: date) -> None:
        self.institution, self.today = institution, today
        self.errors: list[BatchError] = []
        self.index, self.header_errors = _read_header(header)
        self.width = len(header)
        self.unnamed = [i for i, cell in enumerate(header) if not cell.strip()]
        self.stray: set[int] = set()  # unnamed columns that hold values
        self.missing = frozenset(REQUIRED_COLUMNS[institution.kind] - self.index.keys())
        self.students: dict[str, _StudentState] = {}
        self.warnings: list[BatchWarning] = []

    def add(self, number: int, raw: Sequence[str]) -> None:
        if not any(c.strip() for c in raw):
            return
        self._note_stray(raw)
        values = {col: raw[i].strip() if i < len(raw) else "" for col, i in self.index.items()}
        row = _Row(number, values, self.errors, self.missing)
        for col, value in values.items():
            if len(value) > MAX_CELL:
                row.fail(col, f"ยาวเกิน {MAX_CELL} ตัวอักษร", f"longer than {MAX_CELL} characters")
        _check_formulas(row, _ITEM_TEXT)
        key = row.required("student_id")
        if key is None:
            return
        state = self.students.get(key)
        if state is None:
            _check_formulas(row, _STUDENT_TEXT)  # once: later rows must agree with it
            _check_names(row)
            self.warnings.extend(_prefix_warnings(row))
            state = self.students[key] = self._new_student(row)
        else:
            _check_consistency(state.first, row, REQUIRED_COLUMNS[self.institution.kind])
        state.add(row)

    def _note_stray(self, raw: Sequence[str]) -> None:
        for i in self.unnamed:
            if i < len(raw) and raw[i].strip():
                self.stray.add(i)
        for i in range(self.width, len(raw)):
            if raw[i].strip():
                self.stray.add(i)

    def _new_student(self, first: _Row) -> _StudentState:
        kind = self.institution.kind
        student = _student(first, self.institution, self.today)
        programme = _programme(first, kind)
        birth = _quiet(parse_date, first.get("birth_date"))
        born_be = birth.year + 543 if birth and birth <= self.today else None
        items = _Items(kind, programme.level if programme else "", born_be)
        return _StudentState(first, student, programme, items)

    def result(self) -> BatchResult:
        header = sorted([*self.header_errors, *(_unnamed_column(i) for i in self.stray)],
                        key=lambda pair: pair[0])
        self.errors.extend(error for _, error in header)
        self.errors.extend(_missing_columns(self.index, self.institution.kind))
        if not self.students and not self.errors:
            self.errors.append(BatchError(2, "", "", "ไม่มีข้อมูลนักเรียน", "no student rows"))
        for state in self.students.values():
            state.check_complete(self.institution.kind)
            state.check_years()
        _check_across_students(state.first for state in self.students.values())
        warnings = sort_errors(self.warnings)
        if self.errors:
            return BatchResult((), sort_errors(self.errors), warnings)
        return BatchResult(tuple(s.record(self.institution) for s in self.students.values()),
                           (), warnings)


def parse_batch(rows: Iterable[Sequence[str]], institution: Institution, *,
                today: date) -> BatchResult:
    """Validate a whole batch as its rows stream past; the first row is the header
    (spreadsheet row 1). `today` is the date birth dates must not pass."""
    it = iter(rows)
    header = next(it, None)
    if header is None or not any(c.strip() for c in header):
        return _fail(BatchError(1, "", "", "ไม่มีหัวคอลัมน์ในแถวที่ 1", "row 1 holds no header"))
    if len(header) > MAX_COLUMNS:
        return _fail(BatchError(1, "", "", f"มีเกิน {MAX_COLUMNS} คอลัมน์",
                                f"more than {MAX_COLUMNS} columns"))
    batch = _Batch(header, institution, today)
    for number, raw in enumerate(it, start=2):
        if number - 1 > MAX_ROWS:
            return _fail(BatchError(0, "", "", f"ไฟล์มีเกิน {MAX_ROWS:,} แถว กรุณาแบ่งเป็นหลายไฟล์",
                                    f"more than {MAX_ROWS:,} rows: split the file"))
        batch.add(number, raw)
    return batch.result()


def sort_errors(errors: Iterable[E]) -> tuple[E, ...]:
    """By row, then by column in the documented order (the whole row's first)."""
    return tuple(sorted(errors, key=lambda e: (e.row, _ORDER.get(e.column, -1))))


def _quiet(parse: Callable[[str], T], text: str) -> T | None:
    """`parse(text)`, or None where it is invalid (reported elsewhere)."""
    try:
        return parse(text)
    except Invalid:
        return None


def _fail(error: BatchError) -> BatchResult:
    return BatchResult((), (error,))
