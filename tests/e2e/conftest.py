"""An issuer on a temporary database, key store and output folder; sample batches.

The key store is generated once per session (RSA-3072 keys are slow to make) at the
real clock, so the signatures validate today.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from issuer.adapters.pki import write_dev_pki
from issuer.cli import main
from issuer.config import ROOT, Settings
from issuer.core.lifecycle import AccountRole
from issuer.services.admin import load_institutions
from issuer.services.approval import approve
from issuer.services.context import Actor, Issuer
from issuer.services.importing import import_batch
from issuer.services.issuing import IssueReport, issue_batch
from issuer.services.lifecycle import request_new_version
from issuer.services.review import submit_batch
from tests.integration.conftest import at_head, db_url, postgres_server  # noqa: F401  (fixtures)

EXAMPLES = ROOT / "examples"
PASSPHRASE = b"test passphrase"
VERIFIER_URL = "https://verify.bangkok.go.th"
REGISTRAR = Actor("registrar@1001", "test", AccountRole.REGISTRAR, "1001")
DIRECTOR = Actor("director@1001", "test", AccountRole.APPROVER, "1001")
SYSTEM = Actor("test-runner", "test")  # a job runner: may only issue what was approved


def staff(code: str) -> tuple[Actor, Actor]:
    """A registrar and a director of institution `code`."""
    return (Actor(f"registrar@{code}", "test", AccountRole.REGISTRAR, code),
            Actor(f"director@{code}", "test", AccountRole.APPROVER, code))


@pytest.fixture(scope="session")
def key_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("keys")
    write_dev_pki(directory, [("1001", "Wat Don School"), ("2001", "Din Daeng 1 Centre")],
                  PASSPHRASE, datetime.now(UTC))
    return directory


def make_issuer(database_url: str, key_store: Path, folder: Path, **more: Any) -> Issuer:
    """`more`: other settings (e.g. the HSM's, tests/e2e/test_hsm.py). The VC 2.0 export
    is off unless asked for (``vc_export=True``): it costs about as much CPU as the PDF,
    and only the tests of what it makes need it (test_vc.py, test_one_record.py, the web's
    downloads); the service's default is on."""
    more.setdefault("vc_export", False)
    settings = Settings(
        database_url=at_head(database_url), keys_dir=key_store, key_passphrase=PASSPHRASE,
        output_dir=folder / "out", published_dir=folder / "published",
        verifier_url=VERIFIER_URL,
        second_factor_roles=(),  # on by default: tests/web/test_auth_details.py, test_cli.py
        **more,
    )
    issuer = Issuer.open(settings)  # a new SQLite file: a copy already at head (`at_head`)
    load_institutions(issuer, EXAMPLES / "institutions.json", actor=SYSTEM)  # setting up
    return issuer


@pytest.fixture
def issuer(db_url: str, key_store: Path, tmp_path: Path) -> Issuer:  # noqa: F811
    return make_issuer(db_url, key_store, tmp_path)


def approved_batch(issuer: Issuer, code: str, name: str, data: bytes | None = None) -> int:
    """Import one batch file as the institution's registrar, submit it, and have its
    director approve it; the batch id."""
    registrar, director = staff(code)
    data = (EXAMPLES / name).read_bytes() if data is None else data
    batch_id = import_batch(issuer, code, name, data, actor=registrar).batch_id
    submit_batch(issuer, batch_id, actor=registrar)
    approve(issuer, batch_id, actor=director)
    return batch_id


def issue_file(issuer: Issuer, code: str, name: str, data: bytes | None = None,
               workers: int = 0) -> tuple[int, IssueReport]:
    """Import, submit, approve and issue one batch file; (batch id, report)."""
    batch_id = approved_batch(issuer, code, name, data)
    return batch_id, issue_batch(issuer, batch_id, actor=SYSTEM, workers=workers)


def only_students(name: str, *student_ids: str) -> bytes:
    """The sample CSV with the rows of these students only (issuing fewer is faster)."""
    lines = (EXAMPLES / name).read_bytes().splitlines(keepends=True)
    return lines[0] + b"".join(line for line in lines[1:]
                               if any(f",{sid},".encode() in line for sid in student_ids))


def issue_both_kinds(folder: Path, key_store: Path) -> tuple[Issuer, list[Path]]:
    """An issuer with the VC 2.0 export on, a school batch of three students and the
    vocational batch issued; the issuer and the PDFs (the credentials' tests)."""
    issuer = make_issuer(f"sqlite:///{folder / 'test.db'}", key_store, folder, vc_export=True)
    _, school = issue_file(issuer, "1001", "school-batch.csv",
                           only_students("school-batch.csv", "66001", "66002", "66003"))
    _, vocational = issue_file(issuer, "2001", "vocational-batch.csv")
    out = issuer.settings.output_dir
    return issuer, [out / p for p in school.issued + vocational.issued]


def edit_csv(name: str, change: Callable[[dict[str, str]], None]) -> bytes:
    """The sample CSV with `change` applied to every row (a dict it may modify)."""
    text = (EXAMPLES / name).read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=reader.fieldnames or [], lineterminator="\n")
    writer.writeheader()
    for row in reader:
        change(row)
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


