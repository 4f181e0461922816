"""The embedded runner: a worker loop over the job table, in a thread or in the foreground.

It needs nothing but the database. On start, and whenever it is idle, it looks for
queued jobs and for running jobs whose heartbeat went stale (their runner died with
the web server or the `transcripts worker` process) and runs them, one at a time, each
with `RunnerConfig.workers` signing processes. Several local workers (web processes,
worker commands, machines sharing PostgreSQL) may run at once: each job is claimed by
exactly one of them.

``stop()`` (or SIGTERM/SIGINT for `transcripts worker`) gives a running job back to the
queue at its next progress report, so a restart resumes it at once. When idle it also
re-signs the published status lists before they get old (`RunnerConfig.republish_every`)
and checkpoints the audit log when it grew (`RunnerConfig.checkpoint_every`).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from issuer.adapters import job_store as store
from issuer.jobs.tasks import (
    DEFAULT_CONFIG,
    RunnerConfig,
    checkpoint_audit_log,
    republish_if_stale,
    run_job,
    runner_name,
)
from issuer.services.context import Issuer

log = logging.getLogger(__name__)


class LocalWorker:
    def __init__(self, issuer: Issuer, config: RunnerConfig = DEFAULT_CONFIG,
                 name: str | None = None) -> None:
        self.issuer = issuer
        self.config = config
        self.name = name or runner_name("local")
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._checkpointed = float("-inf")  # monotonic time of the last checkpoint attempt

    # --- one step ---------------------------------------------------------------------

    def candidates(self) -> list[int]:
        stale_before = self.issuer.clock() - timedelta(seconds=self.config.stale_after)
        with self.issuer.uow() as uow:
            return store.claimable_ids(uow.session, stale_before=stale_before)

    def run_once(self) -> int | None:
        """Run the oldest job this worker can claim; its id, or None if there was none."""
        for job_id in self.candidates():
            if self._stopping.is_set():
                return None
            state = run_job(self.issuer, job_id, owner=self.name, config=self.config,
                            stopping=self._stopping)
            if state is not None:
                log.info("job %s: %s", job_id, state.value)
                return job_id
        return None

    def run_until_idle(self) -> list[int]:
        """Run jobs until none is left to claim (tests, one-shot use); their ids."""
        ran = []
        while (job_id := self.run_once()) is not None:
            ran.append(job_id)
        return ran

    # --- the loop ---------------------------------------------------------------------

    def run_forever(self) -> None:
        """Run jobs until `stop()`; sleeps `poll_interval` (or until `wake()`) when idle."""
        log.info("worker %s started", self.name)
        while not self._stopping.is_set():
            try:
                ran = self.run_once()
            except Exception:  # the database went away: keep the worker alive
                log.exception("worker %s: looking for jobs failed", self.name)
                ran = None
            if ran is None:
                self._republish()
                self._checkpoint()
                self._wake.wait(self.config.poll_interval)
                self._wake.clear()
        log.info("worker %s stopped", self.name)

    def _republish(self) -> None:
        if self.config.republish_every is None:
            return
        try:
            if republish_if_stale(self.issuer, self.config.republish_every):
                log.info("worker %s re-signed the published status lists", self.name)
        except Exception:  # keys locked, disk full: say so, retry at the next idle moment
            log.exception("worker %s: re-signing the status lists failed", self.name)

    def _checkpoint(self) -> None:
        every = self.config.checkpoint_every
        if every is None or time.monotonic() - self._checkpointed < every:
            return
        self._checkpointed = time.monotonic()
        try:
            if checkpoint_audit_log(self.issuer):
                log.info("worker %s checkpointed the audit log", self.name)
        except Exception:  # no audit key yet, log cut short: say so, retry later
            log.exception("worker %s: checkpointing the audit log failed", self.name)

    def start(self) -> threading.Thread:
        """Run the loop in a daemon thread (the web process's embedded worker)."""
        if self._thread is None or not self._thread.is_alive():
            self._stopping.clear()
            self._thread = threading.Thread(target=self.run_forever, name="bkt-local-worker",
                                            daemon=True)
            self._thread.start()
        return self._thread

    def wake(self) -> None:
        """Look for jobs now (after enqueueing one) instead of at the next poll."""
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        """Stop the loop; a running job goes back to the queue at its next progress report."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
