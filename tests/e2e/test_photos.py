"""Student photos and institution emblems, from the registrar's ZIP and the administrator's
image to the signed page: what the approver approved, and nothing else, is printed."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pikepdf
import pytest
from PIL import Image
from sqlalchemy import select

from issuer import demo_images
from issuer.adapters.orm import BatchRecordRow, ImageRow, TranscriptRow
from issuer.adapters.pki import load_root
from issuer.core.lifecycle import ItemKind
from issuer.services.admin import load_institutions, set_emblem
from issuer.services.approval import approve
from issuer.services.checking import verify_pdf
from issuer.services.context import Issuer, ServiceError
from issuer.services.importing import BatchRejected, import_batch
from issuer.services.issuing import issue_batch
from issuer.services.review import compare, submit_batch
from tests.e2e.conftest import EXAMPLES, PASSWORD, SYSTEM, only_students, setup_school, staff
from tests.pdfcheck import pdfsig_report, pyhanko_validate
from tests.record_schema import validate
from verifier.core.verdict import Result

SCHOOL = "school-batch.csv"
TWO = ("66001", "66002")


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return out.getvalue()


def _import(issuer: Issuer, photos: bytes | None, data: bytes | None = None,
            code: str = "1001", name: str = SCHOOL) -> int:
    registrar, director = staff(code)
    batch_id = import_batch(issuer, code, name, data or only_students(name, *TWO),
                            actor=registrar, photos=photos).batch_id
    submit_batch(issuer, batch_id, actor=registrar)
    approve(issuer, batch_id, actor=director)
    return batch_id


def _issued(issuer: Issuer) -> list[TranscriptRow]:
    with issuer.uow() as uow:
        rows = list(uow.session.scalars(select(TranscriptRow).order_by(TranscriptRow.id)))
        uow.session.expunge_all()
        return rows


def _page_images(pdf: bytes) -> list[tuple[bytes, str, int, int]]:
    """(raw stream, filter, width, height) of every image XObject on page 1."""
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        found = []
        for _, xobject in doc.pages[0].get_images().items():
            filters = xobject.get("/Filter")
            found.append((xobject.read_raw_bytes(), str(filters), int(xobject.Width),
                          int(xobject.Height)))
        return found


def test_a_photo_and_the_emblem_go_from_the_upload_to_the_signed_page(issuer: Issuer,
                                                                     tmp_path: Path) -> None:
    emblem = set_emblem(issuer, "1001", demo_images.emblem_png("ว.ด."), actor=SYSTEM)
    batch_id = _import(issuer, demo_images.photos_zip(["66001"]))  # 66002 has none
    issue_batch(issuer, batch_id, actor=SYSTEM, workers=0)
    with_photo, without = _issued(issuer)
    record = json.loads(with_photo.record_json)
    validate(record)
    assert record["schema"].endswith("/school/v4.json")
    photo = record["student"]["photo_sha256"]
    assert len(photo) == 64 and record["institution"]["emblem_sha256"] == emblem
    assert json.loads(without.record_json)["student"]["photo_sha256"] is None
    with issuer.uow() as uow:
        stored = uow.images.checked([photo, emblem])
    pdf = (issuer.settings.output_dir / str(with_photo.pdf_path)).read_bytes()
    assert verify_pdf(issuer, pdf).result is Result.VALID
    root = load_root(issuer.settings.keys_dir)
    status = pyhanko_validate(pdf, root)
    assert status.intact and status.valid and status.trusted
    report = pdfsig_report(pdf, root, tmp_path)
    assert "Signature is Valid." in report and "Total document signed" in report
    images = _page_images(pdf)
    # The photo is the stored JPEG byte for byte (DCT passed through), 354 x 472.
    jpegs = [i for i in images if "DCTDecode" in i[1]]
    assert [(hashlib.sha256(raw).hexdigest(), w, h) for raw, _, w, h in jpegs] == [
        (photo, 354, 472)]
    # The emblem's pixels are the stored PNG's.
    emblem_px = Image.open(io.BytesIO(stored[emblem])).convert("RGB")
    flate = [i for i in images if "FlateDecode" in i[1]]
    assert len(flate) == 1 and flate[0][2:] == emblem_px.size
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        pixels = [x.read_bytes() for x in doc.pages[0].get_images().values()
                  if "/FlateDecode" in str(x.get("/Filter"))]
    assert pixels == [emblem_px.tobytes()]
    # The student without a photo gets the empty box; the emblem is there too.
    other = (issuer.settings.output_dir / str(without.pdf_path)).read_bytes()
    assert [i[1] for i in _page_images(other)] == [flate[0][1]]


def test_the_emblem_heads_the_vocational_certificate(issuer: Issuer) -> None:
    emblem = set_emblem(issuer, "2001", demo_images.emblem_png("ฝ.อ."), actor=SYSTEM)
    batch_id = _import(issuer, None, (EXAMPLES / "vocational-batch.csv").read_bytes(), "2001",
                       "vocational-batch.csv")
    issue_batch(issuer, batch_id, actor=SYSTEM, workers=0)
    row = _issued(issuer)[0]
    assert json.loads(row.record_json)["institution"]["emblem_sha256"] == emblem
    pdf = (issuer.settings.output_dir / str(row.pdf_path)).read_bytes()
    assert [(w, h) for *_, w, h in _page_images(pdf)] == [(600, 600)]


@pytest.mark.parametrize(("entries", "value", "reason"), [
    ({"99999.jpg": demo_images.silhouette_jpeg(0)}, "99999", "no student with student_id"),
    ({"66001.jpg": b"not an image at all"}, "66001.jpg", "not a JPEG or PNG"),
    ({"../66001.jpg": demo_images.silhouette_jpeg(0)}, "../66001.jpg", "unsafe name"),
], ids=["unknown student", "not an image", "traversal"])
def test_one_bad_photo_rejects_the_whole_import(issuer: Issuer, entries: dict[str, bytes],
                                                value: str, reason: str) -> None:
    registrar, _ = staff("1001")
    entries = {"66002.png": demo_images.silhouette_jpeg(1), **entries}  # a good one too
    with pytest.raises(BatchRejected) as caught:
        import_batch(issuer, "1001", SCHOOL, only_students(SCHOOL, *TWO), actor=registrar,
                     photos=_zip(entries))
    assert [(e.row, e.column, e.value) for e in caught.value.errors] == [(0, "photos", value)]
    assert reason in caught.value.errors[0].reason_en
    with issuer.uow() as uow:
        assert uow.session.scalars(select(ImageRow)).first() is None  # nothing stored


def test_vocational_batches_take_no_photos(issuer: Issuer) -> None:
    registrar, _ = staff("2001")
    with pytest.raises(BatchRejected, match="1 error"):
        import_batch(issuer, "2001", "vocational-batch.csv",
                     (EXAMPLES / "vocational-batch.csv").read_bytes(), actor=registrar,
                     photos=demo_images.photos_zip(["66001"]))


def test_a_new_photo_of_an_issued_student_is_a_correction(issuer: Issuer) -> None:
    issue_batch(issuer, _import(issuer, demo_images.photos_zip(["66001"])), actor=SYSTEM,
                workers=0)
    registrar, _ = staff("1001")
    again = import_batch(issuer, "1001", "again.csv", only_students(SCHOOL, *TWO),
                         actor=registrar,
                         photos=_zip({"66001.jpg": demo_images.silhouette_jpeg(3)}))
    assert (again.new, again.corrections, again.unchanged) == (0, 1, 1)
    with issuer.uow() as uow:
        record = uow.session.scalars(select(BatchRecordRow).where(
            BatchRecordRow.batch_id == again.batch_id)).one()
        assert record.kind is ItemKind.CORRECTION
        record_id = record.id
    changes = compare(issuer, again.batch_id, record_id, institution_code="1001").changes
    assert [c.field for c in changes] == ["student.photo_sha256"]


def test_the_command_line_imports_photos(run, tmp_path) -> None:  # type: ignore[no-untyped-def]

    setup_school(run)
    csv = tmp_path / "batch.csv"
    csv.write_bytes(only_students(SCHOOL, *TWO))
    photos = tmp_path / "photos.zip"
    photos.write_bytes(demo_images.photos_zip(["66002"]))
    done = run("--as", "reg", "import", csv, "--institution", "1001", "--photos", photos,
               password=PASSWORD)
    assert done.exit_code == 0, done.output
    assert "imported batch 1: 2 new" in done.output
    emblem = tmp_path / "seal.png"
    emblem.write_bytes(demo_images.emblem_png("ว.ด."))
    assert run("--as", "reg", "institutions", "emblem", "1001", emblem,
               password=PASSWORD).exit_code == 1  # administrators only
    set_by_admin = run("--as", "admin", "institutions", "emblem", "1001", emblem,
                       password=PASSWORD)
    assert set_by_admin.exit_code == 0 and "institution 1001: emblem " in set_by_admin.output
    bad = tmp_path / "bad.zip"
    bad.write_bytes(_zip({"12345.jpg": demo_images.silhouette_jpeg(0)}))
    refused = run("--as", "reg", "import", csv, "--institution", "1001", "--photos", bad,
                  password=PASSWORD)
    assert refused.exit_code == 1
    assert "photos = \"12345\"" in refused.stderr and "no student with student_id" in \
        refused.stderr


def test_the_institutions_file_names_an_emblem(issuer: Issuer, tmp_path: Path) -> None:
    entry = {"code": "3001", "kind": "school", "name_th": "โรงเรียนทดสอบ",
             "name_en": "Test School", "emblem": "art/seal.png"}
    (tmp_path / "art").mkdir()
    (tmp_path / "art" / "seal.png").write_bytes(demo_images.emblem_png("ท.ส."))
    (tmp_path / "bad.png").write_bytes(b"<svg/>")
    listing = tmp_path / "institutions.json"
    listing.write_text(json.dumps([dict(entry, emblem="bad.png")]), encoding="utf-8")
    with pytest.raises(ServiceError, match=r"emblem .*bad\.png refused: not a JPEG or PNG"):
        load_institutions(issuer, listing, actor=SYSTEM)
    listing.write_text(json.dumps([entry]), encoding="utf-8")
    assert load_institutions(issuer, listing, actor=SYSTEM) == ["3001"]
    with issuer.uow() as uow:
        row = uow.institutions.get("3001")
        assert row is not None and row.emblem_sha256
        png = uow.images.checked([row.emblem_sha256])[row.emblem_sha256]
    assert Image.open(io.BytesIO(png)).mode == "RGB"
