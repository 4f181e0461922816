"""The task code both runners share: claim a job, run it with a heartbeat, record the end.

`run_job` is what the embedded worker calls in its loop and what the Celery task calls:
the job row, not the runner, is the truth about a job. A runner that dies leaves a
running job whose heartbeat goes stale; the next runner to look claims it again, and
the task resumes (`issue_batch` skips what is already issued and never issues twice).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from issuer.adapters import job_store as store
from issuer.adapters.orm import JobRow, JobState
from issuer.services.context import Actor, Issuer, ServiceError

log = logging.getLogger(__name__)

ISSUE_BATCH = "issue_batch"
IMPORT_FILE = "import_file"


@dataclass(frozen=True)
class RunnerConfig:
    """How a runner runs jobs (the same for the embedded worker and Celery tasks)."""

    workers: int = 2
    """Worker processes `issue_batch` signs with; 0 signs in the runner's own process."""
    heartbeat_every: float = 10.0
    """Seconds between heartbeats while a job runs."""
    stale_after: float = 60.0
    """A running job whose heartbeat is older than this (seconds) is taken to be orphaned
    (its runner died) and is claimed again."""
    progress_every: float = 1.0
    """At most one progress write per this many seconds (the last one always)."""
    poll_interval: float = 1.0
    """Embedded worker: seconds between looks for new jobs when idle."""
    max_attempts: int = 10
    """An orphaned job already claimed this often is failed instead of claimed again."""
    republish_every: float | None = 6 * 3600.0
    """Embedded worker: when idle, re-sign the published status lists once they are this
    old (seconds; they are valid for 30 days and must be re-signed at least daily);
    None leaves that to `transcripts publish` from cron."""
    checkpoint_every: float | None = 300.0
    """Embedded worker: when idle, at most this often (seconds), sign a checkpoint of the
    audit log's head if the log grew since the latest (`issuer.services.audit`): events
    after the latest checkpoint could be removed unnoticed. None leaves that to
    publishing and `transcripts audit checkpoint`."""


DEFAULT_CONFIG = RunnerConfig()


class JobLost(Exception):
    """Another runner took the job over (ours was presumed dead): stop quietly."""


class JobInterrupted(Exception):
    """The runner is shutting down: give the job back to the queue."""


Task = Callable[[Issuer, dict[str, Any], Callable[[int], None], RunnerConfig], None]


def _issue_batch(issuer: Issuer, args: dict[str, Any], progress: Callable[[int], None],
                 config: RunnerConfig) -> None:
    from issuer.services.issuing import issue_batch

    issue_batch(issuer, int(args["batch_id"]), actor=Actor(args["actor"], args["source"]),
                institution_code=args.get("institution_code"), workers=config.workers,
                progress=progress)


def _import_file(issuer: Issuer, args: dict[str, Any], progress: Callable[[int], None],
                 config: RunnerConfig) -> None:
    from issuer.core.lifecycle import AccountRole
    from issuer.services.uploads import read_upload

    actor = Actor(args["actor"], args["source"], AccountRole(args["role"]),
                  args["institution_code"])
    read_upload(issuer, int(args["upload_id"]), actor=actor, progress=progress)


TASKS: dict[str, Task] = {ISSUE_BATCH: _issue_batch, IMPORT_FILE: _import_file}


def runner_name(prefix: str = "local") -> str:
    """A name no other runner has: prefix, host, process and a random part."""
    return f"{prefix}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:100]


class _Reporter:
    """The task's progress callback: counts, writes at most every `progress_every`
    seconds, and stops the task if the job was taken over or the runner is stopping."""

    def __init__(self, issuer: Issuer, job_id: int, owner: str, config: RunnerConfig,
                 stopping: threading.Event | None,
                 listener: Callable[[int], None] | None = None) -> None:
        self.issuer, self.job_id, self.owner, self.config = issuer, job_id, owner, config
        self.stopping, self.listener = stopping, listener
        self.done = 0
        self._written_at = 0.0

    def __call__(self, count: int) -> None:
        self.done += count
        if self.listener is not None:
            self.listener(count)
        if time.monotonic() - self._written_at >= self.config.progress_every:
            self.write()
        if self.stopping is not None and self.stopping.is_set():
            raise JobInterrupted

    def write(self) -> None:
        with self.issuer.uow() as uow:
            ours = store.heartbeat(uow.session, self.job_id, owner=self.owner,
                                   now=self.issuer.clock(), done=self.done)
            uow.commit()
        self._written_at = time.monotonic()
        if not ours:
            raise JobLost


