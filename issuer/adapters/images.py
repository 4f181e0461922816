"""Student photos and institution emblems: untrusted images in, normalised images out.

A registrar's ZIP of photos and an administrator's emblem are parsed by native code
(zlib, libjpeg, libpng), so, as an uploaded workbook (`issuer.adapters.xlsx_child`), they
are read in a child process (`verifier.sandbox`: own session, low priority, CPU seconds
and address space capped, killed at the wall time, no environment but ``PATH``). The
child refuses what breaks a rule below and re-encodes every image it accepts:

- a photo becomes a baseline JPEG of PHOTO_PX (30 x 40 mm at 300 dpi), cut to 3:4 around
  the upper middle, sRGB (an embedded ICC profile is converted), no alpha (flattened on
  white), turned upright by its EXIF orientation, with no EXIF, XMP, ICC or comment
  left (GPS positions never reach a PDF);
- an emblem becomes a PNG in RGB (no alpha, which PDF/A would have to carry as a soft
  mask), at most EMBLEM_MAX pixels a side, without ancillary chunks.

The parent accepts from the child only images of the expected kind and size (header
checks, no decoding), so even a child subverted by a hostile image hands back nothing
but a small JPEG or PNG.

    python -m issuer.adapters.images photos|emblem   (the child; stdin: the ZIP or image)
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import posixpath
import re
import resource
import stat
import struct
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verifier import sandbox

ROOT = Path(__file__).resolve().parents[2]
MiB = 1 << 20

PHOTO_MM = (30, 40)
PHOTO_PX = (354, 472)  # 30 x 40 mm at 300 dpi
EMBLEM_MAX = 600  # pixels on the longer side: 50 mm at 300 dpi
JPEG_QUALITY = 90

MAX_ZIP_BYTES = 50 * MiB
"""The ZIP as uploaded: 2,000 phone photos of 25 kB each is 50 MB; resize before zipping."""
MAX_ENTRIES = 5_000
"""Entries in the ZIP's directory (folders and ignored files count too)."""
MAX_IMAGE_BYTES = 10 * MiB
"""One image, unpacked (counted as it inflates, not as the ZIP declares it)."""
MAX_UNPACKED = 300 * MiB
"""Every image of the ZIP together, unpacked."""
MAX_EMBLEM_BYTES = 2 * MiB
MAX_SIDE = 8_000
"""Pixels on either side of an image (a 12 MP phone photo is 4,032 x 3,024)."""
MAX_PIXELS = 40_000_000
"""Width x height; Pillow's decompression-bomb limit is set to it in the child."""
MIN_SIDE = 60
"""A photo smaller than this on either side could not be printed recognisably."""
LIMITS = sandbox.Limits(cpu_seconds=300, wall_seconds=600.0, memory=1024 * MiB)
"""2,000 photos of 12 MP decode (JPEG draft mode) in well under a minute of CPU."""
MAX_OUTPUT_PHOTO = 512 * 1024  # a normalised photo is about 30-60 kB
MAX_OUTPUT_EMBLEM = 2 * MiB

_IGNORED = re.compile(r"(^|/)(__MACOSX/|\.[^/]*$|Thumbs\.db$|desktop\.ini$)", re.IGNORECASE)
_STEM = re.compile(r"[A-Za-z0-9ก-๙._-]{1,32}")
_JPEG, _PNG = b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"


class ImageRefused(Exception):
    """An image or a ZIP that is refused as a whole; why, in Thai and English."""

    def __init__(self, th: str, en: str) -> None:
        super().__init__(en)
        self.th, self.en = th, en


@dataclass(frozen=True)
class PhotoProblem:
    """One entry of a photo ZIP that is refused (its name as the ZIP spells it)."""

    name: str
    th: str
    en: str


@dataclass(frozen=True)
class Photos:
    """What a photo ZIP gave: normalised JPEGs by file stem (the student ID), and the
    entries refused. Any problem refuses the import."""

    by_stem: dict[str, bytes]
    problems: tuple[PhotoProblem, ...]


def sha256(data: bytes) -> str:
    """An image's digest as snapshots and records carry it (hex SHA-256)."""
    return hashlib.sha256(data).hexdigest()


