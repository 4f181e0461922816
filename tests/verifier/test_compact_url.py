"""The compact credential's QR URL (``HTTPS://HOST/V#BKT1:<digits>``) on the verifier:
the upper-case page serves the same page and script, and the pasted URL, the JSON API and
a photo of the printed QR all reach a verdict."""

from __future__ import annotations

import io

import qrcode
from flask.testing import FlaskClient
from qrcode.constants import ERROR_CORRECT_M

from tests.verifier.conftest import BASE_URL, Documents
from verifier.core.credential import qr_url


def test_the_upper_case_page_is_the_page(client: FlaskClient) -> None:
    upper, lower = client.get("/V"), client.get("/v")
    assert upper.status_code == 200
    assert upper.get_data() == lower.get_data() and b"verify.js" in upper.get_data()


def test_pasted_compact_url_is_valid(client: FlaskClient, documents: Documents) -> None:
    url = qr_url(BASE_URL, documents.school.credential)
    assert "/V#BKT1:" in url
    html = client.post("/v", data={"credential": url}).get_data(as_text=True)
    assert 'class="result ok"' in html and "Kanyanat Srisuwan" in html


def test_api_accepts_the_compact_url(client: FlaskClient, documents: Documents) -> None:
    url = qr_url(BASE_URL, documents.vocational.credential)
    body = client.post("/api/v1/verify", json={"credential": url}).get_json()
    assert body["result"] == "VALID"


def test_photo_of_the_compact_qr_is_valid(client: FlaskClient, documents: Documents) -> None:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=4)
    code.add_data(qr_url(BASE_URL, documents.school.credential), optimize=20)
    out = io.BytesIO()
    code.make_image().save(out)
    response = client.post("/api/v1/verify", data={"image": (io.BytesIO(out.getvalue()),
                                                             "qr.png")},
                           content_type="multipart/form-data")
    assert response.get_json()["result"] == "VALID"
