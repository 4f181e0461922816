"""W3C Bitstring Status List v1.0: the bitstring and its encoded form.

Index 0 is the left-most (most significant) bit of the first byte. The encoded
list is the GZIP-compressed bitstring, base64url without padding, with the
multibase prefix ``u``. At least 131,072 entries, for herd privacy.
"""

from __future__ import annotations

import gzip

from verifier.core.canonical import b64url, b64url_decode

MIN_ENTRIES = 131_072
MAX_ENCODED = 4 * 1024 * 1024  # refuse absurd inputs before decompressing


class StatusListError(ValueError):
    """The encoded list is malformed."""


def new_bitstring(entries: int = MIN_ENTRIES) -> bytearray:
    return bytearray((max(entries, MIN_ENTRIES) + 7) // 8)


def set_bit(bits: bytearray, index: int, value: bool = True) -> None:
    byte, bit = divmod(index, 8)
    mask = 0x80 >> bit
    bits[byte] = (bits[byte] | mask) if value else (bits[byte] & ~mask)


def get_bit(bits: bytes, index: int) -> bool:
    byte, bit = divmod(index, 8)
    if index < 0 or byte >= len(bits):
        raise StatusListError("status index outside the list")
    return bool(bits[byte] & (0x80 >> bit))


def encode(bits: bytes) -> str:
    return "u" + b64url(gzip.compress(bytes(bits), mtime=0))


def decode(encoded: str) -> bytes:
    if not isinstance(encoded, str) or not encoded.startswith("u") or len(encoded) > MAX_ENCODED:
        raise StatusListError("encodedList is not a multibase base64url string")
    try:
        raw = gzip.decompress(b64url_decode(encoded[1:]))
    except (ValueError, OSError, EOFError) as exc:
        raise StatusListError(f"encodedList does not decode: {exc}") from None
    if len(raw) * 8 < MIN_ENTRIES:
        raise StatusListError("status list shorter than 131,072 entries")
    return raw
