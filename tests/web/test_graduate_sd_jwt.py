"""A graduate shares selected fields: the SD-JWT VC written beside the PDF at issuance,
the claim page's form, the employer's link holding only the chosen disclosures, verified
by our verifier (API) and by `@sd-jwt/sd-jwt-vc` alike."""

from __future__ import annotations

import html
import json
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from joserfc.jwk import ECKey

from issuer.services import graduates as g
from issuer.services.context import Actor, Issuer
from tests.e2e.conftest import VERIFIER_URL, issue_file, only_students
from tests.sdjwt_node import node_verify, require_node
from tests.web.conftest import Browser, as_user
from verifier.app import create_app as create_verifier
from verifier.app.config import VerifierConfig
from verifier.core import sd_jwt, token_status_list

REG = Actor("reg1001", "test")


@pytest.fixture
def claimed(web_issuer: Issuer) -> tuple[str, str]:
    """One school transcript issued and its claim link: (transcript ID, claim path)."""
    _, report = issue_file(web_issuer, "1001", "school-batch.csv",
                           only_students("school-batch.csv", "66001"))
    transcript_id = Path(report.issued[0]).name.split("-v")[0]
    token = g.create_claim_link(web_issuer, transcript_id, actor=REG).token
    return transcript_id, f"/c/{token}"


def verifier_client(issuer: Issuer) -> Any:
    published = issuer.settings.published_dir
    return create_verifier(VerifierConfig(
        roots=(issuer.settings.keys_dir / "root.crt",),
        jwks=str(published / ".well-known" / "jwks.json"),
        status=str(published / "status"), ratelimit_enabled=False)).test_client()


def issuer_key(issuer: Issuer, kid: str) -> Any:
    jwks = json.loads((issuer.settings.published_dir / ".well-known" / "jwks.json").read_text())
    jwk = next(k for k in jwks["keys"] if k["kid"] == kid)
    return ECKey.import_key({k: jwk[k] for k in ("kty", "crv", "x", "y")}).public_key


def test_the_sd_jwt_is_written_beside_the_pdf(web_issuer: Issuer,
                                              claimed: tuple[str, str]) -> None:
    pdfs = list((web_issuer.settings.output_dir / "1001").glob("*.pdf"))
    assert len(pdfs) == 1
    full = pdfs[0].with_suffix(".sd-jwt")
    assert stat.S_IMODE(full.stat().st_mode) == 0o600  # personal data, as the PDF
    text = full.read_text("ascii")
    payload = json.loads(sd_jwt.b64url_decode(text.split(".")[1]))
    assert payload["transcript_id"] == claimed[0] and text.endswith("~")


def test_the_graduate_picks_fields_and_the_employer_sees_only_those(
        app: Flask, web_issuer: Issuer, claimed: tuple[str, str], tmp_path: Path) -> None:
    transcript_id, claim_path = claimed
    graduate = Browser(app.test_client())
    page = graduate.get(claim_path).get_data(as_text=True)
    boxes = re.findall(r'name="field" value="([^"]+)"', page)
    assert boxes[:4] == ["name", "programme", "graduation_date", "gpa"]
    assert any(b.startswith("terms.") for b in boxes) and "courses.1" in boxes

    response = graduate.post(f"{claim_path}/sd", {"field": ["name", "gpa", "courses.1"]})
    assert response.status_code == 200
    link = html.unescape(re.search(r'id="selected-link"[^>]*>([^<]+)<',
                                   response.get_data(as_text=True)).group(1))
    assert link.startswith(VERIFIER_URL.rstrip("/") + "/sd#")
    presentation = link.split("#", 1)[1]
    assert len(sd_jwt.split(presentation).disclosures) == 3

    body = verifier_client(web_issuer).post("/api/v1/verify",
                                            json={"credential": link}).get_json()
    assert body["result"] == "VALID", body["checks"]
    data = body["data"]
    assert data["transcript_id"] == transcript_id
    assert set(data["disclosed"]) == {"name", "gpa", "courses"}
    assert len(data["disclosed"]["courses"]) == 1
    assert data["withheld"]["fields"] == ["programme", "graduation_date"]
    assert data["withheld"]["courses"] == len(boxes) - 4 - data["withheld"]["terms"] - 1

    file = graduate.post(f"{claim_path}/sd", {"field": ["name", "gpa", "courses.1"],
                                              "as": "file"})
    assert file.mimetype == "application/dc+sd-jwt"
    assert "attachment" in file.headers["Content-Disposition"]
    assert len(sd_jwt.split(file.get_data(as_text=True)).disclosures) == 3

    require_node()
    key = issuer_key(web_issuer, sd_jwt.header(presentation)["kid"])
    published = (web_issuer.settings.published_dir / "status" / "1001"
                 / "token-status.jwt").read_text()
    payload = json.loads(sd_jwt.b64url_decode(presentation.split(".")[1]))
    uri = payload["status"]["status_list"]["uri"]
    assert uri == web_issuer.settings.public_base_url + "/status/1001/token-status.jwt"
    assert json.loads(sd_jwt.b64url_decode(published.split(".")[1]))["sub"] == uri
    answer = node_verify(presentation, key, tmp_path, published)
    assert answer["verified"] and answer["unused"] == []
    assert {k: answer["claims"][k] for k in data["disclosed"]} == data["disclosed"]
    assert not {"programme", "graduation_date"} & set(answer["claims"])


def test_nothing_chosen_is_refused_and_a_revoked_version_is_not_offered(
        app: Flask, web_issuer: Issuer, claimed: tuple[str, str]) -> None:
    transcript_id, claim_path = claimed
    graduate = Browser(app.test_client())
    graduate.get(claim_path)
    refused = graduate.post(f"{claim_path}/sd", {"field": ["no-such-field"]})
    assert refused.status_code == 400 and 'role="alert"' in refused.get_data(as_text=True)
    registrar = as_user(app, "reg1001")
    registrar.get(f"/transcripts/{transcript_id}")
    registrar.post(f"/transcripts/{transcript_id}/revoke", {"reason": "issued in error"})
    page = graduate.get(claim_path).get_data(as_text=True)
    assert 'id="share-selected"' not in page
    assert graduate.post(f"{claim_path}/sd", {"field": ["name"]}).status_code == 404
    # the Token Status List the SD-JWT VCs name says so too, served by the issuer
    served = app.test_client().get("/status/1001/token-status.jwt")
    assert served.status_code == 200 and served.mimetype == "application/statuslist+jwt"
    full = next((web_issuer.settings.output_dir / "1001").glob("*.sd-jwt")).read_text()
    index = json.loads(sd_jwt.b64url_decode(full.split(".")[1]))["status"]["status_list"]["idx"]
    lst = token_status_list.payload_of(served.get_data(as_text=True))["status_list"]["lst"]
    assert token_status_list.status_at(lst, index) == token_status_list.INVALID


def test_the_existing_share_links_still_work(app: Flask, claimed: tuple[str, str]) -> None:
    graduate = Browser(app.test_client())
    graduate.get(claimed[1])
    page = graduate.post(f"{claimed[1]}/shares", {"label": "ACME"}).get_data(as_text=True)
    assert 'id="new-share"' in page and 'id="share-selected"' in page