def reissue(issuer: Issuer, transcript_id: str, *, reason: str,
            corrected: tuple[str, bytes] | None = None, workers: int = 0) -> IssueReport:
    """Request a new version as the registrar, have the director approve it, issue it."""
    registrar, director = staff(transcript_id.split("-")[0])
    batch_id = request_new_version(issuer, transcript_id, reason=reason, actor=registrar,
                                   corrected=corrected)
    approve(issuer, batch_id, actor=director)
    return issue_batch(issuer, batch_id, actor=SYSTEM, workers=workers)


# --- the command line -------------------------------------------------------------------

PASSWORD = "correct horse battery staple"


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Invoke the CLI against a fresh var/ and key store under tmp_path."""
    monkeypatch.setenv("BKT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("BKT_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("BKT_SECOND_FACTOR_ROLES", "")  # on by default: its own test
    monkeypatch.setenv("BKT_PKI_URL", "")  # no PKI services: test_serve.py runs them
    for name in ("BKT_DATABASE_URL", "BKT_KEY_PASSPHRASE", "BKT_PASSWORD", "BKT_TOTP",
                 "BKT_CELERY_BROKER", "BKT_KEY_PASSPHRASE_FILE", "CREDENTIALS_DIRECTORY",
                 "BKT_TSA_URL", "BKT_PADES_LEVEL", "BKT_HSM_TOKEN", "BKT_HSM_PIN",
                 "BKT_HSM_PIN_FILE", "BKT_HSM_MODULE", "BKT_HSM_KEY_LABEL"):
        monkeypatch.delenv(name, raising=False)
    umask = os.umask(0o022)  # the command sets 077 for itself: give the suite its own back
    os.umask(umask)
    request.addfinalizer(lambda: os.umask(umask))

    def invoke(*args: str | Path, password: str | None = None, stdin: str | None = None
               ) -> Result:
        env = {"BKT_PASSWORD": password} if password else {}
        result = CliRunner().invoke(main, [str(a) for a in args], env=env, input=stdin)
        assert "Traceback" not in result.output
        return result

    return invoke


def pdfs(output: str) -> list[Path]:
    return [Path(p) for p in re.findall(r"^\s*(/\S+\.pdf)$", output, re.M)]


def setup_school(run) -> None:  # type: ignore[no-untyped-def]
    """A new installation: institutions, keys, the first (administrator) account, then a
    registrar and a director of school 1001."""
    assert run("init-db").exit_code == 0
    assert run("institutions", "load", EXAMPLES / "institutions.json").exit_code == 0
    assert run("keys", "create").exit_code == 0
    first = run("accounts", "create", "admin", "--role", "admin", "--password-stdin",
                stdin=PASSWORD + "\n")
    assert first.exit_code == 0, first.output
    second = run("accounts", "create", "other-admin", "--role", "admin")
    assert second.exit_code == 1 and "only an administrator" in second.stderr
    for name, role in (("reg", "registrar"), ("dir", "approver"), ("dir2", "approver")):
        made = run("--as", "admin", "accounts", "create", name, "--role", role,
                   "--institution", "1001", "--password-stdin", stdin=PASSWORD + "\n",
                   password=PASSWORD)
        assert made.exit_code == 0, made.output
