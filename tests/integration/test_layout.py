"""Layout over a corpus of long names and course names: nothing leaves its cell or the
page, and no two words overprint.

Word boxes come from poppler's ``pdftotext -bbox-layout`` (what a text extractor sees);
cells are the ones the renderer lays out (`Sheet.cells`)."""

from __future__ import annotations

import dataclasses
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path
from xml.etree import ElementTree

import pikepdf
import pytest
from reportlab.lib.units import mm

from issuer import demo_images
from issuer.adapters import images
from issuer.adapters.render import fonts, render_transcript, school, vocational
from issuer.adapters.render.layout import BODY_BOTTOM, LEFT, PAGE_H, QR_WIDTH, RIGHT, Cell, Sheet
from issuer.core import grading
from issuer.core.records import Person, Signatory, TranscriptRecord
from tests.factories import school_record, vocational_record
from tests.pdfcheck import assert_text_layer
from verifier.core.credential import qr_url

# 50-character surnames, Thai and English; 90-character course names.
SURNAME_TH = ("ศรีสุวรรณ์เจริญรุ่งเรืองสุขสวัสดิ์วงศ์ษากุลธนพัฒน์ไพบูลย์")[:50]
SURNAME_EN = "Srisuwancharoenrungrueangsuksawatwongsakunthanaphat"[:50]
LONG = Person("เด็กหญิง", "พรรณพัชรวลัญช์กรณ์ณัฏฐ์", SURNAME_TH, "Miss",
              "Phanphatcharawalankonnat", SURNAME_EN)
COURSE_TH = ("การประยุกต์ใช้เทคโนโลยีสารสนเทศและการสื่อสารเพื่อการแก้ปัญหาในชีวิตประจำวัน"
             "และการพัฒนาชุมชนอย่างยั่งยืน")[:90]
PROGRAMME_TH = ("ช่างเทคนิคการติดตั้ง ซ่อมบำรุง และตรวจสอบระบบเครื่องปรับอากาศ"
                "และเครื่องทำความเย็นเชิงพาณิชย์ขนาดใหญ่สำหรับอาคารสูง")
PROGRAMME_EN = ("Installation, Maintenance and Inspection of Commercial Air Conditioning "
                "and Refrigeration Systems for High-Rise Buildings")


INSTITUTION_TH = ("โรงเรียนมัธยมสาธิตวัดพระศรีมหาธาตุมหาวิทยาลัยราชภัฏพระนคร "
                  "(สำนักงานเขตบางเขน กรุงเทพมหานคร)")
INSTITUTION_EN = ("Wat Phra Sri Mahathat Demonstration Secondary School of Phranakhon Rajabhat "
                  "University (Bang Khen District Office)")


# The longest signatory names an institutions file may hold (a title, a rank and 50-character
# names), and a long verifier address.
SIGNATORY_TH = "ว่าที่ร้อยตรี ดร." + LONG.first_name_th + " " + SURNAME_TH
SIGNATORY_EN = "Acting Sub-Lieutenant Dr. " + LONG.first_name_en + " " + SURNAME_EN
VERIFIER_URL = "https://verify.transcripts.education.bangkok.go.th/transcripts/verifier"
QR_CONTENT = qr_url(VERIFIER_URL, "BKT1:" + "1" * 530)  # a credential's size: version 13


def _signed_by_long_names(t: TranscriptRecord) -> tuple[Signatory, ...]:
    return tuple(dataclasses.replace(s, name_th=SIGNATORY_TH, name_en=SIGNATORY_EN)
                 for s in t.record.signatories)


@cache
def _images() -> dict[str, bytes]:
    """A photo and an emblem, normalised as an import and an administrator make them."""
    photo = images.read_photos(demo_images.photos_zip(["x"])).by_stem["x"]
    emblem = images.read_emblem(demo_images.emblem_png("ว.ด."))
    return {"photo": photo, "emblem": emblem}


def _resummarised(t: TranscriptRecord, **record: object) -> TranscriptRecord:
    """`t` with `record` changed, its summary recomputed, and the photo (schools) and
    emblem named: the corpus prints both, so text must keep clear of them too."""
    found = _images()
    inst = dataclasses.replace(t.institution, emblem_sha256=images.sha256(found["emblem"]))
    if t.institution.kind.value == "school":
        student = record.get("student", t.record.student)
        record["student"] = dataclasses.replace(  # type: ignore[type-var]
            student, photo_sha256=images.sha256(found["photo"]))
    rec = dataclasses.replace(t.record, **record)
    return dataclasses.replace(t, institution=inst, record=rec,
                               summary=grading.summarise(rec, t.institution.kind))


