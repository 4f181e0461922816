"""The printed QR reads from a poor picture: pages with the longest names accepted at
import, rasterised at low resolution and blurred, decode with ``zbarimg`` into a
credential that verifies (docs/qr.md)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image, ImageFilter

from issuer.adapters.credential_signing import sign_credential
from issuer.adapters.pki import InstitutionKeys
from issuer.adapters.render import qr, render_transcript
from issuer.adapters.render.layout import QR_WIDTH
from issuer.core.record_json import record_digest
from issuer.core.records import Person
from issuer.pipeline import claims_for
from tests.factories import GIRL, school_record, vocational_record
from verifier.core.credential import kid_for, qr_url, sign_compact, verification_code, verify

pytestmark = pytest.mark.skipif(
    not (shutil.which("zbarimg") and shutil.which("pdftoppm")), reason="needs zbar and poppler")

VERIFIER = "https://transcripts.bangkok.go.th"
MM = 72 / 25.4
LONGEST = Person(  # 50 characters each, the longest import accepts (issuer/core/names.py)
    "เด็กหญิง", ("พรรณพัชรวลัญช์กรณ์ณัฏฐ์" * 3)[:50],
    ("เจริญรุ่งเรืองสุขสวัสดิ์วงศ์ษา" * 2)[:50], "Miss",
    ("Phanphatcharawalankornnat" * 3)[:50], ("Charoenrungrueangsuksawatwongsa" * 2)[:50])


def resolver(keys: InstitutionKeys) -> Callable[[str], ec.EllipticCurvePublicKey | None]:
    public_key = keys.credential_cert.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    return {keys.kid: public_key}.get


@pytest.fixture(scope="module")
def pages(school_keys: InstitutionKeys, tmp_path_factory: pytest.TempPathFactory
          ) -> dict[str, tuple[Path, str]]:
    """(PDF path, QR content) of the demo girl's transcript and of the longest names'."""
    out = {}
    folder = tmp_path_factory.mktemp("qr-scan")
    for label, person in (("demo", GIRL), ("longest", LONGEST)):
        record = school_record(person=person)
        digest = record_digest(record)
        content = qr_url(VERIFIER, sign_credential(claims_for(record, digest), school_keys))
        path = folder / f"{label}.pdf"
        path.write_bytes(render_transcript(record, content, verification_code(digest)))
        out[label] = (path, content)
    return out


def photo(pdf: Path, dpi: int, blur: float) -> Path:
    """Page 1 at `dpi` (grey), the QR's quarter of the page (how a phone frames it),
    Gaussian blur of radius `blur` pixels."""
    stem = pdf.with_name(f"{pdf.stem}-{dpi}")
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-f", "1", "-l", "1", "-singlefile",
                    "-png", str(pdf), str(stem)], check=True, capture_output=True)
    page = Image.open(stem.with_suffix(".png"))
    w, h = page.size
    shot = page.crop((w // 2, h * 3 // 4, w, h)).filter(ImageFilter.GaussianBlur(blur))
    out = pdf.with_name(f"{pdf.stem}-{dpi}-{blur}.png")
    shot.save(out)
    return out


@pytest.mark.parametrize("label", ["demo", "longest"])
@pytest.mark.parametrize(("dpi", "blur"), [(100, 0.6), (72, 0.0)])
def test_degraded_page_decodes_and_verifies(pages: dict[str, tuple[Path, str]], label: str,
                                            dpi: int, blur: float,
                                            school_keys: InstitutionKeys) -> None:
    """At 100 dpi a module is 2.4 pixels; at 72 dpi 1.7. The JWS (version 17-19, modules
    of 0.45 mm) read at neither once blurred, nor at 72 dpi."""
    pdf, content = pages[label]
    done = subprocess.run(["zbarimg", "-q", "--raw", str(photo(pdf, dpi, blur))],
                          capture_output=True, text=True, timeout=20)
    assert done.stdout.strip() == content
    assert verify(done.stdout, resolver(school_keys))[1] == claims_for(
        school_record(person=LONGEST if label == "longest" else GIRL),
        record_digest(school_record(person=LONGEST if label == "longest" else GIRL)))


@pytest.mark.parametrize("label", ["demo", "longest"])
def test_modules_of_at_least_0_6_mm(pages: dict[str, tuple[Path, str]], label: str) -> None:
    """Version 13 at most in the 42 mm symbol (the JWS: 17 and 19, modules of 0.45 mm)."""
    symbol = qr.encode(pages[label][1])
    assert symbol.version <= 13
    assert QR_WIDTH / symbol.size >= 0.6 * MM


@pytest.mark.parametrize("kind", ["school", "vocational"])
def test_quiet_zone_of_four_modules_is_blank(kind: str, monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    """Where the page draws the QR (recorded from `qr.draw`), 4 modules all round are
    white on the rendered page and inside it."""
    placed: list[tuple[float, float, float, int]] = []
    draw = qr.draw

    def recording(c, x, y, width, symbol, ops):  # type: ignore[no-untyped-def]
        placed.append((x, y, width, symbol.size))
        draw(c, x, y, width, symbol, ops)

    monkeypatch.setattr(qr, "draw", recording)
    record = school_record() if kind == "school" else vocational_record()
    digest = record_digest(record)
    key = ec.generate_private_key(ec.SECP256R1())
    content = qr_url(VERIFIER, sign_compact(claims_for(record, digest), key,
                                            kid_for(key.public_key())))
    pdf = tmp_path / "t.pdf"
    pdf.write_bytes(render_transcript(record, content, verification_code(digest)))
    dpi = 150
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-aa", "no", "-f", "1", "-l", "1",
                    "-singlefile", "-png", str(pdf), str(tmp_path / "p")], check=True)
    page = Image.open(tmp_path / "p.png").convert("L")
    x, y, width, size = placed[0]
    px = dpi / 72
    quiet = 4 * width / size
    left, right = (x - quiet) * px, (x + width + quiet) * px
    top, bottom = page.height - (y + width + quiet) * px, page.height - (y - quiet) * px
    assert left >= 0 and top >= 0 and right <= page.width and bottom <= page.height
    inner = ((x - 0.5) * px, page.height - (y + width + 0.5) * px,
             (x + width + 0.5) * px, page.height - (y - 0.5) * px)
    for row in range(int(top) + 1, int(bottom) - 1):
        for col in range(int(left) + 1, int(right) - 1):
            if not (inner[0] <= col <= inner[2] and inner[1] <= row <= inner[3]):
                assert page.getpixel((col, row)) > 200, f"ink in the quiet zone at {col},{row}"
