"""Rendered transcripts: fonts, pages, QR, PDF/A-3 metadata and associated files.

Checked with the tools a verifier would use: poppler (pdffonts, pdfinfo, pdftotext,
pdfdetach, pdftoppm), zbarimg, pikepdf and pikepdf's PDF/A validator.
"""

from __future__ import annotations

import base64
import dataclasses
import re
import subprocess
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pikepdf
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from reportlab.lib.units import mm
from reportlab.pdfbase.ttfonts import ShapedStr

from issuer import demo_images
from issuer.adapters.images import read_emblem, read_photos, sha256
from issuer.adapters.render import (
    attach_files,
    fonts,
    qr,
    render_transcript,
    verification_code,
)
from issuer.adapters.render.layout import QR_WIDTH
from issuer.core.record_json import record_digest, to_canonical
from issuer.core.records import Person, TranscriptRecord
from issuer.pipeline import claims_for
from tests.factories import BOY, GIRL, school_record, vocational_record
from tests.pdfcheck import assert_record_round_trips, assert_text_layer
from verifier.core.canonical import b64url_decode
from verifier.core.credential import kid_for, qr_url, sign_compact

VERIFIER = "https://transcripts.bangkok.go.th"
KEY = ec.generate_private_key(ec.SECP256R1())


@dataclass(frozen=True)
class Issued:
    record: TranscriptRecord
    qr_content: str
    jws: str
    json: bytes
    code: str
    unsigned: bytes  # render_transcript
    pdf: bytes  # attach_files
    path: Path


def credential(record: TranscriptRecord) -> tuple[str, str]:
    """(QR content, compact credential) as the issuance pipeline builds them."""
    jws = sign_compact(claims_for(record, record_digest(record)), KEY, kid_for(KEY.public_key()))
    return qr_url(VERIFIER, jws), jws


def issue(record: TranscriptRecord, images: dict[str, bytes] | None = None, *,
          folder: Path, name: str) -> Issued:
    content, jws = credential(record)
    code = verification_code(record_digest(record))
    unsigned = render_transcript(record, content, code, images)
    json = to_canonical(record)
    pdf = attach_files(unsigned, json, jws)
    path = folder / f"{name}.pdf"
    path.write_bytes(pdf)
    return Issued(record, content, jws, json, code, unsigned, pdf, path)


# Names from the issue whose text layer broke: a tone mark over an upper vowel, upper
# vowels on ป, ำ after a tone mark, thanthakhat over a small upper vowel.
PINPAN = Person("เด็กหญิง", "ปิ่นปั้น", "ญาญ่าน้ำผึ้ง", "Miss", "Pinpan", "Yayanamphueng")
HARD_NAMES = ("ปิ่นปั้น", "ญาญ่าน้ำผึ้ง", "นายสุรศักดิ์ บุญเกื้อกูล", "ศักดิ์สิทธิ์")


def hard_names(record: TranscriptRecord) -> TranscriptRecord:
    """`record` with the issue's hard names as its signatories' names."""
    rec = record.record
    (registrar, director) = rec.signatories
    signatories = (
        dataclasses.replace(registrar, name_th="นายศักดิ์สิทธิ์ เนื้อนิ่ม"),
        dataclasses.replace(director, name_th="นายสุรศักดิ์ บุญเกื้อกูล"),
    )
    return dataclasses.replace(record, record=dataclasses.replace(rec, signatories=signatories))


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Issued]:
    folder = tmp_path_factory.mktemp("render")
    return {
        "school": issue(school_record(), folder=folder, name="school"),
        "boy": issue(school_record(person=BOY, religion="พุทธ"), folder=folder, name="boy"),
        "vocational": issue(vocational_record(), folder=folder, name="vocational"),
        "long": issue(school_record(many_courses=True, long_name=True), folder=folder,
                      name="long"),
        "modules": issue(vocational_record(many_modules=True), folder=folder, name="modules"),
        "hard_school": issue(hard_names(school_record(person=PINPAN)), folder=folder,
                             name="hard_school"),
        "hard_vocational": issue(hard_names(vocational_record(person=PINPAN)), folder=folder,
                                 name="hard_vocational"),
        "pictured_school": issue(*pictured(school_record()), folder=folder,
                                 name="pictured_school"),
        "pictured_vocational": issue(*pictured(vocational_record()), folder=folder,
                                     name="pictured_vocational"),
    }


def pictured(record: TranscriptRecord) -> tuple[TranscriptRecord, dict[str, bytes]]:
    """`record` naming a photo (a school record) and an emblem, and those images."""
    photo = read_photos(demo_images.photos_zip(["x"])).by_stem["x"]
    emblem = read_emblem(demo_images.emblem_png("ว.ด."))
    inst = dataclasses.replace(record.institution, emblem_sha256=sha256(emblem))
    student = dataclasses.replace(record.record.student, photo_sha256=sha256(photo)
                                  if inst.kind.value == "school" else "")
    record = dataclasses.replace(record, institution=inst, record=dataclasses.replace(
        record.record, student=student))
    return record, {sha256(photo): photo, sha256(emblem): emblem}


