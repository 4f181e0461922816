"""What the ปพ.1 front and back pages share: geometry, level titles, headings.

Numbers are not computed here: every total, GPA and verdict comes from the record's
summary (`issuer.core.grading.summarise`)."""

from __future__ import annotations

from decimal import Decimal

from issuer.adapters.render import fonts
from issuer.adapters.render.common import credits
from issuer.adapters.render.fonts import BOLD, REGULAR
from issuer.adapters.render.layout import GREY, LEADING, LEFT, RIGHT, SHADE, TOP, Sheet
from issuer.adapters.render.templates import wording
from issuer.core.levels import STAGES, Stage, stage_of
from issuer.core.records import TranscriptRecord

ROW = 12.0  # table row pitch: 8 pt type at 1.5 em
FIELD = 13.5  # header field pitch: 9 pt type at 1.5 em
GROUP_GAP = 6.0
NUM_W = 28.0  # credits and grade columns: "หน่วยกิต" at 7 pt, and the names beside them


def level_texts(level: str) -> tuple[str, str, str, str]:
    """(form variant, Thai level, English level, Thai graduation wording) of a level's
    stage (`issuer.core.levels`); a level no stage knows reads as lower secondary."""
    rules = STAGES[stage_of(level) or Stage.LOWER_SECONDARY]
    return rules.form, rules.level_th, rules.level_en, rules.graduated_th


def in_hours(t: TranscriptRecord) -> bool:
    """Whether the form states hours instead of credits (ปพ.1:ป, primary)."""
    return t.summary.form == "ป"


def amount_heading(t: TranscriptRecord) -> tuple[str, str]:
    """The credits column's heading: หน่วยกิต, or เวลาเรียน (hours) on ปพ.1:ป."""
    return ("เวลาเรียน", "Hours") if in_hours(t) else ("หน่วยกิต", "Credits")


def amount(t: TranscriptRecord, credits_value: Decimal, hours: int) -> str:
    """A credits cell as the record states it: credits, or hours on ปพ.1:ป."""
    return str(hours) if in_hours(t) else credits(credits_value)


def serial_line(s: Sheet, t: TranscriptRecord) -> None:
    """The form's serial line, "ปพ.1 : พ  ชุดที่ …  เลขที่ …", as on the controlled paper
    stock; dots where the school gave no serial."""
    rec, w = t.record, wording("pp1")
    s.text(LEFT, TOP, f"ปพ.1 : {level_texts(rec.programme.level)[0]}   "
           f"{w.text('serial', 'set')} {rec.form_set or '……'}   "
           f"{w.text('serial', 'number')} {rec.form_number or '……'}", BOLD, 10)


def continuation_header(s: Sheet, t: TranscriptRecord, what_th: str, what_en: str) -> float:
    st = t.record.student
    serial_line(s, t)
    height = s.pair_block(RIGHT, TOP, f"{st.name.full_name_th}  เลขประจำตัวนักเรียน "
                          f"{st.student_id}", st.name.full_name_en, 9, align="right",
                          max_width=RIGHT - LEFT - 190)
    y = TOP - 8 - (height - 9 * LEADING)
    s.line(LEFT, y, RIGHT, y)
    y -= 18
    s.pair((LEFT + RIGHT) / 2, y, what_th, what_en, 12, BOLD, align="center")
    return y - 8


def section_bar(s: Sheet, y: float, th: str, en: str) -> float:
    s.rect(LEFT, y - 16, RIGHT - LEFT, 16, fill=SHADE, stroke=False)
    s.pair(LEFT + 5, y - 11.5, th, en, 10, BOLD)
    return y - 16


GRADE_LEGEND = (
    ("ระดับผลการเรียน: 4 ดีเยี่ยม, 3.5 ดีมาก, 3 ดี, 2.5 ค่อนข้างดี, 2 น่าพอใจ, 1.5 พอใช้, "
     "1 ผ่านเกณฑ์ขั้นต่ำ, 0 ต่ำกว่าเกณฑ์, ร รอการตัดสิน, มส ไม่มีสิทธิ์เข้ารับการวัดผลปลายภาค"),
    ("Grades: 4 excellent, 3.5 very good, 3 good, 2.5 fairly good, 2 satisfactory, 1.5 fair, "
     "1 minimum pass, 0 fail, ร (r) pending, มส (ms) not eligible for the final assessment"),
)


def legend_height() -> float:
    """The height `legend` takes (both lines wrap on a narrow page)."""
    th = fonts.wrap(GRADE_LEGEND[0], REGULAR, 7.5, RIGHT - LEFT)
    en = fonts.wrap(GRADE_LEGEND[1], REGULAR, 7, RIGHT - LEFT)
    return len(th[1]) * th[0] * LEADING + len(en[1]) * en[0] * LEADING


def legend(s: Sheet, y: float) -> float:
    """The grade legend, first baseline at `y`; returns the y under it."""
    y -= s.block(LEFT, y, GRADE_LEGEND[0], REGULAR, 7.5, RIGHT - LEFT)
    return y - s.block(LEFT, y, GRADE_LEGEND[1], REGULAR, 7, RIGHT - LEFT, color=GREY)
