"""The credential QR code: encoded with a pinned mask and version, drawn as vector modules.

Automatic mask selection scores all eight masks and costs ~20 ms per symbol; automatic
version fitting encodes the data once more. We compute the version from the byte-mode
capacity table and pin the mask, which leaves ~4 ms per symbol.

Content is split in segments (ISO/IEC 18004 modes): a trailing run of digits in numeric
mode (the compact credential, `verifier.core.compact`), an upper-case prefix in
alphanumeric mode (``HTTPS://HOST/V#BKT1:``), anything else in byte mode.
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


_ALNUM = frozenset(util.ALPHA_NUM.decode("ascii"))
_MIN_DIGITS = 8  # a shorter digit run is not worth a segment header of its own
_MIN_ALNUM = 5  # nor a shorter alphanumeric run between bytes


def segments(content: str) -> list[tuple[int, bytes]]:
    """(mode, data) segments of `content`: a trailing run of digits in numeric mode; before
    it, runs of alphanumeric characters in alphanumeric mode (``HTTPS://HOST/V``,
    ``BKT1:``) and the rest (``#``, lower case) in byte mode."""
    head = content.rstrip("0123456789")
    tail = content[len(head):]
    if len(tail) < _MIN_DIGITS:
        head, tail = content, ""
    out: list[tuple[int, bytes]] = []
    for alnum, run in _runs(head):
        mode = util.MODE_ALPHA_NUM if alnum else util.MODE_8BIT_BYTE
        if out and out[-1][0] == mode:  # a short alphanumeric run merged into bytes
            out[-1] = (mode, out[-1][1] + run.encode("utf-8"))
        else:
            out.append((mode, run.encode("utf-8")))
    if tail:
        out.append((util.MODE_NUMBER, tail.encode("ascii")))
    return out


def _runs(text: str) -> list[tuple[bool, str]]:
    """Maximal runs of alphanumeric-mode characters and of others; a run of fewer than
    `_MIN_ALNUM` alphanumeric characters counts as other (a segment header costs more)."""
    runs: list[tuple[bool, str]] = []
    for ch in text:
        alnum = ch in _ALNUM
        if runs and runs[-1][0] == alnum:
            runs[-1] = (alnum, runs[-1][1] + ch)
        else:
            runs.append((alnum, ch))
    return [(alnum and len(run) >= _MIN_ALNUM, run) for alnum, run in runs]


def _data_bits(mode: int, n: int) -> int:
    if mode == util.MODE_NUMBER:
        return 10 * (n // 3) + (0, 4, 7)[n % 3]
    if mode == util.MODE_ALPHA_NUM:
        return 11 * (n // 2) + 6 * (n % 2)
    return 8 * n


def version_for(content: str) -> int:
    """Smallest QR version holding `content`'s `segments` at level M."""
    parts = segments(content)
    for version in range(1, 41):
        bits = sum(4 + util.length_in_bits(mode, version) + _data_bits(mode, len(data))
                   for mode, data in parts)
        if bits <= util.BIT_LIMIT_TABLE[ERROR_CORRECT_M][version]:
            return version
    raise ValueError(f"QR content too long: {len(content)} characters")


def encode(content: str) -> QrSymbol:
    """Encode `content` at error correction M with the pinned mask."""
    version = version_for(content)
    qr = qrcode.QRCode(
        version=version, error_correction=ERROR_CORRECT_M, border=0, mask_pattern=MASK
    )
    for mode, data in segments(content):
        qr.add_data(util.QRData(data, mode=mode, check_data=False))
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
