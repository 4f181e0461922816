"""ปพ.1 back: activities, สรุปผลการประเมิน, learning areas, GPAX, decision, signatures.

Every total, GPA, verdict and the decision's wording come from the record's summary
(`issuer.core.grading.summarise`): this module only formats them."""

from __future__ import annotations

from collections import defaultdict

from issuer.adapters.render import thai
from issuer.adapters.render.common import RESULT_EN, credits, gpa
from issuer.adapters.render.fonts import BOLD, REGULAR
from issuer.adapters.render.layout import (
    BODY_BOTTOM,
    GREY,
    LEADING,
    LEFT,
    RIGHT,
    SHADE,
    Sheet,
    pair_height,
    signatures,
    signatures_height,
)
from issuer.adapters.render.school_common import (
    GROUP_GAP,
    NUM_W,
    ROW,
    amount,
    amount_heading,
    continuation_header,
    in_hours,
    legend,
    section_bar,
)
from issuer.adapters.render.templates import wording
from issuer.core.records import CourseType, TranscriptRecord


def _activities(s: Sheet, t: TranscriptRecord, y: float) -> float:
    y = section_bar(s, y, "ผลการประเมินกิจกรรมพัฒนาผู้เรียน", "Learner development activities")
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
        for cx, th, en in ((x + name_w + NUM_W / 2, "ชม.", "Hours"),
                           (x + name_w + 1.5 * NUM_W, "ผล", "Result")):  # stacked: narrow
            s.text(cx, yy - 10, th, BOLD, 7, "center", max_width=NUM_W - 4)
            s.text(cx, yy - 18, en, REGULAR, 6, "center", color=GREY, max_width=NUM_W - 4)
        yy -= 22
        for a in by_year[year]:
            base = yy - ROW + 3.5
            row = ROW - 8 * LEADING + pair_height(a.name_th, a.name_en, 8, REGULAR, name_w - 5)
            s.pair_block(x + 3, base, a.name_th, a.name_en, 8, max_width=name_w - 5)
            s.cell(x, yy - row, x + name_w, yy)
            s.text(x + name_w + NUM_W / 2, base, str(a.hours), REGULAR, 8, "center")
            s.text(x + name_w + 1.5 * NUM_W, base, a.result, BOLD, 8, "center")
            yy -= row
        s.rect(x, yy - 2, width, y - 4 - yy + 2, 0.6)
        lowest = min(lowest, yy - 2)
    return lowest


def _verdict(ok: bool) -> tuple[str, str]:
    return ("ผ่าน", "Pass") if ok else ("ไม่ผ่าน", "Fail")


def _type_line(t: TranscriptRecord, ctype: CourseType) -> tuple[str, str, bool]:
    """Line 1 of the summary for one course type: credits (or hours, ปพ.1:ป) studied/earned."""
    found = [c for c in t.summary.course_types if c.course_type is ctype]
    th, en = (("1. รายวิชาพื้นฐาน", "Basic courses") if ctype is CourseType.BASIC
              else ("    รายวิชาเพิ่มเติม", "Additional courses"))
    if not found:
        return f"{th} -", f"{en}: -", False
    c = found[0]
    if in_hours(t):
        return (f"{th} เรียน/ได้ {c.hours_attempted}/{c.hours_earned} ชั่วโมง",
                f"{en}, hours studied/earned: {c.hours_attempted}/{c.hours_earned}", c.passed)
    return (f"{th} เรียน/ได้ {credits(c.credits_attempted)}/{credits(c.credits_earned)}",
            f"{en}, credits studied/earned: "
            f"{credits(c.credits_attempted)}/{credits(c.credits_earned)}", c.passed)


