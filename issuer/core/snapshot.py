"""The frozen snapshot of what one transcript version will state, and its differences.

A batch holds one snapshot per student: the `StudentRecord` as imported, with its
signatories resolved, and the institution as it stood. Its canonical JSON (RFC 8785)
and digest are fixed at import; the approval covers the digests (`issuer.services.
approval`), and issuing signs exactly the snapshot, adding only what belongs to the
moment of issue (version, status index, time, salt). Unlike `transcript.json`, a
snapshot holds the national ID and religion in clear: the page prints them. Images (the
student's photo, the institution's emblem) are in it by their SHA-256 only; their bytes
are stored apart, by digest (`images`), and checked against it before signing.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any

from issuer.core.records import (
    ActivityResult,
    Assessments,
    CourseResult,
    CourseType,
    Institution,
    InstitutionKind,
    Person,
    Programme,
    Signatory,
    Student,
    StudentRecord,
    Term,
)
from verifier.core.canonical import canonical_json, digest

SCHEMA = "https://transcripts.bangkok.go.th/schema/snapshot/v1"


@dataclass(frozen=True)
class Snapshot:
    """What one transcript version will state, before its issue-time fields."""

    institution: Institution
    record: StudentRecord

    @property
    def key(self) -> tuple[str, str]:
        """(student ID, programme code): whose transcript this is."""
        return self.record.student.student_id, self.record.programme.code


def _d(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def to_dict(s: Snapshot) -> dict[str, Any]:
    inst, rec = s.institution, s.record
    st = rec.student
    return {
        "schema": SCHEMA,
        "institution": {
            "code": inst.code, "kind": inst.kind.value, "name_th": inst.name_th,
            "name_en": inst.name_en, "district_th": inst.district_th,
            "district_en": inst.district_en, "province_th": inst.province_th,
            "province_en": inst.province_en, "affiliation_th": inst.affiliation_th,
            "affiliation_en": inst.affiliation_en,
            **_optional(subdistrict_th=inst.subdistrict_th, subdistrict_en=inst.subdistrict_en,
                        emblem_sha256=inst.emblem_sha256),
        },
        "student": {
            "student_id": st.student_id, "national_id": st.national_id,
            **asdict(st.name),
            "birth_date": _d(st.birth_date), "sex": st.sex,
            "nationality_th": st.nationality_th, "religion_th": st.religion_th,
            "father_name_th": st.father_name_th, "mother_name_th": st.mother_name_th,
            "admission_date": _d(st.admission_date),
            "previous_school_th": st.previous_school_th,
            **_optional(previous_school_province_th=st.previous_school_province_th,
                        leave_date=_d(st.leave_date), leave_reason_th=st.leave_reason_th,
                        photo_sha256=st.photo_sha256),
        },
        "programme": asdict(rec.programme),
        "courses": [
            {"year": c.term.year, "semester": c.term.semester, "code": c.code,
             "name_th": c.name_th, "name_en": c.name_en, "type": c.course_type.value,
             "credits": format(c.credits, "f"), "hours": c.hours, "grade": c.grade,
             "learning_area": c.learning_area}
            for c in rec.courses
        ],
        "activities": [asdict(a) for a in rec.activities],
        "assessments": asdict(rec.assessments),
        "graduation_date": _d(rec.graduation_date),
        "signatories": [asdict(g) for g in rec.signatories],
        **_optional(form_set=rec.form_set, form_number=rec.form_number),
    }


def _optional(**values: str | None) -> dict[str, str]:
    """Fields added after the first snapshots, written only when set: a snapshot without
    them keeps the canonical JSON (and digest) it was approved with."""
    return {k: v for k, v in values.items() if v}


def from_dict(data: dict[str, Any]) -> Snapshot:
    """The snapshot `to_dict` made; KeyError/ValueError if `data` is not one."""
    if data.get("schema") != SCHEMA:
        raise ValueError(f"not a snapshot: schema {data.get('schema')!r}")
    i, st = data["institution"], dict(data["student"])
    institution = Institution(**(i | {"kind": InstitutionKind(i["kind"])}))
    name = Person(**{f.name: st.pop(f.name) for f in fields(Person)})
    student = Student(
        name=name, **(st | {"birth_date": _date(st["birth_date"]),
                            "admission_date": _date(st["admission_date"]),
                            "leave_date": _date(st.get("leave_date"))}))
    record = StudentRecord(
        institution_code=institution.code,
        student=student,
        programme=Programme(**data["programme"]),
        courses=tuple(
            CourseResult(term=Term(c["year"], c["semester"]), code=c["code"],
                         name_th=c["name_th"], name_en=c["name_en"],
                         course_type=CourseType(c["type"]), grade=c["grade"],
                         credits=Decimal(c["credits"]), hours=c["hours"],
                         learning_area=c["learning_area"])
            for c in data["courses"]),
        activities=tuple(ActivityResult(**a) for a in data["activities"]),
        assessments=Assessments(**data["assessments"]),
        graduation_date=_date(data["graduation_date"]),
        signatories=tuple(Signatory(**g) for g in data["signatories"]),
        form_set=data.get("form_set", ""),
        form_number=data.get("form_number", ""),
    )
    return Snapshot(institution, record)


def to_canonical(s: Snapshot) -> bytes:
    return canonical_json(to_dict(s))


def snapshot_digest(canonical: bytes) -> str:
    """Digest of a snapshot's canonical JSON (base64url SHA-256), as the approval holds it."""
    return digest(canonical)


def student_data(s: Snapshot) -> dict[str, Any]:
    """What the school states about the student (no institution, no signatories): what a
    correction must change."""
    data = to_dict(s)
    return {k: v for k, v in data.items() if k not in ("institution", "signatories", "schema")}


def content_digest(digests: list[str]) -> str:
    """One digest for a whole file's content, whatever its encoding, format or row order:
    over the sorted snapshot digests (hex SHA-256)."""
    return hashlib.sha256("\n".join(sorted(digests)).encode("ascii")).hexdigest()


# --- differences -----------------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    """One difference between the issued data and the corrected data."""

    field: str  # e.g. "student.first_name_en", "course 2567/1 ค21101 grade"
    old: str
    new: str


def _flat(prefix: str, value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for k, v in value.items():
            out |= _flat(f"{prefix}.{k}" if prefix else k, v)
        return out
    return {prefix: "" if value is None else str(value)}


def _items(rows: list[dict[str, Any]], key: tuple[str, ...], label: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for row in rows:
        name = f"{label} " + "/".join(str(row[k]) for k in key)
        out |= _flat(name, {k: v for k, v in row.items() if k not in key})
    return out


def diff(old: Snapshot, new: Snapshot) -> tuple[Change, ...]:
    """Every field that differs, in the order the page shows them; a course or activity
    present on one side only shows its fields against empty values."""
    def flat(s: Snapshot) -> dict[str, str]:
        d = to_dict(s)
        return (_flat("student", d["student"]) | _flat("programme", d["programme"])
                | {"graduation_date": d["graduation_date"] or ""}
                | _flat("assessments", d["assessments"])
                | _items(d["courses"], ("year", "semester", "code"), "course")
                | _items(d["activities"], ("year", "name_th"), "activity")
                | _items([dict(g, n=i + 1) for i, g in enumerate(d["signatories"])], ("n",),
                         "signatory")
                | _flat("institution", d["institution"]))
    before, after = flat(old), flat(new)
    fields = list(before) + [f for f in after if f not in before]
    return tuple(Change(f, before.get(f, ""), after.get(f, "")) for f in fields
                 if before.get(f, "") != after.get(f, ""))

