"""Approving and issuing a batch: records in, signed PDFs and transcript rows out.

Issuance is resumable and never issues twice: a transcript's ID is derived from its
enrolment, an enrolment that already has a transcript is skipped, and the database's
unique (transcript ID, version) constraint stops a concurrent run. Results are stored
in chunks, each in its own transaction, while the workers produce the next chunk.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from issuer.adapters import repositories as repo
from issuer.adapters.orm import BatchRow, BatchStatus, EnrolmentRow, InstitutionRow
from issuer.adapters.pki import PkiError
from issuer.core.records import InstitutionKind, Signatory, StudentRecord, TranscriptRecord
from issuer.pipeline import build_record
from issuer.services.context import Actor, Issuer, ServiceError
from issuer.services.publishing import publish
from issuer.services.workers import Job, Produced, Submit, producer_pool

CHUNK = 32
"""Records per transaction; two chunks are in flight, so memory stays flat."""

Progress = Callable[[int], None]


@dataclass
class IssueReport:
    batch_id: int
    issued: list[str] = field(default_factory=list)  # PDF paths relative to the output dir
    skipped: int = 0  # enrolments that already had a transcript
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage, summed


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


def transcript_record(
    session: Session,
    institution: InstitutionRow,
    enrolment: EnrolmentRow,
    *,
    version: int,
    now: datetime,
    student_record: StudentRecord | None = None,
    status_index: int | None = None,
) -> TranscriptRecord:
    """The record to issue for `enrolment`, with a fresh status index (unless one was
    allocated for it) and salt."""
    record = student_record or repo.load_student_record(session, enrolment)
    if not record.signatories:
        record = dataclasses.replace(record, signatories=signatories_for(institution))
    return build_record(
        record,
        repo.to_institution(institution),
        transcript_id=transcript_id_for(institution.code, enrolment),
        version=version,
        status_index=(repo.allocate_status_index(session, institution.id)
                      if status_index is None else status_index),
        issued_at=now,
        national_id_salt=secrets.token_urlsafe(16),
    )


def find_batch(session: Session, batch_id: int, institution_code: str | None) -> BatchRow:
    batch = session.get(BatchRow, batch_id)
    if batch is None or (institution_code and batch.institution.code != institution_code):
        raise ServiceError(f"no batch {batch_id}" + (
            f" for institution {institution_code}" if institution_code else ""))
    return batch


def issuable_batch(session: Session, batch_id: int, institution_code: str | None) -> BatchRow:
    """The batch, if it may be issued (approved, or issuing/issued and so resumable)."""
    batch = find_batch(session, batch_id, institution_code)
    if batch.status not in (BatchStatus.APPROVED, BatchStatus.ISSUING, BatchStatus.ISSUED):
        raise ServiceError(
            f"batch {batch_id} is {batch.status.value}: it must be approved before issuing"
        )
    return batch


def approve_batch(
    issuer: Issuer, batch_id: int, *, actor: Actor, institution_code: str | None = None
) -> None:
    """Record the approver's decision; only an approved batch can be issued."""
    with issuer.uow() as uow:
        batch = find_batch(uow.session, batch_id, institution_code)
        if batch.status not in (BatchStatus.IMPORTED, BatchStatus.SUBMITTED):
            raise ServiceError(f"batch {batch_id} is {batch.status.value}, not awaiting approval")
        now = issuer.clock()
        repo.set_batch_status(uow.session, batch, BatchStatus.APPROVED, now=now, by=actor.name)
        repo.append_audit(
            uow.session, actor=actor.name, action="batch.approve", source=actor.source, now=now,
            institution=batch.institution, subject=f"batch:{batch.id}",
        )
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
    """Issue every transcript of an approved batch; safe to run again after a failure."""
    report = IssueReport(batch_id)
    with issuer.uow() as uow:
        s = uow.session
        batch = issuable_batch(s, batch_id, institution_code)
        code, kind = batch.institution.code, batch.institution.kind
        enrolment_ids = [e.id for e in repo.enrolments_of_batch(s, batch)]
        done = repo.issued_enrolment_ids(s, enrolment_ids)
        if batch.status is BatchStatus.APPROVED:
            repo.set_batch_status(s, batch, BatchStatus.ISSUING, now=issuer.clock())
        uow.commit()
    pending = [i for i in enrolment_ids if i not in done]
    report.skipped = len(enrolment_ids) - len(pending)
    try:
        issuer.keys(code)  # fail here, before any work, if the keys are missing or locked
    except PkiError as e:
        raise ServiceError(f"signing keys of {code}: {e}") from None
    if progress:
        progress(report.skipped)  # the first call: issuance is under way
    job = Job(issuer.settings.keys_dir, code, issuer.passphrase(),
              issuer.settings.verifier_url, issuer.settings.output_dir,
              warm_up=kind is InstitutionKind.VOCATIONAL)
    with producer_pool(job, workers) as submit:
        inflight: deque[list[tuple[int, TranscriptRecord, Future[Produced]]]] = deque()
        for start in range(0, len(pending), CHUNK):
            inflight.append(_prepare(issuer, batch_id, pending[start:start + CHUNK], submit))
            while len(inflight) > 1:
                _store(issuer, batch_id, inflight.popleft(), report, progress)
        while inflight:
            _store(issuer, batch_id, inflight.popleft(), report, progress)
    _finish(issuer, batch_id, actor, report)
    return report


