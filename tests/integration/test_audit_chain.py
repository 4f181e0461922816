"""The audit log's hash chain on SQLite and PostgreSQL: appends, tampering, migration of
existing events, concurrent appenders, exports."""

from __future__ import annotations

import io
import itertools
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from issuer.adapters import audit_chain
from issuer.adapters import repositories as repo
from issuer.adapters.db import make_engine, migrate, session_factory
from issuer.adapters.orm import AuditEventRow
from issuer.config import Settings
from issuer.services.audit import check_audit_chain, export_audit, verify_export
from issuer.services.context import Issuer

NOW = datetime(2026, 4, 2, 3, 0, 0, 123456, tzinfo=UTC)


def append(sessions: sessionmaker[Session], n: int, actor: str = "registrar@1001",
           start: int = 0) -> list[int]:
    ids = []
    for i in range(start, start + n):
        with sessions() as s:
            event = repo.append_audit(
                s, actor=actor, action="batch.approve", source="web 203.0.113.7",
                now=NOW + timedelta(seconds=i), subject=f"batch:{i}",
                detail={"n": i, "reason": "ผลการเรียนผิด", "list": (1, 2)},
            )
            s.commit()
            ids.append(event.id)
    return ids


def test_events_are_chained(sessions: sessionmaker[Session]) -> None:
    ids = append(sessions, 4)
    with sessions() as s:
        rows = list(s.scalars(select(AuditEventRow).order_by(AuditEventRow.id)))
        assert [r.id for r in rows] == ids
        assert rows[0].prev_hash == audit_chain.GENESIS
        for before, after in itertools.pairwise(rows):
            assert after.prev_hash == before.hash
        assert all(len(r.hash or "") == 64 for r in rows)
        assert repo.verify_audit_chain(s) is None
        assert audit_chain.head(s) == (rows[-1].id, rows[-1].hash)


def test_an_empty_log_verifies(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        assert repo.verify_audit_chain(s) is None
        assert audit_chain.head(s) is None


@pytest.mark.parametrize("tamper", [
    "UPDATE audit_events SET actor = 'someone-else' WHERE id = :id",
    "UPDATE audit_events SET detail = '{\"n\": 99}' WHERE id = :id",
    "UPDATE audit_events SET at = at + INTERVAL '1 second' WHERE id = :id",
    "UPDATE audit_events SET hash = :fake WHERE id = :id",
])
def test_editing_an_event_is_detected(sessions: sessionmaker[Session], tamper: str) -> None:
    ids = append(sessions, 5)
    with sessions() as s:
        dialect = s.get_bind().dialect.name
        if "INTERVAL" in tamper and dialect == "sqlite":
            tamper = "UPDATE audit_events SET at = datetime(at, '+1 second') WHERE id = :id"
        s.execute(text(tamper), {"id": ids[2], "fake": "f" * 64})
        s.commit()
        assert repo.verify_audit_chain(s) == ids[2]


def test_deleting_an_event_is_detected_at_the_next_one(sessions: sessionmaker[Session]) -> None:
    ids = append(sessions, 5)
    with sessions() as s:
        s.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[1]})
        s.commit()
        assert repo.verify_audit_chain(s) == ids[2]


def test_rehashing_an_edited_event_breaks_the_next_link(sessions: sessionmaker[Session]) -> None:
    """A forger who edits an event and recomputes its hash still breaks its successor."""
    ids = append(sessions, 4)
    with sessions() as s:
        row = s.get_one(AuditEventRow, ids[1])
        row.actor = "forger"
        row.hash = audit_chain.event_hash(row.prev_hash or "", audit_chain.event_fields(row))
        s.commit()
        assert repo.verify_audit_chain(s) == ids[2]


def test_existing_events_are_chained_by_the_migration(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        migrate(engine, "0002_accounts")
        with engine.begin() as connection:
            for i in range(3):
                connection.execute(text(
                    "INSERT INTO audit_events (at, actor, action, source, detail) "
                    "VALUES (:at, 'cli:root', 'institution.create', 'cli', :detail)"),
                    {"at": (NOW + timedelta(minutes=i)).replace(tzinfo=None)
                     if engine.dialect.name == "sqlite" else NOW + timedelta(minutes=i),
                     "detail": f'{{"code": "100{i}", "names": ["a", "ข"]}}'})
        migrate(engine)
        sessions = session_factory(engine)
        append(sessions, 2)
        with sessions() as s:
            assert s.scalar(select(AuditEventRow.prev_hash).order_by(AuditEventRow.id)) == \
                audit_chain.GENESIS
            assert repo.verify_audit_chain(s) is None
            assert len(list(audit_chain.events(s))) == 5
    finally:
        engine.dispose()


def test_concurrent_appends_keep_one_chain(sessions: sessionmaker[Session]) -> None:
    """Eight writers at once, each appending in its own transactions: no fork, no gap in
    the links (PostgreSQL: the advisory lock; SQLite: its single writer)."""
    writers, each = 8, 12
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(w: int) -> None:
        try:
            barrier.wait()
            for i in range(each):
                with sessions() as s:
                    repo.append_audit(s, actor=f"writer{w}", action="test.append",
                                      source="test", now=datetime.now(UTC),
                                      detail={"w": w, "i": i})
                    # some other work in the same transaction, after the append
                    s.execute(select(AuditEventRow.id).limit(1))
                    s.commit()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with sessions() as s:
        rows = s.execute(select(AuditEventRow.prev_hash, AuditEventRow.hash)
                         .order_by(AuditEventRow.id)).all()
        assert len(rows) == writers * each
        assert len({r.prev_hash for r in rows}) == len(rows)
        assert repo.verify_audit_chain(s) is None


def test_a_rolled_back_append_leaves_the_chain_intact(sessions: sessionmaker[Session]) -> None:
    append(sessions, 2)
    with sessions() as s:
        repo.append_audit(s, actor="x", action="test", source="test", now=NOW)
        s.rollback()
    append(sessions, 2, start=2)
    with sessions() as s:
        assert repo.verify_audit_chain(s) is None


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_and_verify_the_file(db_url: str, tmp_path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(database_url=db_url, keys_dir=tmp_path / "keys", key_passphrase=b"x",
                        output_dir=tmp_path / "out", published_dir=tmp_path / "pub",
                        verifier_url="https://v.example")
    issuer = Issuer.open(settings)
    append(issuer.sessions, 3)
    out = io.StringIO()
    assert export_audit(issuer, out, fmt) == 3
    lines = out.getvalue().splitlines(keepends=True)
    assert len(lines) == 3 + (fmt == "csv")
    assert verify_export(lines, fmt) is None
    assert "ผลการเรียนผิด" in out.getvalue()
    check = check_audit_chain(issuer)
    assert check.ok and check.events == 3 and check.head_hash and check.head_id
    edited = [line.replace("batch:1", "batch:7") for line in lines]
    assert verify_export(edited, fmt) is not None
    assert verify_export([*lines[: len(lines) - 2], lines[-1]], fmt) is not None
