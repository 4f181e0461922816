"""Issue 8, part 3: an insider with write access to the database (but not to the service's
keys directory) tries to rewrite the audit log, and `transcripts audit verify` must say so.

The demo is run once; each test works on its own copy of the database, keys and
published folder, and edits the SQLite file directly, as a database writer would (they
can drop the append-only triggers: it is their file).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from issuer.cli import main
from verifier.core.canonical import canonical_json

CLEARED = ("BKT_DATABASE_URL", "BKT_KEY_PASSPHRASE", "BKT_CELERY_BROKER", "BKT_INTEGRITY_KEY",
           "BKT_PUBLISHED_DIR")


def _env(monkeypatch: pytest.MonkeyPatch, base: Path) -> None:
    monkeypatch.setenv("BKT_VAR_DIR", str(base / "var"))
    monkeypatch.setenv("BKT_KEYS_DIR", str(base / "keys"))
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)


def _invoke(*args: str | Path) -> Result:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("audit-demo")
    with pytest.MonkeyPatch.context() as monkeypatch:
        _env(monkeypatch, base)
        result = _invoke("demo", "--workers", "0")
        assert result.exit_code == 0, result.output
    return base


@pytest.fixture
def run(demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator:  # type: ignore[type-arg]
    shutil.copytree(demo / "var", tmp_path / "var")
    shutil.copytree(demo / "keys", tmp_path / "keys")
    _env(monkeypatch, tmp_path)
    yield _invoke


@pytest.fixture
def database(tmp_path: Path, run) -> Iterator[sqlite3.Connection]:  # type: ignore[no-untyped-def]
    """The database file as its writer has it: append-only triggers dropped."""
    connection = sqlite3.connect(tmp_path / "var" / "transcripts.db")
    connection.row_factory = sqlite3.Row
    with connection:
        for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            connection.execute(f'DROP TRIGGER "{name}"')
    yield connection
    connection.close()


def _ids(database: sqlite3.Connection) -> list[int]:
    return [r[0] for r in database.execute("SELECT id FROM audit_events ORDER BY id")]


def sha256_chain_hash(prev_hash: str, row: sqlite3.Row) -> str:
    """What `issuer.adapters.audit_chain.event_hash` computed before the chain was keyed:
    anyone could recompute it."""
    at = row["at"].replace(" ", "T")
    if "." not in at:
        at += ".000000"
    fields = {
        "id": row["id"], "at": at[:26] + "Z", "actor": row["actor"], "action": row["action"],
        "institution_id": row["institution_id"], "subject": row["subject"],
        "detail": json.loads(row["detail"]) or {}, "source": row["source"],
    }
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_json(fields)).hexdigest()


def test_an_untouched_log_verifies_against_the_published_checkpoint(run) -> None:  # type: ignore[no-untyped-def]
    assert run("audit", "checkpoint").exit_code == 0
    verified = run("audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert "chain intact" in verified.stdout and "checkpoint" in verified.stdout


def test_deleting_the_newest_events_is_detected(run, database) -> None:  # type: ignore[no-untyped-def]
    checkpointed = run("audit", "checkpoint")
    assert checkpointed.exit_code == 0, checkpointed.output
    newest = _ids(database)[-1]
    with database:
        database.execute("DELETE FROM audit_events WHERE id > ?", (newest - 3,))
    verified = run("audit", "verify")
    assert verified.exit_code == 1
    assert f"event {newest}" in verified.stderr and "truncated" in verified.stderr


def test_rewriting_an_actor_and_rehashing_the_rest_is_detected(run, database) -> None:  # type: ignore[no-untyped-def]
    run("audit", "checkpoint")
    ids = _ids(database)
    target = ids[4]
    with database:
        database.execute("UPDATE audit_events SET actor = 'director1001' WHERE id = ?",
                         (target,))
        prev = database.execute("SELECT hash FROM audit_events WHERE id = ?",
                                (ids[3],)).fetchone()[0]
        for row in database.execute("SELECT * FROM audit_events WHERE id >= ? ORDER BY id",
                                    (target,)).fetchall():
            digest = sha256_chain_hash(prev, row)
            database.execute("UPDATE audit_events SET prev_hash = ?, hash = ? WHERE id = ?",
                             (prev, digest, row["id"]))
            prev = digest
    verified = run("audit", "verify")
    assert verified.exit_code == 1
    assert f"BROKEN at event {target}" in verified.stderr


def test_a_missing_id_is_flagged(run, database) -> None:  # type: ignore[no-untyped-def]
    run("audit", "checkpoint")
    ids = _ids(database)
    with database:
        database.execute("DELETE FROM audit_events WHERE id = ?", (ids[5],))
    verified = run("audit", "verify")
    assert verified.exit_code == 1
    assert f"event {ids[5]} is missing" in verified.stderr


def test_an_operator_checks_an_export_against_a_checkpoint_they_fetched(
        run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    assert run("audit", "checkpoint").exit_code == 0
    export = tmp_path / "audit.jsonl"
    assert run("audit", "export", "-o", export).exit_code == 0
    lines = export.read_text(encoding="utf-8").splitlines(keepends=True)
    edited = tmp_path / "edited.jsonl"
    forged = "".join(lines).replace('"actor":"registrar1001"', '"actor":"director1001"', 1)
    assert forged != "".join(lines)
    edited.write_text(forged, encoding="utf-8")
    truncated = tmp_path / "truncated.jsonl"
    truncated.write_text("".join(lines[:-2]), encoding="utf-8")
    assert run("audit", "verify", "--file", edited).exit_code == 1  # the issuer host: MACs

    operator = tmp_path / "operator"  # another machine: no keys, no database
    operator.mkdir()
    fetched, root = operator / "checkpoint.jws", operator / "root.crt"
    shutil.copy(tmp_path / "var" / "published" / "audit" / "checkpoint.jws", fetched)
    shutil.copy(tmp_path / "keys" / "root.crt", root)
    _env(monkeypatch, operator)
    checked = run("audit", "verify", "--file", export, "--checkpoint", fetched, "--root", root)
    assert checked.exit_code == 0, checked.output
    assert "matches checkpoint" in checked.stdout and "NOT verified" in checked.stdout
    cut = run("audit", "verify", "--file", truncated, "--checkpoint", fetched, "--root", root)
    assert cut.exit_code == 1 and "truncated" in cut.stderr
    no_root = run("audit", "verify", "--file", export, "--checkpoint", fetched)
    assert no_root.exit_code == 1 and "--root" in no_root.stderr
    assert not (operator / "keys").exists()  # nothing was created on the operator's side
