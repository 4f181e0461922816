"""Batches and their frozen records."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from issuer.adapters.orm import (
    BatchRecordRow,
    BatchRow,
    EnrolmentRow,
    InstitutionRow,
)
from issuer.core.batch import BatchWarning, dump_warnings
from issuer.core.lifecycle import OPEN, BatchKind, BatchStatus, ItemKind
from issuer.core.refusal import Refusal


class Changed(Refusal):
    """A row changed under us (another transaction moved the batch first)."""


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


def new_batch_row(institution: InstitutionRow, *, kind: BatchKind, filename: str,
                  content_digest: str, row_count: int, created_by: str, now: datetime,
                  status: BatchStatus, reason: str,
                  warnings: Sequence[BatchWarning] = ()) -> BatchRow:
    """A new batch (not yet added to a session): imported, or submitted at once (a
    registrar's request for a new version)."""
    batch = BatchRow(
        institution_id=institution.id, institution=institution, kind=kind,
        filename=filename, content_digest=content_digest, status=status,
        row_count=row_count, reason=reason, status_reason="", created_at=now,
        created_by=created_by, status_changed_at=now, submitted_by=None, submitted_at=None,
        approved_by=None, approved_at=None, manifest_digest=None, approval_mac=None,
        warnings=dump_warnings(warnings), warnings_confirmed_by=None,
        warnings_confirmed_at=None)
    if status is BatchStatus.SUBMITTED:
        batch.submitted_by, batch.submitted_at = created_by, now
    return batch


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
            status: BatchStatus = BatchStatus.IMPORTED, reason: str = "",
            warnings: Sequence[BatchWarning] = ()) -> BatchRow:
        batch = new_batch_row(institution, kind=kind, filename=filename,
                              content_digest=content_digest, row_count=row_count,
                              created_by=created_by, now=now, status=status, reason=reason,
                              warnings=warnings)
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
            raise Changed("batch %(batch)s changed meanwhile: reload the page", batch=batch.id)
        for name, value in values.items():
            setattr(batch, name, value)

    def confirm_warnings(self, batch: BatchRow, *, by: str, now: datetime) -> None:
        """Record who confirmed the batch's warnings, unless another transaction moved the
        batch or confirmed them first (`Changed`)."""
        result = self.session.execute(
            update(BatchRow).where(BatchRow.id == batch.id, BatchRow.status == batch.status,
                                   BatchRow.warnings_confirmed_at.is_(None))
            .values(warnings_confirmed_by=by, warnings_confirmed_at=now)
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            raise Changed("batch %(batch)s changed meanwhile: reload the page", batch=batch.id)
        batch.warnings_confirmed_by, batch.warnings_confirmed_at = by, now

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
