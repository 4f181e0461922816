"""Key generations on disk (`issuer.adapters.keystore`): the layout, stores made before
generations, and long-running processes noticing a rotation."""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from issuer.adapters import keystore
from issuer.adapters.pki import PkiError, load_institution_keys, write_dev_pki
from issuer.config import Settings
from issuer.core.key_lifecycle import KeyState
from issuer.core.lifecycle import AccountRole
from issuer.services.context import Actor, Issuer, ServiceError
from issuer.services.keys import compromise_key, retire_key, rotate_keys
from issuer.services.workers import Job, Worker
from issuer.testing import FakeIssuer, FakeUnitOfWork
from tests.conftest import PKI_NOW
from tests.factories import SCHOOL, school_record
from verifier.core.credential import unverified_header

PASS = b"correct horse battery staple"
LATER = PKI_NOW + timedelta(days=100)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A key store with 1001 and 2001, generation 1 each (made once: RSA is slow)."""
    directory = tmp_path_factory.mktemp("keys")
    write_dev_pki(directory, [("1001", "Wat Don School"), ("2001", "Din Daeng 1 Centre")],
                  PASS, PKI_NOW)
    return directory


@pytest.fixture
def store(made: Path, tmp_path: Path) -> Path:
    shutil.copytree(made, tmp_path / "keys")
    return tmp_path / "keys"


def flatten(directory: Path, code: str) -> None:
    """Turn `code`'s generation 1 into a store made before generations: the four files
    directly in its folder, no manifest."""
    folder = directory / code
    for path in (folder / "1").iterdir():
        path.rename(folder / path.name)
    (folder / "1").rmdir()
    (folder / keystore.MANIFEST).unlink()


def rotate(directory: Path, code: str) -> None:
    with keystore.lock(directory):
        before = keystore.read_history(directory, code)
        new = keystore.new_generation(directory, code, "Wat Don School", PASS, LATER)
        keystore.write_history(directory, code, before.rotated(new))


def test_a_new_store_has_generation_1_active(store: Path) -> None:
    history = keystore.read_history(store, "1001")
    (first,) = history.generations
    assert first.state is KeyState.ACTIVE and first.activated == PKI_NOW
    keys = load_institution_keys(store, "1001", PASS)
    assert keys.kid == first.kid
    assert keystore.certificate_sha256(keys.pdf_cert) == first.pdf_sha256
    manifest = json.loads((store / "1001" / keystore.MANIFEST).read_text())
    assert manifest["generations"][0]["activated"] == "2026-06-01T00:00:00Z"
    assert keystore.read_history(store, "9999").generations == ()


def test_a_flat_store_is_generation_1_and_rotates_in_place(store: Path) -> None:
    flatten(store, "1001")
    flat_files = {p.name: p.read_bytes() for p in (store / "1001").iterdir()}
    (first,) = keystore.read_history(store, "1001").generations
    old = load_institution_keys(store, "1001", PASS)
    assert first.kid == old.kid and first.state is KeyState.ACTIVE
    assert first.activated == old.credential_cert.not_valid_before_utc
    write_dev_pki(store, [("1001", "Wat Don School")], PASS, LATER)  # left alone
    assert not (store / "1001" / "1").exists()

    rotate(store, "1001")
    assert {p.name: p.read_bytes() for p in (store / "1001").iterdir()
            if p.is_file() and p.name != keystore.MANIFEST} == flat_files  # never moved
    old_gen, new_gen = keystore.read_history(store, "1001").generations
    assert old_gen.kid == old.kid and old_gen.retired == LATER
    assert keystore.generation_dir(store, "1001", 1) == store / "1001"
    assert keystore.generation_dir(store, "1001", 2) == store / "1001" / "2"
    new = load_institution_keys(store, "1001", PASS)
    assert new.kid == new_gen.kid != old.kid
    assert keystore.load_generation(store, "1001", old_gen, PASS).kid == old.kid
    assert [g.credential_cert for g in keystore.public_generations(store, "1001")] == [
        old.credential_cert, new.credential_cert]


def test_rotation_touches_one_institution(store: Path) -> None:
    other = {p: p.read_bytes() for p in (store / "2001").rglob("*") if p.is_file()}
    before = load_institution_keys(store, "1001", PASS)
    rotate(store, "1001")
    after = load_institution_keys(store, "1001", PASS)
    assert after.kid != before.kid and after.pdf_cert != before.pdf_cert
    assert after.chain == before.chain  # the same issuing CA and root
    assert {p: p.read_bytes() for p in (store / "2001").rglob("*") if p.is_file()} == other


def test_a_manifest_that_names_other_keys_is_refused(store: Path) -> None:
    path = store / "1001" / keystore.MANIFEST
    manifest = json.loads(path.read_text())
    manifest["generations"][0]["kid"] = "AAAAAAAAAAA"
    path.write_text(json.dumps(manifest))
    with pytest.raises(PkiError, match="does not hold the keys its manifest names"):
        load_institution_keys(store, "1001", PASS)
    path.write_text("{")
    with pytest.raises(PkiError, match="unreadable"):
        load_institution_keys(store, "1001", PASS)


def test_no_active_key_is_a_clear_error(store: Path) -> None:
    history = keystore.read_history(store, "1001")
    keystore.write_history(store, "1001",
                           history.retired(history.generations[0].kid, LATER, final=True))
    with pytest.raises(PkiError, match=r"no active signing key.*keys rotate --institution 1001"):
        load_institution_keys(store, "1001", PASS)


def test_a_running_issuer_and_worker_sign_with_the_new_keys(store: Path, tmp_path: Path) -> None:
    """A rotation made by another process (the command line) is seen without a
    restart: by the web process's `Issuer.keys` and by a signing worker mid-job."""
    settings = Settings(database_url="sqlite://", keys_dir=store, key_passphrase=PASS,
                        output_dir=tmp_path / "out", published_dir=tmp_path / "pub",
                        verifier_url="https://verify.example")
    issuer = Issuer(settings, None)  # type: ignore[arg-type]  # no database needed
    worker = Worker(Job(store, "1001", PASS, settings.verifier_url, settings.output_dir))
    old = issuer.keys("1001")
    assert issuer.keys("1001") is old  # read once while nothing changes
    assert worker.keys.kid == old.kid

    rotate(store, "1001")
    new = issuer.keys("1001")
    assert new.kid != old.kid and issuer.keys("1001") is new
    produced = worker.produce(school_record(issued_at=LATER))  # the job's next record
    assert produced.signing_kid == new.kid
    assert unverified_header(produced.credential)["kid"] == new.kid


