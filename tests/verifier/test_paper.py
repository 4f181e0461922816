"""Paper, credential and PDF as one (issue 9, part 5).

A QR (or a photo of one) proves the credential, not the paper it is printed on: the
verdict says so and shows everything a reader compares with the paper -- both names,
the school's and the programme's names (from the institution's signed directory), the
graduation date and the verification code printed under the QR. The PDF path proves
the file, and the QR drawn on its page must be the credential embedded in it.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from issuer.adapters.credential_signing import sign_credential
from issuer.adapters.directory import write_directory
from issuer.adapters.pdf_signing import TranscriptSigner
from issuer.adapters.pki import Authority, InstitutionKeys
from issuer.adapters.render import attach_files, render_transcript
from issuer.adapters.render import verification_code as printed_code
from issuer.core.record_json import to_canonical
from issuer.core.records import TranscriptRecord
from issuer.pipeline import IssuedDocument, Producer, claims_for
from tests.factories import BOY, SCHOOL, TRAINING, school_record
from tests.verifier.conftest import (
    BASE_URL,
    ISSUED_AT,
    Documents,
    file_config,
    publish,
    source_for,
)
from verifier import zbar
from verifier.app import create_app
from verifier.core import directory as core_directory
from verifier.core.canonical import b64url, digest
from verifier.core.credential import qr_url, verification_code
from verifier.core.directory import DirectoryError
from verifier.directory import Directories
from verifier.qr_image import PhotoLimits
from verifier.verification import Verifier

needs_tools = pytest.mark.skipif(
    shutil.which("pdftoppm") is None or not zbar.available(),
    reason="poppler-utils and zbar-tools (libzbar0) not installed")
GENUINE = "This credential is genuine: compare its data with the paper"



@pytest.fixture
def client(app: Flask, tmp_path: Path) -> FlaskClient:
    """The app with its own photo-decoding slot (no other test run on the machine
    can make it busy)."""
    app.extensions["bkt_photo_limits"] = PhotoLimits(lock_dir=tmp_path)
    return app.test_client()

def post_credential(client: FlaskClient, text: str) -> dict[str, Any]:
    response = client.post("/api/v1/verify", json={"credential": text})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def post_image(client: FlaskClient, data: bytes) -> dict[str, Any]:
    response = client.post("/api/v1/verify", data={"image": (io.BytesIO(data), "photo.jpg")},
                           content_type="multipart/form-data")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def post_pdf(client: FlaskClient, data: bytes) -> dict[str, Any]:
    response = client.post("/api/v1/verify", data={"file": (io.BytesIO(data), "t.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def statuses(body: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in body["checks"]}


def page_with_qr_of(other: IssuedDocument, record: TranscriptRecord,
                    keys: InstitutionKeys) -> bytes:
    """`record`'s transcript, properly signed by its school, but with `other`'s QR drawn
    on the page (its own credential embedded): what an insider's mix-up would make."""
    record_json = to_canonical(record)
    record_digest = digest(record_json)
    credential = sign_credential(claims_for(record, record_digest), keys)
    pdf = render_transcript(record, qr_url(BASE_URL, other.credential),
                            printed_code(record_digest))
    return TranscriptSigner(keys).sign(attach_files(pdf, record_json, credential))


def photo_of(pdf: bytes, tmp_path: Path) -> bytes:
    """Page 1 at 150 dpi as a JPEG, slightly rotated: a phone's photo of the printout."""
    source = tmp_path / "page.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-f", "1", "-l", "1", "-png", "-singlefile",
                    str(source), str(tmp_path / "page")], check=True)
    page = Image.open(tmp_path / "page.png").convert("RGB").rotate(2, expand=True,
                                                                   fillcolor="white")
    out = io.BytesIO()
    page.save(out, format="JPEG", quality=85)
    return out.getvalue()


@pytest.fixture(scope="module")
def boy_at_school(school_keys: InstitutionKeys) -> IssuedDocument:
    """Student B: another pupil of the same school."""
    return Producer(school_keys, BASE_URL).produce(school_record(
        person=BOY, transcript_id="1001-2569-000124", status_index=4712, issued_at=ISSUED_AT))


