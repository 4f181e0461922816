"""Formatting shared by the school and vocational layouts."""

from __future__ import annotations

from decimal import Decimal

from issuer.core.record_json import credits_text, gpa_text
from issuer.core.records import TranscriptRecord

SEX_EN = {"ชาย": "Male", "หญิง": "Female"}
NATIONALITY_EN = {"ไทย": "Thai"}
RESULT_EN = {
    "ผ": "Pass", "มผ": "Fail", "ผ่าน": "Pass", "ไม่ผ่าน": "Fail",
    "ดีเยี่ยม": "Excellent", "ดี": "Good", "ร": "Incomplete", "มส": "Not eligible",
}


def credits(value: Decimal) -> str:
    """Credits with one decimal, as the record writes them: ``Decimal("1.5")`` -> ``"1.5"``."""
    return credits_text(value)


def gpa(value: Decimal | None) -> str:
    """GPA with two decimals, truncated, as the record writes it; ``-`` when none."""
    return gpa_text(value) or "-"


def signatory(record: TranscriptRecord, *roles: str) -> tuple[str, str, str, str] | None:
    """(role_th, role_en, name_th, name_en) of the first signatory whose role matches."""
    for s in record.record.signatories:
        text = f"{s.role_th} {s.role_en}".lower()
        if any(r in text for r in roles):
            return s.role_th, s.role_en, s.name_th, s.name_en
    return None
