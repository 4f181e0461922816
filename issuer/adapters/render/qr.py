"""The credential QR code: encoded with a pinned mask and version, drawn as vector modules.

Automatic mask selection scores all eight masks and costs ~20 ms per symbol; automatic
version fitting encodes the data once more. We compute the version from the byte-mode
capacity table and pin the mask, which leaves ~4 ms per symbol.
"""

from __future__ import annotations

from dataclasses import dataclass

import qrcode
from qrcode import util
from qrcode.constants import ERROR_CORRECT_M
from reportlab.pdfgen.canvas import Canvas

MASK = 2  # any fixed mask is valid; 2 (vertical stripes) scans well and costs nothing
QUIET_ZONE = 4  # modules of light margin the standard requires around the symbol


@dataclass(frozen=True)
class QrSymbol:
    version: int
    modules: tuple[tuple[bool, ...], ...]  # dark modules, without the quiet zone

    @property
    def size(self) -> int:
        return len(self.modules)


def version_for(content: str) -> int:
    """Smallest QR version holding `content` as one byte-mode segment at level M."""
    n = len(content.encode("utf-8"))
    for version in range(1, 41):
        bits = 4 + util.length_in_bits(util.MODE_8BIT_BYTE, version) + 8 * n
        if bits <= util.BIT_LIMIT_TABLE[ERROR_CORRECT_M][version]:
            return version
    raise ValueError(f"QR content too long: {n} bytes")


def encode(content: str) -> QrSymbol:
    """Encode `content` at error correction M with the pinned mask."""
    version = version_for(content)
    qr = qrcode.QRCode(
        version=version, error_correction=ERROR_CORRECT_M, border=0, mask_pattern=MASK
    )
    qr.add_data(util.QRData(content.encode("utf-8"), mode=util.MODE_8BIT_BYTE))
    qr.make(fit=False)
    return QrSymbol(version, tuple(tuple(bool(m) for m in row) for row in qr.modules))


def operators(symbol: QrSymbol) -> str:
    """PDF path operators filling the dark modules, in module units with the origin top-left.

    Horizontal runs of dark modules become one rectangle each, 4 % taller than a module so
    rasterisers leave no hairline seams between rows. Built once per document and reused on
    every page: formatting thousands of rectangles is the slow part of drawing a QR code.
    """
    ops: list[str] = []
    for r, row in enumerate(symbol.modules):
        y = -(r + 1)
        col, n = 0, len(row)
        while col < n:
            if row[col]:
                start = col
                while col < n and row[col]:
                    col += 1
                ops.append(f"{start} {y}.02 {col - start} 1.04 re")
            else:
                col += 1
    return "\n".join(ops) + "\nf"


def draw(c: Canvas, x: float, y: float, width: float, symbol: QrSymbol, ops: str) -> None:
    """Draw `symbol` (its `operators`) with its lower-left corner at (x, y), `width` wide."""
    module = width / symbol.size
    c.saveState()
    c.setFillColorRGB(0, 0, 0)
    c.transform(module, 0, 0, module, x, y + width)
    c.addLiteral(ops)
    c.restoreState()
