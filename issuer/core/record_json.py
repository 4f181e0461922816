"""The JSON form of a transcript record: what `transcript.json` holds (schema v4).

Canonicalised with RFC 8785 before hashing and embedding. The national ID is
replaced by ``sha256(salt || national_id)`` (base64url) so it never appears in
clear outside the printed page. Credits are written with one decimal and GPAs with two
(truncated), exactly as the page prints them. The photo and the emblem are in it by their
digests (hex SHA-256 of the normalised image the page shows), never as images. A school
record and a vocational record have their own shapes (`issuer/schemas/`, docs/record.md).
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any

from issuer.core.records import (
    CourseResult,
    Institution,
    InstitutionKind,
    StudentRecord,
    Summary,
    TranscriptRecord,
)
from verifier.core.canonical import b64url, b64url_decode, canonical_json, digest


def national_id_hash(salt: str, national_id: str) -> str:
    return b64url(hashlib.sha256(b64url_decode(salt) + national_id.encode("ascii")).digest())


def _d(value: date | None) -> str | None:
    return value.isoformat() if value else None


def credits_text(value: Decimal) -> str:
    """Credits as printed: one decimal (``Decimal("1.5")`` -> ``"1.5"``, 77 -> ``"77.0"``)."""
    return format(value.quantize(Decimal("0.1")), "f")


def gpa_text(value: Decimal | None) -> str | None:
    """A GPA as printed: two decimals, truncated (never rounded up); None when none."""
    return None if value is None else format(value.quantize(Decimal("0.01"), ROUND_DOWN), "f")


def _institution(inst: Institution) -> dict[str, Any]:
    return {
        "code": inst.code,
        "kind": inst.kind.value,
        "name_th": inst.name_th,
        "name_en": inst.name_en,
        "district_th": inst.district_th,
        "district_en": inst.district_en,
        "subdistrict_th": inst.subdistrict_th,
        "subdistrict_en": inst.subdistrict_en,
        "province_th": inst.province_th,
        "province_en": inst.province_en,
        "affiliation_th": inst.affiliation_th,
        "affiliation_en": inst.affiliation_en,
        "emblem_sha256": inst.emblem_sha256 or None,
    }


def _course(c: CourseResult) -> dict[str, Any]:
    return {
        "year": c.term.year,
        "semester": c.term.semester,
        "code": c.code,
        "name_th": c.name_th,
        "name_en": c.name_en,
        "type": c.course_type.value,
        "credits": credits_text(c.credits),
        "hours": c.hours,
        "grade": c.grade,
        "learning_area": c.learning_area,
    }


def _module(c: CourseResult) -> dict[str, Any]:
    return {"year": c.term.year, "code": c.code, "name_th": c.name_th, "name_en": c.name_en,
            "hours": c.hours, "result": c.grade}


def _student(rec: StudentRecord, salt: str, school: bool) -> dict[str, Any]:
    s = rec.student
    out = {
        "student_id": s.student_id,
        "national_id_sha256": national_id_hash(salt, s.national_id),
        "national_id_salt": salt,
        "prefix_th": s.name.prefix_th,
        "first_name_th": s.name.first_name_th,
        "last_name_th": s.name.last_name_th,
        "prefix_en": s.name.prefix_en,
        "first_name_en": s.name.first_name_en,
        "last_name_en": s.name.last_name_en,
        "birth_date": _d(s.birth_date),
        "sex": s.sex,
        "nationality_th": s.nationality_th,
    }
    if school:
        out |= {
            "father_name_th": s.father_name_th,
            "mother_name_th": s.mother_name_th,
            "admission_date": _d(s.admission_date),
            "previous_school_th": s.previous_school_th,
            "previous_school_province_th": s.previous_school_province_th,
            "leave_date": _d(s.leave_date),
            "leave_reason_th": s.leave_reason_th,
            "photo_sha256": s.photo_sha256 or None,
        }
    return out


def _signatories(rec: StudentRecord) -> list[dict[str, str]]:
    return [{"role_th": p.role_th, "role_en": p.role_en, "name_th": p.name_th,
             "name_en": p.name_en} for p in rec.signatories]


def _school(rec: StudentRecord, s: Summary) -> dict[str, Any]:
    return {
        "programme": {
            "code": rec.programme.code,
            "name_th": rec.programme.name_th,
            "name_en": rec.programme.name_en,
            "level": rec.programme.level,
        },
        "courses": [_course(c) for c in rec.courses],
        "activities": [
            {"year": a.year, "name_th": a.name_th, "name_en": a.name_en, "hours": a.hours,
             "result": a.result}
            for a in rec.activities
        ],
        "assessments": {
            "reading_thinking_writing": rec.assessments.reading_thinking_writing,
            "desirable_characteristics": rec.assessments.desirable_characteristics,
        },
        "summary": _school_summary(s),
    }


def _school_summary(s: Summary) -> dict[str, Any]:
    return {
        "stage": s.stage,
        "form": s.form,
        "terms": [
            {"year": t.term.year, "semester": t.term.semester,
             "credits_attempted": credits_text(t.credits_attempted),
             "credits_earned": credits_text(t.credits_earned), "hours": t.hours,
             "gpa": gpa_text(t.gpa)}
            for t in s.terms
        ],
        "course_types": [
            {"type": c.course_type.value,
             "credits_attempted": credits_text(c.credits_attempted),
             "credits_earned": credits_text(c.credits_earned),
             "hours_attempted": c.hours_attempted, "hours_earned": c.hours_earned,
             "credits_required": None if c.credits_required is None
             else credits_text(c.credits_required),
             "passed": c.passed}
            for c in s.course_types
        ],
        "learning_areas": [
            {"key": a.key, "name_th": a.name_th, "name_en": a.name_en,
             "credits_attempted": credits_text(a.credits_attempted),
             "credits_earned": credits_text(a.credits_earned), "hours": a.hours,
             "gpa": gpa_text(a.gpa)}
            for a in s.areas
        ],
        "assessments": [
            {"key": a.key, "name_th": a.name_th, "name_en": a.name_en, "result": a.result,
             "passed": a.passed}
            for a in s.assessments
        ],
        "activity_hours": s.activity_hours,
        "credits_basic": credits_text(s.credits_basic),
        "credits_additional": credits_text(s.credits_additional),
        "credits_earned": credits_text(s.credits_earned),
        "hours_total": s.hours_total,
        "hours_passed": s.hours_passed,
        "gpa": gpa_text(s.gpa),
        **_outcome(s),
    }


def _outcome(s: Summary) -> dict[str, Any]:
    d = s.decision
    return {
        "graduated": s.graduated,
        "decision": None if d is None else {"th": d.th, "en": d.en},
        "graduation_problems": list(s.graduation_problems),
    }


def _vocational(rec: StudentRecord, s: Summary) -> dict[str, Any]:
    return {
        "programme": {
            "code": rec.programme.code,
            "name_th": rec.programme.name_th,
            "name_en": rec.programme.name_en,
            "total_hours": rec.programme.total_hours,
            "cohort": rec.programme.cohort,
        },
        "modules": [_module(c) for c in rec.courses],
        "summary": {
            "hours_total": s.hours_total,
            "hours_passed": s.hours_passed,
            "modules_total": s.modules_total,
            "modules_passed": s.modules_passed,
            **_outcome(s),
        },
    }


def to_dict(t: TranscriptRecord) -> dict[str, Any]:
    """The record as plain JSON data (no religion: PDPA-sensitive, page only).

    The verification code printed beside the QR is not in it: the code is the first
    40 bits of this JSON's own digest, so a verifier recomputes it.
    """
    school = t.institution.kind is InstitutionKind.SCHOOL
    body = (_school if school else _vocational)(t.record, t.summary)
    return {
        "schema": t.schema,
        "transcript_id": t.transcript_id,
        "version": t.version,
        "issued_at": _timestamp(t.issued_at),
        "status_index": t.status_index,
        "institution": _institution(t.institution),
        "student": _student(t.record, t.national_id_salt, school),
        **body,
        "graduation_date": _d(t.record.graduation_date),
        "form_set": t.record.form_set,
        "form_number": t.record.form_number,
        "signatories": _signatories(t.record),
    }


def _timestamp(value: datetime) -> str:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


def to_canonical(t: TranscriptRecord) -> bytes:
    """`transcript.json`: the record as RFC 8785 canonical JSON."""
    return canonical_json(to_dict(t))


def record_digest(t: TranscriptRecord) -> str:
    return digest(to_canonical(t))
