"""The images a document prints (the student's photo, the institution's emblem), placed
as image XObjects without decoding them again for every transcript.

The images arrive normalised (`issuer.adapters.images`): a photo is a baseline RGB JPEG,
embedded as it is (DCTDecode: no decoding at all); an emblem is an RGB PNG, decoded once
per process and kept by digest. Neither carries a soft mask, so the page stays PDF/A.
The record names each image by its SHA-256; `picture` hands out only bytes that have it.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Mapping
from functools import lru_cache
from io import BytesIO

from reportlab.pdfbase.pdfdoc import PDFImageXObject
from reportlab.pdfgen.canvas import Canvas

Images = Mapping[str, bytes]
"""Normalised images by their hex SHA-256, as the record names them."""


class MissingImage(ValueError):
    """The record names an image that was not supplied, or bytes of another digest."""


def picture(images: Images | None, sha256: str) -> bytes | None:
    """The image the record names (None when it names none); MissingImage when it is not
    supplied or its bytes do not have that digest: nothing is printed in its place."""
    if not sha256:
        return None
    data = (images or {}).get(sha256)
    if data is None:
        raise MissingImage(f"the record names image {sha256[:12]}…, which was not supplied")
    if hashlib.sha256(data).hexdigest() != sha256:
        raise MissingImage(f"image {sha256[:12]}… does not match its digest")
    return data


@lru_cache(maxsize=16)
def _png_raster(data: bytes) -> tuple[int, int, bytes]:
    """(width, height, Flate-compressed RGB) of a normalised PNG: decoded once a process."""
    from PIL import Image

    with Image.open(BytesIO(data), formats=("PNG",)) as im:
        rgb = im.convert("RGB")
        return rgb.width, rgb.height, zlib.compress(rgb.tobytes(), 6)


def _xobject(name: str, data: bytes) -> PDFImageXObject:
    image = PDFImageXObject(name)
    if data.startswith(b"\xff\xd8"):
        if not image.loadImageFromJPEG(BytesIO(data)):
            raise MissingImage("a photo that is not a JPEG")
        return image
    image.width, image.height, image.streamContent = _png_raster(data)
    image.colorSpace, image.bitsPerComponent = "DeviceRGB", 8
    image._filters = ("FlateDecode",)
    image.mask = None
    return image


def draw(c: Canvas, data: bytes, x: float, y: float, width: float, height: float) -> None:
    """Place the image `data` in the box (x, y, width, height), its aspect kept, centred;
    each image is stored once per document however often it is drawn."""
    name = "img" + hashlib.sha256(data).hexdigest()[:24]
    ref = c._doc.getXObjectName(name)
    image = c._doc.idToObject.get(ref)
    if image is None:
        image = _xobject(name, data)
        c._setXObjects(image)
        c._doc.Reference(image, ref)
        c._doc.addForm(name, image)
    scale = min(width / image.width, height / image.height)
    w, h = image.width * scale, image.height * scale
    c.saveState()
    c.translate(x + (width - w) / 2, y + (height - h) / 2)
    c.scale(w, h)
    c._code.append(f"/{ref} Do")
    c.restoreState()
    c._formsinuse.append(name)
