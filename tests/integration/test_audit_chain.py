"""The audit log's keyed chain on SQLite and PostgreSQL: appends, tampering by a database
writer without the key, contiguous ids, legacy (pre-key) events, concurrent appenders,
exports."""

from __future__ import annotations

import hashlib
import io
import itertools
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from issuer.adapters import audit_chain, integrity
from issuer.adapters import repositories as repo
from issuer.adapters.db import downgrade, make_engine, migrate, session_factory
from issuer.adapters.orm import AuditCheckpointRow, AuditEventRow
from issuer.config import Settings
from issuer.services.audit import check_export, export_audit, verify_export
from issuer.services.context import Issuer
from tests.integration.conftest import TEST_INTEGRITY_KEY, integrity_key
from tests.tamper import as_owner
from verifier.core.canonical import canonical_json

NOW = datetime(2026, 4, 2, 3, 0, 0, 123456, tzinfo=UTC)
KEY = integrity_key(audit_chain.PURPOSE)


def append(sessions: sessionmaker[Session], n: int, actor: str = "registrar@1001",
           start: int = 0) -> list[int]:
    ids = []
    for i in range(start, start + n):
        with sessions() as s:
            event = repo.AuditLog(s).append(
                actor=actor, action="batch.approve", source="web 203.0.113.7",
                now=NOW + timedelta(seconds=i), subject=f"batch:{i}",
                detail={"n": i, "reason": "ผลการเรียนผิด", "list": (1, 2)},
            )
            s.commit()
            ids.append(event.id)
    return ids


def report(session: Session) -> audit_chain.ChainReport:
    return audit_chain.check(repo.AuditLog(session).chain(), KEY)


def sha256_rehash_from(session: Session, first_id: int, last_id: int | None = None) -> str:
    """A database writer re-hashes the events from `first_id` (to `last_id`) with the
    chain's old public function (plain SHA-256), the only one they can compute without
    the key; returns the last hash."""
    rows = list(repo.AuditLog(session).chain())
    prev = next((r.hash for r in reversed(rows) if r.id < first_id), audit_chain.GENESIS)
    for row in rows:
        if row.id < first_id or (last_id is not None and row.id > last_id):
            continue
        fields = audit_chain.event_fields(row)
        digest = hashlib.sha256(prev.encode("ascii") + canonical_json(fields)).hexdigest()
        as_owner(session, "UPDATE audit_events SET prev_hash = :p, hash = :h WHERE id = :id",
                 {"p": prev, "h": digest, "id": row.id})
        prev = digest
    return prev


def test_events_are_chained_under_the_key_with_contiguous_ids(
        sessions: sessionmaker[Session]) -> None:
    ids = append(sessions, 4)
    assert ids == [1, 2, 3, 4]
    with sessions() as s:
        rows = list(s.scalars(select(AuditEventRow).order_by(AuditEventRow.id)))
        assert rows[0].prev_hash == audit_chain.GENESIS
        for before, after in itertools.pairwise(rows):
            assert after.prev_hash == before.hash
        for row in rows:
            message = row.prev_hash.encode() + canonical_json(audit_chain.event_fields(row))
            assert integrity.mac_ok(KEY, message, row.hash)
            assert row.hash != audit_chain.legacy_hash(row.prev_hash, audit_chain.event_fields(row))
        assert repo.AuditLog(s).verify() is None
        assert repo.AuditLog(s).head() == (rows[-1].id, rows[-1].hash)
        checked = report(s)
        assert checked.ok and checked.events == 4 and checked.legacy_events == 0


