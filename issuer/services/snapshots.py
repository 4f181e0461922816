"""From an imported record to the frozen snapshot a batch stores, and back.

Shared by importing (a file's students), new-version requests and previews; issuing
turns a stored snapshot into a `TranscriptRecord` (`issuer.services.issuing`).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

from issuer.adapters import repositories as repo
from issuer.adapters.orm import BatchRecordRow, EnrolmentRow, InstitutionRow
from issuer.core.lifecycle import ItemKind
from issuer.core.records import Institution, InstitutionKind, Signatory, StudentRecord
from issuer.core.snapshot import Snapshot, from_dict, snapshot_digest, to_canonical
from issuer.services.context import ServiceError


def transcript_id_for(institution_code: str, enrolment: EnrolmentRow) -> str:
    """``1001-2569-000123``: institution, Buddhist Era year of first import, enrolment."""
    return f"{institution_code}-{enrolment.created_at.year + 543}-{enrolment.id:06d}"


def signatories_for(institution: InstitutionRow) -> tuple[Signatory, ...]:
    """The registrar and the director who sign the institution's transcripts."""
    director_th, director_en = (
        ("ผู้อำนวยการโรงเรียน", "School Director")
        if institution.kind is InstitutionKind.SCHOOL
        else ("ผู้อำนวยการ", "Director")
    )
    return (
        Signatory("นายทะเบียน", "Registrar", institution.registrar_name_th,
                  institution.registrar_name_en),
        Signatory(director_th, director_en, institution.director_name_th,
                  institution.director_name_en),
    )


@dataclass(frozen=True)
class Issuing:
    """The institution as a snapshot states it, and who signs where a file names nobody."""

    institution: Institution
    signatories: tuple[Signatory, ...]

    @classmethod
    def of(cls, row: InstitutionRow) -> Issuing:
        return cls(repo.to_institution(row), signatories_for(row))

    def snapshot(self, record: StudentRecord) -> Snapshot:
        """The snapshot of an imported record."""
        if not record.signatories:
            record = dataclasses.replace(record, signatories=self.signatories)
        return Snapshot(self.institution, record)


@dataclass(frozen=True)
class Frozen:
    """A snapshot with its canonical JSON and digest, ready to store."""

    snapshot: Snapshot
    canonical: bytes
    digest: str

    @classmethod
    def of(cls, snapshot: Snapshot) -> Frozen:
        canonical = to_canonical(snapshot)
        return cls(snapshot, canonical, snapshot_digest(canonical))

    def new_record(self, enrolment: EnrolmentRow, transcript_id: str, kind: ItemKind,
                   supersedes_version: int | None) -> repo.NewRecord:
        s = self.snapshot.record.student
        return repo.NewRecord(
            enrolment=enrolment, transcript_id=transcript_id, kind=kind,
            supersedes_version=supersedes_version, student_id=s.student_id,
            name_th=s.name.full_name_th, name_en=s.name.full_name_en,
            record_json=self.canonical, record_digest=self.digest)


def stored(row: BatchRecordRow) -> Snapshot:
    """The snapshot a batch record holds (its digest is checked where it matters: when
    approving and when issuing)."""
    try:
        return from_dict(json.loads(row.record_json))
    except (KeyError, TypeError, ValueError) as e:
        raise ServiceError("batch %(batch)s: record %(record)s is not a readable snapshot "
                           "(%(error)s)", batch=row.batch_id, record=row.position + 1,
                           error=type(e).__name__) from None
