"""The ปพ.1 layout: header, course results in three column groups, then the back page.

Front: title, school (left) and student (right) header, "ผลการเรียนรายวิชา" in three column
groups (one school year each when it fits; otherwise rows flow on to the next column and
page). Back: learner-development activities, สรุปผลการประเมิน, results by learning area,
GPAX, the graduation decision and the signatures. FORMS.md describes the paper form.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from issuer.adapters.render import fonts, thai
from issuer.adapters.render.common import (
    NATIONALITY_EN,
    RESULT_EN,
    SEX_EN,
    credits,
    gpa,
    signatory,
)
from issuer.adapters.render.fonts import BOLD, REGULAR
from issuer.adapters.render.layout import (
    BODY_BOTTOM,
    GREY,
    LEFT,
    RIGHT,
    SHADE,
    TOP,
    Sheet,
)
from issuer.core.records import CourseResult, CourseType, Term, TranscriptRecord

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


# ---------------------------------------------------------------- front page


def _header(s: Sheet, t: TranscriptRecord) -> float:
    rec, inst = t.record, t.institution
    st = rec.student
    variant, level_th, level_en, _ = level_texts(rec.programme.level)
    s.text(LEFT, TOP, f"ปพ.1 : {variant}", BOLD, 10)
    s.pair(RIGHT, TOP, f"เลขที่ {t.transcript_id}  ฉบับที่ {t.version}",
           f"No. {t.transcript_id}, version {t.version}", 8.5, align="right")
    mid = (LEFT + RIGHT) / 2
    y = TOP - 22
    title = f"ระเบียนแสดงผลการเรียนหลักสูตรแกนกลางการศึกษาขั้นพื้นฐาน {level_th}"
    s.text(mid, y, title, BOLD, 13, "center", max_width=RIGHT - LEFT)
    y -= 16
    s.text(mid, y, f"Basic Education Core Curriculum Transcript ({level_en})", BOLD, 10,
           "center", color=GREY)
    y -= 10
    box_top = y
    half = (RIGHT - LEFT) / 2
    school = [
        ("โรงเรียน", "School", inst.name_th, inst.name_en),
        ("สังกัด", "Affiliation", inst.affiliation_th, inst.affiliation_en),
        ("เขต", "District", inst.district_th, inst.district_en),
        ("จังหวัด", "Province", inst.province_th, inst.province_en),
    ]
    if st.admission_date:
        school.append(("วันเข้าเรียน", "Admitted", thai.date_th(st.admission_date),
                       thai.date_en(st.admission_date)))
    if st.previous_school_th:
        school.append(("โรงเรียนเดิม", "Previous school", st.previous_school_th, ""))
    school.append(("ชั้นเรียนสุดท้าย", "Last class", rec.programme.level,
                   rec.programme.name_en))
    sex = st.sex + (f" ({SEX_EN[st.sex]})" if st.sex in SEX_EN else "")
    nat = st.nationality_th + (f" ({NATIONALITY_EN[st.nationality_th]})"
                               if st.nationality_th in NATIONALITY_EN else "")
    personal = f"เพศ {sex}   สัญชาติ {nat}"
    if st.religion_th:  # PDPA-sensitive: only when the school supplied it
        personal += f"   ศาสนา {st.religion_th}"
    student = [
        ("ชื่อ", "Name", f"{st.name.prefix_th}{st.name.first_name_th}",
         f"{st.name.prefix_en} {st.name.first_name_en}".strip()),
        ("ชื่อสกุล", "Surname", st.name.last_name_th, st.name.last_name_en),
        ("เลขประจำตัวนักเรียน", "Student ID", st.student_id, ""),
        ("เลขประจำตัวประชาชน", "National ID", thai.national_id(st.national_id), ""),
        ("เกิดวันที่", "Born", thai.date_th(st.birth_date), thai.date_en(st.birth_date)),
        ("ข้อมูลบุคคล", "Sex, nationality", personal, ""),
        ("ชื่อบิดา", "Father", st.father_name_th, ""),
        ("ชื่อมารดา", "Mother", st.mother_name_th, ""),
    ]
    bottoms = [
        _fields(s, LEFT, box_top, school, 84, half - 90),
        _fields(s, mid, box_top, student, 126, half - 132),
    ]
    box_bottom = min(bottoms) - 6
    s.rect(LEFT, box_bottom, RIGHT - LEFT, box_top - box_bottom)
    s.line(mid, box_top, mid, box_bottom)
    return box_bottom


def _fields(s: Sheet, x0: float, top: float, fields: list[tuple[str, str, str, str]],
            label_w: float, value_w: float) -> float:
    """Label/value rows; a value whose English gloss does not fit gets it on a second line."""
    y = top - FIELD + 2
    for th, en, value_th, value_en in fields:
        s.pair(x0 + 5, y, th, en, 8, BOLD, max_width=label_w - 8)
        one_line = (fonts.width(value_th, REGULAR, 9) + 4
                    + fonts.width(value_en, REGULAR, 7.2)) <= value_w
        if one_line or not value_en:
            s.pair(x0 + label_w, y, value_th or "-", value_en, 9, max_width=value_w)
            y -= FIELD
        else:
            s.text(x0 + label_w, y, value_th, REGULAR, 9, max_width=value_w)
            s.text(x0 + label_w, y - 10.5, value_en, REGULAR, 7.5, max_width=value_w,
                   color=GREY)
            y -= FIELD + 10.5
    return y + FIELD - 2


def _continuation_header(s: Sheet, t: TranscriptRecord, what_th: str, what_en: str) -> float:
    st = t.record.student
    s.text(LEFT, TOP, f"ปพ.1 : {level_texts(t.record.programme.level)[0]}", BOLD, 10)
    s.pair(RIGHT, TOP, f"{st.name.full_name_th}  เลขประจำตัวนักเรียน {st.student_id}",
           st.name.full_name_en, 9, align="right", max_width=RIGHT - LEFT - 60)
    y = TOP - 8
    s.line(LEFT, y, RIGHT, y)
    y -= 18
    s.pair((LEFT + RIGHT) / 2, y, what_th, what_en, 12, BOLD, align="center")
    return y - 8


def _section_bar(s: Sheet, y: float, th: str, en: str) -> float:
    s.rect(LEFT, y - 16, RIGHT - LEFT, 16, fill=SHADE, stroke=False)
    s.pair(LEFT + 5, y - 11.5, th, en, 10, BOLD)
    return y - 16


@dataclass(frozen=True)
class _Row:
    kind: str  # "term", "course", "total"
    term: Term
    course: CourseResult | None = None
    cont: bool = False  # a term heading repeated at the top of a column


def _course_rows(t: TranscriptRecord) -> list[list[_Row]]:
    """Rows per school year: term heading, courses, term total, for each semester."""
    by_term: dict[Term, list[CourseResult]] = defaultdict(list)
    for c in t.record.courses:
        by_term[c.term].append(c)
    years: dict[int, list[_Row]] = defaultdict(list)
    for term in sorted(by_term, key=Term.sort_key):
        rows = years[term.year]
        rows.append(_Row("term", term))
        rows.extend(_Row("course", term, c) for c in by_term[term])
        rows.append(_Row("total", term))
    return [years[y] for y in sorted(years)]


def _flow(rows: list[_Row], capacity: int) -> list[list[_Row]]:
    """Cut rows into columns of `capacity`, never ending a column on a term heading and
    repeating the heading at the top of a column that starts inside a term."""
    columns: list[list[_Row]] = [[]]
    for row in rows:
        col = columns[-1]
        full = len(col) >= capacity or (row.kind == "term" and len(col) >= capacity - 1)
        if full:
            col = []
            columns.append(col)
            if row.kind != "term":
                col.append(_Row("term", row.term, cont=True))
        col.append(row)
    return columns


def _group_columns(s: Sheet, x: float, y: float, w: float) -> float:
    name_w = w - 2 * NUM_W
    s.rect(x, y - 22, w, 22, fill=SHADE, stroke=False)
    s.text(x + 3, y - 9, "รหัส / รายวิชา", BOLD, 7.5)
    s.text(x + 3, y - 18, "Code / Course", REGULAR, 6.5, color=GREY)
    for i, (th, en) in enumerate((("หน่วยกิต", "Credits"), ("ผลการเรียน", "Grade"))):
        cx = x + name_w + NUM_W * i + NUM_W / 2
        s.text(cx, y - 9, th, BOLD, 7.5, "center", max_width=NUM_W - 2)
        s.text(cx, y - 18, en, REGULAR, 6.5, "center", color=GREY)
    return y - 22


def _draw_row(s: Sheet, t: TranscriptRecord, row: _Row, x: float, y: float, w: float) -> None:
    name_w = w - 2 * NUM_W
    base = y - ROW + 3.5
    cred_x = x + name_w + NUM_W / 2
    grade_x = cred_x + NUM_W
    if row.kind == "term":
        label = f"ปีการศึกษา {row.term.year}"
        if row.term.semester:
            label += f" ภาคเรียนที่ {row.term.semester}"
        ce = row.term.year - 543
        en = f"{ce}/{str(ce + 1)[2:]}" + (f" sem. {row.term.semester}"
                                           if row.term.semester else "")
        if row.cont:
            label, en = label + " (ต่อ)", en + " (cont.)"
        s.pair(x + 3, base, label, en, 8, BOLD, max_width=w - 6)
    elif row.kind == "course" and row.course is not None:
        c = row.course
        # Thai names only, as on the paper form: English glosses fit for a few courses
        # only, and a mixed column reads worse. The record carries `name_en`.
        s.text(x + 3, base, f"{c.code} {c.name_th}", REGULAR, 8, max_width=name_w - 5)
        s.text(cred_x, base, credits(c.credits), REGULAR, 8, "center")
        s.text(grade_x, base, c.grade, BOLD, 8, "center")
    else:
        summary = {ts.term: ts for ts in t.summary.terms}.get(row.term)
        s.line(x, y, x + w, y, 0.3)
        s.pair(x + name_w - 4, base, "หน่วยกิตรวม / ผลการเรียนเฉลี่ย", "Total / GPA", 7.5,
               max_width=name_w - 8, align="right")
        if summary is not None:
            s.text(cred_x, base, credits(summary.credits_attempted), BOLD, 8, "center")
            s.text(grade_x, base, gpa(summary.gpa), BOLD, 8, "center")


def _course_pages(s: Sheet, t: TranscriptRecord, top: float) -> None:
    """Lay the course rows out in three column groups, flowing onto further pages."""
    years = _course_rows(t)
    width = (RIGHT - LEFT - 2 * GROUP_GAP) / 3
    y0 = _section_bar(s, top - 6, "ผลการเรียนรายวิชา", "Course results") - 4
    capacity = int((y0 - 22 - BODY_BOTTOM) // ROW)
    # One year per column group when every year fits; otherwise one continuous flow.
    if len(years) <= 3 and all(len(rows) <= capacity for rows in years):
        columns = years
    else:
        columns = _flow([r for rows in years for r in rows], capacity)
    lowest = y0
    for i, rows in enumerate(columns):
        slot = i % 3
        if i and slot == 0:
            s.new_page()
            top = _continuation_header(s, t, "ผลการเรียนรายวิชา (ต่อ)", "Course results (cont.)")
            y0 = top - 4
            capacity = int((y0 - 22 - BODY_BOTTOM) // ROW)
        x = LEFT + slot * (width + GROUP_GAP)
        y = _group_columns(s, x, y0, width)
        bottom = y - len(rows) * ROW
        s.rect(x, bottom - 2, width, y0 - bottom + 2, 0.6)
        name_w = width - 2 * NUM_W
        s.line(x + name_w, y0, x + name_w, bottom - 2, 0.3)
        s.line(x + name_w + NUM_W, y0, x + name_w + NUM_W, bottom - 2, 0.3)
        for row in rows:
            _draw_row(s, t, row, x, y, width)
            y -= ROW
        lowest = min(lowest, bottom - 2) if slot else bottom - 2
    if lowest - BODY_BOTTOM >= 34:
        _legend(s, lowest - 12)


GRADE_LEGEND = (
    ("ระดับผลการเรียน: 4 ดีเยี่ยม, 3.5 ดีมาก, 3 ดี, 2.5 ค่อนข้างดี, 2 น่าพอใจ, 1.5 พอใช้, "
     "1 ผ่านเกณฑ์ขั้นต่ำ, 0 ต่ำกว่าเกณฑ์, ร รอการตัดสิน, มส ไม่มีสิทธิ์เข้ารับการวัดผลปลายภาค"),
    ("Grades: 4 excellent, 3.5 very good, 3 good, 2.5 fairly good, 2 satisfactory, 1.5 fair, "
     "1 minimum pass, 0 fail, ร (r) pending, มส (ms) not eligible for the final assessment"),
)


def _legend(s: Sheet, y: float) -> None:
    s.text(LEFT, y, GRADE_LEGEND[0], REGULAR, 7.5, max_width=RIGHT - LEFT)
    s.text(LEFT, y - 11, GRADE_LEGEND[1], REGULAR, 7, max_width=RIGHT - LEFT, color=GREY)


# ---------------------------------------------------------------- back page


def _activities(s: Sheet, t: TranscriptRecord, y: float) -> float:
    y = _section_bar(s, y, "ผลการประเมินกิจกรรมพัฒนาผู้เรียน", "Learner development activities")
    by_year: dict[int, list] = defaultdict(list)
    for a in t.record.activities:
        by_year[a.year].append(a)
    if not by_year:
        s.text(LEFT + 5, y - 12, "-", REGULAR, 8)
        return y - 18
    width = (RIGHT - LEFT - 2 * GROUP_GAP) / 3
    lowest = y
    for i, year in enumerate(sorted(by_year)):
        if i and i % 3 == 0:  # more than three years: another band of three
            y = lowest - 4
        x = LEFT + (i % 3) * (width + GROUP_GAP)
        yy = y - 4
        s.rect(x, yy - 22, width, 22, fill=SHADE, stroke=False)
        s.pair(x + 3, yy - 9, f"ปีการศึกษา {year}", f"{year - 543}/{str(year - 542)[2:]}",
               7.5, BOLD)
        s.text(x + 3, yy - 18, "กิจกรรม / Activity", REGULAR, 6.5, color=GREY)
        name_w = width - 2 * NUM_W
        s.pair(x + name_w + NUM_W / 2, yy - 18, "ชม.", "Hours", 6.5, align="center")
        s.pair(x + name_w + 1.5 * NUM_W, yy - 18, "ผล", "Result", 6.5, align="center")
        yy -= 22
        for a in by_year[year]:
            base = yy - ROW + 3.5
            s.pair(x + 3, base, a.name_th, a.name_en, 8, max_width=name_w - 5)
            s.text(x + name_w + NUM_W / 2, base, str(a.hours), REGULAR, 8, "center")
            s.text(x + name_w + 1.5 * NUM_W, base, a.result, BOLD, 8, "center")
            yy -= ROW
        s.rect(x, yy - 2, width, y - 4 - yy + 2, 0.6)
        lowest = min(lowest, yy - 2)
    return lowest


def _credit_totals(t: TranscriptRecord) -> dict[CourseType, tuple[Decimal, Decimal]]:
    totals: dict[CourseType, tuple[Decimal, Decimal]] = {}
    for c in t.record.courses:
        studied, got = totals.get(c.course_type, (Decimal(0), Decimal(0)))
        totals[c.course_type] = (studied + c.credits, got + (c.credits if earned(c) else 0))
    return totals


def _required(level: str) -> tuple[Decimal, Decimal]:
    """Basic and additional credits needed to graduate (FORMS.md)."""
    if level in ("ม.4", "ม.5", "ม.6"):
        return Decimal(41), Decimal(36)
    return Decimal(66), Decimal(11)


def _verdict(ok: bool) -> str:
    return "ผ่าน" if ok else "ไม่ผ่าน"


def _summary(s: Sheet, t: TranscriptRecord, y: float, x: float, w: float) -> float:
    y = y - 4
    s.rect(x, y - 22, w, 22, fill=SHADE, stroke=False)
    s.pair(x + 4, y - 14, "สรุปผลการประเมิน", "Assessment summary", 9, BOLD)
    s.pair(x + w - 24, y - 14, "ผลการตัดสิน", "", 7.5, BOLD, align="center")
    y -= 22
    totals = _credit_totals(t)
    need_basic, need_add = _required(t.record.programme.level)
    basic = totals.get(CourseType.BASIC, (Decimal(0), Decimal(0)))
    add = totals.get(CourseType.ADDITIONAL, (Decimal(0), Decimal(0)))
    rtw = t.record.assessments.reading_thinking_writing
    dc = t.record.assessments.desirable_characteristics
    acts = t.record.activities
    acts_ok = bool(acts) and all(a.result == "ผ" for a in acts)
    passing = {"ดีเยี่ยม", "ดี", "ผ่าน"}
    rows = [
        ("1. รายวิชาพื้นฐาน เรียน/ได้", f"Basic courses, credits studied/earned: "
         f"{credits(basic[0])}/{credits(basic[1])}", basic[1] >= need_basic),
        ("    รายวิชาเพิ่มเติม เรียน/ได้", f"Additional courses, credits studied/earned: "
         f"{credits(add[0])}/{credits(add[1])}", add[1] >= need_add),
        (f"2. การอ่าน คิดวิเคราะห์และเขียน: {rtw or '-'}",
         f"Reading, analytical thinking and writing: {RESULT_EN.get(rtw, rtw or '-')}",
         rtw in passing),
        (f"3. คุณลักษณะอันพึงประสงค์: {dc or '-'}",
         f"Desirable characteristics: {RESULT_EN.get(dc, dc or '-')}", dc in passing),
        ("4. กิจกรรมพัฒนาผู้เรียน", f"Learner development activities: "
         f"{sum(a.hours for a in acts)} hours", acts_ok),
    ]
    for th, en, ok in rows:
        s.text(x + 4, y - 10, th, REGULAR, 8.5, max_width=w - 56)
        s.text(x + 14, y - 20, en, REGULAR, 7, max_width=w - 66, color=GREY)
        s.pair(x + w - 24, y - 14, _verdict(ok), "Pass" if ok else "Fail", 8.5, BOLD,
               align="center", max_width=44)
        y -= 24
    s.rect(x, y, w, 24 * len(rows) + 22, 0.6)
    s.line(x + w - 48, y, x + w - 48, y + 24 * len(rows) + 22, 0.3)
    return y


def _areas(s: Sheet, t: TranscriptRecord, y: float, x: float, w: float) -> float:
    y = y - 4
    credit_w, gpa_w = 38.0, 38.0
    s.rect(x, y - 22, w, 22, fill=SHADE, stroke=False)
    s.pair(x + 4, y - 9, "ผลการเรียนรายกลุ่มสาระการเรียนรู้", "", 8.5, BOLD)
    s.text(x + 4, y - 18, "Results by learning area", REGULAR, 6.5, color=GREY)
    s.pair(x + w - gpa_w - credit_w / 2, y - 9, "หน่วยกิต", "", 7.5, BOLD, align="center")
    s.text(x + w - gpa_w - credit_w / 2, y - 18, "Credits", REGULAR, 6.5, "center",
           color=GREY)
    s.pair(x + w - gpa_w / 2, y - 9, "เฉลี่ย", "", 7.5, BOLD, align="center")
    s.text(x + w - gpa_w / 2, y - 18, "GPA", REGULAR, 6.5, "center", color=GREY)
    y -= 22
    sums: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0)])
    for c in t.record.courses:
        acc = sums[area_of(c)]
        acc[0] += c.credits
        g = numeric(c.grade)
        if g is not None:
            acc[1] += g * c.credits
            acc[2] += c.credits
    top = y
    for key, _letters, th, en in LEARNING_AREAS:
        if key not in sums:
            continue
        total, points, graded = sums[key]
        base = y - ROW + 3.5
        s.pair(x + 4, base, th, en, 8, max_width=w - credit_w - gpa_w - 8)
        s.text(x + w - gpa_w - credit_w / 2, base, credits(total), REGULAR, 8, "center")
        s.text(x + w - gpa_w / 2, base, gpa(points / graded if graded else None), REGULAR,
               8, "center")
        y -= ROW
    s.line(x + w - gpa_w - credit_w, top + 22, x + w - gpa_w - credit_w, y - 2, 0.3)
    s.line(x + w - gpa_w, top + 22, x + w - gpa_w, y - 2, 0.3)
    s.rect(x, y - 2, w, top + 22 - y + 2, 0.6)
    return y - 2


def _decision(s: Sheet, t: TranscriptRecord, y: float) -> float:
    rec = t.record
    _, _, _, grad_th = level_texts(rec.programme.level)
    y -= 8
    s.rect(LEFT, y - 26, RIGHT - LEFT, 26, 0.8)
    s.text(LEFT + 8, y - 17, "ผลการเรียนเฉลี่ยตลอดหลักสูตร", BOLD, 12)
    s.text(LEFT + 188, y - 17, "Cumulative GPA (GPAX)", REGULAR, 9, color=GREY)
    s.text(LEFT + 330, y - 18, gpa(t.summary.gpa), BOLD, 15)
    s.pair(RIGHT - 8, y - 17, f"หน่วยกิตที่ได้ {credits(t.summary.credits_earned)}",
           "credits earned", 9, align="right")
    y -= 26 + 16
    if t.summary.graduated:
        decision_th = grad_th
        decision_en = "Graduated" if rec.programme.level.startswith("ป") else (
            "Completed compulsory education" if grad_th.endswith("ภาคบังคับ")
            else "Completed basic education")
    else:
        decision_th, decision_en = "ยังไม่จบหลักสูตร", "Not yet graduated"
    s.pair(LEFT + 4, y, "ผลการตัดสิน", "Decision", 9, BOLD)
    s.pair(LEFT + 150, y, decision_th, decision_en, 10, BOLD)
    y -= 15
    s.pair(LEFT + 4, y, "วันอนุมัติการจบ", "Graduation approved", 9, BOLD)
    if rec.graduation_date:
        s.pair(LEFT + 150, y, thai.date_th(rec.graduation_date),
               thai.date_en(rec.graduation_date), 10)
    else:
        s.text(LEFT + 150, y, "-", REGULAR, 10)
    y -= 15
    issued = t.issued_at.date()
    s.pair(LEFT + 4, y, "วันที่ออกเอกสาร", "Issued", 9, BOLD)
    s.pair(LEFT + 150, y, thai.date_th(issued), thai.date_en(issued), 10)
    return y - 8


def signatures(s: Sheet, t: TranscriptRecord, y: float,
               roles: tuple[tuple[tuple[str, ...], str, str], ...]) -> float:
    """Signature blocks side by side: (role keywords, fallback Thai role, English role)."""
    n = len(roles)
    width = (RIGHT - LEFT) / n
    for i, (keys, role_th, role_en) in enumerate(roles):
        found = signatory(t, *keys)
        cx = LEFT + width * i + width / 2
        yy = y - 14
        s.text(cx, yy, "(ลงลายมือชื่อดิจิทัล / digitally signed)", REGULAR, 7.5, "center",
               color=GREY)
        yy -= 18
        s.line(cx - 90, yy + 4, cx + 90, yy + 4, 0.4)
        name_th, name_en = ("", "")
        if found:
            role_th, role_en, name_th, name_en = found
        s.text(cx, yy - 10, f"( {name_th or '-'} )", REGULAR, 10, "center", max_width=width - 10)
        s.text(cx, yy - 22, name_en, REGULAR, 8, "center", color=GREY, max_width=width - 10)
        s.pair(cx, yy - 36, role_th, role_en, 9.5, BOLD, align="center", max_width=width - 10)
    return y - 80


def _room(s: Sheet, t: TranscriptRecord, y: float, needed: float) -> float:
    """`y` if `needed` points fit above the footer, else the top of a new page."""
    if y - needed >= BODY_BOTTOM:
        return y
    s.new_page()
    return _continuation_header(s, t, "ผลการประเมินและการจบหลักสูตร (ต่อ)",
                                "Assessment and graduation (cont.)")


def layout(s: Sheet, t: TranscriptRecord) -> None:
    """Lay out a ปพ.1 transcript onto `s` (front page(s), then the back page)."""
    y = _header(s, t)
    _course_pages(s, t, y)
    s.new_page()
    y = _continuation_header(s, t, "ผลการประเมินและการจบหลักสูตร", "Assessment and graduation")
    y = _activities(s, t, y) - 10
    half = (RIGHT - LEFT - GROUP_GAP) / 2
    y = _room(s, t, y, 4 + 22 + 24 * 5)
    y_left = _summary(s, t, y, LEFT, half + 40)
    y_right = _areas(s, t, y, LEFT + half + 40 + GROUP_GAP, half - 40)
    y = _room(s, t, min(y_left, y_right), 80)
    y = _decision(s, t, y)
    y = _room(s, t, y, 80)
    signatures(s, t, y, (
        (("ทะเบียน", "registrar"), "นายทะเบียน", "Registrar"),
        (("ผู้อำนวยการ", "director"), "ผู้อำนวยการโรงเรียน", "Director"),
    ))
