"""Repositories over the ORM rows, and the unit of work the services use.

A `UnitOfWork` is one transaction; its repositories (`institutions`, `enrolments`,
`batches`, `transcripts`, `audit`, `jobs`, `uploads`) never commit: the service
decides. Mutating methods take `now` (an aware UTC datetime) explicitly.
`issuer.testing.FakeUnitOfWork` has the lifecycle's repositories in memory, so those
rules run in tests without a database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from issuer.adapters import audit_chain
from issuer.adapters.job_store import Jobs
from issuer.adapters.orm import (
    AuditEventRow,
    BatchRecordRow,
    BatchRow,
    EnrolmentRow,
    InstitutionRow,
    ProgrammeRow,
    StatusListCounterRow,
    StudentRow,
    TranscriptRow,
    UploadErrorRow,
    UploadRow,
    UploadState,
)
from issuer.core import records
from issuer.core.lifecycle import OPEN, BatchKind, BatchStatus, ItemKind, TranscriptStatus
from issuer.core.record_json import to_canonical
from verifier.core.canonical import digest


class UnitOfWork:
    """One transaction: ``with UnitOfWork(factory) as uow: ...; uow.commit()``.

    Leaving the block without `commit` rolls back, so a failed use case writes nothing.
    """

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self._session_factory = session_factory

    def __enter__(self) -> Self:
        self.session = self._session_factory()
        self.institutions = Institutions(self.session)
        self.enrolments = Enrolments(self.session)
        self.batches = Batches(self.session)
        self.transcripts = Transcripts(self.session)
        self.audit = AuditLog(self.session)
        self.jobs = Jobs(self.session)
        self.uploads = Uploads(self.session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    def integrity_key(self, purpose: str) -> bytes:
        """The integrity subkey for `purpose` (`issuer.adapters.integrity`)."""
        return self.session.info["integrity_key"](purpose)


class Changed(Exception):
    """A row changed under us (another transaction moved the batch first)."""


# --- institutions -----------------------------------------------------------------


def get_institution(session: Session, code: str) -> InstitutionRow | None:
    return session.scalar(select(InstitutionRow).where(InstitutionRow.code == code))


def get_or_create_institution(
    session: Session,
    institution: records.Institution,
    *,
    now: datetime,
    registrar: tuple[str, str] = ("", ""),
    director: tuple[str, str] = ("", ""),
) -> InstitutionRow:
    """The institution with `institution.code`, created (with its status counter) if new.

    `registrar` and `director` are (Thai, English) names; an existing row is returned
    unchanged.
    """
    row = get_institution(session, institution.code)
    if row is not None:
        return row
    row = InstitutionRow(
        code=institution.code,
        kind=institution.kind,
        name_th=institution.name_th,
        name_en=institution.name_en,
        district_th=institution.district_th,
        district_en=institution.district_en,
        province_th=institution.province_th,
        province_en=institution.province_en,
        affiliation_th=institution.affiliation_th,
        affiliation_en=institution.affiliation_en,
        registrar_name_th=registrar[0],
        registrar_name_en=registrar[1],
        director_name_th=director[0],
        director_name_en=director[1],
        created_at=now,
    )
    session.add(row)
    session.flush()
    session.add(StatusListCounterRow(institution_id=row.id, next_index=0))
    session.flush()
    return row


def to_institution(row: InstitutionRow) -> records.Institution:
    return records.Institution(
        code=row.code,
        kind=row.kind,
        name_th=row.name_th,
        name_en=row.name_en,
        district_th=row.district_th,
        district_en=row.district_en,
        province_th=row.province_th,
        province_en=row.province_en,
        affiliation_th=row.affiliation_th,
        affiliation_en=row.affiliation_en,
    )


class Institutions:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, code: str) -> InstitutionRow | None:
        return get_institution(self.session, code)

    def lock(self, institution: InstitutionRow) -> None:
        """Serialise imports and requests of one institution until the transaction ends:
        a row lock on PostgreSQL; on SQLite the write lock, taken before anything is read
        so no decision rests on a stale snapshot."""
        self.session.execute(update(InstitutionRow).where(InstitutionRow.id == institution.id)
                             .values(code=InstitutionRow.code))


# --- identity: students, programmes, enrolments -------------------------------------

_NAME_FIELDS = (
    "prefix_th", "first_name_th", "last_name_th", "prefix_en", "first_name_en", "last_name_en",
)


class Enrolments:
    """Who a transcript is about. Identity only: the data stay in the snapshots, and the
    names kept here (for search) are those of the latest issued version."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def identify(self, institution: InstitutionRow, record: records.StudentRecord, *,
                 now: datetime) -> EnrolmentRow:
        """The enrolment of `record`'s student in its programme, created if new (the names
        of a new student or programme are taken from `record`, nothing else is changed)."""
        s, p = record.student, record.programme
        student = self.session.scalar(select(StudentRow).filter_by(
            institution_id=institution.id, student_id=s.student_id))
        if student is None:
            student = StudentRow(institution_id=institution.id, student_id=s.student_id,
                                 created_at=now, updated_at=now,
                                 **{f: getattr(s.name, f) for f in _NAME_FIELDS})
            self.session.add(student)
        programme = self.session.scalar(select(ProgrammeRow).filter_by(
            institution_id=institution.id, code=p.code))
        if programme is None:
            programme = ProgrammeRow(institution_id=institution.id, code=p.code,
                                     name_th=p.name_th, name_en=p.name_en, level=p.level,
                                     total_hours=p.total_hours)
            self.session.add(programme)
        self.session.flush()
        enrolment = self.session.scalar(select(EnrolmentRow).filter_by(
            student_id=student.id, programme_id=programme.id))
        if enrolment is None:
            enrolment = EnrolmentRow(student_id=student.id, programme_id=programme.id,
                                     created_at=now)
            self.session.add(enrolment)
            self.session.flush()
        return enrolment

    def get(self, enrolment_id: int) -> EnrolmentRow | None:
        return self.session.get(EnrolmentRow, enrolment_id)

    def issued(self, enrolment: EnrolmentRow, record: records.StudentRecord, *,
               now: datetime) -> None:
        take_names(enrolment, record, now)