NOT_READ = ("อ่านไฟล์รูปถ่ายไม่สำเร็จภายในเวลาและหน่วยความจำที่กำหนด: ไฟล์อาจเสียหายหรือใหญ่เกินไป",
            "the images could not be read within the time and memory allowed: the file "
            "may be damaged or too large")


# --- the parent: run the child, accept only well-formed output ----------------------

def read_photos(data: bytes, *, limits: sandbox.Limits | None = None) -> Photos:
    """The photos of the ZIP `data`, each normalised, read by a bounded child.
    ImageRefused when the ZIP as a whole is refused."""
    if len(data) > MAX_ZIP_BYTES:
        raise ImageRefused(
            f"ไฟล์ ZIP รูปถ่ายใหญ่เกิน {MAX_ZIP_BYTES // MiB} MB: ย่อขนาดรูปก่อนบีบอัด หรือแบ่งเป็นหลายชุด",
            f"the photo ZIP is larger than {MAX_ZIP_BYTES // MiB} MB: make the photos "
            "smaller before zipping them, or split the batch")
    closing, lines = _run("photos", data, limits)
    by_stem: dict[str, bytes] = {}
    for line in lines:
        stem, jpeg = str(line["stem"]), base64.b64decode(line["jpeg"])
        _check_output(jpeg, "JPEG", MAX_OUTPUT_PHOTO, exact=PHOTO_PX)
        by_stem[stem] = jpeg
    problems = tuple(PhotoProblem(str(n), str(th), str(en))
                     for n, th, en in closing.get("problems", []))
    return Photos(by_stem, problems)


def read_emblem(data: bytes, *, limits: sandbox.Limits | None = None) -> bytes:
    """The emblem image `data` normalised (RGB PNG), read by a bounded child;
    ImageRefused if it is not a usable JPEG or PNG."""
    if len(data) > MAX_EMBLEM_BYTES:
        raise ImageRefused(f"ไฟล์ตราสัญลักษณ์ใหญ่เกิน {MAX_EMBLEM_BYTES // MiB} MB",
                           f"the emblem file is larger than {MAX_EMBLEM_BYTES // MiB} MB")
    closing, lines = _run("emblem", data, limits)
    if closing.get("problems"):
        _, th, en = closing["problems"][0]
        raise ImageRefused(str(th), str(en))
    if len(lines) != 1:
        raise ImageRefused(*NOT_READ)
    png = base64.b64decode(lines[0]["png"])
    _check_output(png, "PNG", MAX_OUTPUT_EMBLEM)
    return png


def _run(mode: str, data: bytes, limits: sandbox.Limits | None
         ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT),
           "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        done = sandbox.run([sys.executable, "-m", __name__, mode], data, limits or LIMITS,
                           cwd=ROOT, env=env)
    except sandbox.Overrun:
        raise ImageRefused(*NOT_READ) from None
    try:
        messages = [json.loads(line) for line in done.stdout.splitlines()]
        closing = messages.pop()
        if not isinstance(closing, dict) or "closing" not in closing:
            raise ValueError("no closing line")
    except (ValueError, IndexError):
        raise ImageRefused(*NOT_READ) from None
    if closing.get("error"):
        th, en = closing["error"]
        raise ImageRefused(str(th), str(en))
    return closing, messages


def _check_output(data: bytes, kind: str, limit: int,
                  exact: tuple[int, int] | None = None) -> None:
    """Refuse output of the child that is not what the child makes (header only)."""
    from PIL import Image

    magic = _JPEG if kind == "JPEG" else _PNG
    try:
        if len(data) > limit or not data.startswith(magic):
            raise ValueError(kind)
        with Image.open(io.BytesIO(data), formats=(kind,)) as im:
            ok = im.mode == "RGB" and (exact is None or im.size == exact) and max(
                im.size) <= max(EMBLEM_MAX, *PHOTO_PX)
        if not ok:
            raise ValueError(kind)
    except (OSError, ValueError, Image.DecompressionBombError):
        raise ImageRefused(*NOT_READ) from None


# --- the child: parse, check and re-encode -------------------------------------------

def _refuse_name(name: str) -> tuple[str, str] | None:
    """Why an entry's name is refused (path traversal and the like), or None."""
    if ("\x00" in name or "\\" in name or name.startswith("/")
            or re.match(r"[A-Za-z]:", name)
            or ".." in posixpath.normpath(name).split("/")
            or ".." in name.split("/")):
        return ("ชื่อไฟล์ในไฟล์ ZIP ไม่ปลอดภัย (มีเส้นทางออกนอกโฟลเดอร์)",
                "an unsafe name in the ZIP (a path leaving its folder)")
    return None


