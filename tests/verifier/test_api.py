"""The JSON API on real transcripts: each verdict, the signed data, the errors."""

from __future__ import annotations

import io
from typing import Any

import pikepdf
import pytest
from flask.testing import FlaskClient

from tests.compact_forge import raise_gpa
from tests.verifier.conftest import BASE_URL, Documents


def post_pdf(client: FlaskClient, data: bytes, name: str = "t.pdf") -> Any:
    return client.post("/api/v1/verify", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def post_credential(client: FlaskClient, text: str) -> Any:
    return client.post("/api/v1/verify", json={"credential": text})


def statuses(body: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in body["checks"]}


def test_school_pdf_is_valid_with_its_signed_data(client: FlaskClient, documents: Documents):
    response = post_pdf(client, documents.school.pdf)
    assert response.status_code == 200
    body = response.get_json()
    assert body["result"] == "VALID", body["checks"]
    found = statuses(body)
    assert {s for cid, s in found.items() if cid != "signing_time"} == {"pass"}
    assert found["signing_time"] == "warn"  # a B-B file: the signer's own time only
    assert found["pades_level"] == found["long_term_validity"] == "pass"
    for cid in ("pdf_signature", "pdf_unmodified", "pdf_signer_trusted", "record_digest",
                "credential_signature", "same_institution", "not_revoked", "latest_version",
                "issuer_keys"):
        assert statuses(body)[cid] == "pass"
    data = body["data"]
    assert data["source"] == "pdf"
    assert data["student"] == {"name_th": "เด็กหญิง กัญญ์ณัฏฐ์ ศรีสุวรรณ์",
                               "name_en": "Miss Kanyanat Srisuwan"}
    assert data["institution"]["name_th"] == "โรงเรียนวัดดอน (สำนักงานเขตสาทร)"
    assert data["institution"]["code"] == "1001"
    assert data["programme"]["name_en"] == "Basic Education Core Curriculum, Lower Secondary"
    assert data["gpa"] == documents.school.record.summary.gpa.to_eng_string()
    assert data["graduation_date"] == "2026-03-31"
    assert data["graduation_date_th"] == "31 มีนาคม พ.ศ. 2569"
    assert data["graduation_date_en"] == "31 March 2026"
    assert response.headers["Cache-Control"] == "no-store"


def test_vocational_pdf_is_valid(client: FlaskClient, documents: Documents) -> None:
    body = post_pdf(client, documents.vocational.pdf).get_json()
    assert body["result"] == "VALID", body["checks"]
    assert body["data"]["gpa"] is None
    assert body["data"]["programme"]["code"] == "IND-AC200"
    assert body["data"]["institution"]["name_en"] == (
        "BMA Vocational Training School (Din Daeng 1)")


@pytest.mark.parametrize("which", ["school", "vocational"])
def test_credential_and_qr_url_are_valid(client: FlaskClient, documents: Documents,
                                         which: str) -> None:
    doc = getattr(documents, which)
    for text in (doc.credential, f"{BASE_URL}/v#{doc.credential}"):
        body = post_credential(client, text).get_json()
        assert body["result"] == "VALID", body["checks"]
        assert body["data"]["source"] == "credential"
        assert body["data"]["student"]["name_th"] == doc.record.record.student.name.name_th
        # the QR path names the institution from its certificate subject
        assert body["data"]["institution"]["code"] == doc.record.institution.code
        assert body["data"]["institution"]["name_en"]


def test_credential_also_accepted_as_a_form_field(client: FlaskClient, documents: Documents):
    response = client.post("/api/v1/verify", data={"credential": documents.school.credential})
    assert response.get_json()["result"] == "VALID"


def test_tampered_credential_is_invalid(client: FlaskClient, documents: Documents) -> None:
    forged = raise_gpa(documents.school.credential)  # grade inflation, signature kept
    body = post_credential(client, forged).get_json()
    assert body["result"] == "INVALID"
    assert statuses(body)["credential_signature"] == "fail"
    assert body["data"] == {}


def test_garbage_credential_is_invalid_not_an_error(client: FlaskClient) -> None:
    response = post_credential(client, "hello")
    assert response.status_code == 200
    assert response.get_json()["result"] == "INVALID"


def test_revoked(client: FlaskClient, documents: Documents) -> None:
    for response in (post_credential(client, documents.revoked.credential),
                     post_pdf(client, documents.revoked.pdf)):
        body = response.get_json()
        assert body["result"] == "REVOKED"
        assert statuses(body)["not_revoked"] == "fail"


def test_superseded_and_its_successor(client: FlaskClient, documents: Documents) -> None:
    for response in (post_credential(client, documents.superseded.credential),
                     post_pdf(client, documents.superseded.pdf)):
        body = response.get_json()
        assert body["result"] == "SUPERSEDED"
        assert statuses(body)["latest_version"] == "fail"
        assert statuses(body)["not_revoked"] == "pass"
    assert post_credential(client, documents.successor.credential).get_json()["result"] == "VALID"


# --- errors: clear 4xx, never a 500 ---------------------------------------------------------


def _error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == code
    assert body["message_en"] and body["message_th"]


def test_non_pdf_upload(client: FlaskClient) -> None:
    _error(post_pdf(client, b"GIF89a not a pdf"), 415, "not_pdf")


def test_unsigned_pdf(client: FlaskClient) -> None:
    out = io.BytesIO()
    with pikepdf.new() as pdf:
        pdf.add_blank_page()
        pdf.save(out)
    _error(post_pdf(client, out.getvalue()), 422, "unsigned_pdf")


def test_encrypted_pdf(client: FlaskClient, documents: Documents) -> None:
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(documents.school.pdf)) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(owner="o", user="", R=6))
    _error(post_pdf(client, out.getvalue()), 422, "encrypted_pdf")


