"""Starting jobs and asking how they go: what the web service and the CLI call.

`enqueue_issue` records the job (one active job per batch) and hands it to the
configured runner: Celery when `Settings.celery_broker` is set, else the embedded
worker, which finds it in the table (`LocalWorker.wake()` makes that immediate).
`job_status` and `batch_job` read the job row, so they are right in any process and
after a restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from issuer.adapters import job_store as store
from issuer.adapters.orm import ACTIVE_JOB_STATES, BatchRow, JobRow
from issuer.adapters.repositories import UnitOfWork
from issuer.core.lifecycle import BatchStatus, may_issue
from issuer.jobs.tasks import ISSUE_BATCH
from issuer.services.context import Actor, Issuer, ServiceError


@dataclass(frozen=True)
class JobStatus:
    id: int
    kind: str
    state: str  # queued, running, done, failed
    done: int  # students handled so far (issued now or before)
    total: int | None
    error: str | None
    attempts: int  # runs started (more than one: resumed after a runner stopped)
    batch_id: int | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    heartbeat_at: datetime | None
    finished_at: datetime | None

    @property
    def running(self) -> bool:
        """Queued or running: not finished yet."""
        return self.state in ACTIVE_JOB_STATES

    @property
    def fraction(self) -> float | None:
        if self.state == "done":
            return 1.0
        return min(1.0, self.done / self.total) if self.total else None


def _status(row: JobRow) -> JobStatus:
    return JobStatus(
        row.id, row.kind, row.state.value, row.done, row.total, row.error, row.attempts,
        row.batch_id, row.created_by, row.created_at, row.started_at, row.heartbeat_at,
        row.finished_at,
    )


def issue_key(batch_id: int) -> str:
    return f"{ISSUE_BATCH}:{batch_id}"


def add_issue_job(uow: UnitOfWork, batch: BatchRow, actor: Actor, *, now: datetime,
                  total: int) -> int:
    """Queue the issuance of `batch` in the caller's transaction (which commits; then
    `dispatch`); the job's id. An active job of the batch is returned instead."""
    key = issue_key(batch.id)
    existing = uow.jobs.active(key)
    if existing is not None:
        return existing.id
    args = {"batch_id": batch.id, "actor": actor.name, "source": actor.source,
            "institution_code": batch.institution.code}
    job = uow.jobs.add(kind=ISSUE_BATCH, key=key, args=args, created_by=actor.name,
                       now=now, total=total, batch_id=batch.id)
    uow.audit.append(actor=actor.name, action="batch.issue_queued", source=actor.source,
                     now=now, institution=batch.institution, subject=f"batch:{batch.id}",
                     detail={"job": job.id})
    return job.id


def enqueue_issue(issuer: Issuer, batch_id: int, actor: Actor, *,
                  institution_code: str | None = None) -> int:
    """Queue (or resume) the issuance of an approved batch; the job's id. If the batch
    already has a queued or running job, that job's id (nothing new is queued)."""
    with issuer.uow() as uow:
        batch = uow.batches.get(batch_id, institution_code)
        if batch is None:
            raise ServiceError("no batch %(batch)s", batch=batch_id)
        if batch.status is BatchStatus.ISSUED:
            raise ServiceError("batch %(batch)s is already issued", batch=batch_id)
        if not may_issue(batch.status):
            raise ServiceError("batch %(batch)s is %(status)s: it must be approved before "
                               "issuing", batch=batch_id, status=batch.status)
        try:
            job_id = add_issue_job(uow, batch, actor, now=issuer.clock(),
                                   total=len(uow.batches.records(batch)))
            uow.commit()
        except IntegrityError:  # someone queued it a moment ago
            uow.rollback()
            existing = uow.jobs.active(issue_key(batch_id))
            if existing is None:
                raise
            return existing.id
    dispatch(issuer, job_id)
    return job_id


def dispatch(issuer: Issuer, job_id: int) -> None:
    """Hand a queued job to Celery when configured (the embedded worker polls the table).

    A broker that cannot be reached fails the job (queue it again once it is back)."""
    if not issuer.settings.celery_broker:
        return
    from issuer.jobs.celery_app import send

    try:
        send(issuer.settings, job_id)
    except Exception as e:
        with issuer.uow() as uow:
            store.fail_unowned(uow.session, job_id, now=issuer.clock(),
                               error=f"the job queue is unreachable ({type(e).__name__})")
            uow.commit()
        raise ServiceError("job %(job)s could not be queued: the job queue is unreachable "
                           "(%(problem)s)", job=job_id,
                           problem=": ".join((type(e).__name__, str(e)))) from e


def job_status(issuer: Issuer, job_id: int) -> JobStatus:
    with issuer.uow() as uow:
        row = uow.session.get(JobRow, job_id)
        if row is None:
            raise ServiceError("no job %(job)s", job=job_id)
        return _status(row)


def job_status_by_key(issuer: Issuer, key: str) -> JobStatus | None:
    """The newest job for `key` (None if there was never one)."""
    with issuer.uow() as uow:
        row = store.latest_job(uow.session, key)
        return _status(row) if row is not None else None


def batch_job(issuer: Issuer, batch_id: int) -> JobStatus | None:
    """The batch's newest issuance job (None if it was never queued)."""
    return job_status_by_key(issuer, issue_key(batch_id))


class BatchJobs:
    """The web service's `IssueJobs` on the job table: ``start`` queues (or finds) the
    batch's job and wakes the embedded worker, ``state`` reads it back (``running``,
    ``done``, ``error``, ``batch_id`` as the views expect)."""

    def __init__(self, issuer: Issuer, worker: object | None = None) -> None:
        self.issuer = issuer
        self.worker = worker  # a LocalWorker to wake; None with Celery

    def start(self, batch_id: int, *, actor: Actor, institution_code: str) -> int:
        job_id = enqueue_issue(self.issuer, batch_id, actor, institution_code=institution_code)
        wake = getattr(self.worker, "wake", None)
        if wake is not None:
            wake()
        return job_id

    def state(self, batch_id: int) -> JobStatus | None:
        return batch_job(self.issuer, batch_id)

    def queued(self, job_id: int) -> None:
        """Wake the embedded worker for a job just queued (Celery was sent it already)."""
        wake = getattr(self.worker, "wake", None)
        if wake is not None:
            wake()
