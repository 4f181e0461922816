"""The job table's operations: create, claim, heartbeat, progress, finish.

Every state change is one conditional UPDATE, so two runners never both own a job:
a runner owns a job while its `owner` is the job's and it keeps `heartbeat_at` fresh.
Functions take an open `Session` and never commit, like the repositories.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from issuer.adapters.orm import ACTIVE_JOB_STATES, JobRow, JobState


def active_job(session: Session, key: str) -> JobRow | None:
    """The queued or running job for `key`, if any."""
    return session.scalar(
        select(JobRow).where(JobRow.key == key, JobRow.state.in_(ACTIVE_JOB_STATES))
    )


def latest_job(session: Session, key: str) -> JobRow | None:
    return session.scalar(
        select(JobRow).where(JobRow.key == key).order_by(JobRow.id.desc()).limit(1)
    )


def add_job(
    session: Session, *, kind: str, key: str, args: dict[str, Any], created_by: str,
    now: datetime, total: int | None = None, batch_id: int | None = None,
) -> JobRow:
    """A queued job (flushed). A second active job for the same `key` fails with
    IntegrityError (the partial unique index), concurrent inserts included."""
    row = JobRow(kind=kind, key=key, args=args, state=JobState.QUEUED, done=0, total=total,
                 attempts=0, batch_id=batch_id, created_by=created_by, created_at=now,
                 updated_at=now)
    session.add(row)
    session.flush()
    return row


def _claimable(stale_before: datetime) -> Any:
    return or_(
        JobRow.state == JobState.QUEUED,
        and_(JobRow.state == JobState.RUNNING,
             or_(JobRow.heartbeat_at.is_(None), JobRow.heartbeat_at < stale_before)),
    )


def claimable_ids(session: Session, *, stale_before: datetime, limit: int = 10,
                  queued_before: datetime | None = None) -> list[int]:
    """Jobs a runner may take, oldest first: queued ones (optionally only those queued
    before `queued_before`) and running ones whose heartbeat is older than `stale_before`."""
    condition = _claimable(stale_before)
    if queued_before is not None:
        condition = or_(
            and_(JobRow.state == JobState.QUEUED, JobRow.created_at < queued_before),
            and_(JobRow.state == JobState.RUNNING,
                 or_(JobRow.heartbeat_at.is_(None), JobRow.heartbeat_at < stale_before)),
        )
    return list(session.scalars(select(JobRow.id).where(condition).order_by(JobRow.id)
                                .limit(limit)))


def claim(session: Session, job_id: int, *, owner: str, now: datetime,
          stale_before: datetime) -> bool:
    """Take the job if it is queued or its runner went silent; True if it is now ours.

    Progress restarts from zero: the task reports what was already done first.
    """
    result = session.execute(
        update(JobRow)
        .where(JobRow.id == job_id, _claimable(stale_before))
        .values(state=JobState.RUNNING, owner=owner, attempts=JobRow.attempts + 1,
                heartbeat_at=now, started_at=func.coalesce(JobRow.started_at, now),
                updated_at=now, done=0, error=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def _owned(job_id: int, owner: str) -> Any:
    return and_(JobRow.id == job_id, JobRow.owner == owner, JobRow.state == JobState.RUNNING)


def heartbeat(session: Session, job_id: int, *, owner: str, now: datetime,
              done: int | None = None) -> bool:
    """Keep the job ours (and record progress); False if another runner took it."""
    values: dict[str, Any] = {"heartbeat_at": now, "updated_at": now}
    if done is not None:
        values["done"] = done
    result = session.execute(update(JobRow).where(_owned(job_id, owner)).values(**values)
                             .execution_options(synchronize_session=False))
    return result.rowcount == 1  # type: ignore[attr-defined]


def finish(session: Session, job_id: int, *, owner: str, now: datetime, state: JobState,
           done: int | None = None, error: str | None = None) -> bool:
    """End the job as `state` (done or failed), or give it back (queued) for another run."""
    values: dict[str, Any] = {"state": state, "updated_at": now, "error": error}
    if done is not None:
        values["done"] = done
    if state is JobState.QUEUED:
        values |= {"owner": None, "heartbeat_at": None}
    else:
        values["finished_at"] = now
    result = session.execute(update(JobRow).where(_owned(job_id, owner)).values(**values)
                             .execution_options(synchronize_session=False))
    return result.rowcount == 1  # type: ignore[attr-defined]


def fail_unowned(session: Session, job_id: int, *, now: datetime, error: str) -> None:
    """Fail a job nobody runs (e.g. it could not be handed to the broker)."""
    session.execute(
        update(JobRow).where(JobRow.id == job_id, JobRow.state == JobState.QUEUED)
        .values(state=JobState.FAILED, error=error, updated_at=now, finished_at=now)
        .execution_options(synchronize_session=False)
    )


class Jobs:
    """The job table as a unit of work's repository (`issuer.adapters.repositories`)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def active(self, key: str) -> JobRow | None:
        return active_job(self.session, key)

    def add(self, **job: Any) -> JobRow:
        """`add_job` in this unit of work."""
        return add_job(self.session, **job)
