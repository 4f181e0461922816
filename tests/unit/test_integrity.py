"""The integrity key: created once, read from the file or the environment, one subkey
per purpose."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from issuer.adapters import integrity


def test_key_file_created_once_private(tmp_path: Path) -> None:
    path = integrity.create_key_file(tmp_path)
    first = path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    integrity.create_key_file(tmp_path)
    assert path.read_text() == first  # a key in use is never replaced
    assert len(integrity.load_key(None, tmp_path)) == integrity.KEY_BYTES


def test_environment_wins_and_is_checked(tmp_path: Path) -> None:
    key = bytes(range(32))
    assert integrity.load_key(integrity.encode(key), tmp_path) == key
    with pytest.raises(integrity.IntegrityKeyError, match="at least 32 bytes"):
        integrity.load_key(integrity.encode(b"short"), tmp_path)
    with pytest.raises(integrity.IntegrityKeyError, match="keys create"):
        integrity.load_key(None, tmp_path)


def test_purposes_get_different_keys_and_macs_check() -> None:
    master = bytes(32)
    audit, approval = integrity.derive(master, "audit-chain"), integrity.derive(master, "x")
    assert audit != approval
    tag = integrity.mac(audit, b"message")
    assert integrity.mac_ok(audit, b"message", tag)
    assert not integrity.mac_ok(approval, b"message", tag)
    assert not integrity.mac_ok(audit, b"messagE", tag)
    assert not integrity.mac_ok(audit, b"message", None)
