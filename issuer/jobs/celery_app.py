"""The same jobs on Celery, for issuance spread over machines.

    BKT_CELERY_BROKER=redis://127.0.0.1:6379/0 \\
        .venv/bin/celery -A issuer.jobs.celery_app worker --concurrency 2

The broker only carries job ids: the job table stays the truth, so a message delivered
twice, or late, runs nothing twice (`run_job` claims atomically; `issue_batch` skips
what is issued). Messages are acknowledged after the task (``acks_late``) and handed
back if the worker process dies; when a worker starts it also re-sends jobs queued long
ago or orphaned (stale heartbeat), e.g. after the broker lost its messages.

Celery's prefork pool runs tasks in daemonic processes, which may not start processes
of their own, so the task signs in its own process (``workers=0``): parallelism comes
from Celery's concurrency (one batch per pool process) and from more worker machines.
The same settings as everywhere else come from the environment (`Settings.from_env`).
``celery -A issuer.jobs.celery_app beat`` re-signs the status lists every six hours.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from celery import Celery, signals

from issuer.adapters import job_store as store
from issuer.config import Settings
from issuer.jobs.tasks import (
    RunnerConfig,
    checkpoint_audit_log,
    republish_if_stale,
    run_job,
    runner_name,
)
from issuer.services.context import Issuer

log = logging.getLogger(__name__)

TASK_NAME = "bkt.run_job"
REPUBLISH_TASK = "bkt.republish"
REPUBLISH_EVERY = 6 * 3600.0  # verifiers take a list older than 12 h as stale
CHECKPOINT_TASK = "bkt.audit_checkpoint"
CHECKPOINT_EVERY = 300.0  # the audit log's head, when it moved (`issuer.services.audit`)
DEFAULT_BROKER = "redis://127.0.0.1:6379/0"
TASK_CONFIG = RunnerConfig(workers=0)


def make_app(broker: str, queue: str) -> Celery:
    app = Celery("bkt", broker=broker, set_as_current=False)
    app.conf.update(
        task_default_queue=queue,
        task_acks_late=True,  # a job's message goes back to the queue if its worker dies
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # jobs are long: one at a time per process
        task_ignore_result=True,  # the job row holds the outcome
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": 6 * 3600},
        worker_hijack_root_logger=False,
    )
    app.task(name=TASK_NAME, ignore_result=True)(run_job_task)
    app.task(name=REPUBLISH_TASK, ignore_result=True)(republish_task)
    app.task(name=CHECKPOINT_TASK, ignore_result=True)(checkpoint_task)
    app.conf.beat_schedule = {  # with `celery -A issuer.jobs.celery_app beat`
        "republish-status-lists": {"task": REPUBLISH_TASK, "schedule": REPUBLISH_EVERY},
        "checkpoint-audit-log": {"task": CHECKPOINT_TASK, "schedule": CHECKPOINT_EVERY},
    }
    return app


@functools.cache
def worker_issuer() -> Issuer:
    """The worker process's issuer (database, keys), opened once; never migrates."""
    return Issuer.open(Settings.from_env(), upgrade=False)


@functools.cache
def _owner() -> str:
    return runner_name("celery")


def run_job_task(job_id: int) -> str | None:
    state = run_job(worker_issuer(), int(job_id), owner=_owner(), config=TASK_CONFIG)
    return state.value if state else None


def republish_task() -> None:
    republish_if_stale(worker_issuer(), REPUBLISH_EVERY / 2)


def checkpoint_task() -> None:
    checkpoint_audit_log(worker_issuer())


@functools.cache
def sender(broker: str, queue: str) -> Celery:
    """A Celery app for sending from the web process (cached per broker and queue)."""
    return make_app(broker, queue)


def send(settings: Settings, job_id: int) -> None:
    if not settings.celery_broker:
        raise ValueError("no Celery broker configured")
    sender(settings.celery_broker, settings.celery_queue).send_task(
        TASK_NAME, args=[job_id], queue=settings.celery_queue)


def resend_orphans(issuer: Issuer, send_one: Callable[[int], Any],
                   config: RunnerConfig = TASK_CONFIG) -> list[int]:
    """Send again the jobs no worker seems to have: queued for longer than
    `stale_after`, or running with a stale heartbeat. Duplicates are harmless."""
    before = issuer.clock() - timedelta(seconds=config.stale_after)
    with issuer.uow() as uow:
        ids = store.claimable_ids(uow.session, stale_before=before, queued_before=before,
                                  limit=1000)
    for job_id in ids:
        send_one(job_id)
    return ids


_settings = Settings.from_env()
app = make_app(_settings.celery_broker or DEFAULT_BROKER, _settings.celery_queue)


@signals.worker_ready.connect
def _on_worker_ready(**_: Any) -> None:
    try:
        resent = resend_orphans(worker_issuer(), lambda job_id: app.send_task(
            TASK_NAME, args=[job_id], queue=_settings.celery_queue))
    except Exception:
        log.exception("could not look for orphaned jobs")
        return
    if resent:
        log.info("re-sent orphaned jobs %s", resent)
