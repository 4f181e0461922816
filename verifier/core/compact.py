"""The compact QR credential: a COSE_Sign1 (ES256) over a CBOR payload, written in digits.

Text form: ``BKT1:<digits>``. The digits are the decimal value of ``0x01 || COSE_Sign1``
(the leading byte keeps leading zero bytes), so a QR code holds them in numeric mode at
3.33 bits a digit: as dense as base45 in alphanumeric mode, and unlike base45 (space,
``%``) every character is safe in a URL fragment. The QR's URL is then
``HTTPS://HOST/V#BKT1:<digits>``: the prefix in alphanumeric mode, the rest numeric.

COSE_Sign1 (RFC 9052) is assembled here with `cbor2` and `cryptography`: protected header
``{1: -7 (ES256), 4: kid}`` with the 8-byte key id, no unprotected header, the payload,
and the raw 64-byte ``r || s`` signature over ``["Signature1", protected, b"", payload]``.
This module knows nothing of the claims: it signs and opens a CBOR map.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

PREFIX = "BKT1:"
COSE_SIGN1_TAG = 18
ALG_ES256 = -7
HEADER_ALG = 1
HEADER_KID = 4
MAX_DIGITS = 2400  # ~1,000 bytes: far above any credential, far below int() limits
_LEAD = b"\x01"


def is_compact(text: str) -> bool:
    """True when `text` (a credential, not a URL) is in the compact form."""
    return text[: len(PREFIX)].upper() == PREFIX


def sign(payload: dict[str, Any], private_key: ec.EllipticCurvePrivateKey, kid: bytes) -> str:
    """``BKT1:<digits>`` of the COSE_Sign1 of `payload` (a CBOR map)."""
    protected = cbor2.dumps({HEADER_ALG: ALG_ES256, HEADER_KID: kid})
    body = cbor2.dumps(payload)
    der = private_key.sign(_to_be_signed(protected, body), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    cose = cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, body, signature]))
    return PREFIX + str(int.from_bytes(_LEAD + cose, "big"))


def kid(text: str) -> bytes:
    """The key id of a compact credential, parsed but not trusted (to find the key)."""
    return _parts(text)[0][HEADER_KID]


def open_signed(
    text: str, resolve_key: Callable[[bytes], ec.EllipticCurvePublicKey | None]
) -> tuple[bytes, Any]:
    """Check the signature of ``BKT1:<digits>``; return ``(kid, payload)``.

    Raises ValueError for anything wrong: not the form, not ES256 with exactly ``alg`` and
    ``kid`` protected, an unknown key, a bad signature.
    """
    header, protected, body, signature = _parts(text)
    public_key = resolve_key(header[HEADER_KID])
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(
        public_key.curve, ec.SECP256R1
    ):
        raise ValueError("credential key is unknown or not trusted")
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                               int.from_bytes(signature[32:], "big"))
    try:
        public_key.verify(der, _to_be_signed(protected, body), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise ValueError("credential signature is not valid") from None
    try:
        return header[HEADER_KID], cbor2.loads(body)
    except Exception:  # cbor2 raises several types on odd input; one answer for all
        raise ValueError("credential payload is not CBOR") from None


def _parts(text: str) -> tuple[dict[Any, Any], bytes, bytes, bytes]:
    """(protected header, its bytes, payload bytes, signature), shapes checked, unverified."""
    digits = text.strip()[len(PREFIX):]
    if not is_compact(text.strip()) or not digits.isascii() or not digits.isdigit():
        raise ValueError("not a compact credential")
    if len(digits) > MAX_DIGITS:
        raise ValueError("compact credential too long")
    value = int(digits)
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    if not raw.startswith(_LEAD):
        raise ValueError("not a compact credential")
    try:
        cose = cbor2.loads(raw[1:])
        tag, (protected, unprotected, body, signature) = cose.tag, cose.value
        header = cbor2.loads(protected)
    except Exception:
        raise ValueError("malformed compact credential") from None
    if (
        tag != COSE_SIGN1_TAG
        or unprotected != {}
        or not all(isinstance(b, bytes) for b in (protected, body, signature))
        or len(signature) != 64
        or not isinstance(header, dict)
        or set(header) != {HEADER_ALG, HEADER_KID}
        or header[HEADER_ALG] != ALG_ES256
        or not isinstance(header[HEADER_KID], bytes)
    ):
        raise ValueError("compact credential is not an ES256 COSE_Sign1 with alg and kid")
    return header, protected, body, signature


def _to_be_signed(protected: bytes, body: bytes) -> bytes:
    return cbor2.dumps(["Signature1", protected, b"", body])
