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
    LEADING,
    LEFT,
    RIGHT,
    SHADE,
    TOP,
    Sheet,
    pair_height,
    signature_line,
    signature_line_height,
)
from issuer.adapters.render.school_common import (
    GROUP_GAP,
    NUM_W,
    ROW,
    amount,
    amount_heading,
    continuation_header,
    legend,
    legend_height,
    level_texts,
    section_bar,
    serial_line,
)
from issuer.adapters.render.templates import wording
from issuer.core.records import CourseResult, Term, TranscriptRecord


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
    y = TOP - 20
    title = f"{w.text('title', 'th')} {level_th}"
    emblem = s.picture(inst.emblem_sha256)
    # The emblem in the form's top corner, beside the title, which keeps clear of it.
    title_w = RIGHT - LEFT - (2 * (EMBLEM + 6) if emblem else 0)
    if emblem:
        s.image(LEFT, TOP - 6 - EMBLEM, EMBLEM, EMBLEM, emblem)
    s.text(mid, y, title, BOLD, 13, "center", max_width=title_w)
    y -= 14
    s.text(mid, y, f"{w.text('title', 'en')} ({level_en})", BOLD, 10, "center", color=GREY,
           max_width=title_w)
    y -= 8
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
    split = LEFT + (photo_x - 6 - LEFT) * SPLIT
    bottoms = [
        _fields(s, LEFT, box_top, school, SCHOOL_LABEL_W, split - LEFT - SCHOOL_LABEL_W - 6),
        _fields(s, split, box_top, student, STUDENT_LABEL_W,
                photo_x - 6 - split - STUDENT_LABEL_W - 4),
        box_top - PHOTO_H - 6,
    ]
    box_bottom = min(bottoms) - 6
    s.rect(LEFT, box_bottom, RIGHT - LEFT, box_top - box_bottom)
    s.line(split, box_top, split, box_bottom)
    _photo_box(s, photo_x, box_top - 6 - PHOTO_H, w.pair("photo", "label"),
               s.picture(st.photo_sha256))
    return box_bottom


EMBLEM = 34.0  # the emblem's square (12 mm), between the serial line and the header box
PHOTO_W, PHOTO_H = 30 * mm, 40 * mm  # the form's 3 x 4 cm photo box
SPLIT = 0.56  # the school fields' share of the width beside the photo box
SCHOOL_LABEL_W, STUDENT_LABEL_W = 84.0, 90.0
# Header rows: 8.5 pt values at a 10.5 pt pitch, so that with the photo box, the serial line
# and the signature band a usual record's wrapped fields still leave a year per column.
HEADER_FIELD, VALUE_SIZE = 10.5, 8.5


def _photo_box(s: Sheet, x: float, y: float, label: tuple[str, str],
               photo: bytes | None) -> None:
    """The photo box: the student's photo (normalised to 3:4, filling it), or left empty
    as on paper when the school sends no photo."""
    if photo is not None:
        s.image(x, y, PHOTO_W, PHOTO_H, photo)
        s.rect(x, y, PHOTO_W, PHOTO_H, 0.5)
        return
    s.rect(x, y, PHOTO_W, PHOTO_H, 0.5)
    s.text(x + PHOTO_W / 2, y + PHOTO_H / 2 + 2, label[0], REGULAR, 8, "center", color=GREY)
    s.text(x + PHOTO_W / 2, y + PHOTO_H / 2 - 8, label[1], REGULAR, 6.5, "center",
           color=GREY)


def _fields(s: Sheet, x0: float, top: float, fields: list[tuple[str, str, str, str]],
            label_w: float, value_w: float) -> float:
    """Label/value rows; a value wraps, its English gloss following on its own lines when
    it does not fit beside the Thai; the row grows to hold it."""
    y = top - HEADER_FIELD + 2
    for th, en, value_th, value_en in fields:
        label = s.pair_block(x0 + 5, y, th, en, 8, BOLD, max_width=label_w - 8)
        value = s.pair_block(x0 + label_w, y, value_th or "-", value_en, VALUE_SIZE,
                             max_width=value_w)
        y -= HEADER_FIELD + max(label, value) - VALUE_SIZE * LEADING
    return y + HEADER_FIELD - 2



@dataclass(frozen=True)
class _Row:
    kind: str  # "term", "course", "total"
    term: Term
    course: CourseResult | None = None
    cont: bool = False  # a term heading repeated at the top of a column
    lines: tuple[str, ...] = ()  # a course's code and name, wrapped to the column
    size: float = 8.0

    @property
    def height(self) -> float:
        if self.kind == "course":
            return ROW + max(0, len(self.lines) - 1) * self.size * LEADING
        if self.kind == "term":
            return ROW - 8 * LEADING + pair_height(*_term_label(self), 8, BOLD, GROUP_W - 6)
        return ROW - 7.5 * LEADING + pair_height(*TOTAL_LABEL, 7.5, REGULAR,
                                                 GROUP_W - 2 * NUM_W - 8)


