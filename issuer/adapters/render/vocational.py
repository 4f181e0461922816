"""The vocational certificate (page 1) and its course transcript (page 2 onwards).

Fields follow FORMS.md (BMA vocational training schools, partly unconfirmed): title
ประกาศนียบัตร, "ให้ไว้เพื่อแสดงว่า", the course and its hours, รุ่น, the school, "ให้ไว้ ณ วันที่",
the director's signature; then the modules with hours and results. Totals and the result
come from the record's summary (`issuer.core.grading.summarise`).
"""

from __future__ import annotations

import dataclasses
from itertools import pairwise

from issuer.adapters.render import fonts, thai
from issuer.adapters.render.common import RESULT_EN, signatory
from issuer.adapters.render.fonts import BOLD, REGULAR
from issuer.adapters.render.layout import (
    BODY_BOTTOM,
    GREY,
    LEADING,
    LEFT,
    PAGE_W,
    RIGHT,
    SHADE,
    TOP,
    Sheet,
    pair_height,
    signatures,
    signatures_height,
)
from issuer.adapters.render.templates import wording
from issuer.core.records import TranscriptRecord

ROW = 15.0  # 9 pt type at 1.6 em
MID = PAGE_W / 2


def _centred_lines(s: Sheet, y: float, text: str, font: str, size: float, width: float,
                   color: tuple[float, float, float] = (0, 0, 0)) -> float:
    """Word-wrapped (PyThaiNLP word boundaries), centred paragraph; returns the next y."""
    for line in thai.wrap(text, width, lambda t: fonts.width(t, font, size)):
        s.text(MID, y, line, font, size, "center", color=color)
        y -= size * 1.6
    return y


EMBLEM = 62.0  # the emblem's square at the head of the certificate (22 mm)


def _certificate_body(s: Sheet, t: TranscriptRecord, k: float) -> float:
    """Draw the certificate with its larger gaps scaled by `k`; returns its lowest y."""
    rec, inst, prog = t.record, t.institution, t.record.programme
    name = rec.student.name
    frame_bottom = BODY_BOTTOM + 6
    s.rect(LEFT, frame_bottom, RIGHT - LEFT, TOP + 6 - frame_bottom, 2.0, color=(0.2, 0.2, 0.2))
    s.rect(LEFT + 5, frame_bottom + 5, RIGHT - LEFT - 10, TOP - 4 - frame_bottom, 0.6)
    s.cell(LEFT + 5, frame_bottom + 5, RIGHT - 5, TOP + 1, frame=True)
    w = wording("vocational")
    if rec.form_number:  # the certificate's own number, as the school's register has it
        num_th, num_en = w.pair("certificate", "number")
        s.pair(RIGHT - 14, TOP - 14, f"{num_th} {rec.form_number}",
               f"{num_en} {rec.form_number}", 10, BOLD, align="right")
    doc_th, doc_en = w.pair("certificate", "document")
    s.pair(RIGHT - 14, TOP - 27, f"{doc_th} {t.transcript_id}", f"{doc_en} {t.transcript_id}",
           8.5, align="right")
    y = TOP - 46
    emblem = s.picture(inst.emblem_sha256)
    if emblem:  # centred above the issuer, as the BMA emblem heads its certificates
        size = max(EMBLEM * k, EMBLEM * 0.6)
        s.image(MID - size / 2, TOP - 8 - size, size, size, emblem)
        y = TOP - 8 - size - 18
    issuer_th, issuer_en = w.pair("certificate", "issuer")
    s.text(MID, y, issuer_th, BOLD, 16, "center")
    y -= 16
    s.text(MID, y, issuer_en, REGULAR, 10, "center", color=GREY)
    y -= max(20 * k, 14)
    s.text(MID, y, inst.affiliation_th, REGULAR, 12, "center", max_width=RIGHT - LEFT - 40)
    y -= 15
    s.text(MID, y, inst.affiliation_en, REGULAR, 9, "center", color=GREY)
    y -= max(46 * k, 32)
    title_th, title_en = w.pair("certificate", "title")
    s.text(MID, y, title_th, BOLD, 30, "center")
    y -= max(24 * k, 18)
    s.text(MID, y, title_en, BOLD, 16, "center", color=GREY)
    y -= max(48 * k, 15)
    s.pair(MID, y, *w.pair("certificate", "certify"), 12, align="center")
    y -= max(38 * k, 25)
    s.text(MID, y, name.full_name_th, BOLD, 22, "center", max_width=RIGHT - LEFT - 60)
    y -= max(22 * k, 22)
    s.text(MID, y, name.full_name_en, BOLD, 13, "center", max_width=RIGHT - LEFT - 60)
    y -= max(40 * k, 18)
    width = RIGHT - LEFT - 80
    statement = (f"ได้สำเร็จการฝึกอาชีพ หลักสูตร{prog.name_th} "
                 f"จำนวน {prog.total_hours} ชั่วโมง")
    y = _centred_lines(s, y, statement, REGULAR, 14, width)
    y -= 2
    statement_en = (f"has successfully completed the vocational training course "
                    f"{prog.name_en} ({prog.total_hours} hours)")
    y = _centred_lines(s, y, statement_en, REGULAR, 10.5, width, GREY)
    y -= 8
    if prog.cohort:
        cohort_th, cohort_en = w.pair("certificate", "cohort")
        s.pair(MID, y, f"{cohort_th} {prog.cohort}", f"{cohort_en} {prog.cohort}", 12,
               align="center")
        y -= max(22 * k, 22)
    s.text(MID, y, f"ณ {inst.name_th}", REGULAR, 13, "center", max_width=width)
    y -= 17
    s.text(MID, y, f"at {inst.name_en}", REGULAR, 10, "center", color=GREY, max_width=width)
    y -= max(36 * k, 16)
    when = rec.graduation_date or t.issued_at.date()
    s.text(MID, y, f"ให้ไว้ ณ วันที่ {when.day} เดือน {thai.MONTHS_TH[when.month - 1]} "
           f"พ.ศ. {when.year + thai.BE_OFFSET}", REGULAR, 13, "center")
    y -= 16
    s.text(MID, y, f"Given on {thai.date_en(when)}", REGULAR, 10, "center", color=GREY)
    y -= max(26 * k, 8)
    director = signatory(t, "ผู้อำนวยการ", "director")
    role_en = director[1] if director else "Director"
    role_th = director[0] if director else "ผู้อำนวยการ"
    if not role_th.endswith(inst.name_th) and len(role_th) < 20:
        role_th = f"{role_th}{inst.name_th}"
    _sign(s, y, director, role_th, role_en)
    return y - 84 - 4


