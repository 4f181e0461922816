"""Web sessions and sign-in attempts: the `WebSessions` and `LoginAttempts` repositories
(over a session that never commits: the unit of work does).

A session's id is 256 random bits the browser holds; the database keeps only
``HMAC-SHA256(integrity key, id)``, and a seal binding that hash to the account and the
sign-in time. A database writer without the integrity key can neither add a session for
an id they know nor move one to another account. A pending TOTP secret is stored
encrypted (AES-GCM) under a key derived from the session's id, so only the browser that
holds the id can have it read back.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Callable
from datetime import datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from issuer.adapters import integrity
from issuer.adapters.orm import LoginAttemptRow, WebSessionRow
from verifier.core.canonical import canonical_json

PURPOSE = "web-session"
ID_BYTES = 32
_ID = re.compile(r"[A-Za-z0-9_-]{43}")


def new_id() -> str:
    """A fresh session id: 256 random bits, base64url."""
    return secrets.token_urlsafe(ID_BYTES)


def id_hash(key: bytes, session_id: str) -> str | None:
    """What the database holds for `session_id` (None for anything not shaped like one)."""
    if not isinstance(session_id, str) or not _ID.fullmatch(session_id):
        return None
    return integrity.mac(key, session_id.encode("ascii"))


def _seal_message(row: WebSessionRow) -> bytes:
    return canonical_json({"id_hash": row.id_hash, "account_id": row.account_id,
                           "created_at": row.created_at.isoformat()})


def _secret_key(session_id: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"bangkok-transcripts/totp-setup").derive(session_id.encode("ascii"))


def seal_secret(session_id: str, secret: str) -> str:
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_secret_key(session_id)).encrypt(nonce, secret.encode("ascii"), None)
    return base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def open_secret(session_id: str, stored: str | None) -> str | None:
    if not stored:
        return None
    try:
        raw = base64.urlsafe_b64decode(stored.encode("ascii"))
        return AESGCM(_secret_key(session_id)).decrypt(raw[:12], raw[12:], None).decode("ascii")
    except (ValueError, InvalidTag):
        return None


class WebSessions:
    """Signed-in sessions, found by the MAC of their id."""

    def __init__(self, session: Session, key: Callable[[], bytes]) -> None:
        self.session = session
        self._key = key

    @property
    def key(self) -> bytes:
        """The integrity key's ``web-session`` subkey (read when first needed)."""
        return self._key()

    def add(self, session_id: str, account_id: int, *, client: str,
            now: datetime) -> WebSessionRow:
        hashed = id_hash(self.key, session_id)
        assert hashed is not None, "not a session id from new_id()"
        row = WebSessionRow(id_hash=hashed, account_id=account_id, created_at=now,
                            last_seen_at=now, client=client[:200])
        row.seal = integrity.mac(self.key, _seal_message(row))
        self.session.add(row)
        self.session.flush()
        return row

    def find(self, session_id: str) -> WebSessionRow | None:
        """The session whose id is `session_id`, if its seal holds."""
        hashed = id_hash(self.key, session_id)
        if hashed is None:
            return None
        row = self.session.get(WebSessionRow, hashed)
        if row is None or not integrity.mac_ok(self.key, _seal_message(row), row.seal):
            return None
        return row

    def end(self, session_id: str) -> None:
        hashed = id_hash(self.key, session_id)
        if hashed is not None:
            self.session.execute(delete(WebSessionRow).where(WebSessionRow.id_hash == hashed))

    def end_all(self, account_id: int) -> int:
        """End every session of the account; how many there were."""
        result = self.session.execute(
            delete(WebSessionRow).where(WebSessionRow.account_id == account_id))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def end_older(self, started_before: datetime, idle_since: datetime) -> None:
        """Forget sessions that can no longer be used (housekeeping)."""
        self.session.execute(delete(WebSessionRow).where(
            (WebSessionRow.created_at < started_before)
            | (WebSessionRow.last_seen_at < idle_since)))


class LoginAttempts:
    """Sign-in attempts per client (an address, kept as its SHA-256)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @staticmethod
    def _client(client: str) -> str:
        return hashlib.sha256(client.encode("utf-8")).hexdigest()

    def add(self, client: str, now: datetime) -> None:
        self.session.add(LoginAttemptRow(client=self._client(client), at=now))
        self.session.flush()

    def count_since(self, client: str, since: datetime) -> int:
        return int(self.session.scalar(
            select(func.count()).select_from(LoginAttemptRow).where(
                LoginAttemptRow.client == self._client(client), LoginAttemptRow.at > since)
        ) or 0)

    def forget_before(self, before: datetime) -> None:
        self.session.execute(delete(LoginAttemptRow).where(LoginAttemptRow.at < before))
