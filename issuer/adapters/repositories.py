"""Repository functions over the ORM rows, and a unit of work for the services.

Functions take an open `Session` and never commit: the caller's `UnitOfWork`
decides. Mutating functions take `now` (an aware UTC datetime) explicitly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import Session, selectinload

from issuer.adapters import audit_chain
from issuer.adapters.orm import (
    ActivityResultRow,
    AuditEventRow,
    BatchRow,
    BatchStatus,
    CourseRow,
    EnrolmentRow,
    InstitutionRow,
    ProgrammeRow,
    ResultRow,
    SignatoryRow,
    StatusListCounterRow,
    StudentRow,
    TranscriptRow,
    TranscriptStatus,
)
from issuer.core import records
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


# --- student records ----------------------------------------------------------------

_STUDENT_FIELDS = (
    "national_id", "birth_date", "sex", "nationality_th", "religion_th", "father_name_th",
    "mother_name_th", "admission_date", "previous_school_th",
)
_PERSON_FIELDS = (
    "prefix_th", "first_name_th", "last_name_th", "prefix_en", "first_name_en", "last_name_en",
)


def _check_credits(course: records.CourseResult) -> None:
    """Refuse what NUMERIC(4,1) would silently round or reject."""
    exponent = course.credits.as_tuple().exponent
    if (
        not isinstance(exponent, int)
        or exponent < -1
        or not Decimal(0) <= course.credits < Decimal(1000)
    ):
        raise ValueError(
            f"course {course.code}: credits {course.credits} must be 0-999.9 with one decimal"
        )


def _upsert(session: Session, model: type[Any], key: dict[str, Any], values: dict[str, Any]) -> Any:
    row = session.scalar(select(model).filter_by(**key))
    if row is None:
        row = model(**key, **values)
        session.add(row)
    else:
        for name, value in values.items():
            setattr(row, name, value)
    return row


def save_student_record(
    session: Session,
    institution: InstitutionRow,
    record: records.StudentRecord,
    batch: BatchRow | None,
    *,
    now: datetime,
) -> EnrolmentRow:
    """Upsert the student, programme, courses and enrolment that `record` states.

    The enrolment's results, activities and signatories are replaced by the
    record's, in its order; the catalogue rows (programme, course) take the
    record's names, so the latest batch wins. Returns the enrolment.
    """
    if record.institution_code != institution.code:
        raise ValueError(
            f"record of {record.institution_code!r} saved under institution {institution.code!r}"
        )
    for course in record.courses:
        _check_credits(course)
    s = record.student
    student_values = {f: getattr(s, f) for f in _STUDENT_FIELDS}
    student_values |= {f: getattr(s.name, f) for f in _PERSON_FIELDS}
    student = session.scalar(
        select(StudentRow).filter_by(institution_id=institution.id, student_id=s.student_id)
    )
    if student is None:
        student = StudentRow(
            institution_id=institution.id, student_id=s.student_id, created_at=now,
            updated_at=now, **student_values,
        )
        session.add(student)
    else:
        for name, value in student_values.items():
            setattr(student, name, value)
        student.updated_at = now
    p = record.programme
    programme = _upsert(
        session, ProgrammeRow, {"institution_id": institution.id, "code": p.code},
        {"name_th": p.name_th, "name_en": p.name_en, "level": p.level,
         "total_hours": p.total_hours},
    )
    courses: dict[str, CourseRow] = {}
    for c in record.courses:
        courses[c.code] = _upsert(
            session, CourseRow, {"institution_id": institution.id, "code": c.code},
            {"name_th": c.name_th, "name_en": c.name_en, "course_type": c.course_type,
             "credits": c.credits, "hours": c.hours, "learning_area": c.learning_area},
        )
    session.flush()

    enrolment = session.scalar(
        select(EnrolmentRow).filter_by(student_id=student.id, programme_id=programme.id)
    )
    values = {
        "batch_id": batch.id if batch is not None else None,
        "cohort": p.cohort,
        "graduation_date": record.graduation_date,
        "reading_thinking_writing": record.assessments.reading_thinking_writing,
        "desirable_characteristics": record.assessments.desirable_characteristics,
        "updated_at": now,
    }
    if enrolment is None:
        enrolment = EnrolmentRow(
            student_id=student.id, programme_id=programme.id, created_at=now, **values
        )
        session.add(enrolment)
    else:
        for name, value in values.items():
            setattr(enrolment, name, value)
        # Replace the children: flush the deletes before re-inserting the same positions.
        enrolment.results.clear()
        enrolment.activities.clear()
        enrolment.signatories.clear()
        session.flush()
    enrolment.results.extend(
        ResultRow(
            course_id=courses[c.code].id, position=i, academic_year=c.term.year,
            semester=c.term.semester, grade=c.grade,
        )
        for i, c in enumerate(record.courses)
    )
    enrolment.activities.extend(
        ActivityResultRow(
            position=i, academic_year=a.year, name_th=a.name_th, name_en=a.name_en,
            hours=a.hours, result=a.result,
        )
        for i, a in enumerate(record.activities)
    )
    enrolment.signatories.extend(
        SignatoryRow(
            position=i, role_th=g.role_th, role_en=g.role_en, name_th=g.name_th,
            name_en=g.name_en,
        )
        for i, g in enumerate(record.signatories)
    )
    session.flush()
    return enrolment


def find_enrolment(
    session: Session, institution: InstitutionRow, student_id: str, programme_code: str
) -> EnrolmentRow | None:
    """The enrolment of student `student_id` in programme `programme_code`, if saved."""
    return session.scalar(
        select(EnrolmentRow)
        .join(StudentRow, EnrolmentRow.student_id == StudentRow.id)
        .join(ProgrammeRow, EnrolmentRow.programme_id == ProgrammeRow.id)
        .where(
            StudentRow.institution_id == institution.id,
            StudentRow.student_id == student_id,
            ProgrammeRow.code == programme_code,
        )
    )


def load_student_record(session: Session, enrolment: EnrolmentRow | int) -> records.StudentRecord:
    """Rebuild the `StudentRecord` saved for `enrolment` (a row or its id)."""
    enrolment_id = enrolment if isinstance(enrolment, int) else enrolment.id
    loaded = load_student_records(session, [enrolment_id])
    if enrolment_id not in loaded:
        raise NoResultFound(f"no enrolment {enrolment_id}")
    return loaded[enrolment_id]


def load_student_records(
    session: Session, enrolment_ids: Sequence[int]
) -> dict[int, records.StudentRecord]:
    """`load_student_record` for many enrolments in one round of queries (a handful per
    call, not per enrolment: what issuing a batch chunk by chunk needs). Unknown IDs
    are absent from the result."""
    rows = session.scalars(
        select(EnrolmentRow)
        .where(EnrolmentRow.id.in_(enrolment_ids))
        .options(
            selectinload(EnrolmentRow.student).selectinload(StudentRow.institution),
            selectinload(EnrolmentRow.programme),
            selectinload(EnrolmentRow.results).selectinload(ResultRow.course),
            selectinload(EnrolmentRow.activities),
            selectinload(EnrolmentRow.signatories),
        )
    ).all()
    return {row.id: _student_record(row) for row in rows}


def _student_record(row: EnrolmentRow) -> records.StudentRecord:
    s, p = row.student, row.programme
    return records.StudentRecord(
        institution_code=s.institution.code,
        student=records.Student(
            student_id=s.student_id,
            name=records.Person(**{f: getattr(s, f) for f in _PERSON_FIELDS}),
            **{f: getattr(s, f) for f in _STUDENT_FIELDS},
        ),
        programme=records.Programme(
            code=p.code, name_th=p.name_th, name_en=p.name_en, level=p.level,
            total_hours=p.total_hours, cohort=row.cohort,
        ),
        courses=tuple(
            records.CourseResult(
                term=records.Term(r.academic_year, r.semester),
                code=r.course.code,
                name_th=r.course.name_th,
                name_en=r.course.name_en,
                course_type=r.course.course_type,
                grade=r.grade,
                credits=r.course.credits,
                hours=r.course.hours,
                learning_area=r.course.learning_area,
            )
            for r in row.results
        ),
        activities=tuple(
            records.ActivityResult(a.academic_year, a.name_th, a.name_en, a.hours, a.result)
            for a in row.activities
        ),
        assessments=records.Assessments(
            reading_thinking_writing=row.reading_thinking_writing,
            desirable_characteristics=row.desirable_characteristics,
        ),
        graduation_date=row.graduation_date,
        signatories=tuple(
            records.Signatory(g.role_th, g.role_en, g.name_th, g.name_en)
            for g in row.signatories
        ),
    )


def enrolments_of_batch(session: Session, batch: BatchRow) -> list[EnrolmentRow]:
    """Enrolments last supplied by `batch`, in the order they were saved."""
    return list(
        session.scalars(
            select(EnrolmentRow).where(EnrolmentRow.batch_id == batch.id).order_by(EnrolmentRow.id)
        )
    )


def enrolments_by_id(session: Session, enrolment_ids: Sequence[int]) -> dict[int, EnrolmentRow]:
    """The enrolments with these IDs and their students, in two queries."""
    rows = session.scalars(
        select(EnrolmentRow)
        .where(EnrolmentRow.id.in_(enrolment_ids))
        .options(selectinload(EnrolmentRow.student))
    ).all()
    return {row.id: row for row in rows}


# --- batches ----------------------------------------------------------------------


class DuplicateBatchError(Exception):
    """The same file content was already imported for this institution."""

    def __init__(self, existing: BatchRow) -> None:
        super().__init__(f"this file was already imported as batch {existing.id}")
        self.existing = existing


def find_batch_by_hash(
    session: Session, institution: InstitutionRow, content_sha256: str
) -> BatchRow | None:
    return session.scalar(
        select(BatchRow).filter_by(institution_id=institution.id, content_sha256=content_sha256)
    )


def add_batch(
    session: Session,
    institution: InstitutionRow,
    *,
    filename: str,
    content_sha256: str,
    row_count: int,
    created_by: str,
    now: datetime,
) -> BatchRow:
    """Record an imported batch; raises `DuplicateBatchError` if its content is known.

    A concurrent import of the same content is stopped by the unique constraint
    (IntegrityError at flush or commit).
    """
    existing = find_batch_by_hash(session, institution, content_sha256)
    if existing is not None:
        raise DuplicateBatchError(existing)
    batch = BatchRow(
        institution_id=institution.id, filename=filename, content_sha256=content_sha256,
        status=BatchStatus.IMPORTED, row_count=row_count, created_at=now, created_by=created_by,
        status_changed_at=now,
    )
    session.add(batch)
    session.flush()
    return batch


def set_batch_status(
    session: Session, batch: BatchRow, status: BatchStatus, *, now: datetime, by: str = ""
) -> None:
    """Move `batch` to `status`; approving records who approved and when."""
    batch.status = status
    batch.status_changed_at = now
    if status is BatchStatus.APPROVED:
        batch.approved_by = by
        batch.approved_at = now
    session.flush()


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


def allocate_status_index(session: Session, institution_id: int) -> int:
    return allocate_status_indexes(session, institution_id, 1)[0]


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


def add_transcript(
    session: Session,
    record: records.TranscriptRecord,
    *,
    enrolment: EnrolmentRow,
    batch: BatchRow | None,
    files: IssuedFiles,
    supersedes: TranscriptRow | None = None,
) -> TranscriptRow:
    """Store an issued version; its canonical JSON and digest are computed from `record`.

    With `supersedes`, the older version of the same transcript is marked
    superseded (unless already revoked) in the same transaction.
    """
    institution = session.get(InstitutionRow, enrolment.student.institution_id)
    if institution is None or institution.code != record.institution.code:
        raise ValueError("the record's institution is not the enrolment's")
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
        batch_id=batch.id if batch is not None else None,
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
    session.add(row)
    if supersedes is not None and supersedes.status is TranscriptStatus.ISSUED:
        _set_status(supersedes, TranscriptStatus.SUPERSEDED,
                    f"superseded by version {record.version}", record.issued_at)
    session.flush()
    return row


def get_transcript(session: Session, transcript_id: str, version: int) -> TranscriptRow | None:
    return session.scalar(
        select(TranscriptRow).filter_by(transcript_id=transcript_id, version=version)
    )


def latest_version(session: Session, transcript_id: str) -> TranscriptRow | None:
    """The highest version of `transcript_id`."""
    return session.scalar(
        select(TranscriptRow)
        .where(TranscriptRow.transcript_id == transcript_id)
        .order_by(TranscriptRow.version.desc())
        .limit(1)
    )


def latest_transcript_for_student(
    session: Session, student: StudentRow, programme_code: str | None = None
) -> TranscriptRow | None:
    """The newest version issued to `student` (optionally for one programme)."""
    stmt = select(TranscriptRow).where(TranscriptRow.student_id == student.id)
    if programme_code is not None:
        stmt = (
            stmt.join(EnrolmentRow, TranscriptRow.enrolment_id == EnrolmentRow.id)
            .join(ProgrammeRow, EnrolmentRow.programme_id == ProgrammeRow.id)
            .where(ProgrammeRow.code == programme_code)
        )
    stmt = stmt.order_by(TranscriptRow.issued_at.desc(), TranscriptRow.id.desc()).limit(1)
    return session.scalar(stmt)


def issued_enrolment_ids(session: Session, enrolment_ids: Sequence[int]) -> set[int]:
    """Those of `enrolment_ids` that already have a transcript (any version, any status)."""
    found: set[int] = set()
    for start in range(0, len(enrolment_ids), 500):  # keep IN lists a sane size
        chunk = list(enrolment_ids[start:start + 500])
        found.update(session.scalars(
            select(TranscriptRow.enrolment_id).where(TranscriptRow.enrolment_id.in_(chunk))
        ))
    return found


def transcripts_of_batch(session: Session, batch: BatchRow) -> list[TranscriptRow]:
    return list(
        session.scalars(
            select(TranscriptRow)
            .where(TranscriptRow.batch_id == batch.id)
            .order_by(TranscriptRow.id)
        )
    )


def _set_status(
    row: TranscriptRow, status: TranscriptStatus, reason: str, now: datetime
) -> None:
    row.status = status
    row.status_reason = reason
    row.status_changed_at = now


def revoke_transcript(
    session: Session, transcript: TranscriptRow, *, reason: str, now: datetime
) -> None:
    """Revoke one version (its status-list bit is then set by the status list builder)."""
    if not reason.strip():
        raise ValueError("a revocation needs a reason")
    _set_status(transcript, TranscriptStatus.REVOKED, reason, now)
    session.flush()


def mark_superseded(
    session: Session, transcript: TranscriptRow, *, reason: str, now: datetime
) -> None:
    _set_status(transcript, TranscriptStatus.SUPERSEDED, reason, now)
    session.flush()


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