# --- the QR path shows what to compare with the paper ------------------------------------------


def test_qr_verdict_shows_what_to_compare_with_the_paper(client: FlaskClient,
                                                         documents: Documents) -> None:
    body = post_credential(client, documents.school.credential)
    assert body["result"] == "VALID", body["checks"]
    data, record = body["data"], documents.school.record
    assert data["source"] == "credential"
    assert data["student"] == {"name_th": "กัญญ์ณัฏฐ์ ศรีสุวรรณ์", "name_en": "Kanyanat Srisuwan"}
    assert data["institution"] == {"code": "1001", "name_th": SCHOOL.name_th,
                                   "name_en": SCHOOL.name_en}
    programme = record.record.programme
    assert data["programme"] == {"code": programme.code, "name_th": programme.name_th,
                                 "name_en": programme.name_en}
    assert data["graduation_date_th"] == "31 มีนาคม พ.ศ. 2569"
    assert data["verification_code"] == printed_code(documents.school.record_digest)
    assert body["summary"]["scope"] == "credential"
    assert body["summary"]["en"] == GENUINE
    assert "unchanged" not in json.dumps(body["summary"])
    assert "verification code" in body["summary"]["compare_en"]


def test_vocational_qr_shows_the_course_by_name(client: FlaskClient,
                                                documents: Documents) -> None:
    data = post_credential(client, documents.vocational.credential)["data"]
    assert data["institution"]["name_th"] == TRAINING.name_th
    assert data["programme"]["name_en"] == "Air Conditioning and Refrigeration Technician"
    assert data["student"]["name_en"] == "Nattawut Thongprasert"


def test_pdf_verdict_claims_the_file(client: FlaskClient, documents: Documents) -> None:
    body = post_pdf(client, documents.school.pdf)
    assert body["result"] == "VALID", body["checks"]
    assert body["summary"]["scope"] == "pdf"
    assert "unchanged" in body["summary"]["en"]
    assert body["data"]["verification_code"] == printed_code(documents.school.record_digest)
    assert body["data"]["student"]["name_en"] == "Miss Kanyanat Srisuwan"


@needs_tools
def test_photo_of_b_s_page_with_a_s_qr(client: FlaskClient, documents: Documents,
                                       boy_at_school: IssuedDocument,
                                       school_keys: InstitutionKeys, tmp_path: Path) -> None:
    """The finding: B's printed page carrying A's QR was "Valid: ... unchanged" with A's
    data. The credential is A's and genuine -- that is all a photo can prove -- so the
    verdict says exactly that, and shows A's names and A's verification code, which the
    reader sees differ from B's page."""
    forged_page = page_with_qr_of(documents.school, boy_at_school.record, school_keys)
    body = post_image(client, photo_of(forged_page, tmp_path))
    assert body["result"] == "VALID"
    assert body["summary"]["en"] == GENUINE and body["summary"]["scope"] == "credential"
    assert "unchanged" not in json.dumps(body)
    assert body["data"]["student"]["name_en"] == "Kanyanat Srisuwan"  # A, not B
    assert body["data"]["verification_code"] == printed_code(documents.school.record_digest)
    assert body["data"]["verification_code"] != printed_code(boy_at_school.record_digest)


# --- the verification code is computed by the verifier, as the issuer prints it ---------------


def test_verification_code_is_the_printed_one(documents: Documents, tmp_path: Path) -> None:
    digest_ = documents.school.record_digest
    code = verification_code(digest_)
    assert code == printed_code(digest_)  # the issuer prints the verifier's function
    import base64

    from verifier.core.canonical import b64url_decode
    assert code.replace("-", "") == base64.b32encode(b64url_decode(digest_)[:5]).decode()
    if shutil.which("pdftotext"):
        source = tmp_path / "t.pdf"
        source.write_bytes(documents.school.pdf)
        text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(source), "-"],
                              capture_output=True, text=True, check=True).stdout
        assert code in text