def test_truncated_pdf(client: FlaskClient, documents: Documents) -> None:
    response = post_pdf(client, documents.school.pdf[:2000])
    assert response.status_code == 422
    assert response.get_json()["error"] in {"unreadable_pdf", "unsigned_pdf"}


def test_raw_pdf_body(client: FlaskClient, documents: Documents) -> None:
    response = client.post("/api/v1/verify", data=documents.school.pdf,
                           content_type="application/pdf")
    assert response.get_json()["result"] == "VALID"


def test_oversize_upload(published, documents: Documents) -> None:
    from tests.verifier.conftest import file_config
    from verifier.app import create_app

    client = create_app(file_config(published, max_upload=20_000)).test_client()
    _error(post_pdf(client, documents.school.pdf), 413, "too_large")


@pytest.mark.parametrize("body, code", [
    (b"{not json", "bad_json"),
    (b"[]", "missing_credential"),
    (b'{"credential": 42}', "missing_credential"),
    (b'{"other": "x"}', "missing_credential"),
])
def test_bad_json(client: FlaskClient, body: bytes, code: str) -> None:
    _error(client.post("/api/v1/verify", data=body, content_type="application/json"), 400, code)


def test_other_errors(client: FlaskClient) -> None:
    _error(client.post("/api/v1/verify", data=b"x", content_type="text/plain"), 415,
           "unsupported_media_type")
    _error(client.post("/api/v1/verify", data={}, content_type="multipart/form-data"), 400,
           "missing_input")
    _error(client.get("/api/v1/verify"), 405, "method_not_allowed")
    _error(client.get("/api/v1/nothing"), 404, "not_found")
    _error(post_credential(client, "x" * 9000), 413, "credential_too_long")


def test_unconfigured_verifier_answers_503(tmp_path) -> None:
    from verifier.app import create_app
    from verifier.app.config import VerifierConfig

    client = create_app(VerifierConfig(roots=(tmp_path / "missing.crt",), jwks=None,
                                       status=None)).test_client()
    _error(post_credential(client, "a.b.c"), 503, "not_configured")


def test_the_credential_is_never_logged(client: FlaskClient, documents: Documents,
                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    token = documents.school.credential
    post_credential(client, token)
    post_credential(client, token[:-3] + "000")
    client.post("/api/v1/verify", data=f'{{"credential": "{token}"',
                content_type="application/json")
    post_pdf(client, documents.school.pdf)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    middle = len(token) // 2
    assert token[-20:] not in logged and token[-40:-20] not in logged
    assert token[middle:middle + 20] not in logged
