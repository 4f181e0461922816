"""The signed data as people read it: Thai (Buddhist Era) and English dates, names.

Pure functions over the credential's claims and the embedded record (a dict parsed
from ``transcript.json``); the web page and the JSON API show the same dict.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from verifier.core.credential import Claims

BUDDHIST_ERA = 543
MONTHS_TH = ("มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม",
             "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")


def date_th(value: date) -> str:
    """``31 มีนาคม พ.ศ. 2569``."""
    return f"{value.day} {MONTHS_TH[value.month - 1]} พ.ศ. {value.year + BUDDHIST_ERA}"


def date_en(value: date) -> str:
    """``31 March 2026``."""
    return f"{value.day} {MONTHS_EN[value.month - 1]} {value.year}"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _join(*parts: Any) -> str | None:
    words = [p for p in parts if isinstance(p, str) and p]
    return " ".join(words) or None


def signed_data(
    claims: Claims,
    *,
    institution_name_en: str | None = None,
    record: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What a person compares with the paper: from the credential, enriched by the record.

    `record` must only be given when its digest matched the credential's (then it is as
    signed as the credential itself). Without it (the QR path) the institution's name
    comes from its certificate (subject O, English) and the programme is its code.
    """
    inst: dict[str, Any] = {"code": claims.institution, "name_th": None,
                            "name_en": institution_name_en}
    student: dict[str, Any] = {"name_th": claims.name, "name_en": None}
    programme: dict[str, Any] = {"code": claims.programme, "name_th": None, "name_en": None}
    if record is not None:
        r_inst = record.get("institution") if isinstance(record.get("institution"), dict) else {}
        inst["name_th"] = _text(r_inst.get("name_th"))
        inst["name_en"] = _text(r_inst.get("name_en")) or institution_name_en
        s = record.get("student") if isinstance(record.get("student"), dict) else {}
        student["name_th"] = _join(s.get("prefix_th"), s.get("first_name_th"),
                                   s.get("last_name_th")) or claims.name
        student["name_en"] = _join(s.get("prefix_en"), s.get("first_name_en"),
                                   s.get("last_name_en"))
        p = record.get("programme") if isinstance(record.get("programme"), dict) else {}
        programme["name_th"] = _text(p.get("name_th"))
        programme["name_en"] = _text(p.get("name_en"))
    graduation = claims.graduation_date
    issued = datetime.fromtimestamp(claims.issued_at, UTC)
    return {
        "transcript_id": claims.transcript_id,
        "version": claims.version,
        "institution": inst,
        "student": student,
        "programme": programme,
        "gpa": claims.gpa,
        "graduation_date": graduation.isoformat() if graduation else None,
        "graduation_date_th": date_th(graduation) if graduation else None,
        "graduation_date_en": date_en(graduation) if graduation else None,
        "issued_at": issued.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "issued_date_th": date_th(issued.date()),
        "issued_date_en": date_en(issued.date()),
        "source": "pdf" if record is not None else "credential",
    }
