"""Canonical JSON (RFC 8785, JCS) and the record digest carried in the QR credential."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import rfc8785


def canonical_json(value: Any) -> bytes:
    """Serialise `value` as RFC 8785 canonical JSON (UTF-8 bytes)."""
    return rfc8785.dumps(value)


def b64url(data: bytes) -> str:
    """Unpadded base64url, as JOSE uses it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url; raises ValueError on anything else."""
    if not text or not _B64URL.issuperset(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def digest(canonical: bytes) -> str:
    """SHA-256 of canonical bytes, base64url: the `h` claim of the credential."""
    return b64url(hashlib.sha256(canonical).digest())
