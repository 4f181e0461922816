"""A transcript record as an Open Badges 3.0 ``OpenBadgeCredential`` (W3C VC 2.0), unsigned.

The programme is the achievement; every course (or vocational module), activity,
learning-area GPA, the GPAX and the outcome is a ``result`` with its
``resultDescription`` on the achievement. The record itself travels whole, exactly as
``transcript.json`` states it, as the JSON literal ``credentialSubject.transcript`` (our
context, `verifier.core.jsonld.BKT_V1`), with its digest (the QR credential's ``h``):
the OB fields are a view of it for OB/CLR wallets and verifiers. Mapping: docs/interop.md.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import quote

from verifier.core.jsonld import BKT_V1, OB_V3, VC_V2

TYPES = ["VerifiableCredential", "OpenBadgeCredential"]
COUNTRY = ("Thailand", "TH")


def credential_id(record: dict[str, Any]) -> str:
    return f"urn:bkt:transcript:{quote(record['transcript_id'], safe='')}:v{record['version']}"


def number(text: str) -> int | float:
    """A decimal as JSON: an integer when whole, so that JSON-LD gives the same literal
    in every language (JavaScript has no 78.0)."""
    value = Decimal(text)
    return int(value) if value == value.to_integral_value() else float(value)


def issuer_profile(institution: dict[str, Any], did: str) -> dict[str, Any]:
    return {
        "id": did,
        "type": ["Profile"],
        "name": institution["name_en"],
        "address": {"type": ["Address"], "addressLocality": institution["district_en"],
                    "addressRegion": institution["province_en"],
                    "addressCountry": COUNTRY[0], "addressCountryCode": COUNTRY[1]},
        "otherIdentifier": [{"type": ["IdentifierEntry"], "identifier": institution["code"],
                             "identifierType": "identifier"}],
    }


def _identity(value: str, kind: str) -> dict[str, Any]:
    return {"type": "IdentityObject", "hashed": False, "identityHash": value,
            "identityType": kind}


def student_identifiers(student: dict[str, Any]) -> list[dict[str, Any]]:
    """The names (English, then Thai, with their titles) and the school's student id."""
    en = " ".join(filter(None, (student["prefix_en"], student["first_name_en"],
                                student["last_name_en"])))
    th = student["prefix_th"] + student["first_name_th"] + " " + student["last_name_th"]
    return [_identity(en, "name"), _identity(th, "name"),
            _identity(student["student_id"], "sisSourcedId")]


class _Results:
    """Collects result descriptions (on the achievement) and results (on the subject)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.descriptions: list[dict[str, Any]] = []
        self.results: list[dict[str, Any]] = []

    def add(self, key: str, name: str, kind: str, value: str | None,
            status: str | None = None) -> None:
        rd = f"{self.base}:result:{key}"
        self.descriptions.append({"id": rd, "type": ["ResultDescription"], "name": name,
                                  "resultType": kind})
        result: dict[str, Any] = {"type": ["Result"], "resultDescription": rd}
        if value is not None:
            result["value"] = value
        if status is not None:
            result["status"] = status
        self.results.append(result)


def _school_results(record: dict[str, Any], out: _Results) -> None:
    for i, c in enumerate(record["courses"]):
        out.add(f"course-{i}", f"{c['year']}/{c['semester']} {c['code']} {c['name_en']}",
                "LetterGrade", c["grade"])
    for i, a in enumerate(record["activities"]):
        out.add(f"activity-{i}", f"{a['year']} {a['name_en']}", "Result", a["result"])
    for a in record["summary"]["assessments"]:
        if a["result"]:
            out.add(f"assessment-{a['key']}", a["name_en"], "Result", a["result"])
    for a in record["summary"]["learning_areas"]:
        if a["gpa"] is not None:
            out.add(f"area-{a['key']}", f"GPA: {a['name_en']}", "GradePointAverage", a["gpa"])
    if record["summary"]["gpa"] is not None:
        out.add("gpax", "GPAX (cumulative grade point average)", "GradePointAverage",
                record["summary"]["gpa"])


def _vocational_results(record: dict[str, Any], out: _Results) -> None:
    for i, m in enumerate(record["modules"]):
        out.add(f"module-{i}", f"{m['code']} {m['name_en']} ({m['hours']} h)", "Result",
                m["result"])


def _criteria(record: dict[str, Any], school: bool) -> str:
    if not school:
        return (f"Complete the {record['programme']['total_hours']}-hour course with "
                "every module passed.")
    required = [f"{c['credits_required']} {c['type']} credits"
                for c in record["summary"]["course_types"] if c["credits_required"]]
    need = f"earn at least {' and '.join(required)}; " if required else ""
    return (f"Complete {record['programme']['level']} of the curriculum: {need}pass every "
            "course, reading-thinking-writing, desirable characteristics and every "
            "learner development activity (Basic Education Core Curriculum B.E. 2551).")


def credential(record: dict[str, Any], *, did: str, record_digest: str,
               status: list[dict[str, Any]]) -> dict[str, Any]:
    """The unsigned credential of `record` (`issuer.core.record_json.to_dict`), issued by
    `did`, with the ``credentialStatus`` entries `status`."""
    school = record["institution"]["kind"] == "school"
    programme = record["programme"]
    cid = credential_id(record)
    results = _Results(cid)
    (_school_results if school else _vocational_results)(record, results)
    summary = record["summary"]
    decision = summary["decision"]
    results.add("outcome", "Decision", "Status" if decision is None else "Result",
                None if decision is None else decision["en"],
                "Completed" if summary["graduated"] else None)
    achievement: dict[str, Any] = {
        "id": f"urn:bkt:achievement:{record['institution']['code']}:"
              f"{quote(programme['code'], safe='')}",
        "type": ["Achievement"],
        "achievementType": "Diploma" if school else "Certificate",
        "name": programme["name_en"],
        "description": programme["name_th"],
        "humanCode": programme["code"],
        "criteria": {"narrative": _criteria(record, school)},
        "resultDescription": results.descriptions,
    }
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "identifier": student_identifiers(record["student"]),
        "achievement": achievement,
        "result": results.results,
    }
    if school:
        subject["creditsEarned"] = number(summary["credits_earned"])
    if record["graduation_date"]:
        subject["activityEndDate"] = record["graduation_date"]
    subject["transcript"] = record
    subject["transcriptDigest"] = record_digest
    kind = "Transcript" if school else "Certificate"
    return {
        "@context": [VC_V2, OB_V3, BKT_V1],
        "id": cid,
        "type": list(TYPES),
        "name": f"{kind}: {programme['name_en']}",
        "description": f"{kind} {record['transcript_id']} version {record['version']}, "
                       f"{record['institution']['name_en']}",
        "issuer": issuer_profile(record["institution"], did),
        "validFrom": record["issued_at"],
        "awardedDate": record["issued_at"],
        "credentialSubject": subject,
        "credentialStatus": status,
    }
