"""Test doubles that ship with the code: an issuer whose unit of work lives in memory.

`FakeIssuer().uow()` gives a `FakeUnitOfWork` with the repositories the lifecycle
services use (`institutions`, `enrolments`, `batches`, `transcripts`, `audit`, `jobs`),
holding plain ORM row objects in dictionaries, so the rules of importing, submitting,
approving, revoking and requesting new versions run in tests without a database.
Changes apply at once (no rollback): what a failed use case leaves in the database is
the real unit of work's business, tested against SQLite and PostgreSQL.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import SimpleNamespace, TracebackType
from typing import Any, Self

from issuer.adapters import integrity
from issuer.adapters.orm import (
    AuditEventRow,
    BatchRecordRow,
    BatchRow,
    EnrolmentRow,
    InstitutionRow,
    JobRow,
    JobState,
    ProgrammeRow,
    StudentRow,
    TranscriptRow,
)
from issuer.adapters.repositories import (
    Changed,
    IssuedFiles,
    NewRecord,
    move_values,
    new_batch_row,
    new_transcript_row,
    revoke_row,
    take_names,
)
from issuer.config import BANGKOK
from issuer.core import records
from issuer.core.batch import BatchWarning
from issuer.core.lifecycle import OPEN, BatchKind, BatchStatus

NOW = datetime(2026, 3, 20, 9, 30, tzinfo=UTC)


@dataclass
class FakeStore:
    """What a database would hold, as rows in dictionaries keyed by id."""

    institutions: dict[int, InstitutionRow] = field(default_factory=dict)
    students: dict[int, StudentRow] = field(default_factory=dict)
    programmes: dict[int, ProgrammeRow] = field(default_factory=dict)
    enrolments: dict[int, EnrolmentRow] = field(default_factory=dict)
    batches: dict[int, BatchRow] = field(default_factory=dict)
    records: dict[int, BatchRecordRow] = field(default_factory=dict)
    transcripts: dict[int, TranscriptRow] = field(default_factory=dict)
    audit: list[AuditEventRow] = field(default_factory=list)
    jobs: dict[int, JobRow] = field(default_factory=dict)
    next_index: dict[int, int] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def new_id(self) -> int:
        return next(self._ids)

    def add_institution(self, institution: records.Institution, *,
                        registrar: tuple[str, str] = ("", ""),
                        director: tuple[str, str] = ("", "")) -> InstitutionRow:
        fields = {k: getattr(institution, k) for k in (
            "code", "kind", "name_th", "name_en", "district_th", "district_en", "subdistrict_th",
            "subdistrict_en", "province_th",
            "province_en", "affiliation_th", "affiliation_en")}
        row = InstitutionRow(
            id=self.new_id(), **fields, created_at=NOW,
            registrar_name_th=registrar[0], registrar_name_en=registrar[1],
            director_name_th=director[0], director_name_en=director[1])
        self.institutions[row.id] = row
        return row


class FakeInstitutions:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def get(self, code: str) -> InstitutionRow | None:
        return next((r for r in self.store.institutions.values() if r.code == code), None)

    def lock(self, institution: InstitutionRow) -> None:
        """One test, one thread: nothing to serialise."""


class FakeEnrolments:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def identify(self, institution: InstitutionRow, record: records.StudentRecord, *,
                 now: datetime) -> EnrolmentRow:
        s, p = record.student, record.programme
        store = self.store
        student = next((r for r in store.students.values() if r.institution_id ==
                        institution.id and r.student_id == s.student_id), None)
        if student is None:
            student = StudentRow(id=store.new_id(), institution_id=institution.id,
                                 student_id=s.student_id, created_at=now, updated_at=now,
                                 institution=institution, **vars(s.name))
            store.students[student.id] = student
        programme = next((r for r in store.programmes.values() if r.institution_id ==
                          institution.id and r.code == p.code), None)
        if programme is None:
            programme = ProgrammeRow(id=store.new_id(), institution_id=institution.id,
                                     code=p.code, name_th=p.name_th, name_en=p.name_en,
                                     level=p.level, total_hours=p.total_hours)
            store.programmes[programme.id] = programme
        enrolment = next((r for r in store.enrolments.values() if r.student_id == student.id
                          and r.programme_id == programme.id), None)
        if enrolment is None:
            enrolment = EnrolmentRow(id=store.new_id(), student_id=student.id,
                                     programme_id=programme.id, created_at=now,
                                     student=student, programme=programme)
            store.enrolments[enrolment.id] = enrolment
        return enrolment

    def get(self, enrolment_id: int) -> EnrolmentRow | None:
        return self.store.enrolments.get(enrolment_id)

    def issued(self, enrolment: EnrolmentRow, record: records.StudentRecord, *,
               now: datetime) -> None:
        take_names(enrolment, record, now)


class FakeBatches:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def get(self, batch_id: int, institution_code: str | None = None) -> BatchRow | None:
        batch = self.store.batches.get(batch_id)
        if batch is None or (institution_code and batch.institution.code != institution_code):
            return None
        return batch

    def add(self, institution: InstitutionRow, *, kind: BatchKind, filename: str,
            content_digest: str, row_count: int, created_by: str, now: datetime,
            status: BatchStatus = BatchStatus.IMPORTED, reason: str = "",
            warnings: Sequence[BatchWarning] = ()) -> BatchRow:
        batch = new_batch_row(institution, kind=kind, filename=filename,
                              content_digest=content_digest, row_count=row_count,
                              created_by=created_by, now=now, status=status, reason=reason,
                              warnings=warnings)
        batch.id = self.store.new_id()
        self.store.batches[batch.id] = batch
        return batch

    def add_records(self, batch: BatchRow, items: Iterable[NewRecord]) -> int:
        count = 0
        for position, item in enumerate(items):
            row = BatchRecordRow(
                id=self.store.new_id(), batch_id=batch.id, batch=batch, position=position,
                enrolment_id=item.enrolment.id, enrolment=item.enrolment,
                transcript_id=item.transcript_id, kind=item.kind,
                supersedes_version=item.supersedes_version, student_id=item.student_id,
                name_th=item.name_th, name_en=item.name_en, record_json=item.record_json,
                record_digest=item.record_digest)
            self.store.records[row.id] = row
            count += 1
        return count

    def records(self, batch: BatchRow, ids: Sequence[int] | None = None
                ) -> list[BatchRecordRow]:
        rows = [r for r in self.store.records.values() if r.batch_id == batch.id
                and (ids is None or r.id in ids)]
        return sorted(rows, key=lambda r: r.position)

    def same_content(self, institution: InstitutionRow, content_digest: str
                     ) -> BatchRow | None:
        return next((b for b in self.store.batches.values()
                     if b.institution_id == institution.id and b.content_digest ==
                     content_digest and b.status in {*OPEN, BatchStatus.ISSUED}), None)

    def open_batches_of(self, enrolment_ids: Sequence[int]) -> dict[int, BatchRow]:
        return {r.enrolment_id: r.batch for r in self.store.records.values()
                if r.enrolment_id in enrolment_ids and r.batch.status in OPEN}

    def move(self, batch: BatchRow, to: BatchStatus, *, now: datetime, by: str = "",
             reason: str = "") -> None:
        if self.store.batches[batch.id] is not batch:
            raise Changed("batch %(batch)s changed meanwhile: reload the page", batch=batch.id)
        for name, value in move_values(to, now=now, by=by, reason=reason).items():
            setattr(batch, name, value)

    def confirm_warnings(self, batch: BatchRow, *, by: str, now: datetime) -> None:
        if self.store.batches[batch.id] is not batch or batch.warnings_confirmed_at:
            raise Changed("batch %(batch)s changed meanwhile: reload the page", batch=batch.id)
        batch.warnings_confirmed_by, batch.warnings_confirmed_at = by, now

    def approve(self, batch: BatchRow, *, by: str, now: datetime, manifest_digest: str
                ) -> None:
        self.move(batch, BatchStatus.APPROVED, now=now)
        batch.approved_by, batch.approved_at = by, now
        batch.manifest_digest = manifest_digest


class FakeTranscripts:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def _of(self, transcript_id: str) -> list[TranscriptRow]:
        return sorted((t for t in self.store.transcripts.values()
                       if t.transcript_id == transcript_id), key=lambda t: t.version)

    def get(self, transcript_id: str, version: int) -> TranscriptRow | None:
        return next((t for t in self._of(transcript_id) if t.version == version), None)

    def latest(self, transcript_id: str, institution_code: str | None = None
               ) -> TranscriptRow | None:
        rows = self._of(transcript_id)
        if not rows or (institution_code and rows[-1].institution.code != institution_code):
            return None
        return rows[-1]

    def latest_of(self, transcript_ids: Sequence[str]) -> dict[str, TranscriptRow]:
        found = {tid: self.latest(tid) for tid in transcript_ids}
        return {tid: row for tid, row in found.items() if row is not None}

    def issued_record_ids(self, record_ids: Sequence[int]) -> set[int]:
        return {t.batch_record_id for t in self.store.transcripts.values()} & set(record_ids)

    def add(self, record: records.TranscriptRecord, *, batch_record: BatchRecordRow,
            files: IssuedFiles, supersedes: TranscriptRow | None = None) -> TranscriptRow:
        row = new_transcript_row(record, batch_record=batch_record, files=files,
                                 supersedes=supersedes)
        row.id = self.store.new_id()
        self.store.transcripts[row.id] = row
        return row

    def revoke(self, row: TranscriptRow, *, reason: str, now: datetime,
               reason_code: str | None = None) -> None:
        revoke_row(row, reason=reason, now=now, reason_code=reason_code)

    def allocate_status_indexes(self, institution: InstitutionRow, count: int) -> range:
        start = self.store.next_index.get(institution.id, 0)
        self.store.next_index[institution.id] = start + count
        return range(start, start + count)


class FakeAuditLog:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def append(self, *, actor: str, action: str, source: str, now: datetime,
               institution: InstitutionRow | None = None, subject: str | None = None,
               detail: dict[str, Any] | None = None) -> AuditEventRow:
        event = AuditEventRow(id=len(self.store.audit) + 1, at=now, actor=actor,
                              action=action, source=source, subject=subject,
                              institution_id=institution.id if institution else None,
                              detail=dict(detail or {}))
        self.store.audit.append(event)
        return event


class FakeJobs:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def active(self, key: str) -> JobRow | None:
        return next((j for j in self.store.jobs.values() if j.key == key and j.state in
                     (JobState.QUEUED, JobState.RUNNING)), None)

    def add(self, **job: Any) -> JobRow:
        row = JobRow(id=self.store.new_id(), state=JobState.QUEUED, done=0, attempts=0,
                     updated_at=job["now"], created_at=job.pop("now"), **job)
        self.store.jobs[row.id] = row
        return row


class FakeUnitOfWork:
    """`issuer.adapters.repositories.UnitOfWork` in memory."""

    MASTER_KEY = bytes(range(32))

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.commits = 0

    def __enter__(self) -> Self:
        self.institutions = FakeInstitutions(self.store)
        self.enrolments = FakeEnrolments(self.store)
        self.batches = FakeBatches(self.store)
        self.transcripts = FakeTranscripts(self.store)
        self.audit = FakeAuditLog(self.store)
        self.jobs = FakeJobs(self.store)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        return None

    def commit(self) -> None:
        self.commits += 1

    def rollback(self) -> None:
        return None

    def integrity_key(self, purpose: str) -> bytes:
        return integrity.derive(self.MASTER_KEY, purpose)


@dataclass
class FakeIssuer:
    """Enough of `issuer.services.context.Issuer` for the lifecycle services."""

    store: FakeStore = field(default_factory=FakeStore)
    now: datetime = NOW
    published: list[list[str] | None] = field(default_factory=list)
    settings: Any = field(default_factory=lambda: SimpleNamespace(celery_broker=None))

    def clock(self) -> datetime:
        return self.now

    def today(self) -> date:
        return self.now.astimezone(BANGKOK).date()

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.store)

    def publish(self, institutions: Iterable[str] | None = None) -> None:
        self.published.append(list(institutions) if institutions is not None else None)
