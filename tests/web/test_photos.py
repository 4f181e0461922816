"""Photos through the web: a ZIP uploaded beside the batch file, thumbnails on the batch
page for the institution's staff only; an emblem set on the administrators' page."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image

from issuer import demo_images
from issuer.services.context import Issuer
from tests.e2e.conftest import make_issuer, only_students
from tests.web.conftest import add_accounts, as_user, web_app


@pytest.fixture
def app(db_url: str, key_store: Path, tmp_path: Path) -> Flask:
    issuer: Issuer = make_issuer(db_url, key_store, tmp_path)
    add_accounts(issuer)
    return web_app(issuer)


def test_a_registrar_uploads_photos_and_the_approver_sees_them(app: Flask) -> None:
    registrar = as_user(app, "reg1001")
    registrar.get("/batches/upload")
    response = registrar.post("/batches/upload", {
        "file": (io.BytesIO(only_students("school-batch.csv", "66001", "66002")), "b.csv"),
        "photos": (io.BytesIO(demo_images.photos_zip(["66002"])), "photos.zip"),
    }, content_type="multipart/form-data")
    assert response.status_code == 302
    page = registrar.get(response.headers["Location"])
    batch = re.search(r'href="/batches/(\d+)"', page.get_data(as_text=True))
    assert batch, page.get_data(as_text=True)[:2000]
    director = as_user(app, "dir1001")
    html = director.get(f"/batches/{batch.group(1)}").get_data(as_text=True)
    photos = re.findall(r'<img src="(/batches/\d+/students/\d+/photo\.jpg)"', html)
    assert len(photos) == 1  # 66002 only; 66001 has the empty box
    served = director.get(photos[0])
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(served.data)).size == (354, 472)
    # another institution's staff and anonymous visitors never see it
    assert as_user(app, "dir2001").get(photos[0]).status_code == 404
    assert as_user(app, None).get(photos[0]).status_code in (302, 401)


def test_a_bad_photo_zip_is_listed_like_a_bad_row(app: Flask) -> None:
    registrar = as_user(app, "reg1001")
    registrar.get("/batches/upload")
    response = registrar.post("/batches/upload", {
        "file": (io.BytesIO(only_students("school-batch.csv", "66001")), "b.csv"),
        "photos": (io.BytesIO(demo_images.photos_zip(["77777"])), "photos.zip"),
    }, content_type="multipart/form-data")
    page = registrar.get(response.headers["Location"]).get_data(as_text=True)
    assert "77777" in page and "no student with student_id" in page


def test_an_administrator_sets_an_emblem(app: Flask) -> None:
    admin = as_user(app, "admin")
    admin.get("/admin/institutions")
    response = admin.post("/admin/institutions/1001/emblem", {
        "emblem": (io.BytesIO(demo_images.emblem_png("ว.ด.")), "emblem.png")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    html = admin.get("/admin/institutions").get_data(as_text=True)
    assert '/admin/institutions/1001/emblem.png' in html
    png = admin.get("/admin/institutions/1001/emblem.png")
    assert png.status_code == 200 and Image.open(io.BytesIO(png.data)).mode == "RGB"
    assert as_user(app, "reg1001").get("/admin/institutions/1001/emblem.png").status_code \
        in (302, 403)
