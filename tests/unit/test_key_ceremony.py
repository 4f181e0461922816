"""The root CA's key never on the issuer host; the passphrase never beside the keys."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from issuer.adapters import keystore, passphrase
from issuer.adapters.ceremony import ceremony, install_authority, move_root_key
from issuer.adapters.pki import (
    PkiError,
    load_authority,
    load_institution_keys,
    load_root,
    write_dev_pki,
)
from tests.conftest import PKI_NOW

HOST, ROOT = b"host passphrase", b"root passphrase"
SCHOOL = [("1001", "Wat Don School")]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ceremony's offline folder (a root CA and one export)."""
    folder = tmp_path_factory.mktemp("offline")
    ceremony(folder, ROOT, HOST, PKI_NOW)
    return folder


def test_the_ceremony_exports_no_root_key(offline: Path) -> None:
    export = offline / "export"
    assert {p.name for p in export.iterdir()} == {"root.crt", "issuing.crt", "issuing.key",
                                                 "tsa.crt", "tsa.key"}  # TSA: by the root
    assert (offline / "root.key").exists() and mode(offline) == 0o700
    root_pem = (offline / "root.key").read_bytes()
    assert serialization.load_pem_private_key(root_pem, ROOT) is not None  # its own
    with pytest.raises(ValueError):
        serialization.load_pem_private_key(root_pem, HOST)
    authority = load_authority(export, HOST)
    assert authority.root_key is None
    assert authority.root_cert == load_root(offline)


def test_installed_export_makes_and_rotates_institution_keys(offline: Path,
                                                             tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    install_authority(offline / "export", keys, HOST)
    write_dev_pki(keys, SCHOOL, HOST, PKI_NOW)
    assert not (keys / "root.key").exists()
    first = load_institution_keys(keys, "1001", HOST)
    assert first.chain[-1] == load_root(offline)
    with keystore.lock(keys):  # a rotation needs only the issuing CA
        made = keystore.new_generation(keys, "1001", "Wat Don School", HOST, PKI_NOW)
    assert made.number == 2
    with pytest.raises(PkiError, match="CA already"):
        install_authority(offline / "export", keys, HOST)


def test_install_refuses_a_root_key_and_a_wrong_passphrase(offline: Path,
                                                           tmp_path: Path) -> None:
    with pytest.raises(PkiError, match="cannot decrypt"):
        install_authority(offline / "export", tmp_path / "a", b"not the host's")
    with pytest.raises(PkiError, match="never goes to the issuer host"):
        install_authority(offline, tmp_path / "b", HOST)  # the offline folder itself
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_a_second_ceremony_reuses_the_root(offline: Path, tmp_path: Path) -> None:
    again = tmp_path / "offline"
    for name in ("root.crt", "root.key"):
        (again / name).parent.mkdir(exist_ok=True)
        (again / name).write_bytes((offline / name).read_bytes())
    export = ceremony(again, ROOT, HOST, PKI_NOW)
    renewed = load_authority(export, HOST)
    assert renewed.root_cert == load_root(offline)
    assert renewed.issuing_cert != load_authority(offline / "export", HOST).issuing_cert
    with pytest.raises(PkiError, match="cannot decrypt"):
        ceremony(again, b"wrong", HOST, PKI_NOW)


def test_dev_pki_runs_the_ceremony_outside_the_key_store(tmp_path: Path) -> None:
    keys, offline = tmp_path / "keys", tmp_path / "var" / "ceremony"
    write_dev_pki(keys, SCHOOL, HOST, PKI_NOW, offline=offline)
    assert (offline / "root.key").exists()
    assert not list(keys.rglob("root.key")) and mode(keys) == 0o700
    assert load_root(keys) == load_root(offline)
    with pytest.raises(PkiError, match="inside the key store"):
        write_dev_pki(tmp_path / "k2", SCHOOL, HOST, PKI_NOW, offline=tmp_path / "k2" / "x")


def test_a_key_store_holding_the_root_key_is_refused_until_moved(offline: Path,
                                                                 tmp_path: Path) -> None:
    """Found: keys/ held the root CA's key, so whoever read it could mint trusted keys."""
    keys = tmp_path / "keys"
    write_dev_pki(keys, SCHOOL, HOST, PKI_NOW)
    (keys / "root.key").write_bytes((offline / "root.key").read_bytes())  # an old store
    for step in (lambda: load_authority(keys, HOST),
                 lambda: write_dev_pki(keys, SCHOOL, HOST, PKI_NOW)):
        with pytest.raises(PkiError, match=r"must not be on the issuer host.*move-root"):
            step()
    with pytest.raises(PkiError, match="inside the key store"):
        move_root_key(keys, keys / "media")
    target = move_root_key(keys, tmp_path / "media")
    assert target.exists() and not (keys / "root.key").exists()
    assert (tmp_path / "media" / "root.crt").read_bytes() == (keys / "root.crt").read_bytes()
    assert load_authority(keys, HOST).root_key is None


# --- the passphrase -----------------------------------------------------------------------


def test_the_development_passphrase_lives_under_var_never_in_keys(tmp_path: Path) -> None:
    keys, var = tmp_path / "keys", tmp_path / "var"
    keys.mkdir()
    first = passphrase.resolve(keys, var)
    assert len(first) >= 32 and passphrase.resolve(keys, var) == first
    path = var / "secrets" / "key-passphrase"
    assert mode(path) == 0o600 and mode(path.parent) == 0o700 and mode(var) == 0o700
    assert not list(keys.iterdir())


def test_the_environment_and_secret_stores_come_first(tmp_path: Path) -> None:
    keys, var = tmp_path / "keys", tmp_path / "var"
    keys.mkdir()
    secret = tmp_path / "run" / "secret"
    secret.parent.mkdir()
    secret.write_bytes(b"from a secret store\n")
    assert passphrase.resolve(keys, var, b"from env", secret) == b"from env"
    assert passphrase.resolve(keys, var, None, secret) == b"from a secret store"
    (tmp_path / "run" / "bkt-key-passphrase").write_bytes(b"systemd credential")
    assert passphrase.resolve(keys, var, credentials_dir=tmp_path / "run") == (
        b"systemd credential")
    assert not var.exists()  # no development secret made
    with pytest.raises(PkiError, match="cannot read BKT_KEY_PASSPHRASE_FILE"):
        passphrase.resolve(keys, var, None, tmp_path / "missing")


def test_a_passphrase_file_beside_the_keys_is_refused(tmp_path: Path) -> None:
    """Found: keys/.passphrase decrypted every key in keys/."""
    keys, var = tmp_path / "keys", tmp_path / "var"
    keys.mkdir()
    inside = keys / "secret"
    inside.write_bytes(b"beside the keys")
    with pytest.raises(PkiError, match="inside the keys directory"):
        passphrase.resolve(keys, var, None, inside)
    inside.unlink()
    (keys / ".passphrase").write_bytes(b"left by an earlier version")
    with pytest.raises(PkiError, match=r"\.passphrase lies beside the keys.*var/secrets"):
        passphrase.resolve(keys, var, b"even with the environment set")
    with pytest.raises(PkiError, match="inside the keys directory"):
        passphrase.resolve(tmp_path, tmp_path / "var")  # var/ inside the keys directory
