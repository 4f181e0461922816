"""The transcript record: plain, immutable domain data with no I/O.

A `TranscriptRecord` is everything one transcript version states. Its JSON form
(`to_json`) is canonicalised (RFC 8785) and embedded in the PDF as
`transcript.json`; its digest goes into the QR credential.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from issuer.core.refusal import Refusal

SCHEMA_BASE = "https://transcripts.bangkok.go.th/schema/transcript"
SCHEMA_VERSION = 4
"""Version 4 (this one): the digests of the student's photo and the institution's emblem
as printed (`photo_sha256`, `emblem_sha256`, hex SHA-256 or null). Version 3: the form's
serial line (`form_set`, `form_number`), the previous school's province, the leaving date
and reason. Version 2: the summary carries every number
the page prints, and vocational records have their own shape. Version 1 (the first issued
records) had no published schema."""


def schema_url(kind: InstitutionKind, version: int = SCHEMA_VERSION) -> str:
    """The `$id` of the JSON Schema a record of `kind` follows (published by the issuer)."""
    return f"{SCHEMA_BASE}/{kind.value}/v{version}.json"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet run a cell as a formula (OWASP "CSV
injection"): a name never starts with one, and every CSV export guards against them."""


def starts_like_formula(text: str) -> bool:
    """Whether a name or other free text starts as a spreadsheet formula would."""
    return text.startswith(FORMULA_STARTS)


MAX_REASON = 500
"""Characters in a reason (revocation, rejection, withdrawal, new version): stored, shown
on pages and in the audit log, so bounded."""


class InvalidReason(Refusal, ValueError):
    """A reason that breaks a rule of `reason_text`."""


def reason_text(text: str) -> str:
    """A reason as stored: stripped, required, at most MAX_REASON characters; InvalidReason
    (a ValueError) saying which rule it breaks."""
    text = text.strip()
    if not text:
        raise InvalidReason("a reason is required")
    if len(text) > MAX_REASON:
        raise InvalidReason("a reason is at most %(max)s characters (%(given)s given)",
                            max=MAX_REASON, given=format(len(text), ","))
    return text


class InstitutionKind(StrEnum):
    SCHOOL = "school"
    VOCATIONAL = "vocational"


@dataclass(frozen=True)
class Institution:
    code: str
    kind: InstitutionKind
    name_th: str
    name_en: str
    district_th: str = ""
    district_en: str = ""
    subdistrict_th: str = ""  # ตำบล/แขวง (e.g. แขวงทุ่งมหาเมฆ)
    subdistrict_en: str = ""
    province_th: str = "กรุงเทพมหานคร"
    province_en: str = "Bangkok"
    affiliation_th: str = "สำนักการศึกษา กรุงเทพมหานคร"
    affiliation_en: str = "Education Department, Bangkok Metropolitan Administration"
    emblem_sha256: str = ""  # hex SHA-256 of the emblem as printed (normalised PNG); "" none


@dataclass(frozen=True)
class Term:
    """An academic term; `year` is the Buddhist Era academic year (e.g. 2568)."""

    year: int
    semester: int  # 1 or 2; 0 for a whole-year or a vocational course

    def label_th(self) -> str:
        if self.semester:
            return f"ปีการศึกษา {self.year} ภาคเรียนที่ {self.semester}"
        return f"ปีการศึกษา {self.year}"

    def label_en(self) -> str:
        ce = self.year - 543
        if self.semester:
            return f"Academic year {ce}/{ce + 1}, semester {self.semester}"
        return f"Academic year {ce}/{ce + 1}"

    def sort_key(self) -> tuple[int, int]:
        return (self.year, self.semester)


class CourseType(StrEnum):
    BASIC = "basic"  # รายวิชาพื้นฐาน
    ADDITIONAL = "additional"  # รายวิชาเพิ่มเติม
    MODULE = "module"  # a vocational course module (hours, pass/fail)


@dataclass(frozen=True)
class CourseResult:
    """One course taken in one term and its result.

    School courses carry `credits` (one decimal, e.g. 1.5) and a grade from the
    ปพ.1 scale; vocational modules carry `hours` and ผ่าน/ไม่ผ่าน.
    """

    term: Term
    code: str
    name_th: str
    name_en: str
    course_type: CourseType
    grade: str
    credits: Decimal = Decimal("0")
    hours: int = 0
    learning_area: str = ""  # ปพ.1 learning-area key, see grading.LEARNING_AREAS


@dataclass(frozen=True)
class ActivityResult:
    """A learner-development activity (กิจกรรมพัฒนาผู้เรียน) in one year: ผ or มผ."""

    year: int
    name_th: str
    name_en: str
    hours: int
    result: str


@dataclass(frozen=True)
class Programme:
    """What the student completed: a school level (e.g. ม.3) or a vocational course."""

    code: str
    name_th: str
    name_en: str
    level: str = ""  # "ป.6", "ม.3", "ม.6" for schools; hours band for vocational
    total_hours: int = 0  # vocational course length (200, 150, 90, 48 ...)
    cohort: str = ""  # รุ่น of a vocational course


