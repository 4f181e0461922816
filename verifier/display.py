"""The signed data as people read it: Thai (Buddhist Era) and English dates, names.

Pure functions over the credential's claims, the embedded record (a dict parsed from
``transcript.json``) and the institution's signed directory; the web page and the JSON
API show the same dict, and the same `summary` of what the verdict proves.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from verifier.core.credential import Claims, verification_code
from verifier.core.directory import Directory
from verifier.core.verdict import Result, Verdict

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
    directory: Directory | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """What a person compares with the paper: from the credential, enriched by the record.

    `record` must only be given when its digest matched the credential's (then it is as
    signed as the credential itself). Without it (the QR path) the names of institution
    and programme come from the institution's signed `directory`, else the institution's
    English name from its certificate (subject O) and the programme by code only.
    """
    inst: dict[str, Any] = {"code": claims.institution, "name_th": None,
                            "name_en": institution_name_en}
    student: dict[str, Any] = {"name_th": claims.name, "name_en": claims.name_en}
    programme: dict[str, Any] = {"code": claims.programme, "name_th": None, "name_en": None}
    if directory is not None and directory.institution == claims.institution:
        inst["name_th"], inst["name_en"] = directory.name_th, directory.name_en
        names = directory.programmes.get(claims.programme)
        if names is not None:
            programme["name_th"], programme["name_en"] = names.name_th, names.name_en
    if record is not None:
        r_inst = record.get("institution") if isinstance(record.get("institution"), dict) else {}
        inst["name_th"] = _text(r_inst.get("name_th"))
        inst["name_en"] = _text(r_inst.get("name_en")) or institution_name_en
        s = record.get("student") if isinstance(record.get("student"), dict) else {}
        student["name_th"] = _join(s.get("prefix_th"), s.get("first_name_th"),
                                   s.get("last_name_th")) or claims.name
        student["name_en"] = _join(s.get("prefix_en"), s.get("first_name_en"),
                                   s.get("last_name_en")) or claims.name_en
        p = record.get("programme") if isinstance(record.get("programme"), dict) else {}
        programme["name_th"] = _text(p.get("name_th"))
        programme["name_en"] = _text(p.get("name_en"))
    graduation = claims.graduation_date
    issued = datetime.fromtimestamp(claims.issued_at, UTC)
    try:
        code = verification_code(claims.record_digest)
    except ValueError:  # not base64url: signed, but by a key that made a mistake
        code = None
    return {
        "transcript_id": claims.transcript_id,
        "version": claims.version,
        "institution": inst,
        "student": student,
        "programme": programme,
        "gpa": claims.gpa,
        **dates(graduation, issued),
        "verification_code": code,
        "source": source or ("pdf" if record is not None else "credential"),
    }


def dates(graduation: date | None, issued: datetime) -> dict[str, str | None]:
    """A verdict's dates as its data shows them: ISO, Thai (Buddhist Era) and English."""
    return {
        "graduation_date": graduation.isoformat() if graduation else None,
        "graduation_date_th": date_th(graduation) if graduation else None,
        "graduation_date_en": date_en(graduation) if graduation else None,
        "issued_at": issued.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "issued_date_th": date_th(issued.date()),
        "issued_date_en": date_en(issued.date()),
    }


# --- what a verdict proves ------------------------------------------------------------------

CREDENTIAL, PDF = "credential", "pdf"  # what was checked: the QR's credential, or the file
SD_JWT = "sd-jwt-vc"  # a selective-disclosure credential: only what the graduate disclosed
VC = "vc"  # the transcript's W3C VC 2.0 export (``.vc.json``, docs/interop.md)

