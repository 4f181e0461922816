"""A photo or screenshot of the QR, decoded server-side with zbar (libzbar0)."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
import qrcode
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from tests.verifier.conftest import BASE_URL, Documents
from verifier import zbar
from verifier.qr_image import PhotoLimits, QrImageError, decode_qr

pytestmark = pytest.mark.skipif(not zbar.available(), reason="libzbar0 not installed")



@pytest.fixture
def client(app: Flask, tmp_path: Path) -> FlaskClient:
    """The app with its own photo-decoding slot (no other test run on the machine
    can make it busy)."""
    app.extensions["bkt_photo_limits"] = PhotoLimits(lock_dir=tmp_path)
    return app.test_client()

def qr_png(text: str, box: int = 4) -> bytes:
    image = qrcode.make(text, box_size=box, border=4)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def post_image(client: FlaskClient, data: bytes, name: str = "qr.png"):
    return client.post("/api/v1/verify", data={"image": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_screenshot_of_the_qr(client: FlaskClient, documents: Documents) -> None:
    url = f"{BASE_URL}/v#{documents.school.credential}"
    assert decode_qr(qr_png(url)) == url
    body = post_image(client, qr_png(url)).get_json()
    assert body.get("result") == "VALID", body
    assert body["data"]["source"] == "credential"


def test_photo_of_the_printed_page(client: FlaskClient, documents: Documents,
                                   tmp_path: Path) -> None:
    """The real transcript page rasterised at 150 dpi, as a JPEG, slightly rotated."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm not installed")
    pdf = tmp_path / "t.pdf"
    pdf.write_bytes(documents.vocational.pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-f", "1", "-l", "1", "-png", str(pdf),
                    str(tmp_path / "page")], check=True)
    page = Image.open(next(tmp_path.glob("page*.png"))).convert("RGB").rotate(3, expand=True,
                                                                               fillcolor="white")
    out = io.BytesIO()
    page.save(out, format="JPEG", quality=85)
    body = post_image(client, out.getvalue(), "photo.jpg").get_json()
    assert body.get("result") == "VALID", body


def test_picture_without_a_qr(client: FlaskClient) -> None:
    out = io.BytesIO()
    Image.new("L", (200, 200), 255).save(out, format="PNG")
    response = post_image(client, out.getvalue())
    assert response.status_code == 422
    assert response.get_json()["error"] == "no_qr"


def test_not_a_picture(client: FlaskClient) -> None:
    response = post_image(client, b"%PDF-1.7 not an image")
    assert response.status_code == 415
    assert response.get_json()["error"] == "not_image"


def test_huge_picture_is_refused_before_decoding() -> None:
    out = io.BytesIO()
    Image.new("1", (8_000, 7_000), 1).save(out, format="PNG")  # tiny file, 56 megapixels
    with pytest.raises(QrImageError) as caught:
        decode_qr(out.getvalue())
    assert caught.value.code == "image_too_large"


def test_other_qr_text_is_judged_as_a_credential(client: FlaskClient) -> None:
    body = post_image(client, qr_png("https://example.org/not-a-transcript")).get_json()
    assert body["result"] == "INVALID"
