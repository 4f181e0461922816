"""Hostile workbooks through the web upload (issue 10): each is a file error in the
upload's error list, read by a bounded child, and the web process goes on serving; one
account's uploads are rate-limited."""

from __future__ import annotations

import io

import pytest

from issuer.adapters import xlsx_child
from issuer.services.context import Issuer
from issuer.web.extensions import limiter
from tests import hostile_xlsx
from tests.web.conftest import as_user, web_app
from verifier.sandbox import Limits


def _upload(browser, name: str, data: bytes):  # type: ignore[no-untyped-def]
    browser.get("/batches/upload")
    return browser.post("/batches/upload", {"file": (io.BytesIO(data), name)},
                        content_type="multipart/form-data")


def test_hostile_workbooks_are_listed_errors_and_the_worker_goes_on(
        web_issuer: Issuer, monkeypatch: pytest.MonkeyPatch) -> None:
    registrar = as_user(web_app(web_issuer), "reg1001")
    cases = [(hostile_xlsx.entity_chain(), "declares a DTD"),
             (hostile_xlsx.undefined_entity(), "damaged"),
             (hostile_xlsx.shared_strings_bomb(), "unpack to more than 50 MB")]
    for data, reason in cases:
        response = _upload(registrar, "hostile.xlsx", data)
        assert response.status_code == 302
        page = registrar.get(response.headers["Location"])
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and reason in html, html[:2000]
        assert "Rejected" in html or "rejected" in html
    # the child running out of memory (as a crash would) is an error in the list too
    monkeypatch.setattr(xlsx_child, "LIMITS", Limits(memory=20 * (1 << 20)))
    response = _upload(registrar, "school.xlsx",
                       hostile_xlsx.EXAMPLES.joinpath("school-batch.xlsx").read_bytes())
    html = registrar.get(response.headers["Location"]).get_data(as_text=True)
    assert "could not be read within the time and memory allowed" in html
    assert registrar.get("/batches").status_code == 200  # the same process, still serving


def test_uploads_are_limited_per_account(web_issuer: Issuer) -> None:
    app = web_app(web_issuer, upload_limit="2 per hour")
    registrar, other = as_user(app, "reg1001"), as_user(app, "reg2001")
    for _ in range(2):
        assert _upload(registrar, "x.csv", b"not,a,batch\r\n").status_code == 302
    assert _upload(registrar, "x.csv", b"not,a,batch\r\n").status_code == 429
    assert _upload(other, "x.csv", b"not,a,batch\r\n").status_code == 302
    # Another worker process (its own memory) and a fresh sign-in count the same uploads.
    limiter.reset()
    again = as_user(web_app(web_issuer, upload_limit="2 per hour"), "reg1001")
    assert _upload(again, "x.csv", b"not,a,batch\r\n").status_code == 429
