"""The checks of an SD-JWT VC presentation and what its verdict shows.

The same trust as the QR credential: the key found by ``kid`` in the issuer's JWKS
(chained to the pinned root, valid and in use at ``iat``, of the institution the claims
name, not compromised before), then status from the institution's lists by
``status_index`` (`verifier.status_checks`). Beside them ``disclosures``: every presented
disclosure matched a digest the issuer signed (`verifier.core.sd_jwt.verify`), and
``key_binding`` when the holder signed the presentation.

The verdict's data shows exactly what was disclosed and says what was withheld.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from verifier.core import sd_jwt, sd_jwt_vc
from verifier.core.verdict import Check, Status
from verifier.display import dates
from verifier.trust import TrustStore, key_checks

FORMAT = "sd-jwt-vc"
GROUP_WORDS = {  # withheld elements: (Thai, English singular, English plural)
    "courses": ("รายวิชา", "course", "courses"),
    "terms": ("ภาคเรียน", "term", "terms"),
    "modules": ("หน่วยการเรียน", "module", "modules"),
}
FIELD_WORDS = {
    "name": ("ชื่อ-สกุล", "name"),
    "programme": ("หลักสูตร", "programme"),
    "graduation_date": ("วันที่สำเร็จการศึกษา", "graduation date"),
    "gpa": ("ผลการเรียนเฉลี่ยสะสม", "GPAX"),
}


def looks_like_sd_jwt(text: str) -> bool:
    """An SD-JWT (``<JWT>~...``), bare or in a link's fragment (``…/sd#<JWT>~...``)."""
    text = text.strip().rsplit("#", 1)[-1]
    head = text.split("~", 1)[0]
    return "~" in text and head.count(".") == 2


def extract(text: str) -> str:
    return text.strip().rsplit("#", 1)[-1]


def check_sd_jwt(text: str, trust: TrustStore
                 ) -> tuple[sd_jwt_vc.Presented | None, list[Check]]:
    """The signature, trust and disclosure checks; the presented claims when they pass
    the signature."""
    def resolve(kid: str) -> Any:
        key = trust.key(kid)
        return key.public_key if key else None

    try:
        verified = sd_jwt.verify(extract(text), resolve, types=sd_jwt_vc.TYPES,
                                 visible=sd_jwt_vc.VISIBLE)
        presented = sd_jwt_vc.read(verified)
    except sd_jwt.SdJwtError as exc:
        return None, [Check("credential_signature", Status.FAIL,
                            "ข้อมูลรับรองแบบเลือกเปิดเผย (SD-JWT VC) ไม่ถูกต้อง",
                            f"SD-JWT VC rejected: {exc}")]
    key = trust.keys[verified.kid]
    checks = [Check("credential_signature", Status.PASS,
                    "ลายมือชื่อของสถาบันบนข้อมูลรับรองถูกต้อง",
                    "The institution's signature on the SD-JWT VC is valid")]
    checks += key_checks(key, presented.issued_at, presented.institution)
    n = verified.disclosed
    checks.append(Check("disclosures", Status.PASS,
                        f"ข้อมูลที่เปิดเผยทั้ง {n} รายการตรงกับที่สถาบันลงนามไว้",
                        f"All {n} disclosed items match what the institution signed"))
    if presented.key_binding is not None:
        checks.append(Check("key_binding", Status.PASS,
                            "ผู้ถือข้อมูลรับรองลงนามการนำเสนอนี้ด้วยกุญแจของตน",
                            "The holder signed this presentation with their key"))
    elif "cnf" in verified.claims:
        checks.append(Check("key_binding", Status.WARN,
                            "ไม่มีลายมือชื่อของผู้ถือ: ใครที่มีลิงก์นี้ก็นำเสนอได้",
                            "Not signed by the holder: anyone with this link can present it"))
    return presented, checks


def presented_data(p: sd_jwt_vc.Presented, *, institution_name_en: str | None = None
                   ) -> dict[str, Any]:
    """The verdict's data: the always-visible claims, only the disclosed ones, and what
    was withheld (field names, and how many terms, courses or modules)."""
    d = p.disclosed
    name = d.get("name") if isinstance(d.get("name"), dict) else {}
    prog = d.get("programme") if isinstance(d.get("programme"), dict) else None
    graduation = _date(d.get("graduation_date"))
    issued = datetime.fromtimestamp(p.issued_at, UTC)
    withheld_th, withheld_en = _withheld_text(p)
    data: dict[str, Any] = {
        "format": FORMAT,
        "kind": p.kind,
        "transcript_id": p.transcript_id,
        "version": p.version,
        "institution": {"code": p.institution, "name_th": p.institution_name_th,
                        "name_en": p.institution_name_en or institution_name_en},
        "student": {"name_th": name.get("th"), "name_en": name.get("en")},
        "programme": {"code": prog.get("code"), "name_th": prog.get("name_th"),
                      "name_en": prog.get("name_en")} if prog
        else {"code": None, "name_th": None, "name_en": None},
        "gpa": d.get("gpa") if "gpa" in d else None,
        **dates(graduation, issued),
        "disclosed": d,
        "withheld": {"fields": list(p.withheld_fields), **p.withheld},
        "withheld_th": withheld_th,
        "withheld_en": withheld_en,
        "source": FORMAT,
    }
    return data


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _withheld_text(p: sd_jwt_vc.Presented) -> tuple[list[str], list[str]]:
    """``["ไม่เปิดเผย: ผลการเรียนเฉลี่ยสะสม", "12 รายวิชาไม่เปิดเผย"]`` and English."""
    th: list[str] = []
    en: list[str] = []
    if p.withheld_fields:
        th.append("ไม่เปิดเผย: " + ", ".join(FIELD_WORDS[f][0] for f in p.withheld_fields))
        en.append("Not disclosed: " + ", ".join(FIELD_WORDS[f][1] for f in p.withheld_fields))
    for group, count in p.withheld.items():
        if count:
            word_th, one, many = GROUP_WORDS[group]
            th.append(f"{word_th} {count} รายการไม่เปิดเผย")
            en.append(f"{count} {one if count == 1 else many} not disclosed")
    return th, en