# --- names in the credential: both, and no denser --------------------------------------------


def test_credential_carries_both_names_in_fewer_bytes(documents: Documents) -> None:
    claims = claims_for(documents.school.record, documents.school.record_digest)
    assert (claims.name, claims.name_en) == ("กัญญ์ณัฏฐ์ ศรีสุวรรณ์", "Kanyanat Srisuwan")
    payload = claims.to_payload()
    assert "m" in payload and "n" not in payload
    thai_only = {k: v for k, v in payload.items() if k != "m"} | {"n": claims.name}
    size = len(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode())
    before = len(json.dumps(thai_only, ensure_ascii=False, separators=(",", ":")).encode())
    assert size <= before  # the English name came at no cost in the QR


# --- the directory: signed by the institution, checked like a status list ------------------


def test_directory_in_the_offline_bundle(published: Path, authority: Authority,
                                         documents: Documents) -> None:
    source = source_for(published, (authority.root_cert,), jwks=None, status=None,
                        trust_file=published / "trust.json")
    verifier = Verifier(source, Directories(source))
    data = verifier.credential(documents.school.credential).data
    assert data["institution"]["name_th"] == SCHOOL.name_th
    assert data["programme"]["name_th"] == documents.school.record.record.programme.name_th


def test_directory_of_another_institution_is_refused(
    tmp_path: Path, authority: Authority, school_keys: InstitutionKeys,
    training_keys: InstitutionKeys, documents: Documents
) -> None:
    """3001's key signs a directory giving 1001 a name: refused, 1001 shown by code."""
    directory = publish(tmp_path / "p", authority, [school_keys, training_keys],
                        datetime.now(UTC))
    forged = core_directory.sign(
        core_directory.build("1001", "โรงเรียนปลอม", "Fake School", {}, ISSUED_AT),
        training_keys.credential_key, training_keys.kid)
    (directory / "status" / "1001" / "directory.jws").write_text(forged)
    source = source_for(directory, (authority.root_cert,))
    data = Verifier(source, Directories(source)).credential(documents.school.credential).data
    assert data["institution"]["name_th"] is None
    assert "Fake" not in json.dumps(data)
    with pytest.raises(DirectoryError):
        core_directory.verify(forged, source.keys().store.key, "1001")


def test_tampered_directory_is_refused(tmp_path: Path, authority: Authority,
                                       school_keys: InstitutionKeys) -> None:
    directory = publish(tmp_path / "p", authority, [school_keys],
                        datetime.now(UTC))
    path = directory / "status" / "1001" / "directory.jws"
    header, payload, signature = path.read_text().strip().split(".")
    document = core_directory.Directory.from_payload(
        json.loads(__import__("base64").urlsafe_b64decode(payload + "==")))
    changed = replace(document, name_en="Elite Academy")
    forged = ".".join((header, b64url(json.dumps(changed.to_payload()).encode()), signature))
    source = source_for(directory, (authority.root_cert,))
    with pytest.raises(DirectoryError):
        core_directory.verify(forged, source.keys().store.key, "1001")
    write_directory(directory, school_keys, SCHOOL.name_th, SCHOOL.name_en, {}, ISSUED_AT)
    assert core_directory.verify(path.read_text(), source.keys().store.key,
                                 "1001").name_en == SCHOOL.name_en


def test_without_a_directory_codes_are_shown(tmp_path: Path, authority: Authority,
                                             school_keys: InstitutionKeys,
                                             documents: Documents) -> None:
    directory = publish(tmp_path / "p", authority, [school_keys], datetime.now(UTC))
    (directory / "status" / "1001" / "directory.jws").unlink()
    app = create_app(file_config(directory))
    body = app.test_client().post("/api/v1/verify",
                                  json={"credential": documents.school.credential}).get_json()
    assert body["result"] == "VALID"
    assert body["data"]["programme"] == {"code": "LS-2551", "name_th": None, "name_en": None}


# --- the PDF path: the QR on the page is the embedded credential ---------------------------


