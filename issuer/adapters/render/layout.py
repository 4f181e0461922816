"""Page geometry, a small deferred-drawing page list, and the footer every page carries.

Pages are laid out first as lists of drawing operations, so the total page count is known
before anything is drawn ("หน้า X / Y — Page X of Y").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from issuer.adapters.render import fonts, pictures, qr, thai
from issuer.adapters.render.common import signatory
from issuer.adapters.render.fonts import BOLD, REGULAR
from issuer.adapters.render.templates import Wording
from issuer.core.records import TranscriptRecord

PAGE_W, PAGE_H = A4
MARGIN = 12 * mm
LEFT, RIGHT = MARGIN, PAGE_W - MARGIN
TOP = PAGE_H - 10 * mm
QR_WIDTH = 42 * mm  # the symbol itself, version <= 13: modules >= 0.6 mm (docs/qr.md)
FOOTER_H = QR_WIDTH + 10 * mm  # space reserved at the bottom of every page
BODY_BOTTOM = 8 * mm + FOOTER_H
INK = (0, 0, 0)
GREY = (0.33, 0.33, 0.33)
RULE = (0.55, 0.55, 0.55)
SHADE = (0.92, 0.92, 0.92)

LEADING = 1.2  # line pitch of wrapped text, in em
GLOSS_MIN = fonts.MIN_SIZE * 0.8  # an English gloss is set at 80 % of its Thai
Op = Callable[[Canvas], None]


@dataclass(frozen=True)
class Cell:
    """A rectangle the layout promised to keep some text inside (points, page origin)."""

    page: int  # 0-based
    x0: float
    y0: float  # bottom
    x1: float
    y1: float  # top
    frame: bool = False  # a frame: all the page's body text lies inside it


@dataclass
class Sheet:
    """Pages as lists of drawing operations, drawn once the page count is known.

    `cells` lists the table cells laid out, so tests can check that no text leaves its cell.
    """

    pages: list[list[Op]] = field(default_factory=lambda: [[]])
    cells: list[Cell] = field(default_factory=list)
    images: pictures.Images | None = None
    """The images the record names (photo, emblem), by digest: `picture` reads them."""
    pictures: list[Cell] = field(default_factory=list)
    """Where images were placed (their boxes), so tests can check no text runs over one."""

    def picture(self, sha256: str) -> bytes | None:
        """The image the record names by `sha256` (None for ""); MissingImage if absent
        or altered."""
        return pictures.picture(self.images, sha256)

    def image(self, x: float, y: float, w: float, h: float, data: bytes) -> None:
        """Queue an image, fitted and centred in the box (aspect kept)."""
        self.pictures.append(Cell(len(self.pages) - 1, x, y, x + w, y + h))
        self.op(lambda c: pictures.draw(c, data, x, y, w, h))

    def new_page(self) -> None:
        self.pages.append([])

    def cell(self, x0: float, y0: float, x1: float, y1: float, frame: bool = False) -> None:
        """Record a table cell (or a `frame`) on the current page (drawing nothing)."""
        self.cells.append(Cell(len(self.pages) - 1, x0, y0, x1, y1, frame))

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

    def block(
        self,
        x: float,
        y: float,
        text: str,
        font: str = REGULAR,
        size: float = 9,
        max_width: float = PAGE_W,
        align: str = "left",
        color: tuple[float, float, float] = INK,
        max_lines: int | None = None,
    ) -> float:
        """Queue `text` wrapped to `max_width` (first baseline at `y`); returns the height
        taken, a multiple of the line pitch (`fonts.wrap`: wrap first, shrink last)."""
        if not text:
            return 0.0
        size, lines = fonts.wrap(text, font, size, max_width, max_lines)
        for i, line in enumerate(lines):
            self.text(x, y - i * size * LEADING, line, font, size, align, color=color)
        return len(lines) * size * LEADING

    def pair_block(
        self,
        x: float,
        y: float,
        th: str,
        en: str,
        size: float = 9,
        font: str = REGULAR,
        max_width: float = PAGE_W,
        align: str = "left",
    ) -> float:
        """Thai text and its grey English gloss, wrapped: the gloss follows on the same line
        when it fits there, else on lines of its own. Returns the height taken
        (`pair_height`)."""
        en_size = size * 0.8
        if _one_line(th, en, size, font, max_width):
            self.pair(x, y, th, en, size, font, align=align)
            return size * LEADING
        height = self.block(x, y, th or "-", font, size, max_width, align)
        if en:
            height += self.block(x, y - height - (en_size - size) * LEADING, en, REGULAR,
                                 en_size, max_width, align, color=GREY)
        return height

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

        When space is short the gloss shrinks first (not below `GLOSS_MIN`), then the Thai
        (not below `fonts.MIN_SIZE`); the gloss is never left out (text that still does not fit
        belongs in `pair_block`). Returns the width drawn.
        """
        en_size, gap = size * 0.8, size * 0.45
        w_th = fonts.width(th, font, size)
        w_en = fonts.width(en, REGULAR, en_size) if en else 0.0
        if max_width is not None and w_th + (gap + w_en if en else 0.0) > max_width:
            if en:
                room = max_width - w_th - gap
                en_size = min(en_size, fonts.fit(en, REGULAR, en_size, max(room, 1.0),
                                                 GLOSS_MIN))
                w_en = fonts.width(en, REGULAR, en_size)
            room = max_width - (gap + w_en if en else 0.0)
            size = fonts.fit(th, font, size, max(room, 1.0))
            w_th = fonts.width(th, font, size)
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