def _entries(data: bytes) -> tuple[list[tuple[str, str, bytes]], list[PhotoProblem]]:
    """(name, stem, bytes) of every image entry, read within the limits, and the
    entries refused; ImageRefused when the ZIP as a whole is."""
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        infos = z.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise ImageRefused("อ่านไฟล์ ZIP รูปถ่ายไม่ได้: ต้องเป็นไฟล์ .zip", "the photos file is "
                           "not a readable ZIP archive") from None
    if len(infos) > MAX_ENTRIES:
        raise ImageRefused(f"ไฟล์ ZIP มีไฟล์มากเกิน {MAX_ENTRIES:,} ไฟล์",
                           f"the ZIP holds more than {MAX_ENTRIES:,} entries")
    out: list[tuple[str, str, bytes]] = []
    problems: list[PhotoProblem] = []
    total = 0
    for info in infos:
        name = info.filename
        if info.is_dir() or _IGNORED.search(name):
            continue
        if (why := _refuse_name(name)) is not None:
            problems.append(PhotoProblem(name, *why))
            continue
        if stat.S_ISLNK(info.external_attr >> 16):
            problems.append(PhotoProblem(name, "ไฟล์ ZIP มีลิงก์ (symlink) แทนรูปถ่าย",
                                         "a symbolic link, not a photo"))
            continue
        if info.flag_bits & 0x1:
            problems.append(PhotoProblem(name, "ไฟล์ถูกเข้ารหัสด้วยรหัสผ่าน: บีบอัดใหม่โดยไม่ใส่รหัส",
                                         "encrypted: zip the photos again without a password"))
            continue
        stem = posixpath.basename(name).rsplit(".", 1)[0]
        if not _STEM.fullmatch(stem):
            problems.append(PhotoProblem(
                name, "ชื่อไฟล์ต้องเป็นเลขประจำตัวนักเรียน (student_id) ตามด้วย .jpg หรือ .png",
                "the file name must be the student_id followed by .jpg or .png"))
            continue
        if info.file_size > MAX_IMAGE_BYTES:
            problems.append(_too_big(name))
            continue
        try:
            with z.open(info) as f:
                body = f.read(MAX_IMAGE_BYTES + 1)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError):
            problems.append(PhotoProblem(name, "ไฟล์ในไฟล์ ZIP เสียหาย", "damaged in the ZIP"))
            continue
        if len(body) > MAX_IMAGE_BYTES:
            problems.append(_too_big(name))
            continue
        total += len(body)
        if total > MAX_UNPACKED:
            raise ImageRefused(f"รูปถ่ายในไฟล์ ZIP รวมกันเกิน {MAX_UNPACKED // MiB} MB เมื่อแตกไฟล์",
                               f"the photos in the ZIP come to more than "
                               f"{MAX_UNPACKED // MiB} MB unpacked")
        out.append((name, stem, body))
    return out, problems


def _too_big(name: str) -> PhotoProblem:
    return PhotoProblem(name, f"รูปถ่ายใหญ่เกิน {MAX_IMAGE_BYTES // MiB} MB",
                        f"the photo is larger than {MAX_IMAGE_BYTES // MiB} MB")