def test_an_empty_log_verifies(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        assert repo.AuditLog(s).verify() is None
        assert repo.AuditLog(s).head() is None


def test_appending_without_the_key_is_refused(sessions: sessionmaker[Session]) -> None:
    keyless = session_factory(sessions.kw["bind"])
    with keyless() as s, pytest.raises(audit_chain.MissingKeyError, match="integrity key"):
        repo.AuditLog(s).append(actor="x", action="test", source="test", now=NOW)


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
        as_owner(s, tamper, {"id": ids[2], "fake": "f" * 64})
        s.commit()
        assert repo.AuditLog(s).verify() == ids[2]


def test_deleting_an_event_breaks_the_next_one_and_leaves_its_id_missing(
        sessions: sessionmaker[Session]) -> None:
    ids = append(sessions, 5)
    with sessions() as s:
        as_owner(s, "DELETE FROM audit_events WHERE id = :id", {"id": ids[1]})
        s.commit()
        checked = report(s)
        assert checked.first_broken_id == ids[2] and checked.first_missing_id == ids[1]


def test_deleting_an_event_and_relinking_the_next_one_is_still_a_gap(
        sessions: sessionmaker[Session]) -> None:
    """Even if a writer could re-link the chain over a deleted event, its id stays
    missing: ids are contiguous, so a gap can only be a deletion."""
    ids = append(sessions, 4)
    with sessions() as s:
        as_owner(s, "DELETE FROM audit_events WHERE id = :id", {"id": ids[3]})
        as_owner(s, "UPDATE audit_events SET id = :new WHERE id = :id",
                 {"new": ids[3] + 1, "id": ids[2]})  # the newest now sits after a hole
        s.commit()
        assert report(s).first_missing_id == ids[2]


def test_rehashing_an_edited_event_with_sha256_is_detected(
        sessions: sessionmaker[Session]) -> None:
    """Issue 8's insider: change an actor to the director's and re-hash the rest with
    the chain's own (formerly public) function. Without the key, that fails at once."""
    ids = append(sessions, 6)
    with sessions() as s:
        as_owner(s, "UPDATE audit_events SET actor = 'director@1001' WHERE id = :id",
                 {"id": ids[2]})
        sha256_rehash_from(s, ids[2])
        s.commit()
        assert repo.AuditLog(s).verify() == ids[2]
    with sessions() as s:  # and re-hashing the whole log makes it legacy-only: see below
        sha256_rehash_from(s, ids[0])
        s.commit()
        assert report(s).legacy_events == 6  # only a checkpoint pins the keyed start


def test_rehashing_with_another_key_is_detected(sessions: sessionmaker[Session]) -> None:
    ids = append(sessions, 3)
    other = integrity.derive(b"\x01" * 32, audit_chain.PURPOSE)
    with sessions() as s:
        row = s.get_one(AuditEventRow, ids[1])
        forged = audit_chain.event_hash(other, row.prev_hash, audit_chain.event_fields(row))
        as_owner(s, "UPDATE audit_events SET hash = :h WHERE id = :id",
                 {"h": forged, "id": ids[1]})
        s.commit()
        assert repo.AuditLog(s).verify() == ids[1]


def test_existing_events_stay_verifiable_as_legacy(db_url: str) -> None:
    """Events chained by migration 0003 (SHA-256, ids with gaps as PostgreSQL sequences
    leave them) stay as they are; keyed events follow with the next id."""
    engine = make_engine(db_url)
    try:
        migrate(engine, "0002_accounts")
        with engine.begin() as connection:
            for i, event_id in enumerate((1, 2, 5)):
                at = NOW + timedelta(minutes=i)
                connection.execute(text(
                    "INSERT INTO audit_events (id, at, actor, action, source, detail) "
                    "VALUES (:id, :at, 'cli:root', 'institution.create', 'cli', :detail)"),
                    {"id": event_id, "detail": f'{{"code": "100{i}", "names": ["a", "ข"]}}',
                     "at": at.replace(tzinfo=None) if engine.dialect.name == "sqlite" else at})
        migrate(engine)
        sessions = session_factory(engine, {"integrity_key": integrity_key})
        assert append(sessions, 2) == [6, 7]
        with sessions() as s:
            assert s.scalar(select(AuditEventRow.prev_hash).order_by(AuditEventRow.id)) == \
                audit_chain.GENESIS
            checked = report(s)
            assert checked.ok and checked.events == 5
            assert (checked.legacy_events, checked.legacy_head_id) == (3, 5)
            assert repo.AuditLog(s).legacy_prefix() == 5
            pinned = audit_chain.check(repo.AuditLog(s).chain(), KEY, legacy_head_id=5)
            assert pinned.ok
            # the keyed events cannot pass as legacy ones, nor the legacy ones as keyed
            assert not audit_chain.check(repo.AuditLog(s).chain(), KEY, legacy_head_id=6).ok
            assert audit_chain.check(repo.AuditLog(s).chain(), KEY,
                                     legacy_head_id=0).first_broken_id == 1
            # a legacy event edited and the legacy events after it re-hashed: the first
            # keyed event's MAC covers the last legacy hash
            as_owner(s, "UPDATE audit_events SET actor = 'forger' WHERE id = 2")
            last = sha256_rehash_from(s, 2, 5)
            as_owner(s, "UPDATE audit_events SET prev_hash = :p WHERE id = 6", {"p": last})
            s.commit()
            assert report(s).first_broken_id == 6
            # re-hashing the keyed events too makes one long legacy chain, which only a
            # checkpoint's pinned boundary (legacy_head_id) tells from the real one
            sha256_rehash_from(s, 6)
            s.commit()
            assert report(s).ok and report(s).legacy_events == 5
            assert audit_chain.check(repo.AuditLog(s).chain(), KEY,
                                     legacy_head_id=5).first_broken_id == 6
    finally:
        engine.dispose()


def test_concurrent_appends_keep_one_chain_without_gaps(sessions: sessionmaker[Session]) -> None:
    """Eight writers at once, each appending in its own transactions: no fork, no gap
    (PostgreSQL: the advisory lock; SQLite: its write lock, taken before the head is
    read). Half of them wrote something else first in the same transaction."""
    writers, each = 8, 12
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(w: int) -> None:
        try:
            barrier.wait()
            for i in range(each):
                with sessions() as s:
                    if w % 2:
                        s.execute(select(AuditEventRow.id).limit(1))  # a read first
                    repo.AuditLog(s).append(actor=f"writer{w}", action="test.append",
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
        rows = s.execute(select(AuditEventRow.id, AuditEventRow.prev_hash)
                         .order_by(AuditEventRow.id)).all()
        assert [r.id for r in rows] == list(range(1, writers * each + 1))
        assert len({r.prev_hash for r in rows}) == len(rows)
        assert report(s).ok


def test_a_rolled_back_append_leaves_no_gap(sessions: sessionmaker[Session]) -> None:
    append(sessions, 2)
    with sessions() as s:
        repo.AuditLog(s).append(actor="x", action="test", source="test", now=NOW)
        s.rollback()
    assert append(sessions, 2, start=2) == [3, 4]
    with sessions() as s:
        assert report(s).ok


def test_audit_rows_cannot_be_changed(sessions: sessionmaker[Session]) -> None:
    """UPDATE, DELETE (and on PostgreSQL TRUNCATE) of audit rows fail for whoever
    connects, until a table owner turns the triggers off."""
    append(sessions, 2)
    statements = ["UPDATE audit_events SET actor = 'x' WHERE id = 1",
                  "DELETE FROM audit_events WHERE id = 2",
                  "DELETE FROM audit_events",
                  "UPDATE audit_checkpoints SET seq = seq",
                  "DELETE FROM audit_checkpoints"]
    if sessions.kw["bind"].dialect.name == "postgresql":
        statements += ["TRUNCATE audit_events CASCADE", "TRUNCATE audit_checkpoints"]
    with sessions() as s:  # SQLite's triggers are per row: give them one
        s.add(AuditCheckpointRow(seq=1, at=NOW, head_id=2, head_hash="0" * 64, events=2,
                                 legacy_head_id=0, token="a.b.c"))
        s.commit()
    for statement in statements:
        with sessions() as s, pytest.raises(Exception, match="append-only") as caught:
            s.execute(text(statement))
        assert statement.split()[0].upper() in str(caught.value), statement
    with sessions() as s:
        assert len(list(repo.AuditLog(s).chain())) == 2


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_application_role_cannot_change_or_unprotect_audit_rows(db_url: str) -> None:
    """A role like the service's own (SELECT, INSERT, UPDATE, DELETE on every table, not
    their owner) appends events but can neither change them nor turn the triggers off."""
    engine = make_engine(db_url)
    role = f"bkt_app_{uuid.uuid4().hex[:12]}"
    try:
        migrate(engine)
        with engine.begin() as c:
            schema = c.execute(text("SELECT current_schema()")).scalar_one()
            c.execute(text(f"CREATE ROLE {role} NOLOGIN NOSUPERUSER NOINHERIT"))
            c.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}'))
            c.execute(text(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA '
                           f'"{schema}" TO {role}'))
        sessions = session_factory(engine, {"integrity_key": integrity_key})
        with sessions() as s:
            s.execute(text(f"SET LOCAL ROLE {role}"))
            for actor in ("registrar@1001", "director@1001"):
                repo.AuditLog(s).append(actor=actor, action="batch.approve", source="web",
                                        now=NOW)
            s.commit()
        for statement, refusal in [
            ("UPDATE audit_events SET actor = 'director@1001' WHERE id = 1", "append-only"),
            ("DELETE FROM audit_events WHERE id = 2", "append-only"),
            ("ALTER TABLE audit_events DISABLE TRIGGER USER", "owner"),
            ("DROP TRIGGER audit_events_append_only ON audit_events", "owner"),
            ("TRUNCATE audit_events", "permission denied"),
        ]:
            with sessions() as s, pytest.raises(Exception, match=refusal):
                s.execute(text(f"SET LOCAL ROLE {role}"))
                assert s.execute(text("SELECT current_user")).scalar_one() == role
                s.execute(text(statement))
        with sessions() as s:
            assert report(s).ok and report(s).events == 2
    finally:
        with engine.begin() as c:
            c.execute(text(f"DROP OWNED BY {role}"))
            c.execute(text(f"DROP ROLE IF EXISTS {role}"))
        engine.dispose()


def test_downgrade_keeps_the_events_and_lifts_the_protection(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        migrate(engine)
        sessions = session_factory(engine, {"integrity_key": integrity_key})
        append(sessions, 2)
        downgrade(engine, "0003_jobs_audit_links")
        with engine.begin() as c:
            c.execute(text("UPDATE audit_events SET actor = 'allowed again' WHERE id = 1"))
        migrate(engine)
        with sessions() as s:
            assert len(list(repo.AuditLog(s).chain())) == 2
            assert repo.AuditLog(s).verify() == 1  # the edit made while unprotected
            with pytest.raises(Exception, match="append-only"):
                s.execute(text("DELETE FROM audit_events"))
    finally:
        engine.dispose()


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_and_check_the_file(db_url: str, tmp_path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(database_url=db_url, keys_dir=tmp_path / "keys", key_passphrase=b"x",
                        output_dir=tmp_path / "out", published_dir=tmp_path / "pub",
                        verifier_url="https://v.example", integrity_key=TEST_INTEGRITY_KEY)
    issuer = Issuer.open(settings)
    with issuer.uow() as uow:
        for i in range(3):
            uow.audit.append(actor="registrar@1001", action="batch.approve",
                             source="web", now=NOW, subject=f"batch:{i}",
                             detail={"reason": "ผลการเรียนผิด"})
        uow.commit()
    out = io.StringIO()
    assert export_audit(issuer, out, fmt) == 3
    lines = out.getvalue().splitlines(keepends=True)
    assert len(lines) == 3 + (fmt == "csv")
    assert "ผลการเรียนผิด" in out.getvalue()
    keyed = check_export(lines, fmt, key=KEY)
    assert keyed.intact and keyed.macs_checked and keyed.events == 3
    assert verify_export(lines, fmt) is None  # links and ids only
    edited = [line.replace("batch:1", "batch:7") for line in lines]
    assert verify_export(edited, fmt, key=KEY) == 2
    assert verify_export(edited, fmt) is None  # without the key, contents go unchecked
    without_second = [*lines[: len(lines) - 2], lines[-1]]
    assert check_export(without_second, fmt).first_missing_id == 2
