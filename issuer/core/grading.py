"""Grading: ปพ.1 grade scales, GPA, credits and graduation checks (pure, no I/O).

The rules follow the Ministry of Education's basic-education assessment guideline
(แนวปฏิบัติการวัดและประเมินผลการเรียนรู้ ตามหลักสูตรแกนกลางการศึกษาขั้นพื้นฐาน พ.ศ. 2551).
Its wording was not retrieved verbatim (see /work/shared/FORMS.md): the scale, the credit
thresholds and the GPA rule below are as the ปพ.1 form, school pages and registrars state them.

- GPA (ผลการเรียนเฉลี่ย) = Σ(grade × credits) / Σ credits over numeric grades only, computed
  with exact decimals and TRUNCATED (not rounded) to two decimals: 2.8999 -> 2.89. Truncation
  is the practice of OBEC (สพฐ.) schools; if the guideline says otherwise, it wins.
- A course with no credits (primary, ปพ.1:ป, which states hours) weighs its hours at
  40 hours = 1 credit, the curriculum's own equivalence.
- Credits attempted (หน่วยกิตที่เรียน): every school course with a numeric grade, ร or มส.
  Credits earned (หน่วยกิตที่ได้): courses graded 1 or above; 0, ร and มส earn nothing until
  the school records a corrected grade.
- Vocational modules are pass/fail with hours; a vocational record has no GPA.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from issuer.core.records import (
    CourseResult,
    CourseType,
    InstitutionKind,
    StudentRecord,
    Summary,
    Term,
    TermSummary,
)

# --- scales ---------------------------------------------------------------------------

NUMERIC_GRADES: tuple[str, ...] = ("4", "3.5", "3", "2.5", "2", "1.5", "1", "0")
INCOMPLETE = "ร"  # ไม่สมบูรณ์: incomplete, no grade yet
NOT_ELIGIBLE = "มส"  # ไม่มีสิทธิ์เข้าสอบ: not eligible to sit the final assessment
NON_NUMERIC_GRADES: tuple[str, ...] = (INCOMPLETE, NOT_ELIGIBLE)
SCHOOL_GRADES: tuple[str, ...] = NUMERIC_GRADES + NON_NUMERIC_GRADES
ACTIVITY_PASS, ACTIVITY_FAIL = "ผ", "มผ"
ACTIVITY_RESULTS: tuple[str, ...] = (ACTIVITY_PASS, ACTIVITY_FAIL)
ASSESSMENT_RESULTS: tuple[str, ...] = ("ดีเยี่ยม", "ดี", "ผ่าน", "ไม่ผ่าน")
ASSESSMENT_PASSING: frozenset[str] = frozenset(ASSESSMENT_RESULTS[:3])
MODULE_PASS, MODULE_FAIL = "ผ่าน", "ไม่ผ่าน"
MODULE_RESULTS: tuple[str, ...] = (MODULE_PASS, MODULE_FAIL)

HOURS_PER_CREDIT = 40
PASSING_GRADE = Decimal("1")
_CENT = Decimal("0.01")

# ปพ.1 learning areas (กลุ่มสาระการเรียนรู้) and independent study, in the form's order.
LEARNING_AREAS: dict[str, tuple[str, str]] = {
    "thai": ("ภาษาไทย", "Thai Language"),
    "math": ("คณิตศาสตร์", "Mathematics"),
    "science": ("วิทยาศาสตร์และเทคโนโลยี", "Science and Technology"),
    "social": ("สังคมศึกษา ศาสนา และวัฒนธรรม", "Social Studies, Religion and Culture"),
    "health": ("สุขศึกษาและพลศึกษา", "Health and Physical Education"),
    "arts": ("ศิลปะ", "Arts"),
    "career": ("การงานอาชีพ", "Occupations"),
    "foreign": ("ภาษาต่างประเทศ", "Foreign Languages"),
    "is": ("การศึกษาค้นคว้าด้วยตนเอง", "Independent Study"),
}
# The first letter of an OBEC course code names its area (ท21101 -> thai). Foreign
# languages: อ English, จ Chinese, ญ Japanese, ฝ French, ย German, ข Khmer, ร Russian,
# ต Arabic; IS codes start with a Latin I (I20201).
CODE_LETTERS: dict[str, str] = {
    "ท": "thai", "ค": "math", "ว": "science", "ส": "social", "พ": "health", "ศ": "arts",
    "ง": "career", **dict.fromkeys("อจญฝยขรต", "foreign"), "I": "is",
}

# Graduation thresholds by level: (basic, additional, total) credits earned.
CREDIT_RULES: dict[str, tuple[Decimal, Decimal, Decimal]] = {
    "ม.3": (Decimal(66), Decimal(11), Decimal(77)),
    "ม.6": (Decimal(41), Decimal(36), Decimal(77)),
}
PRIMARY_LEVEL = "ป.6"


# --- helpers --------------------------------------------------------------------------

def truncate2(value: Decimal) -> Decimal:
    """Truncate (toward zero) to two decimals: 2.8999 -> 2.89, never rounded up."""
    return value.quantize(_CENT, rounding=ROUND_DOWN)


def grade_value(grade: str) -> Decimal | None:
    """The numeric value of a ปพ.1 grade, or None for ร, มส and anything else."""
    return Decimal(grade) if grade in NUMERIC_GRADES else None


def is_valid_grade(kind: InstitutionKind, course_type: CourseType, grade: str) -> bool:
    """Whether `grade` belongs to the scale of this institution kind and course type."""
    if kind is InstitutionKind.VOCATIONAL:
        return course_type is CourseType.MODULE and grade in MODULE_RESULTS
    return course_type in (CourseType.BASIC, CourseType.ADDITIONAL) and grade in SCHOOL_GRADES


def is_passed(course: CourseResult) -> bool:
    """A school course graded 1 or above, or a vocational module ผ่าน."""
    if course.course_type is CourseType.MODULE:
        return course.grade == MODULE_PASS
    value = grade_value(course.grade)
    return value is not None and value >= PASSING_GRADE


def weight(course: CourseResult) -> Decimal:
    """GPA weight: the credits, or for a course without credits its hours / 40."""
    if course.credits > 0:
        return course.credits
    return Decimal(course.hours) / HOURS_PER_CREDIT


def gpa(courses: Iterable[CourseResult]) -> Decimal | None:
    """Σ(grade × weight) / Σ weight over numeric grades, truncated; None if nothing counts."""
    points = total = Decimal(0)
    for c in courses:
        value = grade_value(c.grade)
        if value is None or c.course_type is CourseType.MODULE:
            continue
        w = weight(c)
        points += value * w
        total += w
    return truncate2(points / total) if total > 0 else None


def credits_attempted(courses: Iterable[CourseResult]) -> Decimal:
    """Credits of school courses with a numeric grade, ร or มส."""
    return sum((c.credits for c in courses if c.grade in SCHOOL_GRADES
                and c.course_type is not CourseType.MODULE), Decimal(0))


def credits_earned(courses: Iterable[CourseResult]) -> Decimal:
    """Credits of school courses graded 1 or above."""
    return sum((c.credits for c in courses
                if c.course_type is not CourseType.MODULE and is_passed(c)), Decimal(0))


def area_of(course: CourseResult) -> str:
    """The course's learning-area key: its own, else the one its code's first letter names."""
    if course.learning_area in LEARNING_AREAS:
        return course.learning_area
    return CODE_LETTERS.get(course.code[:1], "")


@dataclass(frozen=True)
class AreaSummary:
    """One row of the back page's learning-area table."""

    key: str
    name_th: str
    name_en: str
    credits_attempted: Decimal
    credits_earned: Decimal
    gpa: Decimal | None