def _one_line(th: str, en: str, size: float, font: str, max_width: float) -> bool:
    en_size = size * 0.8
    w = fonts.width(th, font, size)
    return w + (size * 0.45 + fonts.width(en, REGULAR, en_size) if en else 0.0) <= max_width


@lru_cache(maxsize=4096)
def pair_height(th: str, en: str, size: float = 9, font: str = REGULAR,
                max_width: float = PAGE_W) -> float:
    """The height `Sheet.pair_block` takes for these arguments, without drawing."""
    if _one_line(th, en, size, font, max_width):
        return size * LEADING
    size_th, lines = fonts.wrap(th or "-", font, size, max_width)
    height = len(lines) * size_th * LEADING
    if en:
        en_size, en_lines = fonts.wrap(en, REGULAR, size * 0.8, max_width)
        height += len(en_lines) * en_size * LEADING
    return height


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
        qy = 8 * mm + 7.4 * mm  # its quiet zone ends where the body may begin (BODY_BOTTOM)
        top = qy + QR_WIDTH + quiet
        c.setStrokeColorRGB(*RULE)
        c.setLineWidth(0.5)
        c.line(LEFT, top, RIGHT, top)  # on the quiet zone's edge: clear of text above
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
        ]
        signed = [
            (f"ลงลายมือชื่อดิจิทัลโดย {self.issuer_th}", REGULAR, 7.5, GREY),
            (f"Digitally signed by {self.issuer_en}", REGULAR, 7.5, GREY),
        ]
        for text, font, size, color in rows + signed:  # shrink to one line, else wrap
            c.setFillColorRGB(*color)
            size, lines = fonts.wrap(text, font, size, width, 1)
            for line in lines:
                fonts.draw(c, x, y, line, font, size)
                y -= size * LEADING
            y -= size * (1.6 - LEADING)
        c.setFillColorRGB(*INK)
        fonts.draw(c, x, 8 * mm + 2, f"หน้า {page} / {pages} — Page {page} of {pages}",
                   BOLD, 8.5)


SIGNATURE_H = 92.0
"""Height of a row of signature blocks (`signatures`) whose names fit one line each."""

Roles = tuple[tuple[tuple[str, ...], str, str], ...]
"""Signature blocks: (role keywords, fallback Thai role, English role) each."""


def _signatory_names(t: TranscriptRecord, roles: Roles, width: float
                     ) -> list[tuple[str, str, tuple[float, tuple[str, ...]],
                                     tuple[float, tuple[str, ...]]]]:
    """Per block: role (Thai, English) and the Thai and English names as (size, lines),
    shrunk to one line down to the minimum size, then wrapped."""
    blocks = []
    for keys, role_th, role_en in roles:
        name_th, name_en = "", ""
        found = signatory(t, *keys)
        if found:
            role_th, role_en, name_th, name_en = found
        blocks.append((role_th, role_en,
                       fonts.wrap(f"( {name_th or '-'} )", REGULAR, 10, width - 10, 1),
                       fonts.wrap(name_en, REGULAR, 8, width - 10, 1) if name_en
                       else (8, ())))
    return blocks


def _extra_lines(th: tuple[float, tuple[str, ...]], en: tuple[float, tuple[str, ...]]
                 ) -> float:
    """Height the names take beyond one line each."""
    (th_size, th_lines), (en_size, en_lines) = th, en
    return (max(len(th_lines) - 1, 0) * th_size * LEADING
            + max(len(en_lines) - 1, 0) * en_size * LEADING)