GROUP_W = (RIGHT - LEFT - 2 * GROUP_GAP) / 3  # one column group of the course table
TOTAL_LABEL = ("หน่วยกิตรวม / ผลการเรียนเฉลี่ย", "Total / GPA")


def _term_label(row: _Row) -> tuple[str, str]:
    label = f"ปีการศึกษา {row.term.year}"
    if row.term.semester:
        label += f" ภาคเรียนที่ {row.term.semester}"
    ce = row.term.year - 543
    en = f"{ce}/{str(ce + 1)[2:]}" + (f" sem. {row.term.semester}" if row.term.semester else "")
    if row.cont:
        label, en = label + " (ต่อ)", en + " (cont.)"
    return label, en


def _course_rows(t: TranscriptRecord, name_w: float) -> list[list[_Row]]:
    """Rows per school year: term heading, courses (names wrapped to `name_w`), term total,
    for each semester."""
    by_term: dict[Term, list[CourseResult]] = defaultdict(list)
    for c in t.record.courses:
        by_term[c.term].append(c)
    years: dict[int, list[_Row]] = defaultdict(list)
    for term in sorted(by_term, key=Term.sort_key):
        rows = years[term.year]
        rows.append(_Row("term", term))
        for c in by_term[term]:
            text = f"{c.code} {c.name_th}"
            # One line down to the minimum size, as on the paper form; else wrapped at 8 pt.
            size = fonts.fit(text, REGULAR, 8, name_w)
            if fonts.width(text, REGULAR, size) <= name_w:
                lines: tuple[str, ...] = (text,)
            else:
                size, lines = fonts.wrap(text, REGULAR, 8, name_w, 2)
            rows.append(_Row("course", term, c, lines=lines, size=size))
        rows.append(_Row("total", term))
    return [years[y] for y in sorted(years)]


def _flow(rows: list[_Row], capacity: float) -> list[list[_Row]]:
    """Cut rows into columns at most `capacity` points tall, never ending a column on a term
    heading and repeating the heading at the top of a column that starts inside a term."""
    columns: list[list[_Row]] = [[]]
    for row in rows:
        col = columns[-1]
        used = sum(r.height for r in col)
        need = row.height + (ROW if row.kind == "term" else 0.0)
        if col and used + need > capacity:
            col = []
            columns.append(col)
            if row.kind != "term":
                col.append(_Row("term", row.term, cont=True))
        col.append(row)
    return columns


# Where a narrow column's heading breaks when it does not fit on one line at 7 pt.
_HEADING_BREAKS = {"ผลการเรียน": ("ผลการ", "เรียน"), "เวลาเรียน": ("เวลา", "เรียน")}


def _headings(t: TranscriptRecord) -> tuple[tuple[tuple[str, ...], str], ...]:
    """(Thai lines, English) of the credits and grade columns' headings."""
    out = []
    for th, en in (amount_heading(t), ("ผลการเรียน", "Grade")):
        if fonts.width(th, BOLD, fonts.MIN_SIZE) > NUM_W - 2:
            lines = _HEADING_BREAKS.get(th) or fonts.wrap(th, BOLD, 7.5, NUM_W - 2)[1]
        else:
            lines = (th,)
        out.append((lines, en))
    return tuple(out)


def _head_height(t: TranscriptRecord) -> float:
    """The column heading's height: 22 pt, more when a narrow column's heading wraps."""
    lines = max(len(th) for th, _ in _headings(t))
    return 22 + (lines - 1) * 7.5 * LEADING


def _group_columns(s: Sheet, t: TranscriptRecord, x: float, y: float, w: float) -> float:
    name_w = w - 2 * NUM_W
    head = _head_height(t)
    s.rect(x, y - head, w, head, fill=SHADE, stroke=False)
    s.text(x + 3, y - 9, "รหัส / รายวิชา", BOLD, 7.5)
    s.text(x + 3, y - 18, "Code / Course", REGULAR, 6.5, color=GREY)
    for i, (th, en) in enumerate(_headings(t)):
        cx = x + name_w + NUM_W * i + NUM_W / 2
        for n, line in enumerate(th):
            s.text(cx, y - 9 - n * 7.5 * LEADING, line, BOLD, 7.5, "center",
                   max_width=NUM_W - 2)
        s.text(cx, y - head + 4, en, REGULAR, 6.5, "center", color=GREY)
        s.cell(cx - NUM_W / 2, y - head, cx + NUM_W / 2, y)
    return y - head


