"""A registrar's batch file in, signed transcripts out, each verifiable offline.

Runs on SQLite and PostgreSQL. PDFs are checked with the verifier's checks, pyHanko
against the root, poppler's pdfsig, and the QR decoded by zbarimg from a 150 dpi render.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
from io import BytesIO
from pathlib import Path

import pikepdf
import pytest
from sqlalchemy import func, select

from issuer.adapters.orm import (
    AuditEventRow,
    BatchRecordRow,
    BatchRow,
    EnrolmentRow,
    StudentRow,
    TranscriptRow,
)
from issuer.adapters.pki import load_root
from issuer.core.lifecycle import TranscriptStatus
from issuer.services import issuing
from issuer.services.checking import verify_pdf
from issuer.services.context import Issuer, ServiceError
from issuer.services.importing import AlreadyImported, BatchRejected, import_batch
from issuer.services.issuing import issue_batch
from issuer.services.lifecycle import request_new_version, revoke
from issuer.services.workers import Worker
from tests.e2e.conftest import (
    EXAMPLES,
    REGISTRAR,
    SYSTEM,
    VERIFIER_URL,
    approved_batch,
    edit_csv,
    issue_file,
    make_issuer,
    reissue,
    staff,
)
from tests.pdfcheck import assert_record_round_trips, pdfsig_report, pyhanko_validate
from verifier.core.credential import qr_url
from verifier.core.verdict import Result

BATCHES = {"school": ("1001", "school-batch.csv"), "vocational": ("2001", "vocational-batch.xlsx")}


def count(issuer: Issuer, model: type) -> int:
    with issuer.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def transcripts(issuer: Issuer) -> list[TranscriptRow]:
    with issuer.uow() as uow:
        rows = list(uow.session.scalars(select(TranscriptRow).order_by(TranscriptRow.id)))
        uow.session.expunge_all()
        return rows


def pdf_of(issuer: Issuer, row: TranscriptRow) -> bytes:
    assert row.pdf_path
    return (issuer.settings.output_dir / row.pdf_path).read_bytes()


def attachments(pdf: bytes) -> dict[str, bytes]:
    with pikepdf.open(BytesIO(pdf)) as doc:
        return {name: spec.get_file().read_bytes() for name, spec in doc.attachments.items()}


# --- one issued set per session on SQLite, for the expensive independent checks ------


@pytest.fixture(scope="module")
def issued(key_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Issuer:
    folder = tmp_path_factory.mktemp("issued")
    issuer = make_issuer(f"sqlite:///{folder / 'db.sqlite'}", key_store, folder)
    issue_file(issuer, *BATCHES["school"])
    issue_file(issuer, *BATCHES["vocational"], workers=2)  # through the process pool
    return issuer


def first_of(issuer: Issuer, code: str) -> TranscriptRow:
    return next(r for r in transcripts(issuer) if r.transcript_id.startswith(code))


def test_every_transcript_of_both_kinds_verifies(issued: Issuer) -> None:
    rows = transcripts(issued)
    assert sorted(r.transcript_id[:4] for r in rows) == ["1001"] * 6 + ["2001"] * 6
    for row in rows:
        pdf = pdf_of(issued, row)
        verdict = verify_pdf(issued, pdf)
        assert verdict.result is Result.VALID, [c for c in verdict.checks if c.status != "pass"]
        assert_record_round_trips(pdf)


@pytest.mark.parametrize("code", ["1001", "2001"])
def test_pyhanko_and_pdfsig_accept_the_signature(issued: Issuer, code: str,
                                                 tmp_path: Path) -> None:
    pdf = pdf_of(issued, first_of(issued, code))
    root = load_root(issued.settings.keys_dir)
    status = pyhanko_validate(pdf, root)
    assert status.intact and status.valid and status.trusted
    assert status.docmdp_ok
    report = pdfsig_report(pdf, root, tmp_path)
    assert "Signature Validation: Signature is Valid." in report
    assert "Certificate Validation: Certificate is Trusted." in report
    assert "The signature form field is not signed." not in report
    assert "Signed Ranges" in report


@pytest.mark.parametrize("code", ["1001", "2001"])
def test_qr_from_a_150_dpi_render_is_the_embedded_credential(
    issued: Issuer, code: str, tmp_path: Path
) -> None:
    row = first_of(issued, code)
    pdf_path = issued.settings.output_dir / str(row.pdf_path)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(pdf_path),
                    str(tmp_path / "page")], check=True)
    (image,) = tmp_path.glob("page*.png")
    scanned = subprocess.run(["zbarimg", "--raw", "-q", str(image)], check=True,
                             capture_output=True, text=True).stdout.strip()
    files = attachments(pdf_path.read_bytes())
    assert scanned == qr_url(VERIFIER_URL, files["credential.jws"].decode())
    assert files["credential.jws"].decode() == row.credential_jws
    assert files["transcript.json"] == row.record_json


def test_stored_files_match_the_database(issued: Issuer) -> None:
    for row in transcripts(issued):
        assert hashlib.sha256(pdf_of(issued, row)).hexdigest() == row.pdf_sha256
        assert row.status is TranscriptStatus.ISSUED and row.version == 1
    assert not list(issued.settings.output_dir.rglob("*.tmp"))


def test_signatories_come_from_the_institution(issued: Issuer) -> None:
    record = json.loads(first_of(issued, "1001").record_json)
    names = json.dumps(record, ensure_ascii=False)
    assert "นางสาวสุนันทา แก้วประเสริฐ" in names and "นายธีรวัฒน์ ศรีวงศ์ษา" in names


def test_a_modified_pdf_is_not_valid(issued: Issuer) -> None:
    pdf = bytearray(pdf_of(issued, first_of(issued, "1001")))
    at = pdf.index(b"/Contents", len(pdf) // 3)  # some byte inside the signed range
    pdf[at + 1] ^= 0x20
    verdict = verify_pdf(issued, bytes(pdf))
    assert verdict.result is Result.INVALID


def test_the_published_jwks_lists_both_institutions(issued: Issuer) -> None:
    jwks = json.loads((issued.settings.published_dir / ".well-known/jwks.json").read_text())
    assert len(jwks["keys"]) == 2
    assert all(k["kty"] == "EC" and len(k["x5c"]) == 2 and "d" not in k for k in jwks["keys"])


# --- service behaviour on SQLite and PostgreSQL -------------------------------------


def test_a_batch_with_errors_is_rejected_whole_and_writes_nothing(issuer: Issuer) -> None:
    def spoil(row: dict[str, str]) -> None:
        if row["student_id"] == "66003" and row["record_type"] == "course":
            row["grade"] = "5"

    data = edit_csv("school-batch.csv", spoil)
    with pytest.raises(BatchRejected) as caught:
        import_batch(issuer, "1001", "bad.csv", data, actor=REGISTRAR)
    errors = caught.value.errors
    assert errors and all(e.column == "grade" and e.value == "5" for e in errors)
    assert len({e.row for e in errors}) == len(errors) > 1  # every bad row, by number
    for model in (BatchRow, BatchRecordRow, StudentRow, EnrolmentRow, TranscriptRow,
                  AuditEventRow):
        before = 2 if model is AuditEventRow else 0  # the two institutions were created
        assert count(issuer, model) == before


def test_importing_or_issuing_again_issues_nothing_twice(issuer: Issuer) -> None:
    batch_id, report = issue_file(issuer, *BATCHES["school"])
    assert len(report.issued) == 6
    with pytest.raises(AlreadyImported) as caught:
        import_batch(issuer, "1001", "again.csv", (EXAMPLES / "school-batch.csv").read_bytes(),
                     actor=REGISTRAR)
    assert caught.value.batch_id == batch_id
    again = issue_batch(issuer, batch_id, actor=SYSTEM, workers=0)
    assert (len(again.issued), again.skipped) == (0, 6)
    assert count(issuer, TranscriptRow) == 6


def test_issuing_needs_approval(issuer: Issuer) -> None:
    batch_id = import_batch(issuer, "1001", "s.csv", (EXAMPLES / "school-batch.csv").read_bytes(),
                            actor=REGISTRAR).batch_id
    with pytest.raises(ServiceError, match="approved"):
        issue_batch(issuer, batch_id, actor=SYSTEM, workers=0)
    with pytest.raises(ServiceError, match="no batch"):
        issue_batch(issuer, batch_id, actor=SYSTEM, workers=0, institution_code="2001")
    assert count(issuer, TranscriptRow) == 0


def test_an_interrupted_issuance_resumes_without_duplicates(
    issuer: Issuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(issuing, "CHUNK", 2)
    produce = Worker.produce
    calls = {"n": 0}

    def failing(self: Worker, record, images=None):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError("disk full")
        return produce(self, record, images)

    monkeypatch.setattr(Worker, "produce", failing)
    batch_id = approved_batch(issuer, *BATCHES["school"])
    with pytest.raises(ServiceError, match=r"disk full.*run the same command again"):
        issue_batch(issuer, batch_id, actor=SYSTEM, workers=0)
    assert count(issuer, TranscriptRow) == 2  # the first chunk was stored
    report = issue_batch(issuer, batch_id, actor=SYSTEM, workers=0)
    assert (len(report.issued), report.skipped) == (4, 2)
    rows = transcripts(issuer)
    assert len({r.enrolment_id for r in rows}) == len(rows) == 6
    with issuer.uow() as uow:
        assert uow.session.get_one(BatchRow, batch_id).status.value == "issued"


def test_revoke_and_reissue(issuer: Issuer) -> None:
    issue_file(issuer, *BATCHES["school"])
    first, second, *_ = transcripts(issuer)
    assert revoke(issuer, first.transcript_id, reason="issued in error", actor=REGISTRAR) == 1
    assert verify_pdf(issuer, pdf_of(issuer, first)).result is Result.REVOKED
    with pytest.raises(ServiceError, match="already revoked"):
        revoke(issuer, first.transcript_id, reason="again", actor=REGISTRAR)
    with pytest.raises(ServiceError, match="reason"):
        revoke(issuer, second.transcript_id, reason="  ", actor=REGISTRAR)

    reissue(issuer, second.transcript_id, reason="signatory changed")
    rows = {(r.transcript_id, r.version): r for r in transcripts(issuer)}
    old_row, new_row = rows[(second.transcript_id, 1)], rows[(second.transcript_id, 2)]
    assert old_row.status is TranscriptStatus.SUPERSEDED
    assert new_row.supersedes_id == old_row.id
    assert verify_pdf(issuer, pdf_of(issuer, old_row)).result is Result.SUPERSEDED
    assert verify_pdf(issuer, pdf_of(issuer, new_row)).result is Result.VALID
    with issuer.uow() as uow:
        actions = [e.action for e in uow.audit.events(limit=1000)]
    assert actions[-5:] == ["transcript.revoke", "transcript.reissue_request", "batch.approve",
                            "batch.issue_queued", "batch.issue"]


def test_reissue_from_a_corrected_file(issuer: Issuer) -> None:
    issue_file(issuer, *BATCHES["school"])
    row = transcripts(issuer)[0]
    sid = json.loads(row.record_json)["student"]["student_id"]

    def correct(r: dict[str, str]) -> None:
        if r["student_id"] == sid and r["record_type"] == "course":
            r["grade"] = "4"

    data = edit_csv("school-batch.csv", correct)
    reissue(issuer, row.transcript_id, reason="grades corrected",
            corrected=("corrected.csv", data))
    rows = {(r.transcript_id, r.version): r for r in transcripts(issuer)}
    gpa_old = json.loads(rows[(row.transcript_id, 1)].record_json)["summary"]["gpa"]
    gpa_new = json.loads(rows[(row.transcript_id, 2)].record_json)["summary"]["gpa"]
    assert gpa_new == "4.00" and gpa_old != gpa_new
    others = transcripts(issuer)[1]  # the corrected file holds every student but this one
    other_id = json.loads(others.record_json)["student"]["student_id"]
    text = data.decode()
    without = "\n".join(line for line in text.splitlines() if f",{other_id}," not in line)
    with pytest.raises(ServiceError, match=f"holds no rows for student {other_id}"):
        request_new_version(issuer, others.transcript_id, reason="x", actor=REGISTRAR,
                            corrected=("other.csv", without.encode()))


def test_registrar_of_one_institution_cannot_touch_another(issuer: Issuer) -> None:
    issue_file(issuer, *BATCHES["school"])
    row = transcripts(issuer)[0]
    registrar_2001, _ = staff("2001")
    with pytest.raises(ServiceError, match="no transcript"):
        revoke(issuer, row.transcript_id, reason="x", actor=registrar_2001)
    with pytest.raises(ServiceError, match="no transcript"):
        request_new_version(issuer, row.transcript_id, reason="x", actor=registrar_2001)


def test_unknown_institution_and_missing_keys_are_clear_errors(
    issuer: Issuer, tmp_path: Path
) -> None:
    with pytest.raises(ServiceError, match="no institution with code '9999'"):
        import_batch(issuer, "9999", "x.csv", b"", actor=staff("9999")[0])
    integrity_key = (issuer.settings.keys_dir / "integrity.key").read_text().strip()
    settings = dataclasses.replace(issuer.settings, keys_dir=tmp_path / "nokeys",
                                   integrity_key=integrity_key)
    keyless = Issuer(settings, issuer.sessions)
    batch_id = approved_batch(issuer, *BATCHES["school"])
    with pytest.raises(ServiceError, match="signing keys of 1001"):
        issue_batch(keyless, batch_id, actor=SYSTEM, workers=0)