def _open(data: bytes, target: tuple[int, int]) -> Any:
    """The decoded image `data`, upright, in sRGB RGB on white; ImageRefused if it is not
    a JPEG or PNG within the limits."""
    from PIL import Image, ImageOps

    if not (data.startswith(_JPEG) or data.startswith(_PNG)):
        raise ImageRefused("ไม่ใช่รูปแบบ JPEG หรือ PNG (ตรวจจากเนื้อไฟล์ ไม่ใช่นามสกุล)",
                           "not a JPEG or PNG image (judged by its content, not its name)")
    try:
        im = Image.open(io.BytesIO(data), formats=("JPEG", "PNG"))
        w, h = im.size
        if max(w, h) > MAX_SIDE or w * h > MAX_PIXELS:
            raise ImageRefused(
                f"รูปใหญ่เกินไป ({w:,} x {h:,} จุด; ไม่เกิน {MAX_SIDE:,} จุดต่อด้าน)",
                f"the image is too large ({w:,} x {h:,} pixels; at most {MAX_SIDE:,} a side "
                f"and {MAX_PIXELS // 1_000_000} million in all)")
        if min(w, h) < MIN_SIDE:
            raise ImageRefused(f"รูปเล็กเกินไป ({w} x {h} จุด)",
                               f"the image is too small ({w} x {h} pixels)")
        if im.format == "JPEG":
            im.draft("RGB", (target[0] * 2, target[1] * 2))  # decode at reduced scale
        im.load()
        im = ImageOps.exif_transpose(im)
        im = _srgb(im)
        if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
            im = im.convert("RGBA")
            white = Image.new("RGBA", im.size, (255, 255, 255, 255))
            im = Image.alpha_composite(white, im)
        return im.convert("RGB")
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRefused("รูปใหญ่เกินไป (decompression bomb)",
                           "the image is too large (a decompression bomb)") from None
    except (OSError, ValueError, SyntaxError, EOFError, struct.error):
        raise ImageRefused("ไฟล์รูปเสียหายหรืออ่านไม่ได้", "the image is damaged or unreadable") \
            from None


def _srgb(im: Any) -> Any:
    """`im` with its embedded ICC profile applied (to sRGB), or as it is without one."""
    profile = im.info.get("icc_profile")
    if not profile:
        return im
    from PIL import ImageCms

    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        mode = "RGBA" if "A" in im.getbands() else "RGB"
        return ImageCms.profileToProfile(im.convert(mode), source,
                                         ImageCms.createProfile("sRGB"), outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return im  # a broken profile: the pixels as they are


def normalise_photo(data: bytes) -> bytes:
    """A photo as printed: PHOTO_PX baseline JPEG, 3:4, sRGB, no metadata."""
    from PIL import Image, ImageOps

    im = _open(data, PHOTO_PX)
    im = ImageOps.fit(im, PHOTO_PX, Image.Resampling.LANCZOS, centering=(0.5, 0.4))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=False)
    return out.getvalue()


def normalise_emblem(data: bytes) -> bytes:
    """An emblem as printed: RGB PNG on white, at most EMBLEM_MAX a side, no chunks
    beyond the image."""
    from PIL import Image

    im = _open(data, (EMBLEM_MAX, EMBLEM_MAX))
    im.thumbnail((EMBLEM_MAX, EMBLEM_MAX), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    im.save(out, "PNG", optimize=True)
    return out.getvalue()


def child(mode: str) -> int:
    """The child: a ZIP of photos or one emblem on stdin; one JSON line per image, then a
    closing line ``{"closing": 1, "problems": [[name, th, en]...]}`` or with ``error``."""
    import warnings

    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    out = sys.stdout
    data = sys.stdin.buffer.read()
    closing: dict[str, Any] = {"closing": 1}
    problems: list[PhotoProblem] = []
    try:
        if mode == "emblem":
            try:
                png = normalise_emblem(data)
                out.write(json.dumps({"png": base64.b64encode(png).decode()}) + "\n")
            except ImageRefused as e:
                problems.append(PhotoProblem("", e.th, e.en))
        else:
            entries, problems = _entries(data)
            seen: dict[str, str] = {}
            for name, stem, body in entries:
                if stem in seen:
                    problems.append(PhotoProblem(
                        name, f"รูปของนักเรียน {stem} ซ้ำกับ {seen[stem]}",
                        f"a second photo of student {stem} (also {seen[stem]})"))
                    continue
                seen[stem] = name
                try:
                    jpeg = normalise_photo(body)
                except ImageRefused as e:
                    problems.append(PhotoProblem(name, e.th, e.en))
                    continue
                out.write(json.dumps({"stem": stem,
                                      "jpeg": base64.b64encode(jpeg).decode()}) + "\n")
        closing["problems"] = [[p.name, p.th, p.en] for p in problems]
    except ImageRefused as e:
        closing["error"] = [e.th, e.en]
    except MemoryError:
        closing["error"] = list(NOT_READ)
    out.write(json.dumps(closing, ensure_ascii=False) + "\n")
    out.flush()
    return 0


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sys.exit(child(sys.argv[1] if len(sys.argv) > 1 else "photos"))
