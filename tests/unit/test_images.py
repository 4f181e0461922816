"""Photo ZIPs and emblems are untrusted: the bounded child refuses what breaks a rule and
re-encodes the rest without metadata (`issuer.adapters.images`)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest
from PIL import Image

from issuer.adapters import images
from issuer.demo_images import silhouette_jpeg


def _zip(entries: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return out.getvalue()


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims `width` x `height` (one tiny IDAT: never decoded)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b""))


def _exif_jpeg() -> bytes:
    """A phone-like photo: EXIF with a GPS position and an orientation, an ICC profile."""
    from PIL import ImageCms

    im = Image.new("RGB", (800, 600), (10, 120, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90
    exif.get_ifd(0x8825)[2] = (13.0, 45.0, 0.0)  # GPSLatitude
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif.tobytes(), icc_profile=icc, comment=b"secret")
    return out.getvalue()


def _png_alpha() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (300, 400), (200, 0, 0, 0)).save(out, "PNG")
    return out.getvalue()


def test_photos_come_back_normalised_without_metadata() -> None:
    found = images.read_photos(_zip({"66001.jpg": _exif_jpeg(), "sub/66002.png": _png_alpha(),
                                     "__MACOSX/._66001.jpg": b"junk", ".DS_Store": b"x"}))
    assert found.problems == ()
    assert set(found.by_stem) == {"66001", "66002"}
    for jpeg in found.by_stem.values():
        im = Image.open(io.BytesIO(jpeg))
        assert (im.format, im.mode, im.size) == ("JPEG", "RGB", images.PHOTO_PX)
        assert "exif" not in im.info and "icc_profile" not in im.info
        assert "comment" not in im.info and not im.info.get("progressive")
        assert b"Exif" not in jpeg and b"secret" not in jpeg
    # the transparent PNG is flattened on white, not black
    assert Image.open(io.BytesIO(found.by_stem["66002"])).getpixel((170, 230)) >= (250,) * 3


def test_the_content_decides_not_the_name() -> None:
    found = images.read_photos(_zip({"66001.jpg": _png_alpha(),  # a PNG named .jpg: fine
                                     "66002.png": b"GIF89a" + b"\0" * 100}))
    assert set(found.by_stem) == {"66001"}
    assert [(p.name, p.en.split(" (")[0]) for p in found.problems] == [
        ("66002.png", "not a JPEG or PNG image")]


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("../../etc/66001.jpg", b"", "unsafe name"),
    ("/abs/66001.jpg", b"", "unsafe name"),
    ("C:/x/66001.jpg", b"", "unsafe name"),
    ("a\\..\\66001.jpg", b"", "unsafe name"),
    ("66001 (copy).jpg", b"", "must be the student_id"),
    ("66001.jpg", _png_header(50_000, 50_000), "too large"),
    ("66001.png", _png_header(9_000, 100), "too large"),
    ("66001.png", _png_header(20, 20), "too small"),
    ("66001.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 64, "damaged"),
    ("66001.jpg", b"\0" * (images.MAX_IMAGE_BYTES + 1), "larger than 10 MB"),
], ids=["traversal", "absolute", "drive", "backslash", "name", "huge", "wide", "tiny",
        "truncated jpeg", "inflates past its cap"])
def test_a_bad_entry_is_named_with_its_reason(name: str, data: bytes, reason: str) -> None:
    found = images.read_photos(_zip({name: data or silhouette_jpeg(0)}))
    assert found.by_stem == {}
    assert [p.name for p in found.problems] == [name]
    assert reason in found.problems[0].en


def test_zip_bombs_and_non_zips_are_refused_as_a_whole() -> None:
    with pytest.raises(images.ImageRefused, match="not a readable ZIP"):
        images.read_photos(b"PK\x03\x04 this is not a zip")
    with pytest.raises(images.ImageRefused, match="larger than 50 MB"):
        images.read_photos(b"\0" * (images.MAX_ZIP_BYTES + 1))
    too_many = _zip({f"d{i}/": b"" for i in range(images.MAX_ENTRIES + 1)},
                    compression=zipfile.ZIP_STORED)
    with pytest.raises(images.ImageRefused, match="more than 5,000 entries"):
        images.read_photos(too_many)
    # 31 entries of 10 MB of zeros: 310 MB unpacked from a ZIP of about 300 kB
    out, chunk = io.BytesIO(), b"\0" * (1 << 20)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(31):
            with z.open(f"{60000 + i}.jpg", "w") as f:
                f.write(b"\xff\xd8\xff" + chunk[3:])
                for _ in range(images.MAX_IMAGE_BYTES // len(chunk) - 1):
                    f.write(chunk)
    bomb = out.getvalue()
    assert len(bomb) < 1_000_000
    with pytest.raises(images.ImageRefused, match="more than 300 MB unpacked"):
        images.read_photos(bomb)


def test_a_second_photo_of_one_student_is_refused() -> None:
    found = images.read_photos(_zip({"a/66001.jpg": silhouette_jpeg(0),
                                     "b/66001.png": silhouette_jpeg(1)}))
    assert [p.name for p in found.problems] == ["b/66001.png"]


def test_the_child_runs_under_limits() -> None:
    from verifier import sandbox

    with pytest.raises(images.ImageRefused, match="within the time and memory"):
        images.read_photos(_zip({"66001.jpg": silhouette_jpeg(0)}),
                           limits=sandbox.Limits(cpu_seconds=1, wall_seconds=0.01,
                                                 memory=1 << 30))


def test_an_emblem_becomes_an_rgb_png() -> None:
    png = images.read_emblem(_png_alpha())
    im = Image.open(io.BytesIO(png))
    assert (im.format, im.mode) == ("PNG", "RGB") and max(im.size) <= images.EMBLEM_MAX
    with pytest.raises(images.ImageRefused, match="not a JPEG or PNG"):
        images.read_emblem(b"<svg/>")
