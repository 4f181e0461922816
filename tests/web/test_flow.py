"""A batch from file to signed transcripts through the web pages, on SQLite and PostgreSQL:
an upload with errors lists every one and stores nothing; the fixed file is previewed,
submitted, approved by the director, issued, downloaded as a ZIP of valid PDFs; a
transcript is revoked and another reissued from a corrected file."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pikepdf
import pytest
from flask import Flask
from sqlalchemy import func, select

from issuer.adapters.orm import BatchRow, EnrolmentRow, StudentRow, TranscriptRow
from issuer.adapters.pki import load_root
from issuer.services.checking import verify_pdf
from issuer.services.context import Issuer
from tests.e2e.conftest import EXAMPLES, edit_csv, make_issuer
from tests.pdfcheck import assert_record_round_trips, pyhanko_validate
from tests.web.conftest import Browser, add_accounts, as_user, web_app
from verifier.core.verdict import Result
from verifier.sources import SourceSettings, TrustSource
from verifier.verification import Verifier


@pytest.fixture
def issuer(db_url: str, key_store: Path, tmp_path: Path) -> Issuer:
    issuer = make_issuer(db_url, key_store, tmp_path, vc_export=True)
    add_accounts(issuer)
    return issuer


def count(issuer: Issuer, model: type) -> int:
    with issuer.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(model)) or 0


def batch_id_from(location: str) -> int:
    found = re.search(r"/batches/(\d+)$", location)
    assert found, location
    return int(found.group(1))


def spoil(row: dict[str, str]) -> None:
    """Three kinds of error on several rows."""
    if row["student_id"] == "66003" and row["record_type"] == "course":
        row["grade"] = "5"
    if row["student_id"] == "66002":
        row["birth_date"] = "31/02/2554"


def upload(browser, name: str, data: bytes):  # type: ignore[no-untyped-def]
    """Upload a file and open the page it leads to once read (the job runs inline here):
    the batch (a redirect) or the upload's errors."""
    browser.get("/batches/upload")
    response = browser.post("/batches/upload", {"file": (io.BytesIO(data), name)},
                            content_type="multipart/form-data")
    assert response.status_code == 302 and "/uploads/" in response.headers["Location"]
    return browser.get(response.headers["Location"])


