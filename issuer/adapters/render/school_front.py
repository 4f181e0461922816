"""ปพ.1 front: title, school and student header, course results in three column groups.

One school year per column group when it fits; otherwise rows flow on to the next column
and page, repeating the term heading. FORMS.md describes the paper form.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from reportlab.lib.units import mm

from issuer.adapters.render import fonts, thai
from issuer.adapters.render.common import NATIONALITY_EN, SEX_EN, gpa
from issuer.adapters.render.fonts import BOLD, REGULAR
from issuer.adapters.render.layout import (
    BODY_BOTTOM,
    GREY,
    LEFT,
    RIGHT,
    SHADE,
    SIGNATURE_LINE_H,
    TOP,
    Sheet,
    signature_line,
)
from issuer.adapters.render.school_common import (
    FIELD,
    GROUP_GAP,
    NUM_W,
    ROW,
    amount,
    amount_heading,
    continuation_header,
    level_texts,
    section_bar,
    serial_line,
)
from issuer.adapters.render.templates import wording
from issuer.core.records import CourseResult, Term, TranscriptRecord

BOTTOM = BODY_BOTTOM + SIGNATURE_LINE_H  # the course table ends above the signature band


def _header(s: Sheet, t: TranscriptRecord) -> float:
    rec, inst = t.record, t.institution
    st = rec.student
    _, level_th, level_en, _ = level_texts(rec.programme.level)
    w = wording("pp1")
    serial_line(s, t)
    (doc_th, doc_en), (ver_th, ver_en) = w.pair("serial", "document"), w.pair("serial", "version")
    s.pair(RIGHT, TOP, f"{doc_th} {t.transcript_id}  {ver_th} {t.version}",
           f"{doc_en} {t.transcript_id}, {ver_en} {t.version}", 8.5, align="right")
    mid = (LEFT + RIGHT) / 2
    y = TOP - 22
    title = f"{w.text('title', 'th')} {level_th}"
    s.text(mid, y, title, BOLD, 13, "center", max_width=RIGHT - LEFT)
    y -= 16
    s.text(mid, y, f"{w.text('title', 'en')} ({level_en})", BOLD, 10, "center", color=GREY)
    y -= 10
    box_top = y
    def label(section: str, key: str, th: str, en: str) -> tuple[str, str, str, str]:
        return (*w.pair(section, key), th, en)

    school = [
        label("school", "name", inst.name_th, inst.name_en),
        label("school", "affiliation", inst.affiliation_th, inst.affiliation_en),
        label("school", "subdistrict", inst.subdistrict_th, inst.subdistrict_en),
        label("school", "district", inst.district_th, inst.district_en),
        label("school", "province", inst.province_th, inst.province_en),
    ]
    if st.admission_date:
        school.append(label("school", "admitted", thai.date_th(st.admission_date, era=True),
                            thai.date_en(st.admission_date)))
    if st.previous_school_th or st.previous_school_province_th:
        province = (f"  {w.text('school', 'previous_province')} "
                    f"{st.previous_school_province_th}" if st.previous_school_province_th
                    else "")
        school.append(label("school", "previous_school", st.previous_school_th + province, ""))
    school.append(label("school", "last_class", rec.programme.level, rec.programme.name_en))
    sex = st.sex + (f" ({SEX_EN[st.sex]})" if st.sex in SEX_EN else "")
    nat = st.nationality_th + (f" ({NATIONALITY_EN[st.nationality_th]})"
                               if st.nationality_th in NATIONALITY_EN else "")
    personal = f"{w.text('student', 'sex')} {sex}   {w.text('student', 'nationality')} {nat}"
    if st.religion_th:  # PDPA-sensitive: only when the school supplied it
        personal += f"   {w.text('student', 'religion')} {st.religion_th}"
    student = [
        label("student", "name", f"{st.name.prefix_th}{st.name.first_name_th}",
              f"{st.name.prefix_en} {st.name.first_name_en}".strip()),
        label("student", "surname", st.name.last_name_th, st.name.last_name_en),
        label("student", "student_id", st.student_id, ""),
        label("student", "national_id", thai.national_id(st.national_id), ""),
        label("student", "born", thai.date_th(st.birth_date, era=True),
              thai.date_en(st.birth_date)),
        label("student", "personal", personal, ""),
        label("student", "father", st.father_name_th, ""),
        label("student", "mother", st.mother_name_th, ""),
    ]
    photo_x = RIGHT - PHOTO_W - 6
    split = LEFT + (photo_x - 6 - LEFT) * 0.53
    bottoms = [
        _fields(s, LEFT, box_top, school, 84, split - LEFT - 90),
        _fields(s, split, box_top, student, 118, photo_x - 6 - split - 122),
        box_top - PHOTO_H - 6,
    ]
    box_bottom = min(bottoms) - 6
    s.rect(LEFT, box_bottom, RIGHT - LEFT, box_top - box_bottom)
    s.line(split, box_top, split, box_bottom)
    _photo_box(s, photo_x, box_top - 6 - PHOTO_H, w.pair("photo", "label"))
    return box_bottom


PHOTO_W, PHOTO_H = 30 * mm, 40 * mm  # the form's 3 x 4 cm photo box


def _photo_box(s: Sheet, x: float, y: float, label: tuple[str, str]) -> None:
    """The photo box, left empty as on paper when the school sends no photo."""
    s.rect(x, y, PHOTO_W, PHOTO_H, 0.5)
    s.text(x + PHOTO_W / 2, y + PHOTO_H / 2 + 2, label[0], REGULAR, 8, "center", color=GREY)
    s.text(x + PHOTO_W / 2, y + PHOTO_H / 2 - 8, label[1], REGULAR, 6.5, "center",
           color=GREY)


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


def _group_columns(s: Sheet, t: TranscriptRecord, x: float, y: float, w: float) -> float:
    name_w = w - 2 * NUM_W
    s.rect(x, y - 22, w, 22, fill=SHADE, stroke=False)
    s.text(x + 3, y - 9, "รหัส / รายวิชา", BOLD, 7.5)
    s.text(x + 3, y - 18, "Code / Course", REGULAR, 6.5, color=GREY)
    for i, (th, en) in enumerate((amount_heading(t), ("ผลการเรียน", "Grade"))):
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
        s.text(cred_x, base, amount(t, c.credits, c.hours), REGULAR, 8, "center")
        s.text(grade_x, base, c.grade, BOLD, 8, "center")
    else:
        summary = {ts.term: ts for ts in t.summary.terms}.get(row.term)
        s.line(x, y, x + w, y, 0.3)
        s.pair(x + name_w - 4, base, "หน่วยกิตรวม / ผลการเรียนเฉลี่ย", "Total / GPA", 7.5,
               max_width=name_w - 8, align="right")
        if summary is not None:
            s.text(cred_x, base, amount(t, summary.credits_attempted, summary.hours), BOLD, 8,
                   "center")
            s.text(grade_x, base, gpa(summary.gpa), BOLD, 8, "center")


def _course_pages(s: Sheet, t: TranscriptRecord, top: float) -> bool:
    """Lay the course rows out in three column groups, flowing onto further pages, above
    the band of the registrar's signature (`BOTTOM`); whether the grade legend fitted."""
    years = _course_rows(t)
    width = (RIGHT - LEFT - 2 * GROUP_GAP) / 3
    y0 = section_bar(s, top - 6, "ผลการเรียนรายวิชา", "Course results") - 4
    capacity = int((y0 - 22 - BOTTOM) // ROW)
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
            top = continuation_header(s, t, "ผลการเรียนรายวิชา (ต่อ)", "Course results (cont.)")
            y0 = top - 4
            capacity = int((y0 - 22 - BOTTOM) // ROW)
        x = LEFT + slot * (width + GROUP_GAP)
        y = _group_columns(s, t, x, y0, width)
        bottom = y - len(rows) * ROW
        s.rect(x, bottom - 2, width, y0 - bottom + 2, 0.6)
        name_w = width - 2 * NUM_W
        s.line(x + name_w, y0, x + name_w, bottom - 2, 0.3)
        s.line(x + name_w + NUM_W, y0, x + name_w + NUM_W, bottom - 2, 0.3)
        for row in rows:
            _draw_row(s, t, row, x, y, width)
            y -= ROW
        lowest = min(lowest, bottom - 2) if slot else bottom - 2
    if lowest - BOTTOM >= 34:
        legend(s, lowest - 12)
        return True
    return False


GRADE_LEGEND = (
    ("ระดับผลการเรียน: 4 ดีเยี่ยม, 3.5 ดีมาก, 3 ดี, 2.5 ค่อนข้างดี, 2 น่าพอใจ, 1.5 พอใช้, "
     "1 ผ่านเกณฑ์ขั้นต่ำ, 0 ต่ำกว่าเกณฑ์, ร รอการตัดสิน, มส ไม่มีสิทธิ์เข้ารับการวัดผลปลายภาค"),
    ("Grades: 4 excellent, 3.5 very good, 3 good, 2.5 fairly good, 2 satisfactory, 1.5 fair, "
     "1 minimum pass, 0 fail, ร (r) pending, มส (ms) not eligible for the final assessment"),
)


def legend(s: Sheet, y: float) -> None:
    """The grade scale, two lines below `y` (LEGEND_H with its gap)."""
    s.text(LEFT, y, GRADE_LEGEND[0], REGULAR, 7.5, max_width=RIGHT - LEFT)
    s.text(LEFT, y - 11, GRADE_LEGEND[1], REGULAR, 7, max_width=RIGHT - LEFT, color=GREY)


LEGEND_H = 34.0


def front(s: Sheet, t: TranscriptRecord) -> bool:
    """The header, the course results (one or more pages) and the registrar's signature,
    which the paper form carries at the foot of the front; whether the grade legend fitted
    (if not, the back carries it)."""
    fitted = _course_pages(s, t, _header(s, t))
    half = (RIGHT - LEFT) / 2
    signature_line(s, t, LEFT + half, BODY_BOTTOM + SIGNATURE_LINE_H, half,
                   (("ทะเบียน", "registrar"), *wording("pp1").pair("signatures", "registrar")),
                   wording("pp1"))
    return fitted
