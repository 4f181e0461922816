"""Graduates and employers through the web: the school makes claim links (one, or a CSV
for a batch), the graduate downloads and shares with a PIN, the employer opens the share,
the graduate reads the access log and revokes it; bad links are all the same 404."""

from __future__ import annotations

import csv
import io
import re

import pytest
from flask import Flask

from issuer.services.context import Actor, Issuer
from tests.e2e.conftest import issue_file
from tests.web.conftest import Browser, as_user

CLAIM_URL = "ลิงก์รับเอกสาร"  # the claim links CSV's column, in Thai (the default)
REG = Actor("reg1001", "test")


@pytest.fixture
def issued(web_issuer: Issuer) -> tuple[int, list[str]]:
    batch_id, report = issue_file(web_issuer, "1001", "school-batch.csv")
    ids = [re.sub(r"-v\d+-\d+\.pdf$", "", p.split("/")[-1]) for p in report.issued]
    return batch_id, ids


def _found(pattern: str, page: str) -> str:
    match = re.search(pattern, page)
    assert match, pattern
    return match.group(1)


def test_claim_share_open_log_revoke(app: Flask, issued: tuple[int, list[str]]) -> None:
    _, ids = issued
    registrar = as_user(app, "reg1001")
    registrar.get(f"/transcripts/{ids[0]}")
    page = registrar.post(f"/transcripts/{ids[0]}/claim-link").get_data(as_text=True)
    claim_url = _found(r'id="claim-url">([^<]+)<', page)
    claim_path = "/" + claim_url.split("/", 3)[3]
    assert re.fullmatch(r"/c/[A-Za-z0-9_-]{40,}", claim_path)

    graduate = Browser(app.test_client())
    response = graduate.get(claim_path)
    assert response.status_code == 200 and ids[0] in response.get_data(as_text=True)
    assert response.headers["Referrer-Policy"] == "no-referrer"
    pdf = graduate.client.get(f"{claim_path}/v1.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-1.7")
    assert graduate.client.get(f"{claim_path}/v9.pdf").status_code == 404
    assert f"{claim_path}/v1.vc.json" in response.get_data(as_text=True)  # a link beside it
    vc = graduate.client.get(f"{claim_path}/v1.vc.json")  # the W3C VC 2.0 export
    assert vc.status_code == 200 and vc.mimetype == "application/vc+ld+json"
    assert vc.json["credentialSubject"]["transcript"]["transcript_id"] == ids[0]
    assert graduate.client.get(f"{claim_path}/v9.vc.json").status_code == 404

    refused = graduate.post(f"{claim_path}/shares", {"pin": "12"})  # a bad PIN
    assert refused.status_code == 400
    assert "PIN ต้องเป็นตัวเลข 4 ถึง 12 หลัก" in refused.get_data(as_text=True)  # in Thai
    page = graduate.post(f"{claim_path}/shares", {"label": "ACME Co.", "days": "7",
                                                  "pin": "4321"}).get_data(as_text=True)
    share_url = _found(r'id="new-share">([^<]+)<', page)
    share_path = "/" + share_url.split("/", 3)[3]

    employer = Browser(app.test_client())
    page = employer.get(share_path).get_data(as_text=True)
    assert 'name="pin"' in page and ids[0] not in page  # the PIN first
    assert employer.post(share_path, {"pin": "0000"}).status_code == 401
    response = employer.post(share_path, {"pin": "4321"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and ids[0] in page and 'id="share-status"' in page
    pdf = employer.post(f"{share_path}/transcript.pdf", {"pin": "4321"})
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-1.7")
    assert employer.client.get(f"{share_path}/transcript.pdf").status_code == 200  # PIN form

    page = graduate.get(claim_path).get_data(as_text=True)
    assert "ACME Co." in page
    log = _found(r'<ul class="log">(.*?)</ul>', page.replace("\n", " "))
    assert log.count("<li>") == 3  # wrong PIN, viewed, viewed (the download)
    share_id = _found(r'/shares/(\d+)/revoke', page)
    graduate.post(f"{claim_path}/shares/{share_id}/revoke")
    assert employer.post(share_path, {"pin": "4321"}).status_code == 404

    registrar.get(f"/transcripts/{ids[0]}")
    registrar.post(f"/transcripts/{ids[0]}/revoke", {"reason": "issued in error"})
    page = graduate.get(claim_path).get_data(as_text=True)
    assert 's-revoked" id="claim-status"' in page and "issued in error" in page


def test_a_new_claim_link_replaces_the_old_one(app: Flask, issued: tuple[int, list[str]]) -> None:
    _, ids = issued
    registrar = as_user(app, "reg1001")
    urls = []
    for _ in range(2):
        registrar.get(f"/transcripts/{ids[1]}")
        page = registrar.post(f"/transcripts/{ids[1]}/claim-link").get_data(as_text=True)
        urls.append("/" + _found(r'id="claim-url">([^<]+)<', page).split("/", 3)[3])
    client = app.test_client()
    assert client.get(urls[0]).status_code == 404
    assert client.get(urls[1]).status_code == 200


def test_claim_links_for_a_batch_as_csv(app: Flask, issued: tuple[int, list[str]]) -> None:
    batch_id, ids = issued
    registrar = as_user(app, "reg1001")
    registrar.get(f"/batches/{batch_id}")
    response = registrar.post(f"/batches/{batch_id}/claim-links.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert sorted(r["เลขที่เอกสาร"] for r in rows) == sorted(ids)
    assert all(r["เลขประจำตัวนักเรียน"] and r["ชื่อ (ภาษาไทย)"] for r in rows)
    path = "/" + rows[0][CLAIM_URL].split("/", 3)[3]
    assert app.test_client().get(path).status_code == 200


@pytest.mark.parametrize("method,path", [
    ("GET", "/c/{t}"), ("GET", "/c/{t}/v1.pdf"), ("POST", "/c/{t}/shares"),
    ("POST", "/c/{t}/shares/1/revoke"), ("GET", "/s/{t}"), ("POST", "/s/{t}"),
    ("GET", "/s/{t}/transcript.pdf"),
])
def test_bad_links_are_not_found_and_forms_need_csrf(app: Flask, method: str,
                                                     path: str) -> None:
    browser = Browser(app.test_client())
    for token in ("x", "A" * 43, "../../admin"):
        url = path.format(t=token)
        response = browser.get(url) if method == "GET" else browser.post(url, {"pin": "1234"})
        assert response.status_code == 404, url
    if method == "POST":
        assert browser.post(path.format(t="A" * 43), csrf=False).status_code == 400