def _summary(s: Sheet, t: TranscriptRecord, y: float, x: float, w: float) -> float:
    y = y - 4
    s.rect(x, y - 22, w, 22, fill=SHADE, stroke=False)
    s.pair(x + 4, y - 14, "สรุปผลการประเมิน", "Assessment summary", 9, BOLD)
    s.pair(x + w - 24, y - 14, "ผลการตัดสิน", "", 7.5, BOLD, align="center")
    y -= 22
    rows = [_type_line(t, CourseType.BASIC), _type_line(t, CourseType.ADDITIONAL)]
    for number, line in enumerate(t.summary.assessments, 2):
        if line.key == "activities":
            rows.append((f"{number}. {line.name_th}", f"Learner development activities: "
                         f"{t.summary.activity_hours} hours", line.passed))
        else:
            en = line.name_en[:1].upper() + line.name_en[1:]
            rows.append((f"{number}. {line.name_th}: {line.result or '-'}",
                         f"{en}: {RESULT_EN.get(line.result, line.result or '-')}",
                         line.passed))
    for th, en, ok in rows:
        s.text(x + 4, y - 10, th, REGULAR, 8.5, max_width=w - 56)
        s.text(x + 14, y - 20, en, REGULAR, 7, max_width=w - 66, color=GREY)
        s.pair(x + w - 24, y - 14, *_verdict(ok), 8.5, BOLD, align="center", max_width=44)
        y -= 24
    s.rect(x, y, w, 24 * len(rows) + 22, 0.6)
    s.line(x + w - 48, y, x + w - 48, y + 24 * len(rows) + 22, 0.3)
    return y


def _areas(s: Sheet, t: TranscriptRecord, y: float, x: float, w: float) -> float:
    y = y - 4
    credit_w, gpa_w = 38.0, 38.0
    unit_th, unit_en = amount_heading(t)
    s.rect(x, y - 22, w, 22, fill=SHADE, stroke=False)
    s.pair(x + 4, y - 9, "ผลการเรียนรายกลุ่มสาระการเรียนรู้", "", 8.5, BOLD)
    s.text(x + 4, y - 18, "Results by learning area", REGULAR, 6.5, color=GREY)
    s.pair(x + w - gpa_w - credit_w / 2, y - 9, unit_th, "", 7.5, BOLD, align="center")
    s.text(x + w - gpa_w - credit_w / 2, y - 18, unit_en, REGULAR, 6.5, "center",
           color=GREY)
    s.pair(x + w - gpa_w / 2, y - 9, "เฉลี่ย", "", 7.5, BOLD, align="center")
    s.text(x + w - gpa_w / 2, y - 18, "GPA", REGULAR, 6.5, "center", color=GREY)
    y -= 22
    top = y
    for area in t.summary.areas:
        base = y - ROW + 3.5
        name_w = w - credit_w - gpa_w - 8
        row = ROW - 8 * LEADING + pair_height(area.name_th, area.name_en, 8, REGULAR, name_w)
        s.pair_block(x + 4, base, area.name_th, area.name_en, 8, max_width=name_w)
        s.cell(x, y - row, x + w - gpa_w - credit_w, y)
        s.text(x + w - gpa_w - credit_w / 2, base, amount(t, area.credits_attempted, area.hours),
               REGULAR, 8, "center")
        s.text(x + w - gpa_w / 2, base, gpa(area.gpa), REGULAR, 8, "center")
        y -= row
    s.line(x + w - gpa_w - credit_w, top + 22, x + w - gpa_w - credit_w, y - 2, 0.3)
    s.line(x + w - gpa_w, top + 22, x + w - gpa_w, y - 2, 0.3)
    s.rect(x, y - 2, w, top + 22 - y + 2, 0.6)
    return y - 2