def _school_corpus() -> TranscriptRecord:
    base = school_record(many_courses=True)
    courses = list(base.record.courses)
    i = 0
    while len(courses) < 60:  # 60 courses, every third with a 90-character name
        c = courses[i % len(base.record.courses)]
        courses.append(dataclasses.replace(c, code=f"{c.code[:2]}9{i:03d}"))
        i += 1
    courses = [dataclasses.replace(c, name_th=COURSE_TH) if n % 3 == 0 else c
               for n, c in enumerate(courses)]
    student = dataclasses.replace(base.record.student, name=LONG)
    inst = dataclasses.replace(base.institution, name_th=INSTITUTION_TH, name_en=INSTITUTION_EN)
    return _resummarised(dataclasses.replace(base, institution=inst), student=student,
                         courses=tuple(courses), signatories=_signed_by_long_names(base))


def _vocational_corpus() -> TranscriptRecord:
    base = vocational_record(many_modules=True)
    programme = dataclasses.replace(base.record.programme, name_th=PROGRAMME_TH,
                                    name_en=PROGRAMME_EN)
    modules = tuple(dataclasses.replace(m, name_th=COURSE_TH, name_en=PROGRAMME_EN)
                    if n % 4 == 0 else m for n, m in enumerate(base.record.courses))
    student = dataclasses.replace(base.record.student, name=LONG)
    return _resummarised(base, student=student, programme=programme, courses=modules,
                         signatories=_signed_by_long_names(base))


@dataclass(frozen=True)
class Word:
    page: int
    text: str
    x0: float
    y0: float  # bottom, PDF coordinates
    x1: float
    y1: float


def _words(pdf: bytes, tmp: Path) -> list[Word]:
    path = tmp / "doc.pdf"
    path.write_bytes(pdf)
    xhtml = subprocess.run(["pdftotext", "-bbox-layout", str(path), "-"], check=True,
                           capture_output=True, text=True).stdout
    ns = {"h": "http://www.w3.org/1999/xhtml"}
    words = []
    for page_no, page in enumerate(ElementTree.fromstring(xhtml).iter(f"{{{ns['h']}}}page")):
        for w in page.iter(f"{{{ns['h']}}}word"):
            x0, y0 = float(w.get("xMin")), float(w.get("yMin"))
            x1, y1 = float(w.get("xMax")), float(w.get("yMax"))
            words.append(Word(page_no, w.text or "", x0, PAGE_H - y1, x1, PAGE_H - y0))
    return words


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    cells: list[Cell]
    pages: int
    pictures: list[Cell]


def _render(t: TranscriptRecord) -> Rendered:
    by_digest = {images.sha256(data): data for data in _images().values()}
    sheet = Sheet(images=by_digest)
    (vocational if t.institution.kind.value == "vocational" else school).layout(sheet, t)
    return Rendered(render_transcript(t, QR_CONTENT, "ABCD-EFGH", by_digest),
                    sheet.cells, len(sheet.pages), sheet.pictures)


@cache
def _corpus() -> dict[str, Rendered]:
    return {"school": _render(_school_corpus()), "vocational": _render(_vocational_corpus())}


SLACK = 0.6  # points: rounding in poppler's boxes
# A glyph box spans the font's ascent and descent (Sarabun: about 1.07 and 0.37 em), more
# than the line pitch: boxes are compared on their central band, where the ink is.
BAND = 0.3


def _inner(w: Word) -> tuple[float, float, float, float]:
    h = w.y1 - w.y0
    return w.x0, w.y0 + h * BAND, w.x1, w.y1 - h * BAND


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return (min(a[2], b[2]) - max(a[0], b[0]) > SLACK
            and min(a[3], b[3]) - max(a[1], b[1]) > SLACK)


@pytest.fixture(scope="module", params=["school", "vocational"])
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[tuple[Rendered, list[Word]]]:
    r = _corpus()[request.param]
    yield r, _words(r.pdf, tmp_path_factory.mktemp(request.param))


def test_corpus_continues_onto_further_pages(rendered: tuple[Rendered, list[Word]]) -> None:
    r, words = rendered
    assert r.pages >= 3
    assert max(w.page for w in words) == r.pages - 1


def test_every_word_stays_on_the_page(rendered: tuple[Rendered, list[Word]]) -> None:
    _, words = rendered
    off = [w for w in words
           if w.x0 < LEFT - SLACK or w.x1 > RIGHT + SLACK
           or w.y0 < 0 or w.y1 > PAGE_H]
    assert not off, off[:5]


