"""Issuance jobs as the web service sees them: start one, ask how it goes.

`IssueJobs` is the small interface the views use. `ThreadJobs` (the default until the
job engine in `issuer.jobs` is wired in) runs `issue_batch` in a background thread of
the web process; `InlineJobs` runs it within the request (tests, tiny batches).

Progress is read from the database wherever possible (batch status, transcripts
stored), so it is right in every worker process and after a restart; the job object
adds only what the database cannot know (the error of a failed run). Issuance itself is
resumable and never issues twice, so starting a batch again after a restart is safe.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Protocol

from issuer.services.context import Actor, Issuer, ServiceError
from issuer.services.issuing import issue_batch

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
    def start(self, batch_id: int, *, actor: Actor, institution_code: str) -> None:
        """Start (or resume) issuing an approved batch; a no-op if it is running."""

    def state(self, batch_id: int) -> JobState | None:
        """What this process knows of the batch's job (None: nothing, e.g. after a restart)."""


class ThreadJobs:
    """One background thread per batch; each thread signs with `workers` processes."""

    def __init__(self, issuer: Issuer, workers: int = 2) -> None:
        self.issuer = issuer
        self.workers = workers
        self._jobs: dict[int, JobState] = {}
        self._threads: dict[int, threading.Thread] = {}
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

    def join(self, timeout: float | None = None) -> None:
        """Wait for every job started so far (tests, shutdown)."""
        for thread in list(self._threads.values()):
            thread.join(timeout)


class InlineJobs(ThreadJobs):
    """Runs the job within the request that starts it."""

    def start(self, batch_id: int, *, actor: Actor, institution_code: str) -> None:
        state = self._jobs[batch_id] = JobState(batch_id)
        self._run(state, actor, institution_code)