def _prepare(
    issuer: Issuer, batch_id: int, enrolment_ids: Sequence[int], submit: Submit
) -> list[tuple[int, TranscriptRecord, Future[Produced]]]:
    """Build the chunk's records (allocating status indexes) and hand them to the workers.

    The chunk's student records are read in one round of queries and its status indexes
    in one update: per-record queries made the parent the pipeline's bottleneck.
    """
    with issuer.uow() as uow:
        s = uow.session
        institution = s.get_one(BatchRow, batch_id).institution
        now = issuer.clock()
        students = repo.load_student_records(s, enrolment_ids)
        indexes = repo.allocate_status_indexes(s, institution.id, len(enrolment_ids))
        records = [
            (eid, transcript_record(s, institution, s.get_one(EnrolmentRow, eid), version=1,
                                    now=now, student_record=students[eid], status_index=i))
            for eid, i in zip(enrolment_ids, indexes, strict=True)
        ]
        uow.commit()  # the indexes stay allocated even if issuing fails: gaps are harmless
    return [(eid, record, submit(record)) for eid, record in records]


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
            raise ServiceError(
                f"issuing {record.transcript_id} failed ({type(e).__name__}: {e}); "
                f"{len(report.issued)} issued so far, run the same command again to resume"
            ) from e
    t0 = time.perf_counter()
    with issuer.uow() as uow:
        s = uow.session
        batch = s.get_one(BatchRow, batch_id)
        enrolments = repo.enrolments_by_id(s, [eid for eid, _, _ in chunk])
        for (eid, record, _), p in zip(chunk, produced, strict=True):
            row = repo.add_transcript(
                s, record, enrolment=enrolments[eid], batch=batch,
                files=repo.IssuedFiles(p.credential, p.signing_kid, p.pdf_path, p.pdf_sha256),
            )
            if row.record_digest != p.record_digest:
                raise ServiceError(f"{record.transcript_id}: record changed while signing")
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
        s = uow.session
        batch = s.get_one(BatchRow, batch_id)
        now = issuer.clock()
        if batch.status is not BatchStatus.ISSUED:
            repo.set_batch_status(s, batch, BatchStatus.ISSUED, now=now)
        if report.issued:
            repo.append_audit(
                s, actor=actor.name, action="batch.issue", source=actor.source, now=now,
                institution=batch.institution, subject=f"batch:{batch.id}",
                detail={"issued": len(report.issued), "skipped": report.skipped},
            )
        code = batch.institution.code
        uow.commit()
    publish(issuer, [code])
