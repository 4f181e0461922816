"""Take a compact credential (``BKT1:<digits>``) apart and put it back together, so tests
can change what it says while keeping its signature (a forgery the verifier must refuse)."""

from __future__ import annotations

from typing import Any

import cbor2

from verifier.core import compact
from verifier.core.credential import COMPACT_KEYS


def parts(credential: str) -> list[Any]:
    """``[protected, unprotected, payload, signature]`` of the COSE_Sign1."""
    value = int(credential[len(compact.PREFIX):])
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return list(cbor2.loads(raw[1:]).value)


def assemble(items: list[Any], tag: int = compact.COSE_SIGN1_TAG) -> str:
    """The compact text of COSE_Sign1 `items` (no signing: the signature given is kept)."""
    raw = b"\x01" + cbor2.dumps(cbor2.CBORTag(tag, items))
    return compact.PREFIX + str(int.from_bytes(raw, "big"))


def with_claims(credential: str, **changes: Any) -> str:
    """`credential` with claims changed (JSON claim names: ``g="4.00"``), signature kept."""
    items = parts(credential)
    payload = cbor2.loads(items[2])
    payload.update({COMPACT_KEYS[k]: v for k, v in changes.items()})
    items[2] = cbor2.dumps(payload)
    return assemble(items)


def raise_gpa(credential: str) -> str:
    """Grade inflation: GPA 4.00, whichever form `credential` has, signature kept."""
    if compact.is_compact(credential):
        return with_claims(credential, g="4.00")
    import json

    from verifier.core.canonical import b64url, b64url_decode

    header, payload, signature = credential.split(".")
    claims = json.loads(b64url_decode(payload)) | {"g": "4.00"}
    body = b64url(json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode())
    return ".".join((header, body, signature))
