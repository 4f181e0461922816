"""ปพ.1 back: activities, สรุปผลการประเมิน, learning areas, GPAX, decision, signatures."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from issuer.adapters.render import thai
from issuer.adapters.render.common import RESULT_EN, credits, gpa
from issuer.adapters.render.fonts import BOLD, REGULAR
from issuer.adapters.render.layout import (
    BODY_BOTTOM,
    GREY,
    LEFT,
    RIGHT,
    SHADE,
    Sheet,
    signatures,
)
from issuer.adapters.render.school_common import (
    GROUP_GAP,
    LEARNING_AREAS,
    NUM_W,
    ROW,
    area_of,
    continuation_header,
    earned,
    level_texts,
    numeric,
    section_bar,
)
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



def _room(s: Sheet, t: TranscriptRecord, y: float, needed: float) -> float:
    """`y` if `needed` points fit above the footer, else the top of a new page."""
    if y - needed >= BODY_BOTTOM:
        return y
    s.new_page()
    return continuation_header(s, t, "ผลการประเมินและการจบหลักสูตร (ต่อ)",
                                "Assessment and graduation (cont.)")



def back(s: Sheet, t: TranscriptRecord) -> None:
    """The back page (continuing onto another page if it has to)."""
    s.new_page()
    y = continuation_header(s, t, "ผลการประเมินและการจบหลักสูตร", "Assessment and graduation")
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

