"""The key ceremony from the command line: offline root, export, install, upgrade."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import EXAMPLES

HOST = "host passphrase"


def test_ceremony_export_install_and_an_old_root_key_moved_out(run, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                               monkeypatch) -> None:
    monkeypatch.setenv("BKT_ROOT_PASSPHRASE", "root passphrase")
    monkeypatch.setenv("BKT_KEY_PASSPHRASE", HOST)
    offline, keys = tmp_path / "media", tmp_path / "keys"
    made = run("keys", "ceremony", "--offline", offline)
    assert made.exit_code == 0, made.output
    assert (offline / "root.key").exists() and not (offline / "export" / "root.key").exists()
    refused = run("keys", "install", offline)  # the offline folder, root key and all
    assert refused.exit_code == 1 and "never goes to the issuer host" in refused.stderr
    assert run("init-db").exit_code == 0
    installed = run("keys", "install", offline / "export")
    assert installed.exit_code == 0, installed.output
    assert run("institutions", "load", EXAMPLES / "institutions.json").exit_code == 0
    created = run("keys", "create", "--institution", "1001")
    assert created.exit_code == 0, created.output
    assert not list(keys.rglob("root.key")) and not (tmp_path / "var" / "ceremony").exists()

    (keys / "root.key").write_bytes((offline / "root.key").read_bytes())  # an old store
    stopped = run("keys", "create", "--institution", "1001")
    assert stopped.exit_code == 1 and "keys move-root" in stopped.stderr
    moved = run("keys", "move-root", "--to", tmp_path / "other-media")
    assert moved.exit_code == 0 and not (keys / "root.key").exists()
    assert run("keys", "create", "--institution", "1001").exit_code == 0


def test_a_passphrase_file_in_the_key_store_stops_the_command(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / ".passphrase").write_text("left by an earlier version\n")
    assert run("institutions", "load", EXAMPLES / "institutions.json").exit_code == 0
    stopped = run("keys", "create")
    assert stopped.exit_code == 1
    assert ".passphrase lies beside the keys it unlocks" in stopped.stderr