def _certificate(s: Sheet, t: TranscriptRecord) -> None:
    """The certificate page; its gaps close up when long names or a long course name
    need the room, so the signature stays inside the frame."""
    limit = BODY_BOTTOM + 6 + 5 + 2
    for k in (1.0, 0.8, 0.6, 0.4, 0.2):
        trial = Sheet(images=s.images)
        if _certificate_body(trial, t, k) >= limit:
            break
    s.pages[-1].extend(trial.pages[0])
    s.cells.extend(dataclasses.replace(c, page=len(s.pages) - 1) for c in trial.cells)
    s.pictures.extend(dataclasses.replace(c, page=len(s.pages) - 1) for c in trial.pictures)


def _sign(s: Sheet, y: float, found: tuple[str, str, str, str] | None, role_th: str,
          role_en: str) -> None:
    s.text(MID, y - 12, "(ลงลายมือชื่อดิจิทัล / digitally signed)", REGULAR, 7.5, "center",
           color=GREY)
    s.line(MID - 110, y - 28, MID + 110, y - 28, 0.4)
    name_th, name_en = (found[2], found[3]) if found else ("-", "")
    s.text(MID, y - 42, f"( {name_th} )", REGULAR, 12, "center", max_width=RIGHT - LEFT - 60)
    s.text(MID, y - 55, name_en, REGULAR, 9, "center", color=GREY, max_width=RIGHT - LEFT - 60)
    s.text(MID, y - 71, role_th, BOLD, 11, "center", max_width=RIGHT - LEFT - 60)
    s.text(MID, y - 84, role_en, REGULAR, 9, "center", color=GREY)


def _transcript_header(s: Sheet, t: TranscriptRecord, cont: bool) -> float:
    rec, prog = t.record, t.record.programme
    st = rec.student
    s.pair(LEFT, TOP, "ผลการฝึกอาชีพ" + (" (ต่อ)" if cont else ""),
           "Course transcript" + (" (cont.)" if cont else ""), 14, BOLD)
    s.pair(RIGHT, TOP, f"เลขที่ {t.transcript_id}  ฉบับที่ {t.version}",
           f"version {t.version}", 8.5, align="right")
    y = TOP - 10
    s.line(LEFT, y, RIGHT, y)
    fields = [
        ("ชื่อ-สกุล", "Name", st.name.full_name_th, st.name.full_name_en),
        ("เลขประจำตัวผู้เรียน", "Learner ID", st.student_id, ""),
        ("หลักสูตร", "Course", f"{prog.code} {prog.name_th}", prog.name_en),
        ("จำนวนชั่วโมง / รุ่น", "Hours / cohort",
         f"{prog.total_hours} ชั่วโมง" + (f"  รุ่นที่ {prog.cohort}" if prog.cohort else ""),
         f"{prog.total_hours} hours" + (f", cohort {prog.cohort}" if prog.cohort else "")),
        ("สถานที่ฝึก", "Training school", t.institution.name_th, t.institution.name_en),
    ]
    if not cont:
        fields.insert(2, ("เกิดวันที่", "Born", thai.date_th(st.birth_date, era=True),
                          thai.date_en(st.birth_date)))
    y -= 6
    height = 0.0
    for th, en, v_th, v_en in fields:
        y -= 14 + max(0.0, height - 9.5 * LEADING)
        label = s.pair_block(LEFT + 4, y, th, en, 8.5, BOLD, max_width=118)
        height = max(label, s.pair_block(LEFT + 130, y, v_th, v_en, 9.5,
                                         max_width=RIGHT - LEFT - 134))
    return y - 10 - max(0.0, height - 9.5 * LEADING)


