"""The JSON form of a transcript record: what `transcript.json` holds.

Canonicalised with RFC 8785 before hashing and embedding. The national ID is
replaced by ``sha256(salt || national_id)`` (base64url) so it never appears in
clear outside the printed page.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from issuer.core.records import (
    CourseResult,
    Institution,
    StudentRecord,
    Summary,
    TranscriptRecord,
)
from verifier.core.canonical import b64url, b64url_decode, canonical_json, digest


def national_id_hash(salt: str, national_id: str) -> str:
    return b64url(hashlib.sha256(b64url_decode(salt) + national_id.encode("ascii")).digest())


def _d(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _institution(inst: Institution) -> dict[str, Any]:
    return {
        "code": inst.code,
        "kind": inst.kind.value,
        "name_th": inst.name_th,
        "name_en": inst.name_en,
        "district_th": inst.district_th,
        "district_en": inst.district_en,
        "province_th": inst.province_th,
        "province_en": inst.province_en,
        "affiliation_th": inst.affiliation_th,
        "affiliation_en": inst.affiliation_en,
    }


def _course(c: CourseResult) -> dict[str, Any]:
    return {
        "year": c.term.year,
        "semester": c.term.semester,
        "code": c.code,
        "name_th": c.name_th,
        "name_en": c.name_en,
        "type": c.course_type.value,
        "credits": _dec(c.credits),
        "hours": c.hours,
        "grade": c.grade,
        "learning_area": c.learning_area,
    }


def _student_record(rec: StudentRecord, salt: str) -> dict[str, Any]:
    s = rec.student
    return {
        "student": {
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
            "father_name_th": s.father_name_th,
            "mother_name_th": s.mother_name_th,
            "admission_date": _d(s.admission_date),
            "previous_school_th": s.previous_school_th,
        },
        "programme": {
            "code": rec.programme.code,
            "name_th": rec.programme.name_th,
            "name_en": rec.programme.name_en,
            "level": rec.programme.level,
            "total_hours": rec.programme.total_hours,
            "cohort": rec.programme.cohort,
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
        "graduation_date": _d(rec.graduation_date),
        "signatories": [
            {"role_th": p.role_th, "role_en": p.role_en, "name_th": p.name_th,
             "name_en": p.name_en}
            for p in rec.signatories
        ],
    }


def _summary(s: Summary) -> dict[str, Any]:
    return {
        "terms": [
            {"year": t.term.year, "semester": t.term.semester,
             "credits_attempted": _dec(t.credits_attempted),
             "credits_earned": _dec(t.credits_earned), "gpa": _dec(t.gpa)}
            for t in s.terms
        ],
        "credits_basic": _dec(s.credits_basic),
        "credits_additional": _dec(s.credits_additional),
        "credits_earned": _dec(s.credits_earned),
        "gpa": _dec(s.gpa),
        "hours_total": s.hours_total,
        "hours_passed": s.hours_passed,
        "graduated": s.graduated,
        "graduation_problems": list(s.graduation_problems),
    }


def to_dict(t: TranscriptRecord) -> dict[str, Any]:
    """The record as plain JSON data (no religion: PDPA-sensitive, page only)."""
    return {
        "schema": t.schema,
        "transcript_id": t.transcript_id,
        "version": t.version,
        "issued_at": _timestamp(t.issued_at),
        "status_index": t.status_index,
        "institution": _institution(t.institution),
        **_student_record(t.record, t.national_id_salt),
        "summary": _summary(t.summary),
    }


def _timestamp(value: datetime) -> str:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


def to_canonical(t: TranscriptRecord) -> bytes:
    """`transcript.json`: the record as RFC 8785 canonical JSON."""
    return canonical_json(to_dict(t))


def record_digest(t: TranscriptRecord) -> str:
    return digest(to_canonical(t))
