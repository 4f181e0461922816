"""The issuer's integrity key: a secret kept outside the database.

Whoever can write to the database must still not be able to forge what the service
vouches for: an approval of a batch (`issuer.services.approval`), a link of the audit
chain (`issuer.adapters.audit_chain`). Each is a MAC under a key derived from this one
secret (HKDF-SHA256, one label per purpose), so a database writer without the key
cannot make a valid one.

The secret comes from ``BKT_INTEGRITY_KEY`` (base64url of 32 random bytes) or from
``<keys dir>/integrity.key`` (mode 0600), which `transcripts keys create` writes once.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from hashlib import sha256
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_FILE = "integrity.key"
KEY_BYTES = 32


class IntegrityKeyError(ValueError):
    """The integrity key is missing or malformed."""


def _decode(text: str, where: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except ValueError:
        raise IntegrityKeyError(f"{where} is not base64url") from None
    if len(key) < KEY_BYTES:
        raise IntegrityKeyError(f"{where} must hold at least {KEY_BYTES} bytes")
    return key


def encode(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).rstrip(b"=").decode("ascii")


def create_key_file(directory: Path) -> Path:
    """Write a random integrity key to `directory/integrity.key` unless one is there."""
    path = Path(directory) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = path.open("x", encoding="ascii")  # never overwrite a key in use
        try:
            path.chmod(0o600)
            fd.write(encode(secrets.token_bytes(KEY_BYTES)) + "\n")
        finally:
            fd.close()
    return path


def load_key(configured: str | None, directory: Path) -> bytes:
    """The master secret: `configured` (from the environment) or the key file."""
    if configured:
        return _decode(configured, "BKT_INTEGRITY_KEY")
    path = Path(directory) / KEY_FILE
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise IntegrityKeyError(
            f"no integrity key ({path}): run `transcripts keys create` or set "
            "BKT_INTEGRITY_KEY") from None
    return _decode(text, str(path))


def derive(master: bytes, purpose: str) -> bytes:
    """The subkey for one purpose (``"audit-chain"``, ``"batch-approval"``)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=f"bangkok-transcripts/{purpose}".encode()).derive(master)


def mac(key: bytes, message: bytes) -> str:
    """HMAC-SHA256 of `message`, hex."""
    return hmac.new(key, message, sha256).hexdigest()


def mac_ok(key: bytes, message: bytes, expected: str | None) -> bool:
    return expected is not None and hmac.compare_digest(mac(key, message), expected)
