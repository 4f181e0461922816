"""The services behind the pages: four eyes, submission and rejection, unsigned previews,
issuance in a background thread, and the `transcripts accounts` command."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pikepdf
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from issuer.adapters.orm import BatchRecordRow, BatchRow, TranscriptRow
from issuer.cli import main
from issuer.config import Settings
from issuer.core.lifecycle import AccountRole, BatchStatus
from issuer.services import accounts
from issuer.services.approval import approve
from issuer.services.context import Actor, Issuer, ServiceError
from issuer.services.importing import BatchRejected, import_batch
from issuer.services.review import preview_pdf, reject_batch, submit_batch, withdraw_batch
from issuer.web.jobs import ThreadJobs
from tests.e2e.conftest import EXAMPLES, edit_csv

REG = Actor("reg1001", "test", AccountRole.REGISTRAR, "1001")
DIR = Actor("dir1001", "test", AccountRole.APPROVER, "1001")
DIR_2001 = Actor("dir2001", "test", AccountRole.APPROVER, "2001")


def _import(issuer: Issuer, name: str = "school-batch.csv") -> int:
    return import_batch(issuer, "1001", name, (EXAMPLES / name).read_bytes(),
                        actor=REG).batch_id


def _status(issuer: Issuer, batch_id: int) -> BatchStatus:
    with issuer.uow() as uow:
        return uow.session.get_one(BatchRow, batch_id).status


def test_only_another_person_approves_a_submitted_batch(web_issuer: Issuer) -> None:
    batch_id = _import(web_issuer)
    with pytest.raises(ServiceError, match="not submitted"):
        approve(web_issuer, batch_id, actor=DIR)
    submit_batch(web_issuer, batch_id, actor=REG)
    with pytest.raises(ServiceError, match="only an approver"):
        approve(web_issuer, batch_id, actor=REG)
    with pytest.raises(ServiceError, match="no batch"):
        approve(web_issuer, batch_id, actor=DIR_2001)
    uploader_as_director = Actor("reg1001", "test", AccountRole.APPROVER, "1001")
    with pytest.raises(ServiceError, match="four eyes"):
        approve(web_issuer, batch_id, actor=uploader_as_director)
    approve(web_issuer, batch_id, actor=DIR)
    assert _status(web_issuer, batch_id) is BatchStatus.APPROVED


def test_a_rejected_batch_needs_a_reason_and_cannot_be_approved(web_issuer: Issuer) -> None:
    batch_id = _import(web_issuer)
    submit_batch(web_issuer, batch_id, actor=REG)
    with pytest.raises(ServiceError, match="reason"):
        reject_batch(web_issuer, batch_id, reason=" ", actor=DIR)
    reject_batch(web_issuer, batch_id, reason="wrong term", actor=DIR)
    assert _status(web_issuer, batch_id) is BatchStatus.REJECTED
    with pytest.raises(ServiceError):
        approve(web_issuer, batch_id, actor=DIR)
    _import(web_issuer)  # its students are free again: the corrected file imports


def test_a_withdrawn_batch_frees_its_students(web_issuer: Issuer) -> None:
    batch_id = _import(web_issuer)
    changed = edit_csv("school-batch.csv", lambda r: r.update(first_name_en="Changed"))
    with pytest.raises(BatchRejected) as caught:  # its students are in an open batch
        import_batch(web_issuer, "1001", "changed.csv", changed, actor=REG)
    assert {e.column for e in caught.value.errors} == {"student_id"}
    assert all(f"batch {batch_id}" in e.reason_en for e in caught.value.errors)
    with pytest.raises(ServiceError, match="only a registrar"):
        withdraw_batch(web_issuer, batch_id, reason="wrong file", actor=DIR)
    withdraw_batch(web_issuer, batch_id, reason="wrong file", actor=REG)
    assert _status(web_issuer, batch_id) is BatchStatus.WITHDRAWN
    with pytest.raises(ServiceError, match="cannot be submitted"):
        submit_batch(web_issuer, batch_id, actor=REG)
    assert _import(web_issuer) != batch_id


def test_a_preview_is_unsigned_marked_and_stores_nothing(web_issuer: Issuer) -> None:
    batch_id = _import(web_issuer)
    with web_issuer.uow() as uow:
        record = uow.session.scalars(select(BatchRecordRow.id)).first()
        assert record is not None
    transcript_id, pdf = preview_pdf(web_issuer, batch_id, record, institution_code="1001")
    assert re.fullmatch(r"1001-\d{4}-\d{6}", transcript_id)
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        assert "/AcroForm" not in doc.Root and "/AF" not in doc.Root  # no signature, no data
        assert len(doc.pages) >= 1
    with web_issuer.uow() as uow:
        assert uow.session.scalars(select(TranscriptRow)).first() is None
    with pytest.raises(ServiceError):
        preview_pdf(web_issuer, batch_id, record, institution_code="2001")


def test_issuing_in_a_background_thread(web_issuer: Issuer) -> None:
    batch_id = _import(web_issuer)
    submit_batch(web_issuer, batch_id, actor=REG)
    approve(web_issuer, batch_id, actor=DIR)
    jobs = ThreadJobs(web_issuer, workers=0)
    jobs.start(batch_id, actor=DIR, institution_code="1001")
    jobs.start(batch_id, actor=DIR, institution_code="1001")  # already running: no second job
    jobs.join(120)
    state = jobs.state(batch_id)
    assert state is not None and not state.running and state.error is None
    assert state.done == 6
    assert _status(web_issuer, batch_id) is BatchStatus.ISSUED
    jobs.start(batch_id, actor=DIR, institution_code="1001")  # again: issues nothing twice
    jobs.join(60)
    with web_issuer.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(TranscriptRow)) == 6


def test_a_failed_job_reports_its_error(web_issuer: Issuer) -> None:
    batch_id = _import(web_issuer)  # not approved
    jobs = ThreadJobs(web_issuer, workers=0)
    jobs.start(batch_id, actor=DIR, institution_code="1001")
    jobs.join(30)
    state = jobs.state(batch_id)
    assert state is not None and "must be approved" in (state.error or "")


def test_accounts_create_command(web_issuer: Issuer, monkeypatch: pytest.MonkeyPatch,
                                 tmp_path: Path) -> None:
    monkeypatch.setenv("BKT_DATABASE_URL", web_issuer.settings.database_url)
    monkeypatch.setenv("BKT_KEYS_DIR", str(web_issuer.settings.keys_dir))  # its seals
    monkeypatch.setenv("BKT_PASSWORD", "correct horse battery staple")
    monkeypatch.setenv("BKT_SECOND_FACTOR_ROLES", "")  # its own test: test_cli.py
    runner = CliRunner()
    result = runner.invoke(main, ["accounts", "create", "newreg", "--role", "registrar",
                                  "--institution", "1001"])
    assert result.exit_code == 1 and "only an administrator" in result.output
    result = runner.invoke(main, ["--as", "dir1001", "accounts", "create", "newreg", "--role",
                                  "registrar", "--institution", "1001"])
    assert result.exit_code == 1 and "only an administrator" in result.output
    result = runner.invoke(main, ["--as", "admin", "accounts", "create", "newreg", "--role",
                                  "registrar", "--institution", "1001"])
    assert result.exit_code == 0, result.output
    password = re.search(r"password: (\S+)", result.output)
    assert password and len(password.group(1)) >= 20
    assert accounts.sign_in(web_issuer, "newreg", password.group(1), source="test").account
    result = runner.invoke(main, ["--as", "admin", "accounts", "create", "x", "--role",
                                  "admin", "--password-stdin"], input="too short\n")
    assert result.exit_code == 1 and "12 characters" in result.output
    result = runner.invoke(main, ["--as", "admin", "accounts", "create", "newreg", "--role",
                                  "registrar", "--institution", "1001"])
    assert result.exit_code == 1 and "taken" in result.output


def test_demo_creates_one_account_per_role_once(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BKT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("BKT_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.delenv("BKT_DATABASE_URL", raising=False)
    runner = CliRunner()
    result = runner.invoke(main, ["demo", "--workers", "0"])
    assert result.exit_code == 0, result.output
    created = re.findall(r"^  (registrar|approver|admin)\s+(\S+)\s+(\S{20,})$", result.output,
                         re.M)
    assert [role for role, _, _ in created] == ["registrar", "approver", "registrar",
                                                "approver", "admin"]
    issuer = Issuer.open(Settings.from_env())
    for _, username, password in created:
        assert accounts.sign_in(issuer, username, password, source="test").account
    again = runner.invoke(main, ["demo", "--workers", "0"])
    assert again.exit_code == 0 and "registrar1001" not in again.output  # kept, not reset
