"""Multikey for P-256 public keys: ``publicKeyMultibase`` as the W3C Controlled
Identifiers spec and ``ecdsa-rdfc-2019`` use it.

The value is multibase base58btc (prefix ``z``) of the multicodec ``p256-pub`` varint
(``0x1200`` -> bytes ``80 24``) followed by the 33-byte SEC1 compressed point: always
``zDn...`` (48 characters).
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
P256_PUB = b"\x80\x24"
"""The multicodec ``p256-pub`` (0x1200) as an unsigned varint."""


class MultikeyError(ValueError):
    """Not a base58btc multibase P-256 public key."""


def b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = []
    while number:
        number, digit = divmod(number, 58)
        out.append(ALPHABET[digit])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        digit = ALPHABET.find(char)
        if digit < 0:
            raise MultikeyError("not base58btc")
        number = number * 58 + digit
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def multibase(data: bytes) -> str:
    """``z`` + base58btc of `data`."""
    return "z" + b58encode(data)


def from_multibase(text: str) -> bytes:
    if not isinstance(text, str) or not text.startswith("z") or len(text) > 4096:
        raise MultikeyError("not a base58btc multibase value")
    return b58decode(text[1:])


def encode_p256(public_key: ec.EllipticCurvePublicKey) -> str:
    """The key's ``publicKeyMultibase``."""
    if not isinstance(public_key.curve, ec.SECP256R1):
        raise MultikeyError("not a P-256 key")
    point = public_key.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
    return multibase(P256_PUB + point)


def decode_p256(text: str) -> ec.EllipticCurvePublicKey:
    """The P-256 key a ``publicKeyMultibase`` names; MultikeyError otherwise."""
    raw = from_multibase(text)
    if not raw.startswith(P256_PUB) or len(raw) != 35:
        raise MultikeyError("not a p256-pub multikey")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw[2:])
    except ValueError:
        raise MultikeyError("not a point on P-256") from None
