"""The verifier's API and page take a transcript's W3C VC 2.0 export (``.vc.json``) as
well: the same trust and status as the QR path, its own summary (scope ``vc``)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from issuer.adapters.pki import InstitutionKeys
from issuer.adapters.vc_export import to_bytes, transcript_credential
from issuer.pipeline import IssuedDocument
from tests.verifier.conftest import Documents

ISSUER_URL = "https://transcripts.bkt.example"


@pytest.fixture(scope="module")
def exported(documents: Documents, school_keys: InstitutionKeys) -> dict[str, bytes]:
    def vc(doc: IssuedDocument) -> bytes:
        return to_bytes(transcript_credential(doc.record, doc.record_digest, school_keys,
                                              ISSUER_URL))

    return {"school": vc(documents.school), "revoked": vc(documents.revoked),
            "superseded": vc(documents.superseded)}


def post_vc(client: FlaskClient, data: bytes, mimetype: str = "application/vc") -> Any:
    return client.post("/api/v1/verify", data=data, content_type=mimetype)


def test_an_export_is_valid_with_its_record(client: FlaskClient,
                                            exported: dict[str, bytes]) -> None:
    for mimetype in ("application/vc", "application/vc+ld+json"):
        response = post_vc(client, exported["school"], mimetype)
        assert response.status_code == 200
        body = response.get_json()
        assert body["result"] == "VALID", body["checks"]
        assert body["summary"]["scope"] == "vc"
        assert body["data"]["source"] == "vc"
        assert body["data"]["student"]["name_en"] == "Miss Kanyanat Srisuwan"
        found = {c["id"]: c["status"] for c in body["checks"]}
        assert found["record_digest"] == found["credential_institution"] == "pass"
    upload = client.post("/api/v1/verify", content_type="multipart/form-data",
                         data={"file": (io.BytesIO(exported["school"]), "t.vc.json")})
    assert upload.get_json()["result"] == "VALID"


def test_status_and_forgery(client: FlaskClient, exported: dict[str, bytes]) -> None:
    assert post_vc(client, exported["revoked"]).get_json()["result"] == "REVOKED"
    assert post_vc(client, exported["superseded"]).get_json()["result"] == "SUPERSEDED"
    forged = json.loads(exported["school"])
    forged["credentialSubject"]["transcript"]["summary"]["gpa"] = "4.00"
    assert post_vc(client, json.dumps(forged).encode()).get_json()["result"] == "INVALID"


@pytest.mark.parametrize("data", [b"{}", b'{"type": "x"}', b"[1]", b"{" * 10_000, b"nope"])
def test_what_is_not_an_export_is_refused(client: FlaskClient, data: bytes) -> None:
    response = post_vc(client, data)
    assert response.status_code == 415
    assert response.get_json()["error"] == "not_vc"


def test_the_page_takes_the_file(client: FlaskClient, exported: dict[str, bytes]) -> None:
    assert ".vc.json" in client.get("/v").get_data(as_text=True)  # offered on the form
    response = client.post("/v", content_type="multipart/form-data",
                           data={"upload": (io.BytesIO(exported["school"]), "t.vc.json")})
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-scope="vc"' in text and "VALID" in text
