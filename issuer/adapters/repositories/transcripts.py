"""Issued transcript versions and their status-list indexes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from issuer.adapters.orm import (
    BatchRecordRow,
    InstitutionRow,
    StatusListCounterRow,
    StatusSequenceRow,
    TranscriptRow,
)
from issuer.core import records
from issuer.core.lifecycle import TranscriptStatus
from issuer.core.record_json import to_canonical
from verifier.core.canonical import digest
from verifier.core.status_details import REVOKED, SUPERSEDED, StatusDetail

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


def revoke_row(row: TranscriptRow, *, reason: str, now: datetime,
               reason_code: str | None = None) -> None:
    if not reason.strip():
        raise ValueError("a revocation needs a reason")
    _set_status(row, TranscriptStatus.REVOKED, reason, now)
    row.status_reason_code = reason_code


def next_status_sequence(session: Session, institution_id: int, above: int = 0) -> int:
    """Take the number of the institution's next status publication: one more than the
    last one, and more than `above` (what is already published, should the database
    have been restored from an older backup). One atomic ``UPDATE ... RETURNING`` on
    the institution's row, which PostgreSQL locks until the transaction ends: a
    publisher that reads the statuses after taking its number sees every change
    committed by one with a lower number."""
    row = StatusSequenceRow
    stmt = (
        update(row)
        .where(row.institution_id == institution_id)
        .values(sequence=case((row.sequence > above, row.sequence + 1), else_=above + 1))
        .returning(row.sequence)
    )
    value = session.execute(stmt).scalar_one_or_none()
    if value is None:  # the institution's first publication
        dialect = session.get_bind().dialect.name
        insert = {"postgresql": pg_insert, "sqlite": sqlite_insert}[dialect]
        session.execute(insert(row).values(institution_id=institution_id, sequence=0)
                        .on_conflict_do_nothing(index_elements=["institution_id"]))
        value = session.execute(stmt).scalar_one()
    return value


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

    def by_id(self, row_id: int) -> TranscriptRow | None:
        return self.session.get(TranscriptRow, row_id)

    def count_with_files(self) -> int:
        """How many versions have a PDF file: the stored archive's size."""
        return self.session.scalar(select(func.count()).select_from(TranscriptRow)
                                   .where(TranscriptRow.pdf_path.is_not(None))) or 0

    def with_files(self, after: int = 0, limit: int = 200) -> list[int]:
        """Ids (above `after`, ascending, at most `limit`) of the versions with a PDF file:
        a page of the stored archive."""
        return list(self.session.scalars(
            select(TranscriptRow.id).where(TranscriptRow.id > after,
                                           TranscriptRow.pdf_path.is_not(None))
            .order_by(TranscriptRow.id).limit(limit)))

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

    def revoke(self, row: TranscriptRow, *, reason: str, now: datetime,
               reason_code: str | None = None) -> None:
        """Revoke one version (its status-list bit is then set by the status list builder);
        `reason_code` is what verifiers are told, `reason` stays here."""
        revoke_row(row, reason=reason, now=now, reason_code=reason_code)
        self.session.flush()

    def next_status_sequence(self, institution: InstitutionRow, above: int = 0) -> int:
        return next_status_sequence(self.session, institution.id, above)

    def status_details(self, institution: InstitutionRow, tz: tzinfo) -> list[StatusDetail]:
        """What verifiers are told of the institution's revoked and superseded versions:
        the date (in `tz`), the reason code, and the transcript's latest version when it
        is newer. Nothing personal."""
        rows = self.session.execute(
            select(TranscriptRow.status_index, TranscriptRow.status,
                   TranscriptRow.status_changed_at, TranscriptRow.status_reason_code,
                   TranscriptRow.transcript_id, TranscriptRow.version)
            .where(TranscriptRow.institution_id == institution.id,
                   TranscriptRow.status.in_([TranscriptStatus.REVOKED,
                                             TranscriptStatus.SUPERSEDED]))
            .order_by(TranscriptRow.status_index)).all()
        ids = sorted({r.transcript_id for r in rows})
        latest: dict[str, tuple[int, datetime]] = {}
        for start in range(0, len(ids), 500):
            for tid, version, issued_at in self.session.execute(
                    select(TranscriptRow.transcript_id, TranscriptRow.version,
                           TranscriptRow.issued_at)
                    .where(TranscriptRow.transcript_id.in_(ids[start:start + 500]))):
                if tid not in latest or version > latest[tid][0]:
                    latest[tid] = (version, issued_at)
        details = []
        for r in rows:
            newest, issued_at = latest.get(r.transcript_id, (r.version, None))
            newer = newest > r.version and issued_at is not None
            revoked = r.status is TranscriptStatus.REVOKED
            details.append(StatusDetail(
                r.status_index, REVOKED if revoked else SUPERSEDED,
                r.status_changed_at.astimezone(tz).date(),
                (r.status_reason_code or "unspecified") if revoked else None,
                newest if newer else None,
                issued_at.astimezone(tz).date() if newer and issued_at else None))
        return details

    def allocate_status_indexes(self, institution: InstitutionRow, count: int) -> range:
        return allocate_status_indexes(self.session, institution.id, count)

    def status_entries(self, institution: InstitutionRow,
                       statuses: Sequence[TranscriptStatus]) -> list[int]:
        """Status-list indexes of the institution's transcripts in any of `statuses`,
        sorted."""
        return list(
            self.session.scalars(
                select(TranscriptRow.status_index)
                .where(
                    TranscriptRow.institution_id == institution.id,
                    TranscriptRow.status.in_(list(statuses)),
                )
                .order_by(TranscriptRow.status_index)
            )
        )
