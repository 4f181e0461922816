"""The QR code drawn on a PDF's page must be the credential embedded in it.

A reader holding the printout scans the QR on the page; the PDF path checks the
embedded ``credential.jws``. Both must be one credential, or a page could carry
another student's QR. So the first page is rendered (poppler's ``pdftoppm``, grey,
`RESOLUTION` dpi: a QR module of the 42 mm symbol is about four pixels) in a child
process with CPU, memory and time limits, and read with zbar (`verifier.zbar`).

Check ``printed_qr``: pass when every QR code on the page is the embedded credential;
fail (INVALID) when one is another credential or other text; indeterminate when the
page cannot be rendered or holds no readable QR code (then nothing was proven either
way). Only run on a PDF whose signature verified and chains to the pinned root: a
stranger's PDF is never rendered.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from verifier import sandbox, zbar
from verifier.core.credential import CredentialError, extract_token
from verifier.core.verdict import Check, Status

CHECK_ID = "printed_qr"
RESOLUTION = 150
DENSITIES = (2, 1)  # every second line first (a third of the time), then every line
LIMITS = sandbox.Limits(cpu_seconds=5, wall_seconds=10.0, memory=1024 * 1024 * 1024)

PASSED = Check(CHECK_ID, Status.PASS, "คิวอาร์โค้ดที่พิมพ์บนหน้าเอกสารตรงกับข้อมูลรับรองในไฟล์",
               "The QR code printed on the page is this PDF's credential")


def skipped() -> Check:
    return Check(CHECK_ID, Status.SKIPPED,
                 "ไม่ได้ตรวจคิวอาร์โค้ดบนหน้าเอกสาร เพราะลายมือชื่อของไฟล์ไม่ผ่านการตรวจสอบ",
                 "The QR code on the page was not checked: the PDF's signature did not verify")


def _cannot(reason_th: str, reason_en: str) -> Check:
    return Check(CHECK_ID, Status.INDETERMINATE,
                 f"ตรวจคิวอาร์โค้ดบนหน้าเอกสารไม่ได้: {reason_th}",
                 f"The QR code on the page could not be checked: {reason_en}")


def check(pdf: bytes, credential: str) -> Check:
    """Compare the QR code(s) on the first page of `pdf` with `credential` (a JWS)."""
    texts = page_qr_codes(pdf)
    if texts is None:
        return _cannot("แสดงผลหน้าเอกสารไม่ได้", "the page could not be rendered")
    if not texts:
        return _cannot("ไม่พบคิวอาร์โค้ดที่อ่านได้", "no readable QR code on the page")
    expected = credential.strip()
    for text in texts:
        try:
            same = extract_token(text) == expected
        except CredentialError:
            same = False
        if not same:
            return Check(CHECK_ID, Status.FAIL,
                         "คิวอาร์โค้ดที่พิมพ์บนหน้าเอกสารไม่ใช่ข้อมูลรับรองของไฟล์นี้",
                         "The QR code printed on the page is not this PDF's credential")
    return PASSED


def page_qr_codes(pdf: bytes) -> list[str] | None:
    """The text of every QR code on page 1; None if it cannot be rendered or read."""
    program = shutil.which("pdftoppm")
    if program is None or not zbar.available():
        return None
    with tempfile.TemporaryDirectory(prefix="bkt-page-") as folder:
        source = Path(folder) / "in.pdf"
        source.write_bytes(pdf)
        try:
            done = sandbox.run(
                [program, "-f", "1", "-l", "1", "-r", str(RESOLUTION), "-gray",
                 "-aa", "no",  # text without anti-aliasing: a tenth faster; shapes keep it
                 "-singlefile", str(source), str(Path(folder) / "page")],
                b"", LIMITS)
        except sandbox.Overrun:
            return None
        page = Path(folder) / "page.pgm"
        if done.returncode != 0 or not page.exists():
            return None
        size = _pgm(page.read_bytes())
    if size is None:
        return None
    width, height, pixels = size
    for density in DENSITIES:
        texts = zbar.scan(width, height, pixels, density=density)
        if texts:
            return texts
    return []


def _pgm(data: bytes) -> tuple[int, int, bytes] | None:
    """Width, height and pixels of pdftoppm's binary 8-bit PGM (``P5``)."""
    fields: list[bytes] = []
    position = 0
    while len(fields) < 4:
        while position < len(data) and data[position:position + 1].isspace():
            position += 1
        end = position
        while end < len(data) and not data[end:end + 1].isspace():
            end += 1
        if end == position:
            return None
        fields.append(data[position:end])
        position = end
    position += 1  # the one whitespace byte after maxval
    if fields[0] != b"P5" or fields[3] != b"255":
        return None
    width, height = int(fields[1]), int(fields[2])
    pixels = data[position:position + width * height]
    return (width, height, pixels) if len(pixels) == width * height else None
