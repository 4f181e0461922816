"""Issuance jobs as the web service sees them: start one, ask how it goes.

`IssueJobs` is the small interface the views use. `job_engine` gives the real one: the
job table of `issuer.jobs` (`BatchJobs`), run by an embedded `LocalWorker` thread of the
web process or, with ``BKT_CELERY_BROKER``, by Celery workers. A job survives a restart
of the web service: the next worker claims it and resumes; issuance never issues twice.

`ThreadJobs` runs `issue_batch` in a plain thread of this process and `InlineJobs`
within the request: tests use them where the job table is beside the point.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from issuer.services.context import Actor, Issuer, ServiceError
from issuer.services.issuing import issue_batch

if TYPE_CHECKING:
    from issuer.web.config import WebConfig

log = logging.getLogger(__name__)


@dataclass
class JobState:
    batch_id: int
    running: bool = True
    done: int = 0  # students handled so far (issued now or before)
    error: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def advance(self, count: int) -> None:
        with self._lock:
            self.done += count


class IssueJobs(Protocol):
    def start(self, batch_id: int, *, actor: Actor, institution_code: str) -> Any:
        """Start (or resume) issuing an approved batch; a no-op if it is running."""

    def state(self, batch_id: int) -> Any:
        """The batch's job (``running``, ``done``, ``error``), or None if it has none."""

    def queued(self, job_id: int) -> None:
        """A job was queued in the job table (e.g. reading an upload): see that it runs."""


def job_engine(issuer: Issuer, config: WebConfig) -> IssueJobs:
    """The job table with its runner: an embedded worker thread, unless Celery (or
    separate ``transcripts worker`` processes) run the jobs."""
    from issuer.jobs import BatchJobs, LocalWorker, RunnerConfig

    worker = None
    if config.embedded_worker and not issuer.settings.celery_broker:
        worker = LocalWorker(issuer, RunnerConfig(workers=config.issue_workers))
        worker.start()  # also resumes jobs a previous run of the service left behind
    return BatchJobs(issuer, worker)


class ThreadJobs:
    """One background thread per batch; each thread signs with `workers` processes."""

    def __init__(self, issuer: Issuer, workers: int = 2) -> None:
        self.issuer = issuer
        self.workers = workers
        self._jobs: dict[int, JobState] = {}
        self._threads: dict[int, threading.Thread] = {}
        self._others: list[threading.Thread] = []  # jobs of the job table (uploads)
        self._lock = threading.Lock()

    def start(self, batch_id: int, *, actor: Actor, institution_code: str) -> None:
        with self._lock:
            current = self._jobs.get(batch_id)
            if current is not None and current.running:
                return
            state = self._jobs[batch_id] = JobState(batch_id)
            thread = threading.Thread(
                target=self._run, args=(state, actor, institution_code),
                name=f"issue-batch-{batch_id}", daemon=True,
            )
            self._threads[batch_id] = thread
        thread.start()

    def _run(self, state: JobState, actor: Actor, institution_code: str) -> None:
        try:
            issue_batch(self.issuer, state.batch_id, actor=actor,
                        institution_code=institution_code, workers=self.workers,
                        progress=state.advance)
        except ServiceError as e:
            state.error = str(e)
        except Exception as e:  # a background thread must not die silently
            log.exception("issuing batch %s failed", state.batch_id)
            state.error = f"{type(e).__name__}: {e}"
        finally:
            state.running = False

    def state(self, batch_id: int) -> JobState | None:
        return self._jobs.get(batch_id)

    def queued(self, job_id: int) -> None:
        thread = threading.Thread(target=self._run_queued, args=(job_id,),
                                  name=f"job-{job_id}", daemon=True)
        with self._lock:
            self._others.append(thread)
        thread.start()

    def _run_queued(self, job_id: int) -> None:
        from issuer.jobs import RunnerConfig, run_job

        run_job(self.issuer, job_id, owner=f"thread:{job_id}",
                config=RunnerConfig(workers=self.workers))

    def join(self, timeout: float | None = None) -> None:
        """Wait for every job started so far (tests, shutdown)."""
        for thread in [*self._threads.values(), *self._others]:
            thread.join(timeout)


class InlineJobs(ThreadJobs):
    """Runs the job within the request that starts it."""

    def start(self, batch_id: int, *, actor: Actor, institution_code: str) -> None:
        state = self._jobs[batch_id] = JobState(batch_id)
        self._run(state, actor, institution_code)

    def queued(self, job_id: int) -> None:
        self._run_queued(job_id)
