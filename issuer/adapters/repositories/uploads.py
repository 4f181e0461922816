"""Uploads read in the background, and a rejected upload's errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from issuer.adapters import at_rest
from issuer.adapters.orm import (
    InstitutionRow,
    UploadErrorRow,
    UploadRow,
    UploadState,
    error_value_aad,
)

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
        """Store a rejected upload's errors (`issuer.core.batch.BatchError`s) in order,
        each value encrypted (`issuer.adapters.at_rest`): a cell may be a national ID."""
        key = self.session.info["integrity_key"](at_rest.PURPOSE)
        for start in range(0, len(errors), 1000):
            self.session.execute(insert(UploadErrorRow), [
                {"upload_id": upload.id, "position": start + i, "row": e.row,
                 "column": e.column[:100],
                 "_value_sealed": at_rest.seal_text(
                     key, e.value, error_value_aad(upload.id, start + i)),
                 "reason_th": e.reason_th, "reason_en": e.reason_en}
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