@needs_tools
def test_genuine_pdf_printed_qr_passes(client: FlaskClient, documents: Documents) -> None:
    for doc in (documents.school, documents.vocational):
        assert statuses(post_pdf(client, doc.pdf))["printed_qr"] == "pass"


@needs_tools
def test_page_with_another_students_qr_is_invalid(client: FlaskClient, documents: Documents,
                                                  boy_at_school: IssuedDocument,
                                                  school_keys: InstitutionKeys) -> None:
    """Signed by the school, record and embedded credential B's, the QR on the page A's."""
    body = post_pdf(client, page_with_qr_of(documents.school, boy_at_school.record,
                                            school_keys))
    assert body["result"] == "INVALID"
    failed = {cid for cid, status in statuses(body).items() if status == "fail"}
    assert failed == {"printed_qr"}
    check = next(c for c in body["checks"] if c["id"] == "printed_qr")
    assert "not this PDF's credential" in check["message_en"]


@needs_tools
def test_page_with_some_other_qr_is_invalid(client: FlaskClient,
                                            boy_at_school: IssuedDocument,
                                            school_keys: InstitutionKeys) -> None:
    record = boy_at_school.record
    record_json = to_canonical(record)
    record_digest = digest(record_json)
    credential = sign_credential(claims_for(record, record_digest), school_keys)
    pdf = render_transcript(record, "https://example.org/", printed_code(record_digest))
    signed = TranscriptSigner(school_keys).sign(attach_files(pdf, record_json, credential))
    body = post_pdf(client, signed)
    assert statuses(body)["printed_qr"] == "fail"
    assert body["result"] == "INVALID"


def test_unreadable_page_is_indeterminate(monkeypatch: pytest.MonkeyPatch,
                                          documents: Documents) -> None:
    """No QR read (or no renderer): nothing proven either way, so never VALID."""
    from verifier import printed_qr

    monkeypatch.setattr(printed_qr, "page_qr_codes", lambda pdf: [])
    assert printed_qr.check(documents.school.pdf, documents.school.credential).status.value \
        == "indeterminate"
    monkeypatch.setattr(printed_qr, "page_qr_codes", lambda pdf: None)
    assert "could not be rendered" in printed_qr.check(
        documents.school.pdf, documents.school.credential).message_en


def test_untrusted_pdf_is_never_rendered(client: FlaskClient, documents: Documents,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A PDF whose signature fails is not given to the renderer at all."""
    from verifier import printed_qr

    rendered: list[int] = []
    monkeypatch.setattr(printed_qr, "page_qr_codes", lambda pdf: rendered.append(1) or [])
    data = bytearray(documents.school.pdf)
    data[10] ^= 1  # inside the signed range
    body = post_pdf(client, bytes(data))
    assert body["result"] == "INVALID"
    assert statuses(body)["printed_qr"] == "skipped"
    assert rendered == []


def test_directory_is_cached_and_kept_while_the_issuer_is_down(
    published: Path, authority: Authority, documents: Documents
) -> None:
    from tests.verifier.conftest import FakeClock
    from verifier.sources import FetchError, fetch_location

    clock, calls, down = FakeClock(), [], []

    def fetch(location: str):  # type: ignore[no-untyped-def]
        calls.append(location)
        if down:
            raise FetchError("unreachable")
        return fetch_location(location)

    source = source_for(published, (authority.root_cert,))
    directories = Directories(source, clock=clock, fetch=fetch, ttl=3600, retry_after=60)
    assert directories.get("1001").name_en == SCHOOL.name_en  # type: ignore[union-attr]
    assert directories.get("1001") and len(calls) == 1  # from the cache
    clock.advance(3601)
    down.append(True)
    assert directories.get("1001").name_en == SCHOOL.name_en  # type: ignore[union-attr]
    assert len(calls) == 2  # tried, failed: the last good copy
    assert directories.get("1001") and len(calls) == 2  # not retried within a minute
    assert directories.get("../1001") is None and len(calls) == 2  # never a path outside
