"""Read-only queries behind the web pages: lists, searches and counts, always scoped.

Every function that returns institution data takes the institution's code and returns
nothing for another institution's rows, so a view cannot forget the scope.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from issuer.adapters.orm import (
    BatchRecordRow,
    BatchRow,
    EnrolmentRow,
    InstitutionRow,
    StudentRow,
    TranscriptRow,
)
from issuer.adapters.repositories import UnitOfWork
from issuer.core.lifecycle import OPEN, BatchStatus, ItemKind, TranscriptStatus

Reader = Session
"""What the pages' queries read with (a session the page does not write through)."""


@contextmanager
def reading(uow: UnitOfWork) -> Iterator[Reader]:
    """A read-only session whose rows stay usable (detached, loaded) after the block, for
    templates; load every relationship a page needs inside the block."""
    with uow:
        yield uow.session
        uow.session.expunge_all()


def _institution_id(code: str) -> Select[tuple[int]]:
    return select(InstitutionRow.id).where(InstitutionRow.code == code).scalar_subquery()


def batch_of(session: Session, batch_id: int, institution_code: str) -> BatchRow | None:
    """Batch `batch_id` if it belongs to the institution, else None."""
    return session.scalar(
        select(BatchRow).where(BatchRow.id == batch_id,
                               BatchRow.institution_id == _institution_id(institution_code))
        .options(joinedload(BatchRow.institution))
    )


def batches_of(
    session: Session, institution_code: str, *, statuses: Sequence[BatchStatus] = (),
    limit: int = 50, offset: int = 0,
) -> list[BatchRow]:
    """The institution's batches, newest first."""
    stmt = select(BatchRow).where(BatchRow.institution_id == _institution_id(institution_code))
    if statuses:
        stmt = stmt.where(BatchRow.status.in_(list(statuses)))
    return list(session.scalars(stmt.order_by(BatchRow.id.desc()).limit(limit).offset(offset)))


@dataclass(frozen=True)
class StudentLine:
    record_id: int
    student_id: str
    name_th: str
    name_en: str
    kind: ItemKind
    transcript_id: str
    supersedes_version: int | None
    version: int | None  # once issued


def students_of_batch(session: Session, batch: BatchRow, *, limit: int = 100,
                      offset: int = 0) -> list[StudentLine]:
    """The batch's students in file order, with the version each got (once issued)."""
    rows = session.scalars(
        select(BatchRecordRow).where(BatchRecordRow.batch_id == batch.id)
        .order_by(BatchRecordRow.position).limit(limit).offset(offset)
    ).all()
    issued = dict(session.execute(
        select(TranscriptRow.batch_record_id, TranscriptRow.version)
        .where(TranscriptRow.batch_record_id.in_([r.id for r in rows]))).all())
    return [StudentLine(r.id, r.student_id, r.name_th, r.name_en, r.kind, r.transcript_id,
                        r.supersedes_version, issued.get(r.id)) for r in rows]


def count_students(session: Session, batch: BatchRow) -> int:
    return session.scalar(
        select(func.count()).select_from(BatchRecordRow)
        .where(BatchRecordRow.batch_id == batch.id)
    ) or 0


def count_issued(session: Session, batch: BatchRow) -> int:
    """Versions the batch has issued so far."""
    return session.scalar(
        select(func.count()).select_from(TranscriptRow).where(TranscriptRow.batch_id == batch.id)
    ) or 0


def pending_requests(session: Session, transcript_id: str) -> list[BatchRow]:
    """Open batches (requests, corrections) that would give `transcript_id` a new version."""
    return list(session.scalars(
        select(BatchRow).join(BatchRecordRow, BatchRecordRow.batch_id == BatchRow.id)
        .where(BatchRecordRow.transcript_id == transcript_id,
               BatchRow.status.in_(list(OPEN))).order_by(BatchRow.id)))


def batch_pdfs(session: Session, batch: BatchRow, *, current_only: bool = False
               ) -> list[tuple[str, int, str]]:
    """(transcript ID, version, PDF path) of every transcript the batch issued; with
    `current_only`, those still current (neither superseded nor revoked)."""
    stmt = select(TranscriptRow).where(TranscriptRow.batch_id == batch.id)
    if current_only:
        stmt = stmt.where(TranscriptRow.status == TranscriptStatus.ISSUED)
    return [(t.transcript_id, t.version, t.pdf_path)
            for t in session.scalars(stmt.order_by(TranscriptRow.id)) if t.pdf_path]


def search_transcripts(
    session: Session, institution_code: str, *, query: str = "",
    status: TranscriptStatus | None = None, limit: int = 50, offset: int = 0,
) -> list[TranscriptRow]:
    """The institution's transcripts (latest version of each), newest first; `query`
    matches the transcript ID, the student ID or a name (Thai or English)."""
    newer = aliased(TranscriptRow)
    stmt = (
        select(TranscriptRow)
        .join(StudentRow, TranscriptRow.student_id == StudentRow.id)
        .where(TranscriptRow.institution_id == _institution_id(institution_code))
        .where(~select(newer.id).where(newer.transcript_id == TranscriptRow.transcript_id,
                                       newer.version > TranscriptRow.version).exists())
        .options(selectinload(TranscriptRow.student))
    )
    query = query.strip()
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(or_(
            func.lower(TranscriptRow.transcript_id).like(like),
            func.lower(StudentRow.student_id).like(like),
            func.lower(StudentRow.first_name_th).like(like),
            func.lower(StudentRow.last_name_th).like(like),
            func.lower(StudentRow.first_name_en).like(like),
            func.lower(StudentRow.last_name_en).like(like),
        ))
    if status is not None:
        stmt = stmt.where(TranscriptRow.status == status)
    stmt = stmt.order_by(TranscriptRow.issued_at.desc(), TranscriptRow.id.desc())
    return list(session.scalars(stmt.limit(limit).offset(offset)))


def versions_of(session: Session, transcript_id: str, institution_code: str) -> list[TranscriptRow]:
    """Every version of a transcript, newest first; empty if not the institution's."""
    return list(session.scalars(
        select(TranscriptRow)
        .where(TranscriptRow.transcript_id == transcript_id,
               TranscriptRow.institution_id == _institution_id(institution_code))
        .order_by(TranscriptRow.version.desc())
        .options(selectinload(TranscriptRow.student), selectinload(TranscriptRow.enrolment)
                 .selectinload(EnrolmentRow.programme))
    ))
