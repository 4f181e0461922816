"""IETF Token Status List (draft-ietf-oauth-status-list) for the SD-JWT VC: the same
bits as the W3C lists, for verifiers that know only SD-JWT VC.

One JWT per institution (``typ: statuslist+jwt``, ES256, the credential key's ``kid``):
``{"sub": <its own URI>, "iat", "exp", "ttl", "status_list": {"bits": 2, "lst": ...}}``,
``lst`` the base64url of the zlib-compressed (RFC 1950) byte array, 2 bits a status, the
first status in the least significant bits. Values: 0 valid, 1 invalid (revoked),
3 superseded (the draft leaves 3 to the application; 2 is "suspended", unused). A
revoked version that was superseded too is 1. Our verifier reads the W3C lists (with
their sequence numbers and freshness rules); this list is for everyone else.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jws

from verifier.core import jws_header
from verifier.core.canonical import b64url, b64url_decode

TYP = "statuslist+jwt"
MEDIA_TYPE = "application/statuslist+jwt"
BITS = 2
SIZE = 131_072  # entries, as the W3C lists: a list this long hides who is revoked
VALID, INVALID, SUPERSEDED = 0, 1, 3
MAX_INFLATED = SIZE  # bytes: the largest list we accept reading back


def encode(statuses: dict[int, int], size: int = SIZE, bits: int = BITS) -> str:
    """``lst``: the statuses (index -> value) packed and compressed."""
    per_byte = 8 // bits
    data = bytearray((size + per_byte - 1) // per_byte)
    for index, value in statuses.items():
        if not 0 <= index < size or not 0 <= value < 2 ** bits:
            raise ValueError(f"status {value} at {index} does not fit the list")
        data[index // per_byte] |= value << (index % per_byte * bits)
    return b64url(zlib.compress(bytes(data), 9))


def status_at(lst: str, index: int, bits: int = BITS) -> int:
    """The status at `index` of an encoded list; ValueError if it has none."""
    inflater = zlib.decompressobj()
    data = inflater.decompress(b64url_decode(lst), MAX_INFLATED)
    if inflater.unconsumed_tail:
        raise ValueError("status list too large")
    per_byte = 8 // bits
    if not 0 <= index < len(data) * per_byte:
        raise ValueError("index outside the status list")
    return data[index // per_byte] >> (index % per_byte * bits) & (2 ** bits - 1)


def statuses(revoked: Iterable[int], superseded: Iterable[int]) -> dict[int, int]:
    values = dict.fromkeys(superseded, SUPERSEDED)
    values.update(dict.fromkeys(revoked, INVALID))
    return values


def sign(uri: str, values: dict[int, int], private_key: ec.EllipticCurvePrivateKey, kid: str,
         now: datetime, *, ttl: timedelta, validity: timedelta) -> str:
    """The status list JWT served at `uri`."""
    iat = int(now.timestamp())
    payload = {"sub": uri, "iat": iat, "exp": iat + int(validity.total_seconds()),
               "ttl": int(ttl.total_seconds()),
               "status_list": {"bits": BITS, "lst": encode(values)}}
    body = json.dumps(payload, separators=(",", ":")).encode()
    return jws.serialize_compact({"alg": "ES256", "kid": kid, "typ": TYP}, body,
                                 jws_header.signing_key(private_key), algorithms=["ES256"])


def payload_of(token: str) -> dict[str, Any]:
    """The list's payload, unverified (tests; our verifier uses the W3C lists)."""
    return json.loads(b64url_decode(token.split(".")[1]))