def learning_area_summary(courses: Sequence[CourseResult]) -> tuple[AreaSummary, ...]:
    """Credits and GPA per learning area, every area in LEARNING_AREAS order.

    Courses whose area is unknown (no key, unrecognised code letter) are left out.
    """
    rows = []
    for key, (th, en) in LEARNING_AREAS.items():
        mine = [c for c in courses if area_of(c) == key]
        rows.append(AreaSummary(key, th, en, credits_attempted(mine), credits_earned(mine),
                                gpa(mine)))
    return tuple(rows)


# --- graduation -----------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """Why a record does not (yet) meet the graduation requirements."""

    th: str
    en: str

    def __str__(self) -> str:
        return f"{self.th} / {self.en}"


def _fmt(value: Decimal) -> str:
    return format(value, "f")


def _credit_problems(record: StudentRecord, basic: Decimal, additional: Decimal) -> list[Problem]:
    level = record.programme.level
    if level == PRIMARY_LEVEL or level.startswith("ป."):
        failed = [c.code for c in record.courses if not is_passed(c)]
        if failed:
            codes = ", ".join(failed)
            return [Problem(f"มีรายวิชาที่ยังไม่ผ่าน: {codes}", f"courses not passed: {codes}")]
        return []
    if level not in CREDIT_RULES:
        return [Problem(f"ไม่รู้จักระดับชั้น '{level}' จึงตัดสินการจบไม่ได้",
                        f"unknown level '{level}': graduation cannot be judged")]
    need_basic, need_add, need_total = CREDIT_RULES[level]
    out = []
    if basic < need_basic:
        out.append(Problem(
            f"หน่วยกิตรายวิชาพื้นฐานที่ได้ {_fmt(basic)} ต่ำกว่าเกณฑ์ {need_basic}",
            f"basic-course credits earned {_fmt(basic)}, {need_basic} required"))
    if additional < need_add:
        out.append(Problem(
            f"หน่วยกิตรายวิชาเพิ่มเติมที่ได้ {_fmt(additional)} ต่ำกว่าเกณฑ์ {need_add}",
            f"additional-course credits earned {_fmt(additional)}, {need_add} required"))
    if basic + additional < need_total:
        out.append(Problem(
            f"หน่วยกิตรวมที่ได้ {_fmt(basic + additional)} ต่ำกว่าเกณฑ์ {need_total}",
            f"total credits earned {_fmt(basic + additional)}, {need_total} required"))
    return out