# --- the services on the in-memory unit of work -------------------------------------------


@dataclasses.dataclass
class KeyIssuer(FakeIssuer):
    def passphrase(self) -> bytes:
        return PASS


@pytest.fixture
def fake(store: Path) -> KeyIssuer:
    issuer = KeyIssuer(settings=SimpleNamespace(keys_dir=store, celery_broker=None))
    issuer.store.add_institution(SCHOOL)
    return issuer


ADMIN = Actor("admin", "test", AccountRole.ADMIN)


def test_a_rotation_is_audited_and_published(fake: KeyIssuer, store: Path) -> None:
    before = keystore.read_history(store, "1001")
    change = rotate_keys(fake, "1001", actor=ADMIN)
    assert change.history.generations[0].retired == fake.now
    assert fake.published == [["1001"]]
    (event,) = fake.store.audit
    assert (event.action, event.actor, event.subject) == ("key.rotate", "admin", "keys:1001")
    assert change.created is not None and event.detail["created"] == change.created.kid
    assert [g["generation"] for g in event.detail["generations"]] == [1, 2]
    assert before.generations[0].kid == event.detail["generations"][0]["kid"]


def test_a_change_that_cannot_be_recorded_is_undone(
    fake: KeyIssuer, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = keystore.read_history(store, "1001")

    def fail(self: object) -> None:
        raise OSError("database gone")

    monkeypatch.setattr(FakeUnitOfWork, "commit", fail)
    with pytest.raises(OSError, match="database gone"):
        rotate_keys(fake, "1001", actor=ADMIN)
    assert keystore.read_history(store, "1001") == before
    assert load_institution_keys(store, "1001", PASS).kid == before.generations[0].kid
    assert fake.published == []


def test_refusals_change_nothing(fake: KeyIssuer, store: Path) -> None:
    before = keystore.read_history(store, "1001")
    kid = before.generations[0].kid
    for call, message in [
        (lambda: compromise_key(fake, "1001", kid, fake.now + timedelta(days=1), actor=ADMIN),
         "in the future"),
        (lambda: retire_key(fake, "1001", kid, actor=ADMIN), "only active key"),
        (lambda: retire_key(fake, "1001", "nope", actor=ADMIN), "no key 'nope'"),
    ]:
        with pytest.raises(ServiceError, match=message):
            call()
    assert keystore.read_history(store, "1001") == before
    assert fake.store.audit == [] and fake.published == []