def take_names(enrolment: EnrolmentRow, record: records.StudentRecord, now: datetime) -> None:
    """Take the names of a just-issued version for search and lists."""
    student, p = enrolment.student, record.programme
    for f in _NAME_FIELDS:
        setattr(student, f, getattr(record.student.name, f))
    student.updated_at = now
    programme = enrolment.programme
    programme.name_th, programme.name_en = p.name_th, p.name_en
    programme.level, programme.total_hours = p.level, p.total_hours


# --- batches ------------------------------------------------------------------------


@dataclass(frozen=True)
class NewRecord:
    """One student to store in a new batch."""

    enrolment: EnrolmentRow
    transcript_id: str
    kind: ItemKind
    supersedes_version: int | None
    student_id: str
    name_th: str
    name_en: str
    record_json: bytes
    record_digest: str


class Batches:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, batch_id: int, institution_code: str | None = None) -> BatchRow | None:
        """Batch `batch_id`, if it belongs to `institution_code` (any institution if None)."""
        batch = self.session.get(BatchRow, batch_id)
        if batch is None or (institution_code and batch.institution.code != institution_code):
            return None
        return batch

    def add(self, institution: InstitutionRow, *, kind: BatchKind, filename: str,
            content_digest: str, row_count: int, created_by: str, now: datetime,
            status: BatchStatus = BatchStatus.IMPORTED, reason: str = "") -> BatchRow:
        batch = BatchRow(
            institution_id=institution.id, kind=kind, filename=filename,
            content_digest=content_digest, status=status, row_count=row_count,
            reason=reason, status_reason="", created_at=now, created_by=created_by,
            status_changed_at=now,
        )
        if status is BatchStatus.SUBMITTED:
            batch.submitted_by, batch.submitted_at = created_by, now
        self.session.add(batch)
        self.session.flush()
        return batch

    def add_records(self, batch: BatchRow, items: Iterable[NewRecord]) -> int:
        """Store the batch's records in order; how many."""
        count = 0
        for position, item in enumerate(items):
            self.session.add(BatchRecordRow(
                batch_id=batch.id, position=position, enrolment_id=item.enrolment.id,
                transcript_id=item.transcript_id, kind=item.kind,
                supersedes_version=item.supersedes_version, student_id=item.student_id,
                name_th=item.name_th, name_en=item.name_en, record_json=item.record_json,
                record_digest=item.record_digest,
            ))
            count += 1
            if count % 500 == 0:
                self.session.flush()
        self.session.flush()
        return count

    def records(self, batch: BatchRow, ids: Sequence[int] | None = None
                ) -> list[BatchRecordRow]:
        """The batch's records in file order (only `ids`, if given)."""
        stmt = select(BatchRecordRow).where(BatchRecordRow.batch_id == batch.id)
        if ids is not None:
            stmt = stmt.where(BatchRecordRow.id.in_(list(ids)))
        return list(self.session.scalars(stmt.order_by(BatchRecordRow.position)))

    def same_content(self, institution: InstitutionRow, content_digest: str
                     ) -> BatchRow | None:
        """A batch of the institution with this content that is open or was issued."""
        return self.session.scalar(
            select(BatchRow).where(
                BatchRow.institution_id == institution.id,
                BatchRow.content_digest == content_digest,
                BatchRow.status.in_([*OPEN, BatchStatus.ISSUED]),
            ).order_by(BatchRow.id).limit(1))

    def open_batches_of(self, enrolment_ids: Sequence[int]) -> dict[int, BatchRow]:
        """Enrolment id -> the open batch it is in, for those of `enrolment_ids` in one."""
        found: dict[int, BatchRow] = {}
        for start in range(0, len(enrolment_ids), 500):
            chunk = list(enrolment_ids[start:start + 500])
            for enrolment_id, batch in self.session.execute(
                select(BatchRecordRow.enrolment_id, BatchRow)
                .join(BatchRow, BatchRecordRow.batch_id == BatchRow.id)
                .where(BatchRecordRow.enrolment_id.in_(chunk), BatchRow.status.in_(list(OPEN)))
            ).all():
                found[enrolment_id] = batch
        return found

    def move(self, batch: BatchRow, to: BatchStatus, *, now: datetime, by: str = "",
             reason: str = "") -> None:
        """Move `batch` from its current status to `to`, unless another transaction moved it
        first (`Changed`): the update names the status the rules were checked against."""
        values = move_values(to, now=now, by=by, reason=reason)
        result = self.session.execute(
            update(BatchRow).where(BatchRow.id == batch.id, BatchRow.status == batch.status)
            .values(**values).execution_options(synchronize_session=False))
        if result.rowcount != 1:
            raise Changed(f"batch {batch.id} changed meanwhile")
        for name, value in values.items():
            setattr(batch, name, value)

    def approve(self, batch: BatchRow, *, by: str, now: datetime, manifest_digest: str
                ) -> None:
        """Move a submitted batch to approved, by whom, when, over which records (see
        `move`); the caller then seals it (`BatchRow.approval_mac`)."""
        self.move(batch, BatchStatus.APPROVED, now=now)
        batch.approved_by, batch.approved_at = by, now
        batch.manifest_digest = manifest_digest


