"""Read-only queries behind the web pages: lists, searches and counts, always scoped.

Every function that returns institution data takes the institution's code and returns
nothing for another institution's rows, so a view cannot forget the scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from issuer.adapters.orm import (
    BatchRow,
    BatchStatus,
    EnrolmentRow,
    InstitutionRow,
    StudentRow,
    TranscriptRow,
    TranscriptStatus,
)


def _institution_id(code: str) -> Select[tuple[int]]:
    return select(InstitutionRow.id).where(InstitutionRow.code == code).scalar_subquery()


def batch_of(session: Session, batch_id: int, institution_code: str) -> BatchRow | None:
    """Batch `batch_id` if it belongs to the institution, else None."""
    return session.scalar(
        select(BatchRow).where(BatchRow.id == batch_id,
                               BatchRow.institution_id == _institution_id(institution_code))
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
    enrolment_id: int
    student_id: str
    name_th: str
    name_en: str
    transcript_id: str | None  # once issued
    version: int | None


def students_of_batch(session: Session, batch: BatchRow, *, limit: int = 100,
                      offset: int = 0) -> list[StudentLine]:
    """The batch's students in file order, with the transcript each got (if issued yet)."""
    rows = session.scalars(
        select(EnrolmentRow).where(EnrolmentRow.batch_id == batch.id)
        .order_by(EnrolmentRow.id).limit(limit).offset(offset)
        .options(selectinload(EnrolmentRow.student))
    ).all()
    issued = {
        t.enrolment_id: t for t in session.scalars(
            select(TranscriptRow).where(
                TranscriptRow.enrolment_id.in_([r.id for r in rows]),
                TranscriptRow.supersedes_id.is_(None),
            )
        )
    }
    lines = []
    for r in rows:
        s, t = r.student, issued.get(r.id)
        lines.append(StudentLine(
            r.id, s.student_id, f"{s.prefix_th}{s.first_name_th} {s.last_name_th}",
            f"{s.first_name_en} {s.last_name_en}",
            t.transcript_id if t else None, t.version if t else None,
        ))
    return lines


def count_students(session: Session, batch: BatchRow) -> int:
    return session.scalar(
        select(func.count()).select_from(EnrolmentRow).where(EnrolmentRow.batch_id == batch.id)
    ) or 0


def count_issued(session: Session, batch: BatchRow) -> int:
    """Transcripts issued from this batch (first versions)."""
    return session.scalar(
        select(func.count()).select_from(TranscriptRow).where(TranscriptRow.batch_id == batch.id)
    ) or 0


def count_already_issued(session: Session, batch: BatchRow) -> int:
    """The batch's students who already had a transcript from an earlier batch."""
    return session.scalar(
        select(func.count(func.distinct(TranscriptRow.enrolment_id)))
        .join(EnrolmentRow, TranscriptRow.enrolment_id == EnrolmentRow.id)
        .where(EnrolmentRow.batch_id == batch.id,
               or_(TranscriptRow.batch_id.is_(None), TranscriptRow.batch_id != batch.id))
    ) or 0


def batch_pdfs(session: Session, batch: BatchRow) -> list[tuple[str, int, str]]:
    """(transcript ID, version, PDF path) of every transcript the batch issued."""
    return [
        (t.transcript_id, t.version, t.pdf_path) for t in session.scalars(
            select(TranscriptRow).where(TranscriptRow.batch_id == batch.id)
            .order_by(TranscriptRow.id)
        ) if t.pdf_path
    ]


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