class _Heartbeat(threading.Thread):
    def __init__(self, issuer: Issuer, job_id: int, owner: str, every: float) -> None:
        super().__init__(name=f"job-{job_id}-heartbeat", daemon=True)
        self.issuer, self.job_id, self.owner, self.every = issuer, job_id, owner, every
        self.halt = threading.Event()
        self.lost = False

    def run(self) -> None:
        while not self.halt.wait(self.every):
            try:
                with self.issuer.uow() as uow:
                    self.lost = not store.heartbeat(uow.session, self.job_id, owner=self.owner,
                                                    now=self.issuer.clock())
                    uow.commit()
            except Exception:  # a database hiccup: try again at the next beat
                log.warning("heartbeat of job %s failed", self.job_id, exc_info=True)
            if self.lost:
                return


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: str
    args: dict[str, Any]


def claim_job(issuer: Issuer, job_id: int, owner: str,
              config: RunnerConfig) -> ClaimedJob | None:
    """Claim `job_id` for `owner`; what to run, or None if it is not ours to run.

    An orphaned job that has used up its attempts is failed here instead.
    """
    now = issuer.clock()
    stale_before = now - timedelta(seconds=config.stale_after)
    with issuer.uow() as uow:
        s = uow.session
        row = s.get(JobRow, job_id)
        if row is None or row.state in (JobState.DONE, JobState.FAILED):
            return None
        if row.state is JobState.RUNNING and row.attempts >= config.max_attempts:
            if row.heartbeat_at is None or row.heartbeat_at < stale_before:
                store.finish(s, job_id, owner=row.owner or "", now=now, state=JobState.FAILED,
                             error=f"abandoned: its runner stopped {row.attempts} times")
                uow.commit()
            return None
        if not store.claim(s, job_id, owner=owner, now=now, stale_before=stale_before):
            return None
        uow.commit()
        s.refresh(row)
        return ClaimedJob(row.id, row.kind, dict(row.args or {}))


def run_job(issuer: Issuer, job_id: int, *, owner: str, config: RunnerConfig = DEFAULT_CONFIG,
            stopping: threading.Event | None = None,
            on_progress: Callable[[int], None] | None = None) -> JobState | None:
    """Claim and run one job to its end; the state it ended in, or None if it was not ours
    to run (finished, or running elsewhere with a fresh heartbeat). `on_progress` also
    hears each progress report (a command line's progress bar)."""
    job = claim_job(issuer, job_id, owner, config)
    if job is None:
        return None
    task = TASKS.get(job.kind)
    reporter = _Reporter(issuer, job_id, owner, config, stopping, on_progress)
    beat = _Heartbeat(issuer, job_id, owner, config.heartbeat_every)
    beat.start()
    state, error = JobState.DONE, None
    try:
        if task is None:
            raise ServiceError("unknown job kind %(kind)r", kind=job.kind)
        task(issuer, job.args, reporter, config)
    except JobLost:
        log.warning("job %s was taken over by another runner", job_id)
        return None
    except JobInterrupted:
        state = JobState.QUEUED
    except ServiceError as e:
        state, error = JobState.FAILED, str(e)
    except Exception as e:
        log.exception("job %s (%s) failed", job_id, job.kind)
        state, error = JobState.FAILED, f"{type(e).__name__}: {e}"
    finally:
        beat.halt.set()
        beat.join()
    with issuer.uow() as uow:
        ours = store.finish(uow.session, job_id, owner=owner, now=issuer.clock(), state=state,
                            done=reporter.done, error=error)
        uow.commit()
    return state if ours else None


def republish_if_stale(issuer: Issuer, max_age: float) -> bool:
    """Re-sign every institution's status lists (and the JWKS and trust bundle) if the
    oldest of them is older than `max_age` seconds; True if it did. (A revocation at one
    school rewrites the bundle but not the other schools' lists, which verifiers take
    as stale 12 hours after signing.)"""
    from issuer.services.publishing import publish

    published = issuer.settings.published_dir
    try:
        oldest = min(p.stat().st_mtime for p in (published / "trust.json",
                                                  *published.glob("status/*/*.jws")))
        age = time.time() - oldest
    except (FileNotFoundError, ValueError):
        age = float("inf")
    if age < max_age:
        return False
    publish(issuer)
    return True


def checkpoint_audit_log(issuer: Issuer) -> bool:
    """Sign and publish a checkpoint of the audit log's head if it moved since the
    latest; True if one was written."""
    from issuer.services.audit import write_checkpoint

    return write_checkpoint(issuer)[1]
