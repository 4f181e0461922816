"""Issuance jobs end to end: the embedded worker, resuming after a killed worker process,
a graceful stop, and the same task on a real Celery worker over the local Redis (and
RabbitMQ, when it runs)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench import issue_batch as bench
from issuer.adapters.orm import BatchRecordRow, JobRow, TranscriptRow
from issuer.jobs import BatchJobs, LocalWorker, RunnerConfig, enqueue_issue, job_status
from issuer.jobs.api import JobStatus, batch_job
from issuer.services.approval import approve
from issuer.services.context import Issuer, ServiceError
from issuer.services.importing import import_batch
from issuer.services.review import submit_batch
from tests.e2e.conftest import DIRECTOR, EXAMPLES, PASSPHRASE, REGISTRAR, make_issuer
from tests.e2e.conftest import approved_batch as approved

ROOT = Path(__file__).resolve().parents[2]
FAST = RunnerConfig(workers=0, heartbeat_every=0.2, stale_after=2.0, progress_every=0.0,
                    poll_interval=0.1)


def approved_batch(issuer: Issuer, name: str = "school-batch.csv",
                   data: bytes | None = None) -> int:
    """A school batch approved (which queues its issuance job)."""
    return approved(issuer, "1001", name, data)


def big_batch(issuer: Issuer, students: int) -> int:
    """An approved school batch of generated students (more than two chunks of 32)."""
    (file,) = bench.batch_files(students, 0.0)
    return approved_batch(issuer, file.name, file.data)


def wait_for(issuer: Issuer, job_id: int, ready: Callable[[JobStatus], bool],
             timeout: float = 240.0) -> JobStatus:
    deadline = time.monotonic() + timeout
    while True:
        status = job_status(issuer, job_id)
        if ready(status):
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {status}")
        time.sleep(0.05)


def transcripts_per_enrolment(issuer: Issuer, batch_id: int) -> Counter[int]:
    with issuer.uow() as uow:
        s = uow.session
        enrolments = list(s.scalars(select(BatchRecordRow.enrolment_id).where(
            BatchRecordRow.batch_id == batch_id)))
        counts = dict(s.execute(
            select(TranscriptRow.enrolment_id, func.count())
            .where(TranscriptRow.enrolment_id.in_(enrolments))
            .group_by(TranscriptRow.enrolment_id)).all())
    return Counter({e: counts.get(e, 0) for e in enrolments})


def pdfs(issuer: Issuer, batch_id: int) -> list[Path]:
    with issuer.uow() as uow:
        paths = uow.session.scalars(select(TranscriptRow.pdf_path)
                                    .where(TranscriptRow.batch_id == batch_id))
        return [issuer.settings.output_dir / p for p in paths if p]


def test_embedded_worker_issues_a_queued_batch(issuer: Issuer) -> None:
    batch_id = approved_batch(issuer)
    job_id = enqueue_issue(issuer, batch_id, REGISTRAR, institution_code="1001")
    queued = job_status(issuer, job_id)
    assert (queued.state, queued.done, queued.running, queued.batch_id) == (
        "queued", 0, True, batch_id)
    assert queued.total == 6
    assert enqueue_issue(issuer, batch_id, REGISTRAR) == job_id  # one active job per batch

    worker = LocalWorker(issuer, FAST)
    worker.start()
    try:
        worker.wake()
        done = wait_for(issuer, job_id, lambda s: not s.running)
    finally:
        worker.stop(timeout=30)
    assert (done.state, done.done, done.total, done.error, done.attempts) == (
        "done", 6, 6, None, 1)
    assert done.started_at and done.finished_at and done.finished_at >= done.started_at
    files = pdfs(issuer, batch_id)
    assert len(files) == 6 and all(f.stat().st_size > 10_000 for f in files)
    assert set(transcripts_per_enrolment(issuer, batch_id).values()) == {1}

    with pytest.raises(ServiceError, match="already issued"):
        enqueue_issue(issuer, batch_id, REGISTRAR)
    assert LocalWorker(issuer, FAST).run_until_idle() == []
    assert len(pdfs(issuer, batch_id)) == 6
    assert batch_job(issuer, batch_id) == job_status(issuer, job_id)


def test_only_an_approved_batch_of_ones_own_institution_is_queued(issuer: Issuer) -> None:
    batch_id = import_batch(issuer, "1001", "school-batch.csv",
                            (EXAMPLES / "school-batch.csv").read_bytes(),
                            actor=REGISTRAR).batch_id
    with pytest.raises(ServiceError, match="must be approved"):
        enqueue_issue(issuer, batch_id, REGISTRAR)
    assert batch_job(issuer, batch_id) is None
    submit_batch(issuer, batch_id, actor=REGISTRAR)
    approve(issuer, batch_id, actor=DIRECTOR)
    with pytest.raises(ServiceError, match="no batch"):
        enqueue_issue(issuer, batch_id, REGISTRAR, institution_code="2001")
    with pytest.raises(ServiceError, match="no job"):
        job_status(issuer, 999)
    assert batch_job(issuer, batch_id).state == "queued"  # type: ignore[union-attr]


def test_a_failing_job_records_its_error(issuer: Issuer, tmp_path: Path) -> None:
    broken = Issuer(replace(issuer.settings, key_passphrase=b"wrong"), issuer.sessions)
    batch_id = approved_batch(issuer)
    job_id = enqueue_issue(issuer, batch_id, REGISTRAR)
    LocalWorker(broken, FAST).run_until_idle()
    failed = job_status(issuer, job_id)
    assert failed.state == "failed" and "signing keys of 1001" in (failed.error or "")
    assert not failed.running
    retry = enqueue_issue(issuer, batch_id, REGISTRAR)  # a failed job can be queued again
    LocalWorker(issuer, FAST).run_until_idle()
    assert job_status(issuer, retry).state == "done"


def test_the_web_adapter_starts_and_reports(issuer: Issuer) -> None:
    batch_id = approved_batch(issuer)
    worker = LocalWorker(issuer, FAST)
    jobs = BatchJobs(issuer, worker)
    queued = jobs.state(batch_id)  # approving queued it
    assert queued is not None and queued.state == "queued"
    job_id = jobs.start(batch_id, actor=REGISTRAR, institution_code="1001")
    assert job_id == queued.id
    assert jobs.state(batch_id).running  # type: ignore[union-attr]
    worker.run_until_idle()
    state = jobs.state(batch_id)
    assert state is not None and state.id == job_id
    assert (state.running, state.done, state.error, state.fraction) == (False, 6, None, 1.0)


def test_a_stopped_worker_hands_the_job_back_and_the_next_one_finishes(issuer: Issuer) -> None:
    batch_id = big_batch(issuer, 70)
    job_id = enqueue_issue(issuer, batch_id, REGISTRAR)
    first = LocalWorker(issuer, FAST)
    first.start()
    wait_for(issuer, job_id, lambda s: s.done > 0 and s.state == "running")
    first.stop(timeout=120)
    handed_back = job_status(issuer, job_id)
    assert handed_back.state == "queued" and handed_back.attempts == 1
    assert 0 < sum(transcripts_per_enrolment(issuer, batch_id).values()) < 70

    assert LocalWorker(issuer, FAST).run_until_idle() == [job_id]
    done = job_status(issuer, job_id)
    assert (done.state, done.done, done.attempts) == ("done", 70, 2)
    assert set(transcripts_per_enrolment(issuer, batch_id).values()) == {1}


def worker_env(issuer: Issuer, **extra: str) -> dict[str, str]:
    s = issuer.settings
    return os.environ | {
        "BKT_DATABASE_URL": s.database_url, "BKT_KEYS_DIR": str(s.keys_dir),
        "BKT_KEY_PASSPHRASE": PASSPHRASE.decode(), "BKT_OUTPUT_DIR": str(s.output_dir),
        "BKT_PUBLISHED_DIR": str(s.published_dir), "BKT_VERIFIER_URL": s.verifier_url,
        "PYTHONPATH": str(ROOT), "BKT_VC_EXPORT": "0",
    } | extra


def test_a_killed_worker_process_is_resumed_without_duplicates(issuer: Issuer,
                                                              tmp_path: Path) -> None:
    """`transcripts worker` (signing in a pool process) is killed (SIGKILL: no clean-up at
    all) once the first chunk is stored; a new runner finds the job's heartbeat stale,
    claims it and completes the batch; every enrolment has exactly one transcript."""
    batch_id = big_batch(issuer, 70)
    job_id = enqueue_issue(issuer, batch_id, REGISTRAR)
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from issuer.cli import main; main()", "worker",
             "--workers", "1", "--heartbeat", "0.2", "--stale-after", "2"],
            env=worker_env(issuer), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the pool dies with it
        )
        try:
            wait_for(issuer, job_id,
                     lambda s: s.done >= 32 or not s.running or process.poll() is not None)
        finally:
            os.killpg(process.pid, signal.SIGKILL)  # as a supervisor kills a cgroup
            process.wait(timeout=30)
    crashed = job_status(issuer, job_id)
    assert crashed.state == "running", log.read_text()[-3000:]
    stored = sum(transcripts_per_enrolment(issuer, batch_id).values())
    assert 32 <= stored < 70

    # a heartbeat younger than the runner's stale_after is not orphaned (a minute here: the
    # time since the kill must not decide it on a loaded machine)
    patient = LocalWorker(issuer, replace(FAST, stale_after=60.0))
    assert patient.run_until_idle() == []
    restarted = LocalWorker(issuer, FAST)
    time.sleep(FAST.stale_after + 0.5)
    assert restarted.run_until_idle() == [job_id]
    done = job_status(issuer, job_id)
    assert (done.state, done.done, done.total, done.attempts) == ("done", 70, 70, 2)
    assert set(transcripts_per_enrolment(issuer, batch_id).values()) == {1}
    with issuer.uow() as uow:
        assert uow.session.get_one(JobRow, job_id).owner == restarted.name


# --- Celery ---------------------------------------------------------------------------

REDIS_URL = os.environ.get("BKT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP_URL = os.environ.get("BKT_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")


def _reachable(url: str) -> str:
    """`url` once its broker answered; a skip (a failure under BKT_REQUIRE_POSTGRES=1 for
    Redis, which CI needs) when it does not."""
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:
        message = f"broker unreachable at {url}: {exc}"
        if url.startswith("redis") and os.environ.get("BKT_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture(scope="session", params=["redis", "rabbitmq"])
def broker(request: pytest.FixtureRequest) -> str:
    return _reachable(REDIS_URL if request.param == "redis" else AMQP_URL)


def _delete_queue(url: str, queue: str) -> None:
    from kombu import Connection

    with Connection(url, connect_timeout=3) as connection, contextlib.suppress(Exception):
        connection.default_channel.queue_delete(queue)  # unless already gone


@pytest.fixture
def celery_issuer(issuer: Issuer, broker: str, tmp_path: Path) -> Iterator[Issuer]:
    """The test's issuer sending to a queue of its own, and a Celery worker (prefork,
    one process) consuming it with the same settings."""
    queue = f"bkt-test-{os.getpid()}-{time.monotonic_ns()}"
    configured = Issuer(replace(issuer.settings, celery_broker=broker, celery_queue=queue),
                        issuer.sessions)
    log = open(tmp_path / "celery.log", "wb")  # noqa: SIM115  (closed below)
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "issuer.jobs.celery_app", "worker",
         "--pool", "prefork", "--concurrency", "1", "--loglevel", "INFO",
         "--without-gossip", "--without-mingle", "--without-heartbeat",
         "-n", f"{queue}@%h"],
        env=worker_env(configured, BKT_CELERY_BROKER=broker, BKT_CELERY_QUEUE=queue),
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        yield configured
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        _delete_queue(broker, queue)


def test_celery_worker_issues_a_queued_batch(celery_issuer: Issuer) -> None:
    issuer = celery_issuer
    batch_id = approved_batch(issuer)
    job_id = enqueue_issue(issuer, batch_id, REGISTRAR, institution_code="1001")
    done = wait_for(issuer, job_id, lambda s: not s.running, timeout=120)
    assert (done.state, done.done, done.error) == ("done", 6, None)
    with issuer.uow() as uow:
        assert (uow.session.get_one(JobRow, job_id).owner or "").startswith("celery:")
    files = pdfs(issuer, batch_id)
    assert len(files) == 6 and all(f.exists() for f in files)
    assert set(transcripts_per_enrolment(issuer, batch_id).values()) == {1}


def test_an_unreachable_broker_fails_the_job_clearly(issuer: Issuer) -> None:
    offline = Issuer(replace(issuer.settings, celery_broker="redis://127.0.0.1:1/0",
                             celery_queue="bkt-nowhere"), issuer.sessions)
    batch_id = approved_batch(offline)  # approved: the job it queued could not be sent
    status = batch_job(offline, batch_id)
    assert status is not None and status.state == "failed"
    assert "job queue is unreachable" in (status.error or "")
    with pytest.raises(ServiceError, match="job queue is unreachable"):
        enqueue_issue(offline, batch_id, REGISTRAR)


def test_make_issuer_helper_is_shared(key_store: Path, tmp_path: Path) -> None:
    """The worker subprocesses read the same settings the fixtures build."""
    issuer = make_issuer(f"sqlite:///{tmp_path / 'x.db'}", key_store, tmp_path)
    env = worker_env(issuer)
    assert env["BKT_DATABASE_URL"] == issuer.settings.database_url
    assert env["BKT_KEYS_DIR"] == str(key_store)