def move_values(to: BatchStatus, *, now: datetime, by: str, reason: str) -> dict[str, Any]:
    """The columns a move to `to` sets."""
    values: dict[str, Any] = {"status": to, "status_changed_at": now}
    if to is BatchStatus.SUBMITTED:
        values |= {"submitted_by": by, "submitted_at": now}
    if to in (BatchStatus.REJECTED, BatchStatus.WITHDRAWN):
        values["status_reason"] = reason
    return values


# --- uploads read in the background ---------------------------------------------------


@dataclass(frozen=True)
class ErrorGroup:
    """Errors of one kind in a rejected upload: where, why, how many, the first row."""

    column: str
    reason_th: str
    reason_en: str
    count: int
    first_row: int


class Uploads:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, institution: InstitutionRow, *, filename: str, data: bytes,
            created_by: str, now: datetime) -> UploadRow:
        row = UploadRow(institution_id=institution.id, filename=filename, size=len(data),
                        data=data, state=UploadState.QUEUED, created_by=created_by,
                        created_at=now, rows_read=0, error_count=0, message="")
        self.session.add(row)
        self.session.flush()
        return row

    def get(self, upload_id: int, institution_code: str | None = None) -> UploadRow | None:
        row = self.session.get(UploadRow, upload_id)
        if row is None or (institution_code and row.institution.code != institution_code):
            return None
        return row

    def add_errors(self, upload: UploadRow, errors: Sequence[Any]) -> None:
        """Store a rejected upload's errors (`issuer.core.batch.BatchError`s) in order."""
        for start in range(0, len(errors), 1000):
            self.session.execute(insert(UploadErrorRow), [
                {"upload_id": upload.id, "position": start + i, "row": e.row,
                 "column": e.column[:100], "value": e.value, "reason_th": e.reason_th,
                 "reason_en": e.reason_en}
                for i, e in enumerate(errors[start:start + 1000])])
        upload.error_count = len(errors)

    def errors(self, upload: UploadRow, *, offset: int = 0, limit: int | None = None
               ) -> list[UploadErrorRow]:
        stmt = (select(UploadErrorRow).where(UploadErrorRow.upload_id == upload.id)
                .order_by(UploadErrorRow.position).offset(offset))
        return list(self.session.scalars(stmt if limit is None else stmt.limit(limit)))

    def error_groups(self, upload: UploadRow, limit: int = 20) -> list[ErrorGroup]:
        """The commonest kinds of error, most frequent first."""
        count = func.count().label("n")
        rows = self.session.execute(
            select(UploadErrorRow.column, UploadErrorRow.reason_th, UploadErrorRow.reason_en,
                   count, func.min(UploadErrorRow.row))
            .where(UploadErrorRow.upload_id == upload.id)
            .group_by(UploadErrorRow.column, UploadErrorRow.reason_th,
                      UploadErrorRow.reason_en)
            .order_by(count.desc(), func.min(UploadErrorRow.position)).limit(limit)).all()
        return [ErrorGroup(*row) for row in rows]


