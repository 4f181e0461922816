"""What the ปพ.1 front and back pages share: geometry, levels, learning areas, headings."""

from __future__ import annotations

from decimal import Decimal

from issuer.adapters.render.fonts import BOLD
from issuer.adapters.render.layout import LEFT, RIGHT, SHADE, TOP, Sheet
from issuer.core.records import CourseResult, TranscriptRecord

ROW = 12.0  # table row pitch: 8 pt type at 1.5 em
FIELD = 13.5  # header field pitch: 9 pt type at 1.5 em
GROUP_GAP = 6.0
NUM_W = 30.0  # credits and grade columns
NON_NUMERIC = {"ร", "มส", "ผ", "มผ"}

# ปพ.1 learning areas (FORMS.md), with the course-code letter that marks each one.
LEARNING_AREAS: tuple[tuple[str, str, str, str], ...] = (
    ("thai", "ท", "ภาษาไทย", "Thai Language"),
    ("math", "ค", "คณิตศาสตร์", "Mathematics"),
    ("science", "ว", "วิทยาศาสตร์และเทคโนโลยี", "Science & Technology"),
    ("social", "ส", "สังคมศึกษา ศาสนา และวัฒนธรรม", "Social Studies"),
    ("health", "พ", "สุขศึกษาและพลศึกษา", "Health & PE"),
    ("arts", "ศ", "ศิลปะ", "Arts"),
    ("career", "ง", "การงานอาชีพ", "Occupations"),
    ("foreign", "อจญฝยขรต", "ภาษาต่างประเทศ", "Foreign Languages"),
    ("is", "I", "การศึกษาค้นคว้าด้วยตนเอง", "Independent Study"),
)


def level_texts(level: str) -> tuple[str, str, str, str]:
    """(form variant, Thai level, English level, Thai graduation wording) for a level."""
    if level.startswith("ป"):
        return "ป", "ระดับประถมศึกษา", "Primary", "จบหลักสูตรระดับประถมศึกษา"
    if level in ("ม.4", "ม.5", "ม.6"):
        return ("พ", "ระดับมัธยมศึกษาตอนปลาย", "Upper Secondary",
                "จบการศึกษาขั้นพื้นฐาน")
    return "บ", "ระดับมัธยมศึกษาตอนต้น", "Lower Secondary", "จบการศึกษาภาคบังคับ"


def area_of(course: CourseResult) -> str:
    """Learning-area key of a course: its `learning_area`, else its code's first letter."""
    keys = {key for key, *_ in LEARNING_AREAS}
    if course.learning_area in keys:
        return course.learning_area
    first = course.code[:1]
    for key, letters, *_ in LEARNING_AREAS:
        if first and first in letters:
            return key
    return "is" if first.upper() == "I" else ""


def numeric(grade: str) -> Decimal | None:
    if grade in NON_NUMERIC:
        return None
    try:
        return Decimal(grade)
    except ArithmeticError:
        return None


def earned(course: CourseResult) -> bool:
    value = numeric(course.grade)
    return value is not None and value > 0


def continuation_header(s: Sheet, t: TranscriptRecord, what_th: str, what_en: str) -> float:
    st = t.record.student
    s.text(LEFT, TOP, f"ปพ.1 : {level_texts(t.record.programme.level)[0]}", BOLD, 10)
    s.pair(RIGHT, TOP, f"{st.name.full_name_th}  เลขประจำตัวนักเรียน {st.student_id}",
           st.name.full_name_en, 9, align="right", max_width=RIGHT - LEFT - 60)
    y = TOP - 8
    s.line(LEFT, y, RIGHT, y)
    y -= 18
    s.pair((LEFT + RIGHT) / 2, y, what_th, what_en, 12, BOLD, align="center")
    return y - 8


def section_bar(s: Sheet, y: float, th: str, en: str) -> float:
    s.rect(LEFT, y - 16, RIGHT - LEFT, 16, fill=SHADE, stroke=False)
    s.pair(LEFT + 5, y - 11.5, th, en, 10, BOLD)
    return y - 16
