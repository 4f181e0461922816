"""Artwork the demo draws for itself: an emblem per institution and placeholder photos.

No copyrighted artwork and no binary blobs in git: a seal with the institution's
initials, and a silhouette on a plain background in place of a student's photo. They go
through the same checks and normalisation as anything a registrar uploads.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Iterable
from importlib.resources import files

from PIL import Image, ImageDraw, ImageFont

_FONT = files("fontpkg_sarabun") / "files" / "Sarabun-Bold.ttf"


def emblem_png(initials: str, colour: tuple[int, int, int] = (122, 26, 36)) -> bytes:
    """A round seal, 600 px: two rings, sixteen rays, the `initials` in the middle."""
    size, c = 600, 300
    im = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    d = ImageDraw.Draw(im)
    d.ellipse((10, 10, size - 10, size - 10), fill=(255, 248, 230, 255), outline=colour,
              width=22)
    d.ellipse((62, 62, size - 62, size - 62), outline=colour, width=8)
    for i in range(16):
        a = 2 * math.pi * i / 16
        r0, r1 = 206, 232
        d.line((c + r0 * math.cos(a), c + r0 * math.sin(a),
                c + r1 * math.cos(a), c + r1 * math.sin(a)), fill=colour, width=10)
    font = ImageFont.truetype(str(_FONT), 150 if len(initials) <= 3 else 110)
    d.text((c, c + 8), initials, fill=colour, font=font, anchor="mm")
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def silhouette_jpeg(seed: int) -> bytes:
    """A 600 x 800 placeholder portrait: head and shoulders on a plain background."""
    backgrounds = [(196, 214, 232), (222, 226, 230), (205, 226, 214), (230, 218, 200)]
    skin = [(92, 104, 122), (70, 80, 96), (104, 96, 110), (84, 98, 92)]
    w, h = 600, 800
    im = Image.new("RGB", (w, h), backgrounds[seed % len(backgrounds)])
    d = ImageDraw.Draw(im)
    tone = skin[seed % len(skin)]
    d.ellipse((70, 520, 530, 1100), fill=tone)  # shoulders
    d.rectangle((250, 420, 350, 560), fill=tone)  # neck
    d.ellipse((170, 140, 430, 470), fill=tone)  # head
    out = io.BytesIO()
    im.save(out, "JPEG", quality=85)
    return out.getvalue()


def photos_zip(student_ids: Iterable[str]) -> bytes:
    """A ZIP as a registrar would make it: one ``<student_id>.jpg`` per student."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for i, sid in enumerate(student_ids):
            z.writestr(zipfile.ZipInfo(f"{sid}.jpg", (2026, 1, 1, 0, 0, 0)),
                       silhouette_jpeg(i))
    return out.getvalue()
