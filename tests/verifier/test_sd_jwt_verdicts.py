"""SD-JWT VC presentations through the verifier's API and page: the same trust and status
as the QR credential, exactly the disclosed claims shown, the rest said to be withheld."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.sdjwt_node import node_verify, require_node
from tests.verifier.conftest import REVOKED_INDEX, SUPERSEDED_INDEX, Documents
from verifier.core import sd_jwt, sd_jwt_vc, token_status_list
from verifier.core.canonical import b64url_decode

CHOSEN = {"name", "gpa", "courses.0"}


def verify(client: FlaskClient, text: str) -> dict[str, Any]:
    response = client.post("/api/v1/verify", json={"credential": text})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def record(doc: Any) -> dict[str, Any]:
    return json.loads(doc.record_json)


def status_list(keys: Any, presentation: str) -> str:
    """The school's Token Status List as the issuer publishes it, at the URI the
    presentation names (the conftest's revoked and superseded indexes)."""
    payload = json.loads(b64url_decode(presentation.split(".")[1]))
    return token_status_list.sign(
        payload["status"]["status_list"]["uri"],
        token_status_list.statuses([REVOKED_INDEX], [SUPERSEDED_INDEX]),
        keys.credential_key, keys.kid, datetime.now(UTC), ttl=timedelta(seconds=30),
        validity=timedelta(days=30))


def test_a_presentation_is_valid_and_shows_only_what_was_disclosed(
        client: FlaskClient, documents: Documents) -> None:
    presentation = sd_jwt_vc.presentation(documents.school.sd_jwt, CHOSEN)
    body = verify(client, presentation)
    assert body["result"] == "VALID", body["checks"]
    assert body["summary"]["scope"] == "sd-jwt-vc"
    checks = {c["id"]: c["status"] for c in body["checks"]}
    assert checks["disclosures"] == "pass" and checks["not_revoked"] == "pass"
    assert checks["credential_issuer_trusted"] == "pass"
    data, rec = body["data"], record(documents.school)
    assert data["format"] == "sd-jwt-vc" and data["transcript_id"] == rec["transcript_id"]
    assert data["disclosed"]["gpa"] == rec["summary"]["gpa"] == data["gpa"]
    assert data["disclosed"]["courses"] == rec["courses"][:1]
    assert set(data["disclosed"]) == {"name", "gpa", "courses"}
    assert data["student"]["name_en"].endswith(rec["student"]["last_name_en"])
    assert data["graduation_date"] is None and data["programme"]["name_en"] is None
    withheld = len(rec["courses"]) - 1
    assert data["withheld"] == {"fields": ["programme", "graduation_date"],
                                "terms": len(rec["summary"]["terms"]), "courses": withheld}
    assert f"{withheld} courses not disclosed" in data["withheld_en"]
    assert f"รายวิชา {withheld} รายการไม่เปิดเผย" in data["withheld_th"]
    # nothing of what was withheld is anywhere in the answer
    text = json.dumps(body, ensure_ascii=False)
    assert rec["programme"]["name_en"] not in text and rec["courses"][1]["name_en"] not in text


def test_the_link_form_and_a_vocational_certificate(client: FlaskClient,
                                                    documents: Documents) -> None:
    presentation = sd_jwt_vc.presentation(documents.vocational.sd_jwt,
                                          {"programme", "modules.1"})
    body = verify(client, "https://verify.bkt.example/sd#" + presentation)
    assert body["result"] == "VALID" and body["data"]["kind"] == "vocational"
    assert body["data"]["disclosed"]["modules"] == record(documents.vocational)["modules"][1:2]
    assert body["data"]["withheld"]["fields"] == ["name", "graduation_date"]


@pytest.mark.parametrize(("which", "result"), [("revoked", "REVOKED"),
                                               ("superseded", "SUPERSEDED")])
def test_status_as_for_the_qr_credential(client: FlaskClient, documents: Documents,
                                         which: str, result: str) -> None:
    doc = getattr(documents, which)
    body = verify(client, sd_jwt_vc.presentation(doc.sd_jwt, {"name"}))
    assert body["result"] == result
    assert body["data"]["status"]["state"] == which


@pytest.mark.parametrize("which", ["revoked", "superseded"])
def test_the_npm_library_refuses_them_through_the_token_status_list(
        documents: Documents, school_keys: Any, tmp_path: Path, which: str) -> None:
    require_node()
    presentation = sd_jwt_vc.presentation(getattr(documents, which).sd_jwt, {"name"})
    answer = node_verify(presentation, school_keys.credential_cert.public_key(), tmp_path,
                         status_list(school_keys, presentation))
    assert not answer["verified"] and "Status is not valid" in answer["error"]


def _changed_gpa(presentation: str) -> str:
    parts = sd_jwt.split(presentation)
    out = []
    for d in parts.disclosures:
        item = json.loads(b64url_decode(d))
        out.append(sd_jwt.encode_disclosure([item[0], "gpa", "4.00"])
                   if item[1:2] == ["gpa"] else d)
    return "~".join([parts.jwt, *out, ""])


def test_a_tampered_presentation_is_invalid_here_and_in_the_npm_library(
        client: FlaskClient, documents: Documents, school_keys: Any, tmp_path: Path) -> None:
    tampered = _changed_gpa(sd_jwt_vc.presentation(documents.school.sd_jwt, CHOSEN))
    body = verify(client, tampered)
    assert body["result"] == "INVALID" and body["data"] == {}
    assert "not referenced" in body["checks"][0]["message_en"]
    require_node()
    answer = node_verify(tampered, school_keys.credential_cert.public_key(), tmp_path,
                         status_list(school_keys, tampered))
    assert "4.00" not in json.dumps(answer.get("claims", {})) and answer["unused"]


def test_the_npm_library_agrees_with_our_verdict(client: FlaskClient, documents: Documents,
                                                 school_keys: Any, tmp_path: Path) -> None:
    require_node()
    for chosen in (CHOSEN, {"programme", "graduation_date", "terms.2"}):
        presentation = sd_jwt_vc.presentation(documents.school.sd_jwt, chosen)
        ours = verify(client, presentation)["data"]["disclosed"]
        theirs = node_verify(presentation, school_keys.credential_cert.public_key(), tmp_path,
                             status_list(school_keys, presentation))
        assert theirs["verified"] and theirs["unused"] == []
        claims = theirs["claims"]
        assert {k: v for k, v in claims.items() if k in ours} == ours
        assert not {"name", "programme", "graduation_date", "gpa"} - chosen & set(claims)


def test_the_page_shows_disclosed_and_withheld(client: FlaskClient,
                                               documents: Documents) -> None:
    assert client.get("/sd").status_code == 200
    presentation = sd_jwt_vc.presentation(documents.school.sd_jwt, {"name", "courses.0"})
    page = client.post("/v", data={"credential": presentation}).get_data(as_text=True)
    assert 'data-result="VALID"' in page and 'data-scope="sd-jwt-vc"' in page
    rec = record(documents.school)
    courses = re.search(r'id="disclosed-courses"(.*?)</ul>', page, re.S)
    assert courses and courses.group(1).count("<li>") == 1
    assert rec["courses"][0]["name_th"] in courses.group(1)
    withheld = re.search(r'id="withheld"(.*?)</ul>', page, re.S)
    assert withheld and f"{len(rec['courses']) - 1} courses not disclosed" in withheld.group(1)
    assert "GPAX" in withheld.group(1)


def test_the_openapi_document_names_sd_jwt_vc(client: FlaskClient) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "SD-JWT VC" in doc["info"]["description"]
    verdict = doc["components"]["schemas"]["Verdict"]
    assert "sd-jwt-vc" in verdict["properties"]["summary"]["properties"]["scope"]["enum"]
    assert "withheld" in verdict["properties"]["data"]["properties"]


def test_damaged_presentations_get_a_verdict_never_an_error(client: FlaskClient,
                                                            documents: Documents) -> None:
    from tests.verifier.test_sd_jwt import _mutations

    presentation = sd_jwt_vc.presentation(documents.school.sd_jwt, CHOSEN)
    results = set()
    for damaged in _mutations(presentation, 80):
        response = client.post("/api/v1/verify", json={"credential": damaged})
        assert response.status_code in (200, 400), response.get_data(as_text=True)[:300]
        if response.status_code == 200:
            results.add(response.get_json()["result"])
    assert results <= {"VALID", "INVALID", "UNTRUSTED", "INDETERMINATE"} and "INVALID" in results


def test_another_institutions_key_cannot_vouch_for_a_school_record(
        client: FlaskClient, documents: Documents, training_keys: Any) -> None:
    """The school's record signed, well, by the training school's key: the signature
    checks out, the key is not the institution's it names (``credential_institution``)."""
    rec = record(documents.school)
    forged = sd_jwt_vc.sign(rec, training_keys.credential_key, training_keys.kid,
                            status_uri=sd_jwt_vc.status_uri("https://x.example", "1001"))
    body = verify(client, sd_jwt_vc.presentation(forged, CHOSEN))
    checks = {c["id"]: c["status"] for c in body["checks"]}
    assert checks["credential_signature"] == "pass"
    assert checks["credential_institution"] == "fail"
    assert body["result"] == "INVALID"
