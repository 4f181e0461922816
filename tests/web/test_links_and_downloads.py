"""Links, downloads and reasons (issue 10): claim and share URLs come from the configured
public base URL whatever Host the request names, every download is ``no-store``, and a
reason is bounded."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from types import SimpleNamespace

import pytest

from issuer.core.lifecycle import AccountRole
from issuer.core.records import reason_text
from issuer.services.context import Actor, Issuer, ServiceError
from issuer.services.lifecycle import revoke
from issuer.services.review import reject_batch
from tests.e2e.conftest import issue_file
from tests.web.conftest import Browser, as_user, web_app

CLAIM_URL = "ลิงก์รับเอกสาร"  # the claim links CSV's column, in Thai (the default)
BASE = "https://transcripts.example.go.th"
DIRECTOR = Actor("dir1001", "test", AccountRole.APPROVER, "1001")
REGISTRAR = Actor("reg1001", "test", AccountRole.REGISTRAR, "1001")


def _evil(app, username: str | None = None) -> Browser:  # type: ignore[no-untyped-def]
    """A browser whose every request names ``Host: evil.example``."""
    client = app.test_client()
    client.environ_base["HTTP_HOST"] = "evil.example"
    browser = Browser(client)
    if username:
        assert browser.login(username).status_code == 302
    return browser


def _found(pattern: str, page: str) -> str:
    match = re.search(pattern, page)
    assert match, pattern
    return match.group(1)


def test_links_ignore_the_host_header_and_downloads_are_not_stored(
        web_issuer: Issuer) -> None:
    batch_id, report = issue_file(web_issuer, "1001", "school-batch.csv")
    tid = re.sub(r"-v\d+-\d+\.pdf$", "", report.issued[0].split("/")[-1])
    app = web_app(web_issuer, public_base_url=BASE)
    registrar = _evil(app, "reg1001")
    downloads = {}

    # a claim link, a batch's claim links as CSV, a share link: all on BASE
    registrar.get(f"/transcripts/{tid}")
    page = registrar.post(f"/transcripts/{tid}/claim-link")
    claim_url = _found(r'id="claim-url">([^<]+)<', page.get_data(as_text=True))
    assert claim_url.startswith(f"{BASE}/c/")
    links = registrar.post(f"/batches/{batch_id}/claim-links.csv")
    downloads["claim-links.csv"] = links
    rows = list(csv.DictReader(io.StringIO(links.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows and all(r[CLAIM_URL].startswith(f"{BASE}/c/") for r in rows)
    claim_path = rows[0][CLAIM_URL].removeprefix(BASE)
    graduate = _evil(app)
    graduate.get(claim_path)
    page = graduate.post(f"{claim_path}/shares", {"days": "7"})
    share_url = _found(r'id="new-share">([^<]+)<', page.get_data(as_text=True))
    assert share_url.startswith(f"{BASE}/s/")
    assert "evil.example" not in links.get_data(as_text=True) + share_url + claim_url

    # every kind of download: PDF, ZIP, CSV, JSON lines
    transcript_id = rows[0]["เลขที่เอกสาร"]
    downloads["claim pdf"] = graduate.client.get(f"{claim_path}/v1.pdf")
    downloads["claim vc"] = graduate.client.get(f"{claim_path}/v1.vc.json")
    downloads["share pdf"] = graduate.client.get(
        f"{share_url.removeprefix(BASE)}/transcript.pdf")
    downloads["staff pdf"] = registrar.client.get(f"/transcripts/{transcript_id}/v1.pdf")
    downloads["batch zip"] = registrar.client.get(f"/batches/{batch_id}/transcripts.zip")
    admin = as_user(app, "admin")
    downloads["audit csv"] = admin.client.get("/admin/audit.csv")
    downloads["audit jsonl"] = admin.client.get("/admin/audit/export.jsonl")
    downloads["audit export csv"] = admin.client.get("/admin/audit/export.csv")
    for name, response in downloads.items():
        assert response.status_code == 200, name
        assert "attachment" in response.headers["Content-Disposition"], name
        assert response.headers["Cache-Control"] == "no-store", name


    # a 5 MB revocation reason is refused with a clear error; nothing is revoked
    registrar.get(f"/transcripts/{tid}")
    response = registrar.post(f"/transcripts/{tid}/revoke", {"reason": "x" * 5_000_000},
                              follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "เหตุผลยาวได้ไม่เกิน 500 ตัวอักษร" in page and "x" * 501 not in page
    with pytest.raises(ServiceError, match="at most 500 characters"):
        reject_batch(web_issuer, batch_id, reason="y" * 501, actor=DIRECTOR)
    assert reason_text(" " + "z" * 500 + " ") == "z" * 500


    # the batch ZIP holds current versions only: a revoked one leaves it
    before = zipfile.ZipFile(io.BytesIO(downloads["batch zip"].data)).namelist()
    assert f"{tid}-v1.pdf" in before and f"{tid}-v1.vc.json" in before  # the VC beside it
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    revoke(web_issuer, tid, reason=f"issued in error {hostile}", actor=REGISTRAR)
    after = registrar.client.get(f"/batches/{batch_id}/transcripts.zip")
    assert sorted(zipfile.ZipFile(io.BytesIO(after.data)).namelist()) == \
        sorted(n for n in before if n not in (f"{tid}-v1.pdf", f"{tid}-v1.vc.json"))

    # free text reaches the pages escaped (ASVS 5.3.3): the reason is shown, never run
    page = registrar.get(f"/transcripts/{tid}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page and "<img src=x" not in page


def test_production_needs_its_https_address(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Links cannot silently point at the development default in production."""
    from issuer.serve import commands
    from issuer.web.config import WebConfig

    env = {"BKT_VAR_DIR": str(tmp_path), "BKT_WEB_SECRET_KEY": "k"}
    with pytest.raises(ValueError, match="BKT_PUBLIC_BASE_URL"):
        WebConfig.from_env(env)
    with pytest.raises(ValueError, match="https://"):
        WebConfig.from_env(env | {"BKT_PUBLIC_BASE_URL": "http://transcripts.example.go.th"})
    assert WebConfig.from_env(env | {"BKT_PUBLIC_BASE_URL": BASE}).public_base_url == BASE
    assert WebConfig.from_env(env | {"BKT_WEB_SECURE_COOKIES": "0"}).secure_cookies is False
    settings = SimpleNamespace(keys_dir=tmp_path, pki_url=None)  # `transcripts serve` (dev)
    (_, issuer_env), _ = commands(settings, 8123, 8124, env)  # type: ignore[arg-type]
    assert issuer_env["BKT_PUBLIC_BASE_URL"] == "http://127.0.0.1:8123"
    (_, issuer_env), _ = commands(settings, 8123, 8124, env | {"BKT_PUBLIC_BASE_URL": BASE})  # type: ignore[arg-type]
    assert issuer_env["BKT_PUBLIC_BASE_URL"] == BASE
