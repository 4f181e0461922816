"""The job table's conditional updates on SQLite and PostgreSQL: one owner per job,
stale jobs taken over, the former owner locked out, abandoned jobs failed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from issuer.adapters import job_store as store
from issuer.adapters.orm import JobRow, JobState
from issuer.config import Settings
from issuer.jobs.tasks import RunnerConfig, claim_job, run_job
from issuer.services.context import Issuer
from tests.integration.conftest import at_head

NOW = datetime(2026, 4, 2, 3, 0, tzinfo=UTC)
CONFIG = RunnerConfig(stale_after=60, max_attempts=3)


@pytest.fixture
def issuer(db_url: str, tmp_path: Path) -> Iterator[Issuer]:
    settings = Settings(database_url=at_head(db_url), keys_dir=tmp_path / "keys",
                        key_passphrase=b"x",
                        output_dir=tmp_path / "out", published_dir=tmp_path / "pub",
                        verifier_url="https://v.example")
    issuer = Issuer.open(settings)
    issuer.clock = lambda: NOW
    yield issuer
    issuer.sessions.kw["bind"].dispose()


def add(issuer: Issuer, key: str = "test:1", kind: str = "test") -> int:
    with issuer.uow() as uow:
        job = store.add_job(uow.session, kind=kind, key=key, args={}, created_by="t", now=NOW)
        uow.commit()
        return job.id


def row(issuer: Issuer, job_id: int) -> JobRow:
    with issuer.uow() as uow:
        job = uow.session.get_one(JobRow, job_id)
        uow.session.expunge(job)  # keep its loaded values past the rollback
        return job


def test_one_active_job_per_key(issuer: Issuer) -> None:
    first = add(issuer)
    with pytest.raises(IntegrityError):
        add(issuer)
    with issuer.uow() as uow:
        store.finish(uow.session, first, owner="nobody", now=NOW, state=JobState.DONE)
        uow.commit()
    assert claim_job(issuer, first, "a", CONFIG) is not None
    with issuer.uow() as uow:
        assert store.finish(uow.session, first, owner="a", now=NOW, state=JobState.DONE)
        uow.commit()
    add(issuer)  # the key is free again once the job has ended


def test_concurrent_claims_have_one_winner(issuer: Issuer) -> None:
    job_id = add(issuer)
    barrier = threading.Barrier(6)
    winners: list[str] = []

    def claim(name: str) -> None:
        barrier.wait()
        if claim_job(issuer, job_id, name, CONFIG) is not None:
            winners.append(name)

    threads = [threading.Thread(target=claim, args=(f"runner{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    assert row(issuer, job_id).owner == winners[0]
    assert row(issuer, job_id).attempts == 1


def test_a_stale_job_is_taken_over_and_its_old_owner_locked_out(issuer: Issuer) -> None:
    job_id = add(issuer)
    assert claim_job(issuer, job_id, "old", CONFIG) is not None
    assert claim_job(issuer, job_id, "new", CONFIG) is None  # heartbeat fresh
    issuer.clock = lambda: NOW + timedelta(seconds=61)
    claimed = claim_job(issuer, job_id, "new", CONFIG)
    assert claimed is not None and claimed.kind == "test"
    with issuer.uow() as uow:
        assert not store.heartbeat(uow.session, job_id, owner="old", now=NOW, done=5)
        assert not store.finish(uow.session, job_id, owner="old", now=NOW, state=JobState.DONE)
        assert store.heartbeat(uow.session, job_id, owner="new", now=NOW, done=7)
        uow.commit()
    taken = row(issuer, job_id)
    assert (taken.owner, taken.attempts, taken.done, taken.state) == (
        "new", 2, 7, JobState.RUNNING)


def test_a_job_abandoned_too_often_is_failed(issuer: Issuer) -> None:
    job_id = add(issuer)
    for i in range(CONFIG.max_attempts):
        issuer.clock = lambda i=i: NOW + timedelta(minutes=2 * i)
        assert claim_job(issuer, job_id, f"r{i}", CONFIG) is not None
    issuer.clock = lambda: NOW + timedelta(hours=1)
    assert claim_job(issuer, job_id, "last", CONFIG) is None
    failed = row(issuer, job_id)
    assert failed.state is JobState.FAILED and "stopped 3 times" in (failed.error or "")


def test_an_unknown_kind_fails_the_job(issuer: Issuer) -> None:
    job_id = add(issuer, kind="no-such-task")
    assert run_job(issuer, job_id, owner="r", config=CONFIG) is JobState.FAILED
    assert "unknown job kind" in (row(issuer, job_id).error or "")
    assert run_job(issuer, job_id, owner="r", config=CONFIG) is None  # finished: not again
