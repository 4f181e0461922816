"""QR codes in a grey picture, read by the zbar library (Debian's libzbar0) through ctypes.

The library behind ``zbarimg`` (zbar-tools), called in-process: no program to start and
no image file to write, which cost more than the scan itself (``zbarimg`` loads
ImageMagick to read its input). Only QR codes are looked for.

Callers decide where this runs: `verifier.qr_image` reads a stranger's photo in a child
process with CPU, memory and time limits; `verifier.printed_qr` reads the pages of a PDF
whose signature already verified.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
from typing import Any

_Y800 = int.from_bytes(b"Y800", "little")  # 8-bit grey, one byte a pixel
_ZBAR_NONE, _ZBAR_QRCODE = 0, 64
_CFG_ENABLE, _CFG_X_DENSITY, _CFG_Y_DENSITY = 0, 0x100, 0x101

_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "zbar_image_scanner_create": (ctypes.c_void_p, []),
    "zbar_image_scanner_destroy": (None, [ctypes.c_void_p]),
    "zbar_image_scanner_set_config": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_int,
                                                     ctypes.c_int, ctypes.c_int]),
    "zbar_image_create": (ctypes.c_void_p, []),
    "zbar_image_destroy": (None, [ctypes.c_void_p]),
    "zbar_image_set_format": (None, [ctypes.c_void_p, ctypes.c_ulong]),
    "zbar_image_set_size": (None, [ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint]),
    "zbar_image_set_data": (None, [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_ulong,
                                   ctypes.c_void_p]),
    "zbar_scan_image": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_void_p]),
    "zbar_image_first_symbol": (ctypes.c_void_p, [ctypes.c_void_p]),
    "zbar_symbol_next": (ctypes.c_void_p, [ctypes.c_void_p]),
    "zbar_symbol_get_data": (ctypes.c_void_p, [ctypes.c_void_p]),
    "zbar_symbol_get_data_length": (ctypes.c_uint, [ctypes.c_void_p]),
}


@functools.cache
def _library() -> Any:
    name = ctypes.util.find_library("zbar") or "libzbar.so.0"
    try:
        lib = ctypes.CDLL(name)
        for function, (restype, argtypes) in _SIGNATURES.items():
            getattr(lib, function).restype = restype
            getattr(lib, function).argtypes = argtypes
    except (OSError, AttributeError):
        return None
    return lib


def available() -> bool:
    """Whether the zbar library can be loaded here (Debian: libzbar0)."""
    return _library() is not None


def scan(width: int, height: int, pixels: bytes, *, density: int = 1) -> list[str]:
    """The text of every QR code in a `width` x `height` 8-bit grey picture.

    `density` scans every n-th line and column: faster, for sharp renderings whose
    modules are several pixels wide. Undecodable text (not UTF-8) is left out.
    RuntimeError if the library is missing.
    """
    lib = _library()
    if lib is None:
        raise RuntimeError("the zbar library (libzbar0) is not installed")
    if width <= 0 or height <= 0 or len(pixels) != width * height:
        raise ValueError("pixels do not match the size")
    scanner = lib.zbar_image_scanner_create()
    image = lib.zbar_image_create()
    buffer = ctypes.create_string_buffer(pixels, len(pixels))
    try:
        lib.zbar_image_scanner_set_config(scanner, _ZBAR_NONE, _CFG_ENABLE, 0)
        lib.zbar_image_scanner_set_config(scanner, _ZBAR_QRCODE, _CFG_ENABLE, 1)
        lib.zbar_image_scanner_set_config(scanner, _ZBAR_NONE, _CFG_X_DENSITY, density)
        lib.zbar_image_scanner_set_config(scanner, _ZBAR_NONE, _CFG_Y_DENSITY, density)
        lib.zbar_image_set_format(image, _Y800)
        lib.zbar_image_set_size(image, width, height)
        lib.zbar_image_set_data(image, buffer, len(pixels), None)
        if lib.zbar_scan_image(scanner, image) <= 0:
            return []
        texts = []
        symbol = lib.zbar_image_first_symbol(image)
        while symbol:
            raw = ctypes.string_at(lib.zbar_symbol_get_data(symbol),
                                   lib.zbar_symbol_get_data_length(symbol))
            with contextlib.suppress(UnicodeDecodeError):
                texts.append(raw.decode("utf-8"))
            symbol = lib.zbar_symbol_next(symbol)
        return texts
    finally:
        lib.zbar_image_destroy(image)  # the buffer is ours: zbar frees nothing of it
        lib.zbar_image_scanner_destroy(scanner)
