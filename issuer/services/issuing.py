"""Issuing an approved batch: its frozen snapshots in, signed PDFs and transcript rows out.

Nothing is signed unless the approval verifies (`issuer.services.approval`) and each
snapshot still has the digest that was approved. Issuance is resumable and never issues
twice: a record that already gave a version is skipped, and the unique (transcript ID,
version) and batch-record constraints stop a concurrent run. Results are stored in
chunks, each in its own transaction, while the workers produce the next chunk.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime

from issuer.adapters.orm import BatchRecordRow, TranscriptRow
from issuer.adapters.pki import PkiError
from issuer.adapters.repositories import Changed, ImageChanged, IssuedFiles, UnitOfWork
from issuer.core.lifecycle import BatchAction, BatchStatus, ItemKind, next_status
from issuer.core.records import InstitutionKind, TranscriptRecord
from issuer.pipeline import build_record
from issuer.services.approval import approved_digests, facts
from issuer.services.context import Actor, Issuer, ServiceError, rules
from issuer.services.snapshots import stored
from issuer.services.workers import Job, Produced, Submit, producer_pool
from verifier.core.canonical import digest

CHUNK = 32
"""Records per transaction; two chunks are in flight, so memory stays flat."""

Progress = Callable[[int], None]


@dataclass
class IssueReport:
    batch_id: int
    issued: list[str] = field(default_factory=list)  # PDF paths relative to the output dir
    skipped: int = 0  # records that had already given their version
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage, summed


def version_of(record: BatchRecordRow) -> int:
    """The version issuing `record` makes."""
    return 1 if record.kind is ItemKind.NEW else (record.supersedes_version or 0) + 1


def transcript_record(record: BatchRecordRow, *, status_index: int, now: datetime
                      ) -> TranscriptRecord:
    """The transcript version a batch record issues: its snapshot plus what belongs to the
    moment of issue (version, status index, time, a fresh salt)."""
    snapshot = stored(record)
    return build_record(
        snapshot.record, snapshot.institution, transcript_id=record.transcript_id,
        version=version_of(record), status_index=status_index, issued_at=now,
        national_id_salt=secrets.token_urlsafe(16),
    )


def _audit_refusal(issuer: Issuer, batch_id: int, actor: Actor, error: ServiceError) -> None:
    """Leave a trace of a batch that failed its approval check (outside the failed
    transaction, which wrote nothing)."""
    with issuer.uow() as uow:
        batch = uow.batches.get(batch_id)
        uow.audit.append(actor=actor.name, action="batch.integrity_failure",
                         source=actor.source, now=issuer.clock(),
                         institution=batch.institution if batch else None,
                         subject=f"batch:{batch_id}", detail={"error": str(error)})
        uow.commit()


def issue_batch(
    issuer: Issuer,
    batch_id: int,
    *,
    actor: Actor,
    institution_code: str | None = None,
    workers: int = 2,
    progress: Progress | None = None,
) -> IssueReport:
    """Issue every record of an approved batch; safe to run again after a failure."""
    report = IssueReport(batch_id)
    with issuer.uow() as uow:
        batch = uow.batches.get(batch_id, institution_code)
        if batch is None:
            raise ServiceError("no batch %(batch)s", batch=batch_id)
        if batch.status is BatchStatus.ISSUED:
            report.skipped = len(uow.batches.records(batch))
            return report
        with rules():
            next_status(facts(batch), BatchAction.START_ISSUING, None)
        records = uow.batches.records(batch)
        try:
            approved = approved_digests(uow, batch, records)
            _images(uow, batch_id, records, keep=False)  # all there, unchanged, first
        except ServiceError as e:
            uow.rollback()
            _audit_refusal(issuer, batch_id, actor, e)
            raise
        done = uow.transcripts.issued_record_ids(list(approved))
        code, kind = batch.institution.code, batch.institution.kind
        if batch.status is BatchStatus.APPROVED:
            uow.batches.move(batch, BatchStatus.ISSUING, now=issuer.clock())
        uow.commit()
    pending = [r.id for r in records if r.id not in done]
    report.skipped = len(records) - len(pending)
    try:
        issuer.keys(code)  # fail here, before any work, if the keys are missing or locked
    except PkiError as e:
        raise ServiceError("signing keys of %(code)s: %(problem)s", code=code,
                           problem=str(e)) from None
    if progress:
        progress(report.skipped)  # the first call: issuance is under way
    job = Job(issuer.settings.keys_dir, code, issuer.passphrase(),
              issuer.settings.verifier_url, issuer.settings.output_dir,
              warm_up=kind is InstitutionKind.VOCATIONAL,
              pades_level=issuer.settings.signing_level, tsa_url=issuer.settings.tsa_url,
              token=issuer.token(), public_base_url=issuer.settings.public_base_url,
              vc_export=issuer.settings.vc_export)
    with producer_pool(job, workers) as submit:
        inflight: deque[list[tuple[int, TranscriptRecord, Future[Produced]]]] = deque()
        for start in range(0, len(pending), CHUNK):
            chunk = pending[start:start + CHUNK]
            inflight.append(_prepare(issuer, batch_id, chunk, approved, submit))
            while len(inflight) > 1:
                _store(issuer, batch_id, inflight.popleft(), report, progress)
        while inflight:
            _store(issuer, batch_id, inflight.popleft(), report, progress)
    _finish(issuer, batch_id, actor, report)
    return report


def _images(uow: UnitOfWork, batch_id: int, rows: Sequence[BatchRecordRow], *,
            keep: bool = True) -> dict[str, bytes]:
    """The photos and emblem the snapshots of `rows` name, each checked against the digest
    the snapshot (and so the approval) holds; ServiceError if one is missing or altered.
    Without `keep`, only checked (a slice at a time), and nothing returned."""
    wanted = set()
    for row in rows:
        snapshot = stored(row)
        wanted |= {snapshot.record.student.photo_sha256, snapshot.institution.emblem_sha256}
    try:
        if not keep:
            uow.images.verify(wanted)
            return {}
        return uow.images.checked(wanted)
    except ImageChanged as e:
        raise ServiceError("batch %(batch)s: %(problem)s after approval; nothing more signed",
                           batch=batch_id, problem=str(e)) from None


def _prepare(
    issuer: Issuer, batch_id: int, record_ids: Sequence[int], approved: dict[int, str],
    submit: Submit,
) -> list[tuple[int, TranscriptRecord, Future[Produced]]]:
    """Build the chunk's transcript records from their snapshots, each checked against the
    digest approved, allocate their status indexes, and hand them to the workers."""
    with issuer.uow() as uow:
        batch = uow.batches.get(batch_id)
        assert batch is not None
        rows = uow.batches.records(batch, record_ids)
        for row in rows:
            if digest(row.record_json) != approved.get(row.id):
                raise ServiceError("batch %(batch)s: record %(record)s changed after approval; "
                                   "nothing more signed", batch=batch_id, record=row.position + 1)
        images = _images(uow, batch_id, rows)
        now = issuer.clock()
        indexes = uow.transcripts.allocate_status_indexes(batch.institution, len(rows))
        built = [(row.id, transcript_record(row, status_index=i, now=now))
                 for row, i in zip(rows, indexes, strict=True)]
        uow.commit()  # the indexes stay allocated even if issuing fails: gaps are harmless
    return [(rid, record, submit(record, _named(record, images))) for rid, record in built]


def _named(record: TranscriptRecord, images: dict[str, bytes]) -> dict[str, bytes]:
    """The images `record` names: only these go to the worker."""
    names = (record.record.student.photo_sha256, record.institution.emblem_sha256)
    return {n: images[n] for n in names if n}


def _supersedes(uow: UnitOfWork, row: BatchRecordRow) -> TranscriptRow | None:
    """The version `row` replaces (None for a new transcript); ServiceError if the
    transcript moved on since the batch was made."""
    latest = uow.transcripts.latest(row.transcript_id)
    expected = None if row.kind is ItemKind.NEW else row.supersedes_version
    if (latest.version if latest else None) != expected:
        raise ServiceError("%(transcript)s: the batch expected version %(expected)s to be the "
                           "latest, but it is %(latest)s; nothing stored",
                           transcript=row.transcript_id, expected=expected or "none",
                           latest=latest.version if latest else "none")
    return latest


def _store(
    issuer: Issuer,
    batch_id: int,
    chunk: list[tuple[int, TranscriptRecord, Future[Produced]]],
    report: IssueReport,
    progress: Progress | None,
) -> None:
    produced = []
    for _, record, future in chunk:
        try:
            produced.append(future.result())
        except Exception as e:
            raise ServiceError("issuing %(transcript)s failed (%(error)s: %(problem)s); "
                               "%(issued)s issued so far, run the same command again to resume",
                               transcript=record.transcript_id, error=type(e).__name__,
                               problem=str(e), issued=len(report.issued)) from e
    t0 = time.perf_counter()
    with issuer.uow() as uow:
        batch = uow.batches.get(batch_id)
        assert batch is not None
        rows = {r.id: r for r in uow.batches.records(batch, [rid for rid, _, _ in chunk])}
        for (rid, record, _), p in zip(chunk, produced, strict=True):
            row = rows[rid]
            stored_row = uow.transcripts.add(
                record, batch_record=row, supersedes=_supersedes(uow, row),
                files=IssuedFiles(p.credential, p.signing_kid, p.pdf_path, p.pdf_sha256))
            if stored_row.record_digest != p.record_digest:
                raise ServiceError("%(transcript)s: record changed while signing",
                                   transcript=record.transcript_id)
            uow.enrolments.issued(row.enrolment, record.record, now=record.issued_at)
        uow.commit()
    store = (time.perf_counter() - t0) / len(chunk)
    for p in produced:
        for stage, seconds in (p.timings | {"store": store}).items():
            report.timings[stage] = report.timings.get(stage, 0.0) + seconds
        report.issued.append(p.pdf_path)
    if progress:
        progress(len(chunk))


def _finish(issuer: Issuer, batch_id: int, actor: Actor, report: IssueReport) -> None:
    with issuer.uow() as uow:
        batch = uow.batches.get(batch_id)
        assert batch is not None
        now = issuer.clock()
        if batch.status is not BatchStatus.ISSUED:
            try:
                uow.batches.move(batch, BatchStatus.ISSUED, now=now)
            except Changed:  # a concurrent run finished it first
                uow.rollback()
                return
        if report.issued:
            uow.audit.append(
                actor=actor.name, action="batch.issue", source=actor.source, now=now,
                institution=batch.institution, subject=f"batch:{batch.id}",
                detail={"issued": len(report.issued), "skipped": report.skipped},
            )
        code = batch.institution.code
        uow.commit()
    issuer.publish([code])

