"""Page geometry, a small deferred-drawing page list, and the footer every page carries.

Pages are laid out first as lists of drawing operations, so the total page count is known
before anything is drawn ("หน้า X / Y — Page X of Y").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from issuer.adapters.render import fonts, qr
from issuer.adapters.render.common import signatory
from issuer.adapters.render.fonts import BOLD, REGULAR
from issuer.core.records import TranscriptRecord

PAGE_W, PAGE_H = A4
MARGIN = 12 * mm
LEFT, RIGHT = MARGIN, PAGE_W - MARGIN
TOP = PAGE_H - 10 * mm
QR_WIDTH = 42 * mm  # the symbol itself, version <= 13: modules >= 0.6 mm (docs/qr.md)
FOOTER_H = QR_WIDTH + 12 * mm  # space reserved at the bottom of every page
BODY_BOTTOM = 8 * mm + FOOTER_H
INK = (0, 0, 0)
GREY = (0.33, 0.33, 0.33)
RULE = (0.55, 0.55, 0.55)
SHADE = (0.92, 0.92, 0.92)

Op = Callable[[Canvas], None]


@dataclass
class Sheet:
    """Pages as lists of drawing operations, drawn once the page count is known."""

    pages: list[list[Op]] = field(default_factory=lambda: [[]])

    def new_page(self) -> None:
        self.pages.append([])

    def op(self, fn: Op) -> None:
        self.pages[-1].append(fn)

    def text(
        self,
        x: float,
        y: float,
        text: str,
        font: str = REGULAR,
        size: float = 9,
        align: str = "left",
        max_width: float | None = None,
        color: tuple[float, float, float] = INK,
    ) -> float:
        """Queue one shaped line; returns its width (after shrinking to `max_width`)."""
        if not text:
            return 0.0
        if max_width is not None:
            size = fonts.fit(text, font, size, max_width)

        def draw(c: Canvas) -> None:
            c.setFillColorRGB(*color)
            fonts.draw(c, x, y, text, font, size, align)

        self.op(draw)
        return fonts.width(text, font, size)

    def pair(
        self,
        x: float,
        y: float,
        th: str,
        en: str,
        size: float = 9,
        font: str = REGULAR,
        max_width: float | None = None,
        align: str = "left",
    ) -> float:
        """Thai text followed by its English gloss in smaller grey type, on one line.

        When space is short the gloss shrinks first (down to 5.5 pt), then is left out
        (the record and the English labels carry it); the Thai shrinks only as a last resort.
        Returns the width drawn.
        """
        en_size, gap = size * 0.8, size * 0.45
        w_th = fonts.width(th, font, size)
        if max_width is not None and w_th > max_width:
            size = fonts.fit(th, font, size, max_width)
            w_th = fonts.width(th, font, size)
        w_en = fonts.width(en, REGULAR, en_size) if en else 0.0
        if en and max_width is not None and w_th + gap + w_en > max_width:
            room = max_width - w_th - gap
            en_size = fonts.fit(en, REGULAR, en_size, room) if room > 0 else 0.0
            w_en = fonts.width(en, REGULAR, en_size) if en_size else 0.0
            if not en_size or w_en > room:
                en, w_en = "", 0.0
        total = w_th + (gap + w_en if en else 0.0)
        if align == "center":
            x -= total / 2
        elif align == "right":
            x -= total
        self.text(x, y, th, font, size)
        if en:
            self.text(x + w_th + gap, y, en, REGULAR, en_size, color=GREY)
        return total

    def line(self, x1: float, y1: float, x2: float, y2: float, width: float = 0.5,
             color: tuple[float, float, float] = RULE) -> None:
        def draw(c: Canvas) -> None:
            c.setStrokeColorRGB(*color)
            c.setLineWidth(width)
            c.line(x1, y1, x2, y2)

        self.op(draw)

    def rect(self, x: float, y: float, w: float, h: float, width: float = 0.5,
             fill: tuple[float, float, float] | None = None,
             color: tuple[float, float, float] = RULE, stroke: bool = True) -> None:
        def draw(c: Canvas) -> None:
            c.setStrokeColorRGB(*color)
            c.setLineWidth(width)
            if fill:
                c.setFillColorRGB(*fill)
            c.rect(x, y, w, h, stroke=int(stroke), fill=int(fill is not None))

        self.op(draw)


@dataclass(frozen=True)
class Footer:
    """What every page carries at the bottom: QR, verification code, IDs, page number."""

    symbol: qr.QrSymbol
    qr_ops: str  # qr.operators(symbol), built once per document
    verification_code: str
    transcript_id: str
    version: int
    verifier_url: str
    issuer_th: str
    issuer_en: str

    def draw(self, c: Canvas, page: int, pages: int) -> None:
        quiet = qr.QUIET_ZONE * QR_WIDTH / self.symbol.size
        qx = RIGHT - QR_WIDTH - quiet
        qy = 8 * mm + 10 * mm
        top = qy + QR_WIDTH + quiet
        c.setStrokeColorRGB(*RULE)
        c.setLineWidth(0.5)
        c.line(LEFT, top + 2, RIGHT, top + 2)
        qr.draw(c, qx, qy, QR_WIDTH, self.symbol, self.qr_ops)
        cx = qx + QR_WIDTH / 2
        c.setFillColorRGB(*INK)
        fonts.draw(c, cx, qy - quiet - 8, self.verification_code, BOLD, 9, "center")
        c.setFillColorRGB(*GREY)
        ident = f"{self.transcript_id} v{self.version}"
        fonts.draw(c, cx, qy - quiet - 16, ident, REGULAR, 7, "center", max_width=QR_WIDTH + 8)

        x = LEFT
        width = qx - quiet - x - 4 * mm
        y = top - 16
        rows = [
            (f"ตรวจสอบความถูกต้องได้ที่ / Verify at {self.verifier_url}", BOLD, 8.5, INK),
            ("สแกนคิวอาร์โค้ดหรืออัปโหลดไฟล์ PDF นี้ / Scan the QR code or upload this PDF",
             REGULAR, 7.5, GREY),
            (f"เลขที่เอกสาร / Transcript ID {self.transcript_id}   ฉบับที่ / Version "
             f"{self.version}", REGULAR, 8, INK),
            (f"รหัสตรวจสอบ / Verification code {self.verification_code}", REGULAR, 8, INK),
            (f"ลงลายมือชื่อดิจิทัลโดย {self.issuer_th}", REGULAR, 7.5, GREY),
            (f"Digitally signed by {self.issuer_en}", REGULAR, 7.5, GREY),
        ]
        for text, font, size, color in rows:
            c.setFillColorRGB(*color)
            fonts.draw(c, x, y, text, font, size, max_width=width)
            y -= size * 1.6
        c.setFillColorRGB(*INK)
        fonts.draw(c, x, 8 * mm + 2, f"หน้า {page} / {pages} — Page {page} of {pages}",
                   BOLD, 8.5)


def signatures(s: Sheet, t: TranscriptRecord, y: float,
               roles: tuple[tuple[tuple[str, ...], str, str], ...]) -> float:
    """Signature blocks side by side: (role keywords, fallback Thai role, English role)."""
    n = len(roles)
    width = (RIGHT - LEFT) / n
    for i, (keys, role_th, role_en) in enumerate(roles):
        found = signatory(t, *keys)
        cx = LEFT + width * i + width / 2
        yy = y - 14
        s.text(cx, yy, "(ลงลายมือชื่อดิจิทัล / digitally signed)", REGULAR, 7.5, "center",
               color=GREY)
        yy -= 18
        s.line(cx - 90, yy + 4, cx + 90, yy + 4, 0.4)
        name_th, name_en = ("", "")
        if found:
            role_th, role_en, name_th, name_en = found
        s.text(cx, yy - 10, f"( {name_th or '-'} )", REGULAR, 10, "center", max_width=width - 10)
        s.text(cx, yy - 22, name_en, REGULAR, 8, "center", color=GREY, max_width=width - 10)
        s.pair(cx, yy - 36, role_th, role_en, 9.5, BOLD, align="center", max_width=width - 10)
    return y - 80