# --- status list indexes ------------------------------------------------------------


def allocate_status_indexes(session: Session, institution_id: int, count: int = 1) -> range:
    """Reserve `count` consecutive positions in the institution's status list.

    One atomic ``UPDATE ... SET next_index = next_index + :count RETURNING`` on the
    institution's counter row: PostgreSQL row-locks it until the transaction ends,
    so concurrent issuers queue and never share an index; SQLite serialises
    writers. Rolled-back allocations leave gaps, which the status list tolerates.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    stmt = (
        update(StatusListCounterRow)
        .where(StatusListCounterRow.institution_id == institution_id)
        .values(next_index=StatusListCounterRow.next_index + count)
        .returning(StatusListCounterRow.next_index)
    )
    end = session.execute(stmt).scalar_one_or_none()
    if end is None:  # an institution created without its counter row
        _create_counter(session, institution_id)
        end = session.execute(stmt).scalar_one()
    return range(end - count, end)


def _create_counter(session: Session, institution_id: int) -> None:
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": pg_insert, "sqlite": sqlite_insert}[dialect]
    session.execute(
        insert(StatusListCounterRow)
        .values(institution_id=institution_id, next_index=0)
        .on_conflict_do_nothing(index_elements=["institution_id"])
    )


# --- transcripts ------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedFiles:
    """What signing produced for one transcript version."""

    credential_jws: str
    signing_kid: str | None = None
    pdf_path: str | None = None  # relative to Settings.output_dir
    pdf_sha256: str | None = None  # hex


def new_transcript_row(
    record: records.TranscriptRecord,
    *,
    batch_record: BatchRecordRow,
    files: IssuedFiles,
    supersedes: TranscriptRow | None = None,
) -> TranscriptRow:
    """The row of a version issued from `batch_record` (not yet added to a session); its
    canonical JSON and digest are computed from `record`. With `supersedes`, the older
    version of the same transcript is marked superseded (unless it was revoked)."""
    enrolment = batch_record.enrolment
    institution = batch_record.batch.institution
    if institution.code != record.institution.code:
        raise ValueError("the record's institution is not the batch's")
    if record.transcript_id != batch_record.transcript_id:
        raise ValueError("the record's transcript ID is not the batch record's")
    if supersedes is not None and (
        supersedes.transcript_id != record.transcript_id or supersedes.version >= record.version
    ):
        raise ValueError("a new version must keep the transcript ID and raise the version")
    record_json = to_canonical(record)
    row = TranscriptRow(
        transcript_id=record.transcript_id,
        version=record.version,
        institution_id=institution.id,
        student_id=enrolment.student_id,
        enrolment_id=enrolment.id,
        batch_id=batch_record.batch_id,
        batch_record_id=batch_record.id,
        status=TranscriptStatus.ISSUED,
        status_reason="",
        status_changed_at=record.issued_at,
        status_index=record.status_index,
        record_json=record_json,
        record_digest=digest(record_json),
        credential_jws=files.credential_jws,
        signing_kid=files.signing_kid,
        pdf_path=files.pdf_path,
        pdf_sha256=files.pdf_sha256,
        issued_at=record.issued_at,
        supersedes_id=supersedes.id if supersedes is not None else None,
    )
    row.institution, row.batch_record, row.enrolment = institution, batch_record, enrolment
    if supersedes is not None and supersedes.status is TranscriptStatus.ISSUED:
        _set_status(supersedes, TranscriptStatus.SUPERSEDED,
                    f"superseded by version {record.version}", record.issued_at)
    return row


def _set_status(row: TranscriptRow, status: TranscriptStatus, reason: str,
                now: datetime) -> None:
    row.status = status
    row.status_reason = reason
    row.status_changed_at = now


def revoke_row(row: TranscriptRow, *, reason: str, now: datetime) -> None:
    if not reason.strip():
        raise ValueError("a revocation needs a reason")
    _set_status(row, TranscriptStatus.REVOKED, reason, now)


def status_entries(
    session: Session, institution_id: int, statuses: Sequence[TranscriptStatus]
) -> list[int]:
    """Status-list indexes of the institution's transcripts in any of `statuses`, sorted."""
    return list(
        session.scalars(
            select(TranscriptRow.status_index)
            .where(
                TranscriptRow.institution_id == institution_id,
                TranscriptRow.status.in_(list(statuses)),
            )
            .order_by(TranscriptRow.status_index)
        )
    )