_ASSESSMENT_NAMES = {
    "reading_thinking_writing": ("การอ่าน คิดวิเคราะห์และเขียน", "reading, thinking and writing"),
    "desirable_characteristics": ("คุณลักษณะอันพึงประสงค์", "desirable characteristics"),
}


def _school_problems(record: StudentRecord, basic: Decimal, additional: Decimal) -> list[Problem]:
    if not record.courses:
        return [Problem("ไม่มีผลการเรียนรายวิชา", "no course results")]
    out = _credit_problems(record, basic, additional)
    for field_name, (th, en) in _ASSESSMENT_NAMES.items():
        value = getattr(record.assessments, field_name)
        if not value:
            out.append(Problem(f"ไม่มีผลการประเมิน{th}", f"no {en} assessment"))
        elif value not in ASSESSMENT_PASSING:
            out.append(Problem(f"ผลการประเมิน{th}: {value}", f"{en} assessment not passed"))
    if not record.activities:
        out.append(Problem("ไม่มีผลกิจกรรมพัฒนาผู้เรียน", "no learner-development activities"))
    failed = [a for a in record.activities if a.result != ACTIVITY_PASS]
    if failed:
        th = ", ".join(f"{a.name_th} ({a.year}) {a.result}" for a in failed)
        en = ", ".join(f"{a.name_en} ({a.year}) {a.result}" for a in failed)
        out.append(Problem(f"กิจกรรมพัฒนาผู้เรียนไม่ผ่าน: {th}", f"activities not passed: {en}"))
    return out


def _vocational_problems(record: StudentRecord, hours_passed: int) -> list[Problem]:
    if not record.courses:
        return [Problem("ไม่มีผลการฝึกรายหน่วย", "no module results")]
    out = []
    failed = [c.code for c in record.courses if not is_passed(c)]
    if failed:
        codes = ", ".join(failed)
        out.append(Problem(f"มีหน่วยการฝึกที่ไม่ผ่าน: {codes}", f"modules not passed: {codes}"))
    need = record.programme.total_hours
    if need <= 0:
        out.append(Problem("ไม่ได้ระบุจำนวนชั่วโมงของหลักสูตร", "the course length in hours is not set"))
    elif hours_passed < need:
        out.append(Problem(f"ชั่วโมงที่ผ่าน {hours_passed} น้อยกว่า {need} ชั่วโมงของหลักสูตร",
                           f"hours passed {hours_passed}, the course requires {need}"))
    return out


def graduation_problems(record: StudentRecord, kind: InstitutionKind) -> tuple[Problem, ...]:
    """Every unmet graduation requirement (empty when the record graduates).

    Schools: ม.3 needs basic >= 66 and additional >= 11 credits earned; ม.6 basic >= 41,
    additional >= 36 and 77 in all; primary (ป.6, stated in hours) needs every course
    passed. All levels: reading-thinking-writing and desirable characteristics at least
    ผ่าน, and every learner-development activity ผ. Vocational: every module ผ่าน and the
    hours passed at least the programme's `total_hours`.
    """
    courses = record.courses
    if kind is InstitutionKind.VOCATIONAL:
        hours = sum(c.hours for c in courses if is_passed(c))
        return tuple(_vocational_problems(record, hours))
    basic = credits_earned(c for c in courses if c.course_type is CourseType.BASIC)
    additional = credits_earned(c for c in courses if c.course_type is CourseType.ADDITIONAL)
    return tuple(_school_problems(record, basic, additional))


# --- summary --------------------------------------------------------------------------

def term_summaries(courses: Sequence[CourseResult], kind: InstitutionKind
                   ) -> tuple[TermSummary, ...]:
    """Per-term credits attempted/earned and GPA (GPA None for vocational), in term order."""
    out = []
    for term in sorted({c.term for c in courses}, key=Term.sort_key):
        mine = [c for c in courses if c.term == term]
        out.append(TermSummary(
            term=term,
            credits_attempted=credits_attempted(mine),
            credits_earned=credits_earned(mine),
            gpa=None if kind is InstitutionKind.VOCATIONAL else gpa(mine),
        ))
    return tuple(out)


def summarise(record: StudentRecord, kind: InstitutionKind) -> Summary:
    """Computed results of a record: term GPAs, credits, GPAX, hours and graduation.

    `credits_basic`/`credits_additional` are credits EARNED by course type (what the
    graduation thresholds compare); `gpa` is the cumulative GPAX, None for vocational.
    """
    courses = record.courses
    problems = graduation_problems(record, kind)
    vocational = kind is InstitutionKind.VOCATIONAL
    return Summary(
        terms=term_summaries(courses, kind),
        credits_basic=credits_earned(c for c in courses if c.course_type is CourseType.BASIC),
        credits_additional=credits_earned(
            c for c in courses if c.course_type is CourseType.ADDITIONAL),
        credits_earned=credits_earned(courses),
        gpa=None if vocational else gpa(courses),
        hours_total=sum(c.hours for c in courses),
        hours_passed=sum(c.hours for c in courses if is_passed(c)),
        graduated=not problems,
        graduation_problems=tuple(str(p) for p in problems),
    )