def _draw_row(s: Sheet, t: TranscriptRecord, row: _Row, x: float, y: float, w: float) -> None:
    name_w = w - 2 * NUM_W
    base = y - ROW + 3.5
    cred_x = x + name_w + NUM_W / 2
    grade_x = cred_x + NUM_W
    if row.kind == "term":
        s.pair_block(x + 3, base, *_term_label(row), 8, BOLD, max_width=w - 6)
        s.cell(x, y - row.height, x + w, y)
    elif row.kind == "course" and row.course is not None:
        c = row.course
        # Thai names only, as on the paper form: English glosses fit for a few courses
        # only, and a mixed column reads worse. The record carries `name_en`.
        for i, line in enumerate(row.lines):
            s.text(x + 3, base - i * row.size * LEADING, line, REGULAR, row.size)
        s.cell(x, y - row.height, x + name_w, y)
        s.cell(x + name_w, y - row.height, x + name_w + NUM_W, y)
        s.cell(x + name_w + NUM_W, y - row.height, x + w, y)
        s.text(cred_x, base, amount(t, c.credits, c.hours), REGULAR, 8, "center")
        s.text(grade_x, base, c.grade, BOLD, 8, "center")
    else:
        summary = {ts.term: ts for ts in t.summary.terms}.get(row.term)
        s.line(x, y, x + w, y, 0.3)
        s.pair_block(x + name_w - 4, base, *TOTAL_LABEL, 7.5, max_width=name_w - 8,
                     align="right")
        s.cell(x, y - row.height, x + name_w, y)
        if summary is not None:
            s.text(cred_x, base, amount(t, summary.credits_attempted, summary.hours), BOLD, 8,
                   "center")
            s.text(grade_x, base, gpa(summary.gpa), BOLD, 8, "center")


def _columns(years: list[list[_Row]], capacity: float) -> list[list[_Row]]:
    """One year per column group when every year fits; otherwise one continuous flow."""
    if len(years) <= 3 and all(sum(r.height for r in rows) <= capacity for rows in years):
        return years
    return _flow([r for rows in years for r in rows], capacity)


def _course_pages(s: Sheet, t: TranscriptRecord, top: float) -> bool:
    """Lay the course rows out in three column groups, flowing onto further pages, above
    the band of the registrar's signature (`_signature_band`); then the grade legend if it fits
    under them (returns whether it did)."""
    width = GROUP_W
    years = _course_rows(t, width - 2 * NUM_W - 5)
    y0 = section_bar(s, top - 4, "ผลการเรียนรายวิชา", "Course results") - 3
    free = y0 - _head_height(t) - 2 - BODY_BOTTOM
    # The signature band is kept free on the front's last page only: when the table goes
    # onto further pages anyway, the first page's columns run down to the footer (a
    # continuation page has more room than the first, so the last still has the band).
    band = _signature_band(t)
    columns = _columns(years, free - band)
    if len(columns) > 3:
        wider = _columns(years, free)
        if len(wider) > 3:
            columns = wider
    lowest = y0
    for i, rows in enumerate(columns):
        slot = i % 3
        if i and slot == 0:
            s.new_page()
            top = continuation_header(s, t, "ผลการเรียนรายวิชา (ต่อ)", "Course results (cont.)")
            y0 = top - 4
        x = LEFT + slot * (width + GROUP_GAP)
        y = _group_columns(s, t, x, y0, width)
        bottom = y - sum(r.height for r in rows)
        s.rect(x, bottom - 2, width, y0 - bottom + 2, 0.6)
        name_w = width - 2 * NUM_W
        s.line(x + name_w, y0, x + name_w, bottom - 2, 0.3)
        s.line(x + name_w + NUM_W, y0, x + name_w + NUM_W, bottom - 2, 0.3)
        for row in rows:
            _draw_row(s, t, row, x, y, width)
            y -= row.height
        lowest = min(lowest, bottom - 2) if slot else bottom - 2
    if lowest - (BODY_BOTTOM + band) >= legend_height() + 12:
        legend(s, lowest - 12)
        return True
    return False


def front(s: Sheet, t: TranscriptRecord) -> bool:
    """The header, the course results (one or more pages) and the registrar's signature,
    which the paper form carries at the foot of the front; whether the grade legend fitted
    (if not, the back carries it)."""
    fitted = _course_pages(s, t, _header(s, t))
    w = wording("pp1")
    signature_line(s, t, LEFT + HALF, BODY_BOTTOM + _signature_band(t), HALF,
                   (("ทะเบียน", "registrar"), *w.pair("signatures", "registrar")), w)
    return fitted


HALF = (RIGHT - LEFT) / 2
"""Width of the registrar's signature block, in the right half of the front's foot."""


def _signature_band(t: TranscriptRecord) -> float:
    """Height kept free above the footer for the registrar's signature (the course table
    ends above it)."""
    w = wording("pp1")
    return signature_line_height(
        t, HALF, (("ทะเบียน", "registrar"), *w.pair("signatures", "registrar")), w)
