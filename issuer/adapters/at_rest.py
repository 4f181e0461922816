"""Personal data encrypted at rest: AES-256-GCM under a key outside the database.

The key is the integrity key's ``data-at-rest`` subkey (`issuer.adapters.integrity`:
``BKT_INTEGRITY_KEY`` or ``keys/integrity.key``), so a copy of the database alone shows
no national ID and no TOTP secret. Each value's associated data names its table, column
and row (``b"accounts.totp_secret|<username>"``): a ciphertext moved to another row or
column does not open. A value reads ``bkt1`` + 12-byte nonce + ciphertext and tag;
as text (for a VARCHAR column) that is ``bkt1.`` + base64url.

Values written before encryption (migration 0009) are read as they are until
`issuer.services.context.Issuer.open` seals them; they are recognisable because
neither canonical JSON (``{``) nor base32 starts like a sealed value.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PURPOSE = "data-at-rest"
PREFIX = b"bkt1"
TEXT_PREFIX = "bkt1."
NONCE_BYTES = 12


class AtRestError(Exception):
    """An encrypted value does not open: another key, or the value (or its row) changed."""


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """`plaintext` encrypted under `key`, bound to `aad`."""
    nonce = os.urandom(NONCE_BYTES)
    return PREFIX + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def is_sealed(stored: bytes) -> bool:
    return stored.startswith(PREFIX)


def open_sealed(key: bytes, stored: bytes, aad: bytes) -> bytes:
    """The plaintext of `stored` (a value written before encryption is returned as is);
    AtRestError if it does not open under `key` with `aad`."""
    if not is_sealed(stored):
        return stored
    body = stored[len(PREFIX):]
    try:
        return AESGCM(key).decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], aad)
    except (InvalidTag, ValueError):
        where = aad.split(b"|", 1)[0].decode("ascii", "replace")
        raise AtRestError(
            f"cannot decrypt {where}: the data-at-rest key (BKT_INTEGRITY_KEY or "
            "keys/integrity.key) is not the one it was written with, or the value was "
            "altered or moved") from None


def seal_text(key: bytes, plaintext: str, aad: bytes) -> str:
    """`seal` for a text column: ``bkt1.`` + base64url."""
    sealed = seal(key, plaintext.encode("utf-8"), aad)[len(PREFIX):]
    return TEXT_PREFIX + base64.urlsafe_b64encode(sealed).decode("ascii")


def is_sealed_text(stored: str) -> bool:
    return stored.startswith(TEXT_PREFIX)


def open_text(key: bytes, stored: str, aad: bytes) -> str:
    """The plaintext of a `seal_text` value (an unsealed one as is)."""
    if not is_sealed_text(stored):
        return stored
    try:
        body = base64.urlsafe_b64decode(stored[len(TEXT_PREFIX):])
    except ValueError:
        body = b""
    return open_sealed(key, PREFIX + body, aad).decode("utf-8")