_COLS = (("ลำดับ", "No.", 30.0), ("รหัส", "Code", 62.0), ("หน่วยการเรียน", "Module", 0.0),
         ("ชั่วโมง", "Hours", 48.0), ("ผลการประเมิน", "Result", 72.0))


def _table_head(s: Sheet, y: float) -> tuple[float, list[float]]:
    fixed = sum(w for *_, w in _COLS)
    xs = [LEFT]
    for *_, w in _COLS:
        xs.append(xs[-1] + (w or (RIGHT - LEFT - fixed)))
    s.rect(LEFT, y - 24, RIGHT - LEFT, 24, fill=SHADE, stroke=False)
    for (th, en, _), x0, x1 in zip(_COLS, xs, xs[1:], strict=False):
        s.text((x0 + x1) / 2, y - 10, th, BOLD, 8.5, "center")
        s.text((x0 + x1) / 2, y - 20, en, REGULAR, 7, "center", color=GREY)
    return y - 24, xs


def _transcript(s: Sheet, t: TranscriptRecord) -> None:
    modules = list(t.record.courses)
    s.new_page()
    y = _transcript_header(s, t, False)
    top, xs = _table_head(s, y)
    y = top
    w = wording("vocational")
    roles = ((("ทะเบียน", "registrar"), *w.pair("signatures", "registrar")),
             (("ผู้อำนวยการ", "director"), *w.pair("signatures", "director")))
    reserve = 38 + signatures_height(t, roles)  # totals and the signatures under the last row
    for i, m in enumerate(modules, 1):
        last = i == len(modules)
        name_h = pair_height(m.name_th, m.name_en, 9, REGULAR, xs[3] - xs[2] - 8)
        row = ROW + name_h - 9 * LEADING
        if y - row < BODY_BOTTOM + (reserve if last else 0):
            _grid(s, xs, top, y)
            s.new_page()
            top, xs = _table_head(s, _transcript_header(s, t, True))
            y = top
        base = y - ROW + 4.5
        s.text((xs[0] + xs[1]) / 2, base, str(i), REGULAR, 9, "center")
        s.text(xs[1] + 4, base, m.code, REGULAR, 9, max_width=xs[2] - xs[1] - 8)
        s.pair_block(xs[2] + 4, base, m.name_th, m.name_en, 9, max_width=xs[3] - xs[2] - 8)
        for x0, x1 in pairwise(xs):
            s.cell(x0, y - row, x1, y)
        s.text((xs[3] + xs[4]) / 2, base, str(m.hours), REGULAR, 9, "center")
        s.pair((xs[4] + xs[5]) / 2, base, m.grade, RESULT_EN.get(m.grade, ""), 9, BOLD,
               align="center", max_width=xs[5] - xs[4] - 6)
        y -= row
    _grid(s, xs, top, y)
    summ = t.summary
    y -= 16
    s.pair(LEFT + 4, y, "รวมชั่วโมงฝึก", "Total hours", 10, BOLD)
    s.text(LEFT + 190, y, f"{summ.hours_total} ชั่วโมง ({summ.hours_total} hours)", BOLD, 10)
    y -= 15
    s.pair(LEFT + 4, y, "ชั่วโมงที่ผ่าน", "Hours passed", 10, BOLD)
    s.text(LEFT + 190, y, f"{summ.hours_passed} ชั่วโมง ({summ.hours_passed} hours)",
           REGULAR, 10)
    y -= 15
    result = (summ.decision.th, summ.decision.en) if summ.decision else ("-", "")
    s.pair(LEFT + 4, y, "ผลการฝึก", "Result", 10, BOLD)
    s.pair(LEFT + 190, y, *result, 11, BOLD)
    signatures(s, t, y - 4, roles, w)


def _grid(s: Sheet, xs: list[float], top: float, bottom: float) -> None:
    s.rect(LEFT, bottom - 2, RIGHT - LEFT, top + 24 - bottom + 2, 0.6)
    for x in xs[1:-1]:
        s.line(x, top + 24, x, bottom - 2, 0.3)


def layout(s: Sheet, t: TranscriptRecord) -> None:
    """Certificate on page 1; modules, hours and results from page 2."""
    _certificate(s, t)
    _transcript(s, t)
