"""National IDs and TOTP secrets are encrypted at rest (`issuer.adapters.at_rest`): the
database alone shows neither, yet everything still imports, signs in, issues and
verifies; under another key they do not open, and say so."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pyotp
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import select, text

from issuer import demo_images
from issuer.adapters import integrity
from issuer.adapters.accounts import seal
from issuer.adapters.at_rest import AtRestError
from issuer.adapters.db import alembic_config, downgrade
from issuer.adapters.images import read_photos
from issuer.adapters.orm import AccountRow, BatchRecordRow
from issuer.core.batch import BatchError
from issuer.core.lifecycle import AccountRole
from issuer.services import accounts
from issuer.services.checking import verify_pdf
from issuer.services.context import Issuer
from issuer.services.importing import import_batch
from issuer.services.issuing import issue_batch
from issuer.services.snapshots import stored
from tests.e2e.conftest import (
    EXAMPLES,
    SYSTEM,
    approved_batch,
    make_issuer,
    only_students,
    staff,
)
from tests.web.conftest import PASSWORD, _password_hash

NATIONAL_IDS = sorted({line.split(",")[3] for line in
                       (EXAMPLES / "school-batch.csv").read_text("utf-8-sig").splitlines()[1:]})
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
REVISION = "0009_encrypted_at_rest"


def _issuer(tmp_path: Path, key_store: Path) -> Issuer:
    key = integrity.encode(b"k" * 32)  # the test's own: the session's key store is shared
    issuer = make_issuer(f"sqlite:///{tmp_path / 'db.sqlite'}", key_store, tmp_path)
    return Issuer.open(replace(issuer.settings, integrity_key=key))


def _with_totp(issuer: Issuer) -> int:
    """An approver with the second factor on, as enabling it leaves the row."""
    with issuer.uow() as uow:
        row = uow.accounts.add(username="dir", password_hash=_password_hash(),
                               role=AccountRole.APPROVER,
                               institution=uow.institutions.get("1001"), now=issuer.clock(),
                               seal_key=uow.integrity_key("account-seal"))
        row.totp_secret = SECRET
        seal(row, uow.integrity_key("account-seal"))
        uow.commit()
        return row.id


def _everything(path: Path) -> str:
    """Every value of every table, as SQL gives it, and the database files' bytes."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    values = []
    for (table,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'"):
        for row in connection.execute(f'SELECT * FROM "{table}"'):
            for value in row:
                values.append(value.decode("latin-1") if isinstance(value, bytes)
                              else str(value))
    connection.close()
    files = [p.read_bytes().decode("latin-1") for p in path.parent.glob(path.name + "*")]
    return "\n".join(values + files)


def test_the_database_holds_no_national_id_or_totp_secret(tmp_path: Path,
                                                          key_store: Path) -> None:
    """Found: national IDs and TOTP secrets were stored in clear."""
    issuer = _issuer(tmp_path, key_store)
    _with_totp(issuer)
    registrar, _ = staff("1001")
    data = (EXAMPLES / "school-batch.csv").read_bytes()
    photos = demo_images.photos_zip(["66001"])
    import_batch(issuer, "1001", "school-batch.csv", data, actor=registrar, photos=photos)
    photo = read_photos(photos).by_stem["66001"]  # as normalised and stored
    bad_id = NATIONAL_IDS[0][:-1] + str((int(NATIONAL_IDS[0][-1]) + 1) % 10)
    with issuer.uow() as uow:  # a web upload waiting for its reader, and a rejected one
        waiting = uow.uploads.add(uow.institutions.get("1001"), filename="up.csv",
                                  data=data, created_by="reg", now=issuer.clock())
        waiting.photos = photos
        rejected = uow.uploads.add(uow.institutions.get("1001"), filename="bad.csv",
                                   data=b"", created_by="reg", now=issuer.clock())
        uow.uploads.add_errors(rejected, [BatchError(2, "national_id", bad_id,
                                                     "เลขไม่ถูกต้อง", "invalid checksum")])
        uow.commit()
    dump = _everything(tmp_path / "db.sqlite")
    assert "66001" in dump  # the dump does see the data: student IDs are not secret
    assert [n for n in [*NATIONAL_IDS, bad_id] if n in dump] == []
    assert SECRET not in dump
    # neither the stored photo nor the ZIP waiting to be read (a 64-byte run of each)
    assert photo[200:264].decode("latin-1") not in dump
    assert photos[100:164].decode("latin-1") not in dump

    signed = accounts.sign_in(issuer, "dir", PASSWORD, source="test")  # still signs in
    assert signed.needs_code and signed.challenge
    assert accounts.verify_code(issuer, signed.challenge, pyotp.TOTP(SECRET).now(),
                                source="test").username == "dir"
    with issuer.uow() as uow:
        records = uow.session.scalars(select(BatchRecordRow)).all()
        assert {stored(r).record.student.national_id for r in records} <= set(NATIONAL_IDS)
        (error,) = uow.uploads.errors(uow.uploads.get(rejected.id))
        assert error.value == bad_id


def test_snapshots_still_issue_and_verify(tmp_path: Path, key_store: Path) -> None:
    issuer = _issuer(tmp_path, key_store)
    batch_id = approved_batch(issuer, "1001", "one.csv",
                              only_students("school-batch.csv", "66001"))
    (issued,) = issue_batch(issuer, batch_id, actor=SYSTEM, workers=0).issued
    pdf = issuer.settings.output_dir / issued
    assert verify_pdf(issuer, pdf.read_bytes()).result.value == "VALID"


def test_another_key_or_a_moved_value_is_a_clear_error(tmp_path: Path,
                                                       key_store: Path) -> None:
    issuer = _issuer(tmp_path, key_store)
    _with_totp(issuer)
    registrar, _ = staff("1001")
    import_batch(issuer, "1001", "b.csv", only_students("school-batch.csv", "66001", "66002"),
                 actor=registrar)
    other = Issuer.open(replace(issuer.settings, integrity_key=integrity.encode(b"x" * 32)))
    with other.uow() as uow, pytest.raises(
            AtRestError, match=r"cannot decrypt batch_records\.record_json: the "
                               r"data-at-rest key \(BKT_INTEGRITY_KEY"):
        stored(uow.session.scalars(select(BatchRecordRow)).first())
    with other.uow() as uow, pytest.raises(AtRestError, match=r"accounts\.totp_secret"):
        _ = uow.accounts.find("dir").totp_secret
    with issuer.uow() as uow:  # a database writer swaps two students' snapshots
        first, second = uow.session.scalars(select(BatchRecordRow)).all()
        uow.session.execute(
            text("UPDATE batch_records SET record_json = :v WHERE id = :id"),
            {"v": first._record_json_sealed, "id": second.id})
        uow.commit()
    with issuer.uow() as uow, pytest.raises(AtRestError, match="altered or moved"):
        _ = uow.session.get(BatchRecordRow, second.id).record_json


def test_values_stored_in_clear_are_encrypted_when_the_service_opens(
        tmp_path: Path, key_store: Path) -> None:
    """A database from before migration 0009: the service seals its rows on opening."""
    issuer = _issuer(tmp_path, key_store)
    account_id = _with_totp(issuer)
    registrar, _ = staff("1001")
    import_batch(issuer, "1001", "b.csv", only_students("school-batch.csv", "66001"),
                 actor=registrar)
    with issuer.uow() as uow:
        plain = uow.session.scalars(select(BatchRecordRow)).one().record_json
    before = ScriptDirectory.from_config(alembic_config()).get_revision(REVISION).down_revision
    downgrade(issuer.settings.database_url, REVISION)  # the schema as 0009 found it
    with issuer.uow() as uow:  # as the previous version left it
        uow.session.execute(text("UPDATE batch_records SET record_json = :v"), {"v": plain})
        uow.session.execute(text("UPDATE accounts SET totp_secret = :v"), {"v": SECRET})
        uow.session.execute(text("UPDATE alembic_version SET version_num = :v"),
                            {"v": before})
        uow.commit()
    assert "1102885185101" in _everything(tmp_path / "db.sqlite")
    reopened = Issuer.open(issuer.settings)
    dump = _everything(tmp_path / "db.sqlite")
    assert "1102885185101" not in dump and SECRET not in dump
    with reopened.uow() as uow:
        assert uow.session.scalars(select(BatchRecordRow)).one().record_json == plain
        assert uow.session.get(AccountRow, account_id).totp_secret == SECRET