def _decision(s: Sheet, t: TranscriptRecord, y: float) -> float:
    rec = t.record
    y -= 8
    s.rect(LEFT, y - 26, RIGHT - LEFT, 26, 0.8)
    s.text(LEFT + 8, y - 17, "ผลการเรียนเฉลี่ยตลอดหลักสูตร", BOLD, 12)
    s.text(LEFT + 188, y - 17, "Cumulative GPA (GPAX)", REGULAR, 9, color=GREY)
    s.text(LEFT + 330, y - 18, gpa(t.summary.gpa), BOLD, 15)
    if in_hours(t):
        s.pair(RIGHT - 8, y - 17, f"เวลาเรียนที่ผ่าน {t.summary.hours_passed} ชั่วโมง",
               "hours passed", 9, align="right")
    else:
        s.pair(RIGHT - 8, y - 17, f"หน่วยกิตที่ได้ {credits(t.summary.credits_earned)}",
               "credits earned", 9, align="right")
    y -= 26 + 16
    decision = t.summary.decision
    decision_th, decision_en = (decision.th, decision.en) if decision else ("-", "")
    w = wording("pp1")
    s.pair(LEFT + 4, y, *w.pair("back", "decision"), 9, BOLD)
    s.pair(LEFT + 150, y, decision_th, decision_en, 10, BOLD)
    y -= 15
    s.pair(LEFT + 4, y, *w.pair("back", "graduation_approved"), 9, BOLD)
    if rec.graduation_date:
        s.pair(LEFT + 150, y, thai.date_th(rec.graduation_date, era=True),
               thai.date_en(rec.graduation_date), 10)
    else:
        s.text(LEFT + 150, y, "-", REGULAR, 10)
    y -= 15
    st = rec.student
    s.pair(LEFT + 4, y, *w.pair("back", "left_school"), 9, BOLD)
    if st.leave_date:
        s.pair(LEFT + 150, y, thai.date_th(st.leave_date, era=True), thai.date_en(st.leave_date),
               10)
    else:
        s.text(LEFT + 150, y, "-", REGULAR, 10)
    y -= 15
    s.pair(LEFT + 4, y, *w.pair("back", "leave_reason"), 9, BOLD)
    s.text(LEFT + 150, y, st.leave_reason_th or "-", REGULAR, 10, max_width=RIGHT - LEFT - 154)
    y -= 15
    issued = t.issued_at.date()
    s.pair(LEFT + 4, y, *w.pair("back", "issued"), 9, BOLD)
    s.pair(LEFT + 150, y, thai.date_th(issued, era=True), thai.date_en(issued), 10)
    return y - 8



def _room(s: Sheet, t: TranscriptRecord, y: float, needed: float) -> float:
    """`y` if `needed` points fit above the footer, else the top of a new page."""
    if y - needed >= BODY_BOTTOM:
        return y
    s.new_page()
    return continuation_header(s, t, "ผลการประเมินและการจบหลักสูตร (ต่อ)",
                                "Assessment and graduation (cont.)")



def back(s: Sheet, t: TranscriptRecord, with_legend: bool = False) -> None:
    """The back page (continuing onto another page if it has to); `with_legend` puts the
    grade legend at its top when the front had no room for it."""
    s.new_page()
    y = continuation_header(s, t, "ผลการประเมินและการจบหลักสูตร", "Assessment and graduation")
    if with_legend:
        y = legend(s, y - 4) - 4
    y = _activities(s, t, y) - 10
    half = (RIGHT - LEFT - GROUP_GAP) / 2
    y = _room(s, t, y, 4 + 22 + max(24 * 5, ROW * len(t.summary.areas) + 2))
    y_left = _summary(s, t, y, LEFT, half + 40)
    y_right = _areas(s, t, y, LEFT + half + 40 + GROUP_GAP, half - 40)
    y = _room(s, t, min(y_left, y_right), 110)
    y = _decision(s, t, y)
    w = wording("pp1")
    roles = ((("ทะเบียน", "registrar"), *w.pair("signatures", "registrar")),
             (("ผู้อำนวยการ", "director"), *w.pair("signatures", "director")))
    y = _room(s, t, y, signatures_height(t, roles))
    signatures(s, t, y, roles, w)