SUMMARIES: dict[Result, tuple[str, str]] = {
    Result.INVALID: ("ไม่ถูกต้อง อาจถูกแก้ไขหรือปลอมแปลง", "Invalid: altered or forged"),
    Result.REVOKED: ("เอกสารถูกเพิกถอนแล้ว", "Revoked by the issuing institution"),
    Result.SUPERSEDED: ("มีเอกสารฉบับแก้ไขที่ใหม่กว่า", "Superseded: a newer version exists"),
    Result.UNTRUSTED: ("ผู้ออกเอกสารไม่ได้รับการรับรอง",
                       "Untrusted: not from a BMA-certified issuer"),
    Result.INDETERMINATE: ("ยังยืนยันผลไม่ได้ในขณะนี้", "Cannot be confirmed right now"),
}
VALID_SUMMARIES = {
    # A QR or a photo proves the credential, not the paper it is printed on.
    CREDENTIAL: ("ข้อมูลรับรองนี้ออกโดยกรุงเทพมหานครจริง โปรดเทียบข้อมูลกับเอกสารที่ได้รับ",
                 "This credential is genuine: compare its data with the paper"),
    PDF: ("ไฟล์ PDF นี้ออกโดยกรุงเทพมหานครและไม่ถูกแก้ไข",
          "Valid: this PDF was issued by the BMA and is unchanged"),
    SD_JWT: ("ข้อมูลที่เปิดเผยนี้ออกโดยสถานศึกษาในสังกัดกรุงเทพมหานครจริงและไม่ถูกแก้ไข",
             "Valid: the disclosed data was issued by a BMA institution and is unchanged"),
    VC: ("ข้อมูลรับรองดิจิทัลนี้ออกโดยกรุงเทพมหานครและไม่ถูกแก้ไข",
         "Valid: this digital credential was issued by the BMA and is unchanged"),
}
COMPARE = {
    CREDENTIAL: ("คิวอาร์โค้ดยืนยันข้อมูลรับรอง ไม่ได้ยืนยันกระดาษ: โปรดตรวจว่าชื่อ สถานศึกษา "
                 "หลักสูตร วันที่สำเร็จการศึกษา และรหัสตรวจสอบด้านล่างตรงกับเอกสารที่ได้รับ",
                 "The QR proves this credential, not the paper: check that the name, school, "
                 "programme, graduation date and verification code below match the paper."),
    PDF: ("โปรดเทียบข้อมูลด้านล่างกับเอกสารที่ได้รับ",
          "Compare the signed data below with the document you were given."),
    SD_JWT: ("ผู้สำเร็จการศึกษาเลือกเปิดเผยเฉพาะข้อมูลด้านล่าง ข้อมูลที่ไม่ได้เปิดเผยไม่ได้ถูกตรวจและไม่แสดง",
             "The graduate chose to disclose only the data below; what was withheld is "
             "listed, not shown."),
    VC: ("ข้อมูลรับรองดิจิทัลยืนยันข้อมูลของตัวเอง ไม่ได้ยืนยันกระดาษ: "
         "โปรดเทียบข้อมูลด้านล่างกับเอกสารที่ได้รับ",
         "The digital credential proves its own data, not any paper: compare the signed "
         "data below with the document you were given."),
}


BANGKOK = ZoneInfo("Asia/Bangkok")

BADGES: dict[Result, tuple[str, str, str, str]] = {
    # result: (tone, icon, Thai word, English word): every verdict its own colour, icon
    # and word, so none is told by colour alone (WCAG 1.4.1).
    Result.VALID: ("ok", "✓", "ถูกต้อง", "VALID"),
    Result.INVALID: ("bad", "✗", "ไม่ถูกต้อง", "INVALID"),
    Result.REVOKED: ("revoked", "⊘", "ถูกเพิกถอน", "REVOKED"),
    Result.UNTRUSTED: ("untrusted", "⚠", "ผู้ออกไม่ได้รับการรับรอง", "UNTRUSTED"),
    Result.SUPERSEDED: ("superseded", "↻", "มีฉบับใหม่กว่า", "SUPERSEDED"),
    Result.INDETERMINATE: ("indeterminate", "?", "ยังสรุปไม่ได้", "INDETERMINATE"),
}


def badge(result: Result) -> dict[str, str]:
    """The verdict's tone (its colour), icon and word, Thai and English."""
    tone, icon, th, en = BADGES[result]
    return {"tone": tone, "icon": icon, "th": th, "en": en}


def checked_at(moment: datetime) -> dict[str, str]:
    """When a verdict was reached, as a printed verdict states it (Bangkok time)."""
    local = moment.astimezone(BANGKOK)
    clock = local.strftime("%H:%M:%S")
    return {"th": f"{date_th(local.date())} เวลา {clock} น.",
            "en": f"{date_en(local.date())}, {clock} (UTC+7)"}


def summary(verdict: Verdict, scope: str) -> dict[str, str]:
    """The verdict in one bilingual sentence that claims no more than was proven:
    `scope` is `CREDENTIAL` (a QR, a photo of it, a pasted link), `PDF` (the file) or `VC`
    (the W3C VC 2.0 export)."""
    if verdict.result is Result.VALID:
        th, en = VALID_SUMMARIES[scope]
    else:
        th, en = SUMMARIES.get(verdict.result, (verdict.result.value, verdict.result.value))
    compare_th, compare_en = COMPARE[scope]
    return {"scope": scope, "th": th, "en": en, "compare_th": compare_th,
            "compare_en": compare_en}