@dataclass(frozen=True)
class Person:
    prefix_th: str
    first_name_th: str
    last_name_th: str
    prefix_en: str
    first_name_en: str
    last_name_en: str

    @property
    def name_th(self) -> str:
        """Given and family name without the title: what the QR credential carries."""
        return f"{self.first_name_th} {self.last_name_th}"

    @property
    def name_en(self) -> str:
        """Given and family name in English, without the title (the QR carries it too)."""
        return f"{self.first_name_en} {self.last_name_en}".strip()

    @property
    def full_name_th(self) -> str:
        return f"{self.prefix_th}{self.first_name_th} {self.last_name_th}"

    @property
    def full_name_en(self) -> str:
        return f"{self.prefix_en} {self.first_name_en} {self.last_name_en}".strip()


@dataclass(frozen=True)
class Student:
    student_id: str  # เลขประจำตัวนักเรียน / ผู้เรียน
    national_id: str  # 13 digits; printed on the page, hashed in the record
    name: Person
    birth_date: date
    sex: str = ""  # "ชาย"/"หญิง" as the school supplies it
    nationality_th: str = "ไทย"
    religion_th: str = ""  # PDPA-sensitive: printed only if supplied, never in the QR
    father_name_th: str = ""
    mother_name_th: str = ""
    admission_date: date | None = None
    previous_school_th: str = ""
    previous_school_province_th: str = ""  # จังหวัด of the previous school
    leave_date: date | None = None  # วันออกจากโรงเรียน
    leave_reason_th: str = ""  # สาเหตุที่ออก (e.g. จบการศึกษา, ย้ายโรงเรียน)
    photo_sha256: str = ""  # hex SHA-256 of the photo as printed (normalised JPEG); "" none


@dataclass(frozen=True)
class Signatory:
    role_th: str
    role_en: str
    name_th: str
    name_en: str


@dataclass(frozen=True)
class Assessments:
    """ปพ.1 summary assessments (empty strings for vocational records)."""

    reading_thinking_writing: str = ""  # ดีเยี่ยม/ดี/ผ่าน/ไม่ผ่าน
    desirable_characteristics: str = ""  # ดีเยี่ยม/ดี/ผ่าน/ไม่ผ่าน


@dataclass(frozen=True)
class StudentRecord:
    """What a batch file states about one student (before issuance)."""

    institution_code: str
    student: Student
    programme: Programme
    courses: tuple[CourseResult, ...]
    activities: tuple[ActivityResult, ...] = ()
    assessments: Assessments = field(default_factory=Assessments)
    graduation_date: date | None = None
    signatories: tuple[Signatory, ...] = ()
    form_set: str = ""  # ชุดที่ of the form's serial line (the controlled-stock series)
    form_number: str = ""  # เลขที่ of the serial line (a certificate's number)


@dataclass(frozen=True)
class TermSummary:
    term: Term
    credits_attempted: Decimal
    credits_earned: Decimal
    gpa: Decimal | None
    hours: int = 0  # hours of the term's courses (what ปพ.1:ป states instead of credits)


@dataclass(frozen=True)
class TypeSummary:
    """Courses of one type (basic or additional): studied and earned, against the rule."""

    course_type: CourseType
    credits_attempted: Decimal
    credits_earned: Decimal
    hours_attempted: int
    hours_earned: int
    credits_required: Decimal | None  # None where the stage has no credit threshold
    passed: bool


@dataclass(frozen=True)
class AreaSummary:
    """One row of the back page's learning-area table."""

    key: str
    name_th: str
    name_en: str
    credits_attempted: Decimal
    credits_earned: Decimal
    hours: int
    gpa: Decimal | None


@dataclass(frozen=True)
class AssessmentLine:
    """One line of สรุปผลการประเมิน: what was assessed, its result, whether it passes."""

    key: str  # "reading_thinking_writing", "desirable_characteristics", "activities"
    name_th: str
    name_en: str
    result: str  # as recorded (ดีเยี่ยม/ดี/ผ่าน/ไม่ผ่าน); "" for the activities line
    passed: bool


@dataclass(frozen=True)
class Decision:
    """ผลการตัดสิน: graduated or not, in the form's words."""

    graduated: bool
    th: str
    en: str


@dataclass(frozen=True)
class Summary:
    """Computed results: filled in by `grading.summarise`, never by the batch file."""

    terms: tuple[TermSummary, ...]
    credits_basic: Decimal
    credits_additional: Decimal
    credits_earned: Decimal
    gpa: Decimal | None  # cumulative (GPAX); None for vocational records
    hours_total: int
    hours_passed: int
    graduated: bool
    graduation_problems: tuple[str, ...] = ()
    stage: str = ""  # levels.Stage value; "" for vocational records
    form: str = ""  # ปพ.1 variant: ป, บ or พ
    course_types: tuple[TypeSummary, ...] = ()
    areas: tuple[AreaSummary, ...] = ()
    assessments: tuple[AssessmentLine, ...] = ()
    activity_hours: int = 0
    modules_total: int = 0
    modules_passed: int = 0
    decision: Decision | None = None


@dataclass(frozen=True)
class TranscriptRecord:
    """One issued transcript version: the authoritative, signed data."""

    transcript_id: str
    version: int
    institution: Institution
    record: StudentRecord
    summary: Summary
    issued_at: datetime
    status_index: int
    national_id_salt: str  # base64url; the record holds sha256(salt || national_id)

    @property
    def schema(self) -> str:
        """The `$id` of the JSON Schema this record's `transcript.json` follows."""
        return schema_url(self.institution.kind)
