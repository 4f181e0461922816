"""The page without JavaScript (issue 9, part 7): its forms POST to ``/v`` and the
verdict comes back as HTML, so a credential is never in a URL (nor in the access log
that records URLs). tests/verifier/test_browser.py drives the same in Chromium with
scripts off and reads gunicorn's logs.
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path

import qrcode
from flask.testing import FlaskClient

from issuer.config import ROOT
from tests.verifier.conftest import BASE_URL, Documents, file_config
from verifier.app import create_app
from verifier.core.credential import verification_code
from verifier.core.verdict import Result
from verifier.display import badge
from verifier.qr_image import PhotoLimits


class Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, str | None]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "form":
            found = dict(attrs)
            self.forms[found.get("id") or ""] = found


def forms(html: str) -> dict[str, dict[str, str | None]]:
    parser = Forms()
    parser.feed(html)
    return parser.forms


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_every_form_posts_to_the_page(client: FlaskClient) -> None:
    found = forms(client.get("/v").get_data(as_text=True))
    assert set(found) == {"paste-form", "upload-form"}
    for form in found.values():
        assert (form["method"] or "").lower() == "post" and form["action"] == "/v"
    assert found["upload-form"]["enctype"] == "multipart/form-data"


def test_the_page_says_why_a_qr_link_needs_javascript(client: FlaskClient) -> None:
    html = client.get("/v").get_data(as_text=True)
    noscript = re.search(r"<noscript>(.*?)</noscript>", html, re.S)
    assert noscript and "needs JavaScript" in noscript.group(1)
    assert "copy the whole link" in noscript.group(1)


def test_pasted_credential_gets_the_verdict_page(client: FlaskClient,
                                                 documents: Documents) -> None:
    response = client.post("/v", data={"credential": f"{BASE_URL}/v#"
                                                     f"{documents.school.credential}"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    text = text_of(html)
    assert 'id="verdict"' in html and 'class="result ok"' in html
    assert "This credential is genuine: compare its data with the paper" in text
    assert "unchanged" not in text
    for shown in ("กัญญ์ณัฏฐ์ ศรีสุวรรณ์", "Kanyanat Srisuwan", "Wat Don School",
                  "Basic Education Core Curriculum",
                  verification_code(documents.school.record_digest)):
        assert shown in text
    assert 'data-check="credential_signature"' in html
    assert documents.school.credential not in html  # not echoed back into the page


def test_tampered_credential_page_is_invalid_with_its_checks_open(
    client: FlaskClient, documents: Documents
) -> None:
    genuine = documents.school.credential  # BKT1:<digits>: change one digit of the middle
    middle = len(genuine) // 2
    forged = genuine[:middle] + str((int(genuine[middle]) + 1) % 10) + genuine[middle + 1:]
    html = client.post("/v", data={"credential": forged}).get_data(as_text=True)
    assert 'class="result bad"' in html and "<details id=\"details\" open>" in html
    assert 'id="data"' not in html  # nothing unsigned shown as data


def test_uploaded_pdf_gets_the_verdict_page(client: FlaskClient, documents: Documents) -> None:
    response = client.post("/v", data={"upload": (io.BytesIO(documents.school.pdf), "t.pdf")},
                           content_type="multipart/form-data")
    text = text_of(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "Valid: this PDF was issued by the BMA and is unchanged" in text
    assert "Miss Kanyanat Srisuwan" in text


def test_uploaded_photo_gets_the_verdict_page(app, tmp_path: Path,  # type: ignore[no-untyped-def]
                                              documents: Documents) -> None:
    app.extensions["bkt_photo_limits"] = PhotoLimits(lock_dir=tmp_path)
    out = io.BytesIO()
    qrcode.make(f"{BASE_URL}/v#{documents.vocational.credential}", box_size=4).save(out, "PNG")
    response = app.test_client().post(
        "/v", data={"upload": (io.BytesIO(out.getvalue()), "qr.png")},
        content_type="multipart/form-data")
    text = text_of(response.get_data(as_text=True))
    assert response.status_code == 200, text
    assert "This credential is genuine" in text and "Nattawut Thongprasert" in text


def test_form_errors_are_pages_with_the_reason(client: FlaskClient) -> None:
    empty = client.post("/v", data={"credential": "  "})
    assert empty.status_code == 400 and "Paste the link" in empty.get_data(as_text=True)
    not_a_picture = client.post("/v", data={"upload": (io.BytesIO(b"hello"), "x.png")},
                                content_type="multipart/form-data")
    assert not_a_picture.status_code == 415
    assert 'role="alert">ไฟล์ไม่ใช่รูปภาพ' in not_a_picture.get_data(as_text=True)


def test_a_credential_in_the_query_is_not_verified(client: FlaskClient,
                                                   documents: Documents) -> None:
    """Nothing the page offers puts a credential in a URL, and a URL with one is not
    honoured: such links should not circulate (they land in logs)."""
    html = client.get(f"/v?credential={documents.school.credential}").get_data(as_text=True)
    assert 'id="verdict"' not in html


def test_form_posts_count_against_the_rate_limit(published: Path,
                                                 documents: Documents) -> None:
    app = create_app(file_config(published, ratelimit_enabled=True, rate_limit="2 per minute"))
    client = app.test_client()
    for _ in range(2):
        assert client.post("/v", data={"credential": documents.school.credential}
                           ).status_code == 200
    limited = client.post("/v", data={"credential": documents.school.credential})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert "Too many requests" in limited.get_data(as_text=True)


def test_every_verdict_has_its_own_colour_icon_and_word() -> None:
    """SUPERSEDED and INDETERMINATE once shared one amber: now no two verdicts share a
    colour, an icon or a word, and the stylesheet colours each."""
    badges = [badge(r) for r in Result]
    for part in ("tone", "icon", "th", "en"):
        assert len({b[part] for b in badges}) == len(Result), part
    css = (ROOT / "verifier" / "app" / "static" / "verify.css").read_text()
    colours = {}
    for b in badges:
        rule = re.escape(f".result.{b['tone']} {{ background: var(--") + r"([\w-]+)\); \}"
        found = re.search(rule, css)
        assert found, b["tone"]
        value = re.search(rf"--{found.group(1)}: (#[0-9a-f]{{6}})", css)
        assert value, found.group(1)
        colours[b["tone"]] = value.group(1)
    assert len(set(colours.values())) == len(Result), colours
