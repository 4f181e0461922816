"""Read the QR code in a photo or screenshot: Pillow checks and normalises, zbar decodes.

Pillow opens only the common raster formats and refuses huge images before decoding
them (no decompression bombs); the picture is handed to ``zbarimg`` (Debian's
zbar-tools) as a grey PNG in a private temporary file, with a time limit.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF")
MAX_PIXELS = 50_000_000
MAX_SIDE = 4000  # larger pictures are scaled down: a QR needs far fewer pixels
TIMEOUT = 15.0


class QrImageError(ValueError):
    """The picture cannot be read or holds no QR code. `code` says which."""

    def __init__(self, code: str, message_en: str, message_th: str) -> None:
        super().__init__(message_en)
        self.code = code
        self.message_en = message_en
        self.message_th = message_th


def zbarimg() -> str | None:
    return shutil.which("zbarimg")


def decode_qr(data: bytes) -> str:
    """The text of the first QR code in the picture `data`; QrImageError otherwise."""
    try:
        image = Image.open(BytesIO(data), formats=FORMATS)
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise QrImageError("image_too_large", "The picture has too many pixels",
                               "รูปภาพมีขนาดใหญ่เกินไป")
        image.load()
        image = ImageOps.exif_transpose(image).convert("L")
    except QrImageError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError,
            SyntaxError, TypeError, EOFError):
        raise QrImageError("not_image", "The file is not a picture (PNG, JPEG, WebP, GIF)",
                           "ไฟล์ไม่ใช่รูปภาพ") from None
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE))
    program = zbarimg()
    if program is None:
        raise QrImageError("qr_decoder_unavailable", "QR decoding is not available here",
                           "ระบบอ่านคิวอาร์โค้ดจากรูปภาพไม่พร้อมใช้งาน")
    # A slightly rotated or blurred photo of a dense QR often fails as it is and reads
    # once binarised, or binarised at twice the size.
    for attempt in _variants(image):
        text = _zbar(program, attempt)
        if text is not None:
            return text
    raise QrImageError("no_qr", "No QR code could be read in the picture",
                       "ไม่พบคิวอาร์โค้ดในรูปภาพ")


def _variants(image: Image.Image) -> Iterator[Image.Image]:
    yield image
    binary = ImageOps.autocontrast(image).point(lambda v: 255 if v >= 128 else 0)
    yield binary
    if max(image.size) <= MAX_SIDE // 2:
        yield binary.resize((image.width * 2, image.height * 2), Image.Resampling.NEAREST)


def _zbar(program: str, image: Image.Image) -> str | None:
    with tempfile.TemporaryDirectory(prefix="bkt-qr-") as folder:
        path = Path(folder) / "qr.png"
        image.save(path, format="PNG")
        try:
            done = subprocess.run(
                [program, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(path)],
                capture_output=True, timeout=TIMEOUT, check=False,
            )
        except (subprocess.TimeoutExpired, OSError):
            return None
    lines = [line.strip() for line in done.stdout.decode("utf-8", "replace").splitlines()]
    texts = [line for line in lines if line]
    if done.returncode != 0 or not texts:
        return None
    return next((t for t in texts if "#" in t), texts[0])
