"""School stages of the ปพ.1: form variant, titles, credit thresholds, graduation wording.

Thresholds follow the graduation criteria (เกณฑ์การจบการศึกษา) of the หลักสูตรแกนกลาง
การศึกษาขั้นพื้นฐาน พุทธศักราช 2551 (its revision of พ.ศ. 2560 kept them), as FORMS.md
states them; the order's wording was not retrieved verbatim, and where it differs it wins:

- ประถมศึกษา (ป.1-ป.6): study the basic and additional courses of the time structure
  (เวลาเรียน, stated in hours, not credits) and pass them by the school's criteria; no
  credit threshold.
- มัธยมศึกษาตอนต้น (ม.1-ม.3): at least 77 credits earned, of them 66 in basic courses and
  at least 11 in additional courses; "จบการศึกษาภาคบังคับ".
- มัธยมศึกษาตอนปลาย (ม.4-ม.6): at least 77 credits earned, of them 41 in basic courses and
  at least 36 in additional courses; "จบการศึกษาขั้นพื้นฐาน".

Every stage also requires reading-thinking-writing and desirable characteristics at least
ผ่าน and every learner-development activity ผ (see `grading`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Stage(StrEnum):
    PRIMARY = "primary"
    LOWER_SECONDARY = "lower_secondary"
    UPPER_SECONDARY = "upper_secondary"


@dataclass(frozen=True)
class CreditRule:
    """Credits earned needed to graduate: basic, additional (at least), total (at least)."""

    basic: Decimal
    additional: Decimal
    total: Decimal


@dataclass(frozen=True)
class StageRules:
    """What one stage's ปพ.1 prints and requires."""

    form: str
    """The form variant after "ปพ.1 :" (ป, บ or พ)."""
    final: str
    """The class that completes the stage: only a record ending there can graduate."""
    level_th: str
    level_en: str
    credits: CreditRule | None
    """None for primary: hours, and every course passed, instead of a credit count."""
    graduated_th: str
    graduated_en: str


STAGES: dict[Stage, StageRules] = {
    Stage.PRIMARY: StageRules("ป", "ป.6", "ระดับประถมศึกษา", "Primary", None,
                              "จบหลักสูตรระดับประถมศึกษา", "Completed primary education"),
    Stage.LOWER_SECONDARY: StageRules(
        "บ", "ม.3", "ระดับมัธยมศึกษาตอนต้น", "Lower Secondary",
        CreditRule(Decimal(66), Decimal(11), Decimal(77)),
        "จบการศึกษาภาคบังคับ", "Completed compulsory education"),
    Stage.UPPER_SECONDARY: StageRules(
        "พ", "ม.6", "ระดับมัธยมศึกษาตอนปลาย", "Upper Secondary",
        CreditRule(Decimal(41), Decimal(36), Decimal(77)),
        "จบการศึกษาขั้นพื้นฐาน", "Completed basic education"),
}
NOT_GRADUATED = ("ยังไม่จบหลักสูตร", "Not yet graduated")


def stage_of(level: str) -> Stage | None:
    """The stage of a last class ("ป.6" -> primary, "ม.2" -> lower, "ม.5" -> upper)."""
    prefix, _, number = level.partition(".")
    if not number.isdigit() or not 1 <= int(number) <= 6:
        return None
    if prefix == "ป":
        return Stage.PRIMARY
    if prefix == "ม":
        return Stage.LOWER_SECONDARY if int(number) <= 3 else Stage.UPPER_SECONDARY
    return None