class Transcripts:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, transcript_id: str, version: int) -> TranscriptRow | None:
        return self.session.scalar(
            select(TranscriptRow).filter_by(transcript_id=transcript_id, version=version))

    def latest(self, transcript_id: str, institution_code: str | None = None
               ) -> TranscriptRow | None:
        """The highest version of `transcript_id` (if it belongs to `institution_code`)."""
        row = self.session.scalar(
            select(TranscriptRow).where(TranscriptRow.transcript_id == transcript_id)
            .order_by(TranscriptRow.version.desc()).limit(1))
        if row is None or (institution_code and row.institution.code != institution_code):
            return None
        return row

    def latest_of(self, transcript_ids: Sequence[str]) -> dict[str, TranscriptRow]:
        """Transcript ID -> its highest version, for those of `transcript_ids` issued."""
        found: dict[str, TranscriptRow] = {}
        for start in range(0, len(transcript_ids), 500):
            chunk = list(transcript_ids[start:start + 500])
            for row in self.session.scalars(
                    select(TranscriptRow).where(TranscriptRow.transcript_id.in_(chunk))):
                best = found.get(row.transcript_id)
                if best is None or row.version > best.version:
                    found[row.transcript_id] = row
        return found

    def issued_record_ids(self, record_ids: Sequence[int]) -> set[int]:
        """Those of the batch records that already gave a transcript version."""
        found: set[int] = set()
        for start in range(0, len(record_ids), 500):
            chunk = list(record_ids[start:start + 500])
            found.update(self.session.scalars(
                select(TranscriptRow.batch_record_id)
                .where(TranscriptRow.batch_record_id.in_(chunk))))
        return found

    def add(self, record: records.TranscriptRecord, *, batch_record: BatchRecordRow,
            files: IssuedFiles, supersedes: TranscriptRow | None = None) -> TranscriptRow:
        """Store a version issued from `batch_record` (see `new_transcript_row`)."""
        row = new_transcript_row(record, batch_record=batch_record, files=files,
                                 supersedes=supersedes)
        self.session.add(row)
        self.session.flush()
        return row

    def revoke(self, row: TranscriptRow, *, reason: str, now: datetime) -> None:
        """Revoke one version (its status-list bit is then set by the status list builder)."""
        revoke_row(row, reason=reason, now=now)
        self.session.flush()

    def allocate_status_indexes(self, institution: InstitutionRow, count: int) -> range:
        return allocate_status_indexes(self.session, institution.id, count)


# --- audit log ----------------------------------------------------------------------


def append_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    source: str,
    now: datetime,
    institution: InstitutionRow | None = None,
    subject: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEventRow:
    """Append one event (`source` e.g. ``"cli"`` or ``"web 203.0.113.7"``) to the hash
    chain (`issuer.adapters.audit_chain`); appends are serialised until the caller's
    transaction ends, so commit soon after."""
    event = AuditEventRow(
        at=now, actor=actor, action=action, source=source,
        institution_id=institution.id if institution is not None else None,
        subject=subject, detail=dict(detail or {}),
    )
    return audit_chain.append(session, event)


class AuditLog:
    def __init__(self, session: Session) -> None:
        self.session = session

    def append(self, **event: Any) -> AuditEventRow:
        """`append_audit` in this unit of work."""
        return append_audit(self.session, **event)


def audit_events(
    session: Session,
    *,
    institution: InstitutionRow | None = None,
    subject: str | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[AuditEventRow]:
    """Events in the order they were appended, optionally filtered; page with `after_id`."""
    stmt = select(AuditEventRow).where(AuditEventRow.id > after_id)
    if institution is not None:
        stmt = stmt.where(AuditEventRow.institution_id == institution.id)
    if subject is not None:
        stmt = stmt.where(AuditEventRow.subject == subject)
    return list(session.scalars(stmt.order_by(AuditEventRow.id).limit(limit)))


def verify_audit_chain(session: Session) -> int | None:
    """The id of the first audit event that was edited, inserted or follows a deleted one
    (its hash or its link to the previous event is wrong), or None if the chain holds."""
    return audit_chain.verify(session)
