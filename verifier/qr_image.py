"""Read the QR code in a photo or screenshot, within bounds whatever the picture.

A stranger's picture can cost seconds of CPU (a 4 MB noise JPEG did, issue 9), so:

- in the web worker, only cheap checks: at most `MAX_BYTES`, a format Pillow knows from
  its header (PNG, JPEG, WebP, GIF, BMP, TIFF) and at most `MAX_PIXELS`, read from the
  header without decoding;
- then one of a few decoding slots shared by every worker of the machine
  (`verifier.sandbox.Slots`; none free: `QrImageError` "busy", HTTP 503);
- the decoding itself in a child process (``python -m verifier.qr_image``) at low
  priority with CPU, memory and wall-time limits (`verifier.sandbox`): Pillow decodes
  (a JPEG straight at a reduced size), the picture is scaled to `MAX_SIDE` and zbar
  (`verifier.zbar`) looks for the QR code as it is, then binarised.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from verifier import sandbox, zbar

FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF")
MAX_BYTES = 8 * 1024 * 1024  # a 12-megapixel phone photo is 2-6 MB
MAX_PIXELS = 50_000_000
MAX_SIDE = 2400  # larger pictures are scaled down: a QR needs far fewer pixels
PACKAGE_ROOT = Path(__file__).resolve().parents[1]


class QrImageError(ValueError):
    """The picture cannot be read or holds no QR code. `code` says which."""

    def __init__(self, code: str, message_en: str, message_th: str) -> None:
        super().__init__(message_en)
        self.code = code
        self.message_en = message_en
        self.message_th = message_th


TOO_LARGE = ("image_too_large", "The picture is too large", "รูปภาพมีขนาดใหญ่เกินไป")
NOT_IMAGE = ("not_image", "The file is not a picture (PNG, JPEG, WebP, GIF)",
             "ไฟล์ไม่ใช่รูปภาพ")
NO_QR = ("no_qr", "No QR code could be read in the picture", "ไม่พบคิวอาร์โค้ดในรูปภาพ")
UNAVAILABLE = ("qr_decoder_unavailable", "QR decoding is not available here",
               "ระบบอ่านคิวอาร์โค้ดจากรูปภาพไม่พร้อมใช้งาน")
BUSY = ("busy", "Too many pictures are being read right now; try again in a few seconds",
        "ขณะนี้มีการอ่านรูปภาพจำนวนมาก กรุณาลองใหม่ในอีกสักครู่")
TOO_SLOW = ("image_too_complex", "The picture took too long to read; send a sharper, "
            "closer picture of the QR code",
            "ใช้เวลาอ่านรูปภาพนานเกินไป กรุณาถ่ายคิวอาร์โค้ดให้ใกล้และชัดขึ้น")
ERRORS = {e[0]: e for e in (TOO_LARGE, NOT_IMAGE, NO_QR, UNAVAILABLE, BUSY, TOO_SLOW)}


@dataclass(frozen=True)
class PhotoLimits:
    """How much of the machine reading pictures may take."""

    slots: int = 1
    """Pictures decoded at once on this machine, all worker processes together."""
    wait: float = 0.0
    """Seconds a request waits for a free slot before it is answered "busy" (a sync
    worker waiting serves nobody else meanwhile)."""
    process: sandbox.Limits = field(default_factory=lambda: sandbox.Limits(
        cpu_seconds=3, wall_seconds=20.0, memory=1024 * 1024 * 1024))
    """CPU seconds, wall time and memory of one decoding. The wall time is generous: the
    child runs at low priority and waits while ordinary verifications take the CPU."""
    lock_dir: Path | None = None
    """Where the slots' lock files live (default a private folder in the temp dir)."""


def decode_qr(data: bytes, limits: PhotoLimits | None = None) -> str:
    """The text of the first QR code in the picture `data`; QrImageError otherwise."""
    limits = limits or PhotoLimits()
    _check_header(data)
    if not zbar.available():
        raise QrImageError(*UNAVAILABLE)
    with sandbox.Slots(limits.slots, limits.lock_dir).take(limits.wait) as free:
        if not free:
            raise QrImageError(*BUSY)
        try:
            done = sandbox.run([sys.executable, "-E", "-s", "-m", "verifier.qr_image"], data,
                               limits.process, cwd=PACKAGE_ROOT, env={"LANG": "C.UTF-8"})
        except sandbox.Overrun:
            raise QrImageError(*TOO_SLOW) from None
    try:
        answer = json.loads(done.stdout)
        if "text" in answer:
            return str(answer["text"])
        error = ERRORS[answer["error"]]
    except (ValueError, KeyError, TypeError):
        error = TOO_SLOW if done.returncode else NOT_IMAGE  # killed, or crashed on it
    raise QrImageError(*error)


def _check_header(data: bytes) -> None:
    """Size, format and pixel count, from the header only (nothing decoded here)."""
    if len(data) > MAX_BYTES:
        raise QrImageError(*TOO_LARGE)
    try:
        with Image.open(BytesIO(data), formats=FORMATS) as image:
            width, height = image.size
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError,
            SyntaxError, TypeError, EOFError):
        raise QrImageError(*NOT_IMAGE) from None
    if width * height > MAX_PIXELS:
        raise QrImageError(*TOO_LARGE)


# --- in the child process -------------------------------------------------------------------


def read_here(data: bytes) -> str:
    """Decode `data` in this process (the child's work); QrImageError if no QR."""
    _check_header(data)
    try:
        image = Image.open(BytesIO(data), formats=FORMATS)
        image.draft("L", (MAX_SIDE, MAX_SIDE))  # JPEG: decoded at 1/2, 1/4, 1/8 size
        image.load()
        image = ImageOps.exif_transpose(image).convert("L")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError,
            SyntaxError, TypeError, EOFError):
        raise QrImageError(*NOT_IMAGE) from None
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE))
    # A slightly rotated or blurred photo of a dense QR often fails as it is and reads
    # once binarised, or (a small picture) binarised at twice the size.
    for attempt in _variants(image):
        texts = zbar.scan(attempt.width, attempt.height, attempt.tobytes())
        if texts:
            return next((t for t in texts if "#" in t), texts[0])
    raise QrImageError(*NO_QR)


def _variants(image: Image.Image) -> Iterator[Image.Image]:
    yield image
    binary = ImageOps.autocontrast(image).point(lambda v: 255 if v >= 128 else 0)
    yield binary
    if max(image.size) <= MAX_SIDE // 3:
        yield binary.resize((image.width * 2, image.height * 2), Image.Resampling.NEAREST)


def main() -> None:
    """``python -m verifier.qr_image``: a picture on stdin, ``{"text"}`` or
    ``{"error"}`` as JSON on stdout."""
    try:
        answer = {"text": read_here(sys.stdin.buffer.read(MAX_BYTES + 1))}
    except QrImageError as exc:
        answer = {"error": exc.code}
    sys.stdout.write(json.dumps(answer))


if __name__ == "__main__":
    main()