def test_from_file_to_signed_transcripts_and_back(issuer: Issuer) -> None:
    app: Flask = web_app(issuer)
    registrar = as_user(app, "reg1001")
    director = as_user(app, "dir1001")

    # 1. a file with errors: every error listed (row, column, value, Thai and English
    #    reason); nothing stored
    response = upload(registrar, "results.csv", edit_csv("school-batch.csv", spoil))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    rows = re.findall(r"<tr><td[^>]*>(\d+)</td><td[^>]*><code>(\w+)</code></td>", page)
    assert {column for _, column in rows} == {"grade", "birth_date"}
    assert len(rows) > 2 and len(set(rows)) == len(rows)
    assert "ผลการเรียน" in page or "ไม่ถูกต้อง" in page  # Thai reasons are shown
    for model in (BatchRow, StudentRow, EnrolmentRow, TranscriptRow):
        assert count(issuer, model) == 0

    # 2. the fixed file: imported, listed, previewed unsigned and marked PREVIEW
    data = (EXAMPLES / "school-batch.csv").read_bytes()
    response = upload(registrar, "school-batch.csv", data)
    assert response.status_code == 302
    batch_id = batch_id_from(response.headers["Location"])
    page = registrar.get(f"/batches/{batch_id}").get_data(as_text=True)
    previews = re.findall(rf"/batches/{batch_id}/students/(\d+)/preview.pdf", page)
    assert len(previews) == 6
    preview = registrar.get(f"/batches/{batch_id}/students/{previews[0]}/preview.pdf")
    assert preview.status_code == 200 and preview.mimetype == "application/pdf"
    with pikepdf.open(io.BytesIO(preview.data)) as pdf:
        assert "/AcroForm" not in pdf.Root  # no signature field: never signed
        assert "PREVIEW" in str(pdf.docinfo.get("/Title"))
    archive = zipfile.ZipFile(io.BytesIO(registrar.get(f"/batches/{batch_id}/previews.zip").data))
    assert len(archive.namelist()) == 6 and archive.testzip() is None
    assert count(issuer, TranscriptRow) == 0

    # 3. the same file again is refused; the registrar submits; only the director approves
    response = upload(registrar, "copy.csv", data)
    assert response.headers["Location"].endswith(f"/batches/{batch_id}")
    assert registrar.post(f"/batches/{batch_id}/approve").status_code == 403
    assert director.post(f"/batches/{batch_id}/approve").status_code == 302  # not submitted
    page = director.get(f"/batches/{batch_id}").get_data(as_text=True)  # why, in Thai
    assert f"ชุดที่ {batch_id} มีสถานะ" in page and "อนุมัติได้เฉพาะชุดที่ส่งขออนุมัติแล้ว" in page
    assert _status(issuer, batch_id) == "imported"
    assert registrar.post(f"/batches/{batch_id}/submit").status_code == 302
    assert _status(issuer, batch_id) == "submitted"
    assert "/batches/" in director.get("/batches").get_data(as_text=True)

    # 4. approval starts issuance (inline here); progress says done
    assert director.post(f"/batches/{batch_id}/approve").status_code == 302
    assert _status(issuer, batch_id) == "issued"
    progress = registrar.get(f"/batches/{batch_id}/progress.json").get_json()
    assert progress["finished"] and progress["done"] == progress["total"] == 6
    assert progress["issued"] == 6 and progress["error"] is None

    # 5. the ZIP holds six signed PDFs that verify; one alone downloads too
    response = registrar.get(f"/batches/{batch_id}/transcripts.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = [n for n in archive.namelist() if n.endswith(".pdf")]
    assert len(names) == 6 and all(re.fullmatch(r"1001-\d{4}-\d{6}-v1\.pdf", n) for n in names)
    assert sorted(archive.namelist()) == sorted(  # each PDF with its VC 2.0 export
        [*names, *(n.removesuffix(".pdf") + ".vc.json" for n in names)])
    root = load_root(issuer.settings.keys_dir)
    for name in names:
        pdf = archive.read(name)
        assert verify_pdf(issuer, pdf).result is Result.VALID
        assert_record_round_trips(pdf)
    status = pyhanko_validate(archive.read(names[0]), root)
    assert status.intact and status.valid and status.trusted
    transcript_id = names[0].removesuffix("-v1.pdf")
    single = director.get(f"/transcripts/{transcript_id}/v1.pdf")
    assert single.status_code == 200 and single.data == archive.read(names[0])

    # 6. search, then revoke: the status shows on the page and in the verdict
    listing = registrar.get("/transcripts?q=" + transcript_id).get_data(as_text=True)
    assert transcript_id in listing
    response = registrar.post(f"/transcripts/{transcript_id}/revoke", {"reason": ""})
    assert _transcript_status(issuer, transcript_id) == ["issued"]  # a reason is required
    response = registrar.post(f"/transcripts/{transcript_id}/revoke",
                              {"reason": "issued in error"})
    assert response.status_code == 302
    page = registrar.get(f"/transcripts/{transcript_id}").get_data(as_text=True)
    assert "issued in error" in page and "s-revoked" in page
    assert _transcript_status(issuer, transcript_id) == ["revoked"]
    assert verify_pdf(issuer, archive.read(names[0])).result is Result.REVOKED
    published = issuer.settings.published_dir
    served = registrar.client.get("/status/1001/revocation.jws")
    assert served.status_code == 200
    assert served.data == (published / "status" / "1001" / "revocation.jws").read_bytes()
    verifier = Verifier(TrustSource(SourceSettings(  # a verifier reading what was published
        roots=(root,), jwks=str(published / ".well-known" / "jwks.json"),
        status=str(published / "status"))))
    assert verifier.pdf(archive.read(names[0])).result is Result.REVOKED
    assert verifier.pdf(archive.read(names[1])).result is Result.VALID

    # 7. reissue another from a corrected file: version 2, the first superseded
    other = names[1].removesuffix("-v1.pdf")
    with issuer.uow() as uow:
        row = uow.session.scalar(select(TranscriptRow).filter_by(transcript_id=other))
        student_id = json.loads(row.record_json)["student"]["student_id"]

    def correct(r: dict[str, str]) -> None:
        if r["student_id"] == student_id and r["record_type"] == "course":
            r["grade"] = "4"

    corrected = edit_csv("school-batch.csv", correct)
    response = registrar.post(
        f"/transcripts/{other}/reissue",
        {"reason": "grades corrected", "file": (io.BytesIO(corrected), "fixed.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 302  # to the request: nothing is signed yet
    request_id = batch_id_from(response.headers["Location"])
    assert _transcript_status(issuer, other) == ["issued"]
    page = registrar.get(f"/batches/{request_id}").get_data(as_text=True)
    assert "grades corrected" in page and f"/batches/{request_id}/approve" not in page
    assert 'class="new">4<' in page  # the corrected grade, side by side with the issued one
    refused = registrar.post(f"/batches/{request_id}/approve")
    assert refused.status_code == 403 and _status(issuer, request_id) == "submitted"
    page = director.get(f"/batches/{request_id}").get_data(as_text=True)
    assert f"/batches/{request_id}/approve" in page and 'class="new">4<' in page
    director.post(f"/batches/{request_id}/approve")
    assert _transcript_status(issuer, other) == ["superseded", "issued"]
    assert registrar.get(f"/transcripts/{other}/v2.pdf").status_code == 200
    # The versions table in the reader's language: v1 replaced by v2, v2 with its reason
    # (Thai is the default; the stored note is English).
    page = registrar.get(f"/transcripts/{other}").get_data(as_text=True)
    assert "ถูกแทนที่ด้วยฉบับที่ 2" in page and "superseded by version" not in page
    assert 'ขอฉบับใหม่เนื่องจาก: <span translate="no">grades corrected</span>' in page
    registrar.get("/lang/en")
    page = registrar.get(f"/transcripts/{other}").get_data(as_text=True)
    assert "Superseded by version 2" in page
    assert 'Requested because: <span translate="no">grades corrected</span>' in page
    claim = registrar.post(f"/transcripts/{other}/claim-link").get_data(as_text=True)
    claim_path = "/" + re.search(r'id="claim-url">([^<]+)<', claim).group(1).split("/", 3)[3]
    page = Browser(app.test_client()).get(claim_path).get_data(as_text=True)
    assert "ถูกแทนที่ด้วยฉบับที่ 2" in page
    assert 'ขอฉบับใหม่เนื่องจาก: <span translate="no">grades corrected</span>' in page


def test_a_reissue_from_a_file_with_errors_lists_them(issuer: Issuer) -> None:
    app = web_app(issuer)
    registrar, director = as_user(app, "reg1001"), as_user(app, "dir1001")
    response = upload(registrar, "s.csv", (EXAMPLES / "school-batch.csv").read_bytes())
    batch_id = batch_id_from(response.headers["Location"])
    registrar.post(f"/batches/{batch_id}/submit")
    director.post(f"/batches/{batch_id}/approve")
    with issuer.uow() as uow:
        transcript_id = uow.session.scalars(select(TranscriptRow.transcript_id)).first()
    response = registrar.post(
        f"/transcripts/{transcript_id}/reissue",
        {"reason": "x", "file": (io.BytesIO(edit_csv("school-batch.csv", spoil)), "bad.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 422 and "birth_date" in response.get_data(as_text=True)
    assert _transcript_status(issuer, transcript_id) == ["issued"]


def _status(issuer: Issuer, batch_id: int) -> str:
    with issuer.uow() as uow:
        return uow.session.get_one(BatchRow, batch_id).status.value


def _transcript_status(issuer: Issuer, transcript_id: str) -> list[str]:
    with issuer.uow() as uow:
        return [r.status.value for r in uow.session.scalars(
            select(TranscriptRow).filter_by(transcript_id=transcript_id)
            .order_by(TranscriptRow.version))]
