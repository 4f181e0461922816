"""Sarabun fonts, registered once per process, and shaped text drawing.

reportlab shapes text with uharfbuzz only inside Paragraphs; `canvas.drawString(shaping=True)`
silently does nothing without rlbidi. We call reportlab's own shaper (`shapeStr`, the one
Paragraph uses) and hand the resulting `ShapedStr` to the canvas, whose text object then
positions every glyph with harfbuzz's offsets (tone marks over upper vowels, ญ/ฐ without
their lower serif before a lower vowel). This keeps each label a single text run, which is
several times faster than laying out a Paragraph per table cell.

Shaping breaks the text layer: harfbuzz picks glyphs the font's cmap does not reach (a
small tone mark above an upper vowel, a narrow upper vowel on ป; reportlab labels them
with private-use code points U+E000...) and splits ำ into nikhahit and sara aa. So a run
whose glyphs would not read back as its text is wrapped in a ``/Span`` marked-content
sequence whose ``/ActualText`` is the text itself (ISO 32000-1, 14.9.4): text extraction,
search, copy and screen readers then get exactly the Unicode that was drawn.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

from reportlab.lib.abag import ABag
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import ShapedStr, TTFont, shapeFragWord
from reportlab.pdfgen.canvas import Canvas

REGULAR = "Sarabun"
BOLD = "Sarabun-Bold"
_FILES = {REGULAR: "Sarabun-Regular.ttf", BOLD: "Sarabun-Bold.ttf"}
# No ligatures: "fi" would become U+FB01 and English would not extract or search cleanly.
# Thai needs only the default ccmp/mark/mkmk features, which stay on.
_FEATURES = {"kern": True, "liga": False}
MIN_SIZE = 7.0  # smallest type the layout uses; below this text wraps instead


def register() -> None:
    """Register Sarabun regular and bold with reportlab (idempotent)."""
    registered = set(pdfmetrics.getRegisteredFontNames())
    folder = files("fontpkg_sarabun") / "files"
    for name, filename in _FILES.items():
        if name not in registered:
            font = TTFont(name, str(folder / filename), shapable=True)
            if not font.shapable:
                raise RuntimeError("uharfbuzz is required to shape Thai text")
            pdfmetrics.registerFont(font)


register()


@lru_cache(maxsize=8192)
def shaped(text: str, font: str = REGULAR, size: float = 9) -> str:
    """`text` shaped by harfbuzz (a `ShapedStr`), or unchanged if shaping changes nothing.

    ASCII-only text is left unshaped: it needs no shaping and this halves the work.
    """
    if text.isascii():
        return text
    frag = (ABag(fontName=font, fontSize=size), text)
    word = shapeFragWord([pdfmetrics.stringWidth(text, font, size), frag], _FEATURES)
    return word[1][1]


def width(text: str, font: str = REGULAR, size: float = 9) -> float:
    """Advance width of `text` in points, as drawn after shaping."""
    s = shaped(text, font, size)
    if isinstance(s, ShapedStr):
        return sum(d.x_advance for d in s.__shapeData__) * size / 1000
    return pdfmetrics.stringWidth(text, font, size)


def fit(text: str, font: str, size: float, max_width: float,
        min_size: float = MIN_SIZE) -> float:
    """The largest size <= `size` (in 0.25 pt steps) at which `text` fits `max_width`."""
    w = width(text, font, size)
    if w <= max_width:
        return size
    guess = max(min_size, size * max_width / w)
    guess = int(guess * 4) / 4
    while guess > min_size and width(text, font, guess) > max_width:
        guess -= 0.25
    return max(guess, min_size)


@lru_cache(maxsize=4096)
def wrap(text: str, font: str, size: float, max_width: float,
         max_lines: int | None = None, min_size: float = MIN_SIZE) -> tuple[float, tuple[str, ...]]:
    """(size, lines): `text` broken at word boundaries (Thai by PyThaiNLP, English at
    spaces) into lines no wider than `max_width`.

    Wraps before shrinking: the size drops (to `min_size`) only while the text needs more
    than `max_lines` lines; at `min_size` it takes as many lines as it needs.
    """
    from issuer.adapters.render import thai

    while True:
        lines = thai.wrap(text, max_width, lambda t, z=size: width(t, font, z)) or [""]
        if max_lines is None or len(lines) <= max_lines or size <= min_size:
            return size, tuple(lines)
        size = max(min_size, size - 0.5)


def draw(
    c: Canvas,
    x: float,
    y: float,
    text: str,
    font: str = REGULAR,
    size: float = 9,
    align: str = "left",
    max_width: float | None = None,
) -> float:
    """Draw one shaped line with its baseline at `y`; shrink it to `max_width`. Returns width."""
    if not text:
        return 0.0
    if max_width is not None:
        size = fit(text, font, size, max_width)
    w = width(text, font, size)
    if align == "center":
        x -= w / 2
    elif align == "right":
        x -= w
    c.setFont(font, size)
    glyphs = shaped(text, font, size)
    actual = glyphs != text  # the glyphs' own code points would not read back as `text`
    if actual:
        c.addLiteral(f"/Span <</ActualText {actual_text(text)}>> BDC")
    c.drawString(x, y, glyphs)
    if actual:
        c.addLiteral("EMC")
    return w


def actual_text(text: str) -> str:
    """`text` as a PDF hex text string (UTF-16BE with a byte order mark)."""
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"