def signatures_height(t: TranscriptRecord, roles: Roles) -> float:
    """Height of `signatures` for `t`: SIGNATURE_H plus the lines of wrapped long names."""
    width = (RIGHT - LEFT) / len(roles)
    return SIGNATURE_H + max(_extra_lines(th, en)
                             for _, _, th, en in _signatory_names(t, roles, width))


def signatures(s: Sheet, t: TranscriptRecord, y: float, roles: Roles, w: Wording) -> float:
    """Signature blocks side by side, each dated with the day of issue (the day the
    digital signature is made); returns the y below them (`signatures_height`)."""
    issued = t.issued_at.date()
    date_th, date_en = thai.date_th(issued, era=True), thai.date_en(issued)
    width = (RIGHT - LEFT) / len(roles)
    for i, (role_th, role_en, (th_size, th_lines), (en_size, en_lines)) in enumerate(
            _signatory_names(t, roles, width)):
        cx = LEFT + width * i + width / 2
        yy = y - 14
        s.text(cx, yy, w.text("signatures", "digitally_signed"), REGULAR, 7.5, "center",
               color=GREY)
        yy -= 18
        s.line(cx - 90, yy + 4, cx + 90, yy + 4, 0.4)
        yy -= 10
        for n, line in enumerate(th_lines):
            s.text(cx, yy - n * th_size * LEADING, line, REGULAR, th_size, "center")
        yy -= 12 + max(len(th_lines) - 1, 0) * th_size * LEADING
        for n, line in enumerate(en_lines):
            s.text(cx, yy - n * en_size * LEADING, line, REGULAR, en_size, "center", color=GREY)
        yy -= 14 + max(len(en_lines) - 1, 0) * en_size * LEADING
        s.pair(cx, yy, role_th, role_en, 9.5, BOLD, align="center", max_width=width - 10)
        s.pair(cx, yy - 14, f"{w.text('signatures', 'date')} {date_th}", date_en, 9,
               align="center", max_width=width - 10)
    return y - signatures_height(t, roles)


SIGNATURE_LINE_H = 40.0
"""Height of a compact signature block (`signature_line`) whose name fits one line."""

Role = tuple[tuple[str, ...], str, str]


def _line_parts(t: TranscriptRecord, w: float, role: Role, wording: Wording
                ) -> tuple[str, str, str, str, float]:
    """Role (Thai, English), the name (Thai in brackets, English) and the label's width."""
    keys, role_th, role_en = role
    found = signatory(t, *keys)
    name_th, name_en = "", ""
    if found:
        role_th, role_en, name_th, name_en = found
    label_w = fonts.width(wording.text("signatures", "sign"), BOLD, 9)
    return role_th, role_en, f"( {name_th or '-'} )", name_en, label_w


def signature_line_height(t: TranscriptRecord, w: float, role: Role, wording: Wording
                          ) -> float:
    """Height of `signature_line`: SIGNATURE_LINE_H plus the lines of a wrapped long name."""
    _, _, name_th, name_en, label_w = _line_parts(t, w, role, wording)
    name_h = pair_height(name_th, name_en, 9, REGULAR, w - label_w - 4)
    return SIGNATURE_LINE_H + max(0.0, name_h - 9 * LEADING)


def signature_line(s: Sheet, t: TranscriptRecord, x: float, y: float, w: float,
                   role: Role, wording: Wording) -> None:
    """A compact signature block below `y` (`signature_line_height` high) within x..x+w:
    the signature line with the role, the name, and the date of issue, as the foot of the
    ปพ.1 front carries the registrar's."""
    role_th, role_en, name_th, name_en, label_w = _line_parts(t, w, role, wording)
    issued = t.issued_at.date()
    yy = y - 11
    s.text(x, yy, wording.text("signatures", "sign"), BOLD, 9)
    role_w = fonts.width(role_th, BOLD, 9) + 4 + fonts.width(role_en, REGULAR, 7.2)
    line_end = x + w - role_w - 6
    s.line(x + label_w + 4, yy - 1, line_end, yy - 1, 0.4)
    s.text((x + label_w + line_end) / 2, yy + 2,
           wording.text("signatures", "digitally_signed"), REGULAR, 6.5, "center", color=GREY)
    s.pair(line_end + 6, yy, role_th, role_en, 9, BOLD)
    yy -= 13
    name_h = s.pair_block(x + label_w + 4, yy, name_th, name_en, 9, max_width=w - label_w - 4)
    yy -= 12 + max(0.0, name_h - 9 * LEADING)
    s.pair(x + label_w + 4, yy, f"{wording.text('signatures', 'date')} "
           f"{thai.date_th(issued, era=True)}",
           thai.date_en(issued), 9, max_width=w - label_w - 4)