def run(*args: str | Path) -> str:
    return subprocess.run([str(a) for a in args], check=True, capture_output=True,
                          text=True).stdout


def pages(path: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", run("pdfinfo", path), re.M).group(1))


KINDS = ["school", "boy", "vocational", "long"]


@pytest.mark.parametrize("kind", KINDS)
def test_only_embedded_sarabun_fonts(docs: dict[str, Issued], kind: str) -> None:
    rows = run("pdffonts", docs[kind].path).splitlines()[2:]
    assert rows, "no fonts listed"
    for row in rows:
        name = row.split()[0]
        emb = row.split()[-5]  # the last columns: emb sub uni object-id generation
        assert "Sarabun" in name, row
        assert emb == "yes", row
    assert "Helvetica" not in run("pdffonts", docs[kind].path)


@pytest.mark.parametrize("kind", KINDS)
def test_pdf_version_17(docs: dict[str, Issued], kind: str) -> None:
    assert docs[kind].unsigned.startswith(b"%PDF-1.7\n")
    assert docs[kind].pdf.startswith(b"%PDF-1.7\n")


@pytest.mark.parametrize(
    ("kind", "count"), [("school", 2), ("vocational", 2), ("long", 3), ("modules", 3)]
)
def test_page_count_and_page_numbers(docs: dict[str, Issued], kind: str, count: int) -> None:
    path = docs[kind].path
    assert pages(path) == count
    for n in range(1, count + 1):
        text = run("pdftotext", "-f", n, "-l", n, "-layout", path, "-")
        assert f"Page {n} of {count}" in text
        assert f"Verify at {VERIFIER}" in text
        assert docs[kind].code in text
        assert docs[kind].record.transcript_id in text


@pytest.mark.parametrize("kind", KINDS)
def test_qr_on_every_page_decodes_to_the_content(docs: dict[str, Issued], kind: str,
                                                 tmp_path: Path) -> None:
    doc = docs[kind]
    run("pdftoppm", "-r", 150, "-png", doc.path, tmp_path / "p")
    images = sorted(tmp_path.glob("p-*.png"))
    assert len(images) == pages(doc.path)
    for image in images:
        assert run("zbarimg", "--raw", "-q", image).rstrip("\n") == doc.qr_content


def test_qr_version_is_bounded_whatever_the_name(docs: dict[str, Issued]) -> None:
    """The compact credential (docs/qr.md) keeps every QR at version 13 or below, so the
    42 mm symbol prints modules of at least 0.6 mm, for a short name and the longest."""
    assert len(BOY.first_name_th + BOY.last_name_th) + len(BOY.prefix_th) <= 22
    assert len(GIRL.full_name_th) == 29
    versions = {name: qr.version_for(docs[name].qr_content) for name in ("boy", "school", "long")}
    assert max(versions.values()) <= 13, versions
    assert QR_WIDTH / (17 + 4 * max(versions.values())) >= 0.6 * mm


def test_qr_symbol_matches_the_computed_version() -> None:
    content, _ = credential(school_record(person=GIRL))
    symbol = qr.encode(content)
    assert symbol.size == 17 + 4 * symbol.version
    assert symbol.version == qr.version_for(content)


@pytest.mark.parametrize("kind", ["school", "vocational"])
def test_attachments_round_trip(docs: dict[str, Issued], kind: str) -> None:
    doc = docs[kind]
    listing = run("pdfdetach", "-list", doc.path)
    assert "2 embedded files" in listing
    with pikepdf.open(BytesIO(doc.pdf)) as pdf:
        files = pdf.attachments
        assert set(files) == {"transcript.json", "credential.jws"}
        data = files["transcript.json"].get_file()
        jws = files["credential.jws"].get_file()
        assert data.read_bytes() == doc.json
        assert jws.read_bytes() == doc.jws.encode("ascii")
        assert data.mime_type == "application/json"
        assert jws.mime_type == "text/plain"  # BKT1 compact credential, not a JWS
        assert files["transcript.json"].obj.AFRelationship == pikepdf.Name.Data
        assert files["credential.jws"].obj.AFRelationship in (
            pikepdf.Name.Data, pikepdf.Name.Supplement)
        af = {spec.UF for spec in pdf.Root.AF}
        assert af == {"transcript.json", "credential.jws"}


@pytest.mark.parametrize("kind", ["school", "vocational"])
def test_pdfa3_metadata_and_output_intent(docs: dict[str, Issued], kind: str) -> None:
    with pikepdf.open(BytesIO(docs[kind].pdf)) as pdf:
        meta = pdf.open_metadata()
        assert meta["pdfaid:part"] == "3"
        assert meta["pdfaid:conformance"] == "B"
        (intent,) = pdf.Root.OutputIntents
        assert intent.S == pikepdf.Name.GTS_PDFA1
        assert intent.DestOutputProfile.N == 3
        assert bytes(intent.DestOutputProfile.read_bytes()[36:40]) == b"acsp"


@pytest.mark.parametrize("kind", [*KINDS, "pictured_school", "pictured_vocational"])
def test_passes_pdfa3b_validation(docs: dict[str, Issued], kind: str) -> None:
    from pikepdf import pdfa

    report = pdfa.validate_written(BytesIO(docs[kind].pdf), "3b")
    assert report.passed, [str(f) for f in report.findings]


def test_english_side_and_printed_fields(docs: dict[str, Issued]) -> None:
    doc = docs["school"]
    back = run("pdftotext", "-f", 2, "-l", 2, doc.path, "-")
    assert "Cumulative GPA (GPAX)" in back
    assert format(doc.record.summary.gpa, "f") in back
    assert "31 March 2026" in back  # graduation date, CE on the English side
    front = run("pdftotext", "-f", 1, "-l", 1, doc.path, "-")
    assert "Basic Education Core Curriculum Transcript (Lower Secondary)" in front
    assert "1-1037-01234-56-7" in front  # national ID in its printed grouping
    assert "14 August 2011" in front


def _squeezed_page(path: Path, page: int) -> str:
    return "".join(run("pdftotext", "-f", page, "-l", page, path, "-").split())


def test_the_full_pp1_fields(docs: dict[str, Issued]) -> None:
    """FORMS.md: serial line on both sides, previous school's province, the registrar's
    signature dated on the front, leaving date and reason on the back, dates in พ.ศ."""
    doc = docs["school"]
    front, back = _squeezed_page(doc.path, 1), _squeezed_page(doc.path, 2)
    for side in (front, back):
        assert "ชุดที่0012เลขที่000345" in side
        assert "(นางสาวสุนันทาแก้วประเสริฐ)" in side  # the registrar signs both sides
        assert "วันที่2เมษายนพ.ศ.2569" in side  # the date beside the signature
    assert "โรงเรียนวัดช่องลมจังหวัดกรุงเทพมหานคร" in front and "แขวงทุ่งมหาเมฆ" in front
    assert "รูปถ่าย" in front and "Photo3x4cm" in front
    assert "14สิงหาคมพ.ศ.2554" in front and "16พฤษภาคมพ.ศ.2566" in front
    assert "วันออกจากโรงเรียนLeftschool" in back and "สาเหตุที่ออกReasonforleaving" in back
    assert back.count("31มีนาคมพ.ศ.2569") == 2  # graduation approved, left school
    assert "จบการศึกษา" in back


def test_vocational_certificate_text(docs: dict[str, Issued]) -> None:
    doc = docs["vocational"]
    cert = run("pdftotext", "-f", 1, "-l", 1, doc.path, "-")
    assert "Certificate" in cert
    assert "Mr Nattawut Thongprasert" in cert
    assert "(200 hours)" in cert
    assert "Given on 20 March 2026" in cert
    modules = run("pdftotext", "-f", 2, "-l", 2, doc.path, "-")
    for course in doc.record.record.courses:
        assert course.code in modules
    assert "Total hours" in modules


def test_rendering_is_deterministic() -> None:
    record = school_record()
    content, _ = credential(record)
    assert render_transcript(record, content, "ABCD-EFGH") == render_transcript(
        record, content, "ABCD-EFGH")


def test_verification_code() -> None:
    digest = record_digest(school_record())
    code = verification_code(digest)
    assert re.fullmatch(r"[A-Z2-7]{4}-[A-Z2-7]{4}", code)
    assert base64.b32decode(code.replace("-", "")) == b64url_decode(digest)[:5]


def test_thai_is_shaped_by_harfbuzz() -> None:
    # Tone marks over upper vowels must be repositioned: harfbuzz offsets are present.
    s = fonts.shaped("ญี่ปุ่น", fonts.REGULAR, 10)
    assert isinstance(s, ShapedStr)
    assert any(d.x_offset or d.y_offset for d in s.__shapeData__)


@pytest.mark.parametrize("kind", [*KINDS, "modules", "hard_school", "hard_vocational"])
def test_text_layer_reads_back_the_record(docs: dict[str, Issued], kind: str) -> None:
    # Names, school, signatories, course names and form terms extract exactly as Unicode.
    assert_record_round_trips(docs[kind].pdf)


@pytest.mark.parametrize("kind", ["hard_school", "hard_vocational"])
def test_text_layer_keeps_the_hard_names(docs: dict[str, Issued], kind: str) -> None:
    text = assert_text_layer(docs[kind].pdf, HARD_NAMES)
    assert "ป นป น" not in text and "ญาญ่านาผึง" not in text


def test_only_runs_that_need_it_carry_actual_text() -> None:
    # English and Thai whose glyphs read back unchanged stay plain text (smaller files,
    # selection by character); a shaped run with a private-use glyph carries /ActualText.
    assert fonts.shaped("Transcript", fonts.REGULAR, 9) == "Transcript"
    assert fonts.shaped("ภาษาไทย", fonts.REGULAR, 9) == "ภาษาไทย"
    assert fonts.shaped("ปีการศึกษา", fonts.REGULAR, 9) != "ปีการศึกษา"
    assert fonts.actual_text("ปี") == "<FEFF0E1B0E35>"