def test_the_body_stays_inside_its_frame(rendered: tuple[Rendered, list[Word]]) -> None:
    """On a framed page (the certificate) every word above the footer lies in the frame."""
    r, words = rendered
    outside = []
    for c in (c for c in r.cells if c.frame):
        for w in words:
            x0, y0, x1, y1 = _inner(w)
            if w.page == c.page and y0 > BODY_BOTTOM - SLACK and (
                    x0 < c.x0 - SLACK or x1 > c.x1 + SLACK or y0 < c.y0 - SLACK
                    or y1 > c.y1 + SLACK):
                outside.append(w)
    assert not outside, outside[:5]


def test_no_word_enters_the_qr_code(rendered: tuple[Rendered, list[Word]]) -> None:
    """The footer's lines (a long institution name) stop short of the QR's quiet zone."""
    _, words = rendered
    qx, qy = RIGHT - QR_WIDTH - 2 * mm, 8 * mm + 9 * mm
    zone = (qx - 2 * mm, qy, RIGHT, qy + QR_WIDTH)
    inside = [w for w in words if _overlap(_inner(w), zone)]
    assert not inside, inside[:5]


def test_every_word_stays_inside_its_cell(rendered: tuple[Rendered, list[Word]]) -> None:
    r, words = rendered
    assert r.cells
    escaped = []
    for w in words:
        x0, y0, x1, y1 = _inner(w)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        for c in r.cells:
            if c.page == w.page and c.x0 <= cx <= c.x1 and c.y0 <= cy <= c.y1 and (
                    x0 < c.x0 - SLACK or x1 > c.x1 + SLACK
                    or y0 < c.y0 - SLACK or y1 > c.y1 + SLACK):
                escaped.append((w, c))
    assert not escaped, escaped[:5]


def test_no_two_words_overprint(rendered: tuple[Rendered, list[Word]]) -> None:
    _, words = rendered
    clashes = []
    for page in {w.page for w in words}:
        boxes = [(w, _inner(w)) for w in words if w.page == page]
        for i, (a, ba) in enumerate(boxes):
            for b, bb in boxes[i + 1:]:
                if _overlap(ba, bb):
                    clashes.append((a.text, b.text, round(a.x0), round(a.y0)))
    assert not clashes, clashes[:8]


def test_no_word_runs_over_the_photo_or_the_emblem(
        rendered: tuple[Rendered, list[Word]]) -> None:
    r, words = rendered
    kinds = 2 if any(c.x1 - c.x0 > 80 for c in r.pictures) else 1
    assert len(r.pictures) == kinds and {c.page for c in r.pictures} == {0}
    covered = [(w.text, round(w.x0), round(w.y0)) for w in words for c in r.pictures
               if w.page == c.page and _overlap(_inner(w), (c.x0, c.y0, c.x1, c.y1))]
    assert not covered, covered[:5]


def test_no_text_is_smaller_than_the_minimum(rendered: tuple[Rendered, list[Word]]) -> None:
    """Wrap before shrinking: no type below `fonts.MIN_SIZE` (glosses at 80 % of it)."""
    r, _ = rendered
    with pikepdf.open(BytesIO(r.pdf)) as doc:
        content = b"".join(page.Contents.read_bytes() for page in doc.pages)
    sizes = {float(m) for m in re.findall(rb"/F[\w+]+ ([\d.]+) Tf", content)}
    assert sizes and min(sizes) >= fonts.MIN_SIZE * 0.8 - 0.01, sorted(sizes)[:5]


def test_the_corpus_is_long() -> None:
    assert len(SURNAME_TH) == len(SURNAME_EN) == 50 and len(COURSE_TH) == 90
    assert len(_school_corpus().record.courses) >= 60


def test_wrapped_text_reads_back_whole() -> None:
    """Wrapped names, course names and course titles still extract and search whole."""
    long_strings = [SURNAME_TH, SURNAME_EN, LONG.first_name_th, COURSE_TH, INSTITUTION_TH,
                    INSTITUTION_EN, SIGNATORY_TH, SIGNATORY_EN, VERIFIER_URL]
    assert_text_layer(_corpus()["school"].pdf, long_strings)
    assert_text_layer(_corpus()["vocational"].pdf, [SURNAME_TH, SURNAME_EN, COURSE_TH,
                                                    PROGRAMME_TH, PROGRAMME_EN, SIGNATORY_TH,
                                                    SIGNATORY_EN, VERIFIER_URL])
