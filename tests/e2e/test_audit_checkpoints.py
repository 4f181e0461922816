"""Signed checkpoints of the audit log, on SQLite and PostgreSQL: written by publishing,
the worker and `write_checkpoint`, numbered upwards, and what `check_audit_chain` finds
when a database writer cuts the log short or rewrites it below one."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from issuer.adapters import audit_chain, audit_checkpoint
from issuer.adapters import repositories as repo
from issuer.adapters.db import make_engine, migrate
from issuer.adapters.orm import AuditCheckpointRow
from issuer.adapters.pki import load_root
from issuer.jobs.local import LocalWorker
from issuer.jobs.tasks import RunnerConfig
from issuer.services.audit import check_audit_chain, write_checkpoint
from issuer.services.context import Issuer, ServiceError
from issuer.services.lifecycle import revoke
from tests.e2e.conftest import REGISTRAR, issue_file, make_issuer
from tests.tamper import as_owner

NOW = datetime(2026, 4, 2, 3, 0, tzinfo=UTC)


def append(issuer: Issuer, n: int, actor: str = "registrar@1001") -> None:
    with issuer.uow() as uow:
        for i in range(n):
            uow.audit.append(actor=actor, action="batch.approve", source="web",
                             now=NOW + timedelta(seconds=i), subject=f"batch:{i}")
        uow.commit()


def head(issuer: Issuer) -> tuple[int, str]:
    with issuer.uow() as uow:
        found = uow.audit.head()
    assert found is not None
    return found


def published(issuer: Issuer) -> audit_checkpoint.Checkpoint:
    token = audit_checkpoint.read_latest(issuer.settings.published_dir)
    assert token is not None
    return audit_checkpoint.verify(token, [load_root(issuer.settings.keys_dir)])


def test_checkpoints_are_signed_published_and_numbered(issuer: Issuer) -> None:
    append(issuer, 3)
    first, new = write_checkpoint(issuer)
    assert new and first.seq == 1 and (first.head_id, first.head_hash) == head(issuer)
    assert first.events == first.head_id and first.legacy_head_id == 0
    assert published(issuer) == first
    assert write_checkpoint(issuer) == (first, False)  # the head has not moved
    append(issuer, 1)
    second, new = write_checkpoint(issuer)
    assert new and second.seq == 2 and second.head_id == first.head_id + 1
    folder = issuer.settings.published_dir / "audit" / "checkpoints"
    assert sorted(p.name for p in folder.iterdir()) == ["1.jws", "2.jws"]
    assert published(issuer) == second
    with issuer.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(AuditCheckpointRow)) == 2
    check = check_audit_chain(issuer)
    assert check.ok and check.checkpoint == second, check.problems()


def test_the_number_never_goes_back(issuer: Issuer) -> None:
    """The next number is above both the database's and the published one's: a database
    restored from an old backup cannot make the service publish a lower one."""
    append(issuer, 1)
    first, _ = write_checkpoint(issuer)
    signer = issuer.audit_signer()
    ahead = replace(first, seq=7)
    audit_checkpoint.write(issuer.settings.published_dir, ahead,
                           audit_checkpoint.sign(ahead, signer))
    append(issuer, 1)
    assert write_checkpoint(issuer)[0].seq == 8


def test_issuing_and_revoking_publish_a_checkpoint(issuer: Issuer) -> None:
    _, report = issue_file(issuer, "1001", "school-batch.csv")
    after_issue = published(issuer)
    assert (after_issue.head_id, after_issue.head_hash) == head(issuer)
    transcript_id = Path(report.issued[0]).name.split("-v")[0]  # 1001/<id>-v1-<index>.pdf
    revoke(issuer, transcript_id, reason="ผลการเรียนผิด", actor=REGISTRAR)
    after_revoke = published(issuer)
    assert after_revoke.seq > after_issue.seq and after_revoke.head_id == head(issuer)[0]


def test_cutting_the_log_short_is_caught_and_never_checkpointed(issuer: Issuer) -> None:
    append(issuer, 5)
    checkpoint, _ = write_checkpoint(issuer)
    with issuer.uow() as uow:
        as_owner(uow.session, "DELETE FROM audit_events WHERE id > :id",
                 {"id": checkpoint.head_id - 2})
        uow.commit()
    check = check_audit_chain(issuer)
    assert not check.ok and check.first_broken_id is None and check.first_missing_id is None
    assert f"event {checkpoint.head_id}" in check.checkpoint_problem  # type: ignore[operator]
    assert "truncated" in check.checkpoint_problem  # type: ignore[operator]
    append(issuer, 3)  # new events after the cut: the head moves past the checkpoint's again
    with pytest.raises(ServiceError, match="differs from checkpoint"):
        write_checkpoint(issuer)
    assert published(issuer) == checkpoint  # the evidence stays published


def test_rewriting_below_the_checkpoint_is_caught(issuer: Issuer) -> None:
    append(issuer, 4)
    checkpoint, _ = write_checkpoint(issuer)
    with issuer.uow() as uow:
        as_owner(uow.session, "UPDATE audit_events SET hash = :h WHERE id = :id",
                 {"h": "e" * 64, "id": checkpoint.head_id})
        uow.commit()
    check = check_audit_chain(issuer)
    assert check.first_broken_id == checkpoint.head_id
    assert "rewritten" in (check.checkpoint_problem or "")


def test_an_old_copy_catches_a_rewrite_by_someone_holding_the_keys(
        issuer: Issuer, tmp_path: Path) -> None:
    """Someone with the database *and* the keys can re-MAC the log and sign a new
    checkpoint; a copy an operator fetched before still shows what was there."""
    append(issuer, 4, actor="registrar@1001")
    old, _ = write_checkpoint(issuer)
    copy = tmp_path / "fetched.jws"
    copy.write_text(audit_checkpoint.read_latest(issuer.settings.published_dir) or "")
    key = issuer.integrity_key(audit_chain.PURPOSE)
    with issuer.uow() as uow:  # rewrite event 2's actor and re-MAC everything after it
        s = uow.session
        as_owner(s, "UPDATE audit_events SET actor = 'director@1001' WHERE id = 2")
        prev = None
        for row in list(repo.AuditLog(s).chain()):
            if row.id < 2:
                prev = row.hash
                continue
            digest = audit_chain.event_hash(key, prev, audit_chain.event_fields(row))
            as_owner(s, "UPDATE audit_events SET prev_hash = :p, hash = :h WHERE id = :id",
                     {"p": prev, "h": digest, "id": row.id})
            prev = digest
        uow.commit()
    forged = replace(old, seq=old.seq + 1, head_hash=head(issuer)[1])
    audit_checkpoint.write(issuer.settings.published_dir, forged,
                           audit_checkpoint.sign(forged, issuer.audit_signer()))
    assert check_audit_chain(issuer).ok  # the newest checkpoint was signed over the rewrite
    against_copy = check_audit_chain(issuer, checkpoint=str(copy))
    assert not against_copy.ok and "rewritten" in (against_copy.checkpoint_problem or "")


def test_a_checkpoint_that_does_not_verify_is_reported(issuer: Issuer, tmp_path: Path) -> None:
    append(issuer, 2)
    write_checkpoint(issuer)
    token = audit_checkpoint.read_latest(issuer.settings.published_dir) or ""
    bad = tmp_path / "bad.jws"
    bad.write_text(token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"))
    check = check_audit_chain(issuer, checkpoint=str(bad))
    assert not check.ok and "REFUSED" in (check.checkpoint_problem or "")
    missing = check_audit_chain(issuer, checkpoint=str(tmp_path / "nowhere.jws"))
    assert "unavailable" in (missing.checkpoint_problem or "")


def test_without_a_checkpoint_the_log_is_intact_but_not_anchored(issuer: Issuer) -> None:
    append(issuer, 1)
    check = check_audit_chain(issuer)
    assert check.intact and not check.ok
    assert "no checkpoint" in check.problems()[0]


def test_the_worker_checkpoints_a_grown_log_at_most_every_interval(issuer: Issuer) -> None:
    worker = LocalWorker(issuer, RunnerConfig(workers=0, checkpoint_every=3600))
    append(issuer, 1)
    worker._checkpoint()
    first = published(issuer)
    assert first.head_id == head(issuer)[0]
    append(issuer, 1)
    worker._checkpoint()  # within the interval: nothing
    assert published(issuer) == first
    LocalWorker(issuer, RunnerConfig(workers=0, checkpoint_every=0))._checkpoint()
    assert published(issuer).head_id == head(issuer)[0]


def test_the_first_checkpoint_pins_where_legacy_events_end(
        db_url: str, key_store: Path, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    try:
        migrate(engine, "0002_accounts")  # before the chain: 0003 chains these with SHA-256
        with engine.begin() as connection:
            for i in range(3):
                at = NOW + timedelta(minutes=i)
                connection.execute(text(
                    "INSERT INTO audit_events (at, actor, action, source, detail) "
                    "VALUES (:at, 'cli:root', 'test', 'cli', '{}')"),
                    {"at": at.replace(tzinfo=None) if engine.dialect.name == "sqlite" else at})
    finally:
        engine.dispose()
    issuer = make_issuer(db_url, key_store, tmp_path)  # upgrades; appends keyed events
    checkpoint, _ = write_checkpoint(issuer)
    assert checkpoint.legacy_head_id == 3 and checkpoint.head_id > 3
    check = check_audit_chain(issuer)
    assert check.ok and check.legacy_events == 3, check.problems()


def test_deleting_below_the_checkpoint_is_never_checkpointed(issuer: Issuer) -> None:
    append(issuer, 4)
    checkpoint, _ = write_checkpoint(issuer)
    with issuer.uow() as uow:
        as_owner(uow.session, "DELETE FROM audit_events WHERE id = :id",
                 {"id": checkpoint.head_id - 1})
        uow.commit()
    append(issuer, 1)
    with pytest.raises(ServiceError, match="deleted or inserted"):
        write_checkpoint(issuer)
    check = check_audit_chain(issuer)
    assert check.first_missing_id == checkpoint.head_id - 1
    assert "deleted" in (check.checkpoint_problem or "")
