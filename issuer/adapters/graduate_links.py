"""Claim and share links: tokens and PINs, and the `Links` repository (lookups, the PIN
counters, the access log) over a session that never commits (the unit of work does).

Tokens are 256 random bits (43 base64url characters) shown once; only their SHA-256 is
stored, so a database leak reveals no usable link. A lookup is an index probe on the
hash followed by a constant-time comparison. PINs are argon2id PHC strings.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from issuer.adapters.orm import ClaimLinkRow, ShareAccessRow, ShareLinkRow, TranscriptRow

TOKEN_BYTES = 32
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
_PIN_HASHER = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4, type=Type.ID)


def new_token() -> tuple[str, str]:
    """(token, its stored hash)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def hash_pin(pin: str) -> str:
    return _PIN_HASHER.hash(pin)


def check_pin(pin_hash: str, pin: str) -> bool:
    try:
        return _PIN_HASHER.verify(pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return False


class Links:
    """Claim links, share links and the share links' access log."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # --- lookups -----------------------------------------------------------------------

    def _lookup(self, model: type, token: str) -> object | None:
        if not isinstance(token, str) or not _TOKEN.fullmatch(token):
            return None
        digest = token_hash(token)
        row = self.session.scalar(select(model).where(model.token_hash == digest))  # type: ignore[attr-defined]
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            return None
        return row

    def find_claim_link(self, token: str) -> ClaimLinkRow | None:
        return self._lookup(ClaimLinkRow, token)  # type: ignore[return-value]

    def find_share_link(self, token: str) -> ShareLinkRow | None:
        return self._lookup(ShareLinkRow, token)  # type: ignore[return-value]

    def get_share_link(self, share_id: int) -> ShareLinkRow | None:
        return self.session.get(ShareLinkRow, share_id)

    def share_link(self, share_id: int) -> ShareLinkRow:
        """Share link `share_id`, which exists (links are never deleted)."""
        return self.session.get_one(ShareLinkRow, share_id)

    def reload(self, row: ShareLinkRow) -> None:
        """Read `row` again from the database (the counters' updates bypass the session)."""
        self.session.refresh(row)

    def versions(self, transcript_id: str) -> list[TranscriptRow]:
        """Every version of a transcript, newest first."""
        return list(self.session.scalars(
            select(TranscriptRow).where(TranscriptRow.transcript_id == transcript_id)
            .order_by(TranscriptRow.version.desc())
        ))

    def shares_of(self, transcript_id: str) -> list[ShareLinkRow]:
        return list(self.session.scalars(
            select(ShareLinkRow).where(ShareLinkRow.transcript_id == transcript_id)
            .order_by(ShareLinkRow.id.desc())
        ))

    def accesses(self, share_ids: Sequence[int],
                 limit: int = 200) -> dict[int, list[ShareAccessRow]]:
        """The newest `limit` access-log entries of each share link, newest first."""
        found: dict[int, list[ShareAccessRow]] = {i: [] for i in share_ids}
        for share_id in share_ids:
            found[share_id] = list(self.session.scalars(
                select(ShareAccessRow).where(ShareAccessRow.share_link_id == share_id)
                .order_by(ShareAccessRow.id.desc()).limit(limit)
            ))
        return found

    # --- changes ----------------------------------------------------------------------

    def add_claim_link(self, transcript: TranscriptRow, *, token_hash: str, created_by: str,
                       now: datetime, expires_at: datetime) -> ClaimLinkRow:
        row = ClaimLinkRow(transcript_id=transcript.transcript_id,
                           institution_id=transcript.institution_id, token_hash=token_hash,
                           created_at=now, created_by=created_by, expires_at=expires_at,
                           claim_count=0)
        self.session.add(row)
        self.session.flush()
        return row

    def revoke_claim_links(self, transcript_id: str, now: datetime) -> int:
        """Revoke every live claim link of a transcript; how many there were."""
        result = self.session.execute(
            update(ClaimLinkRow)
            .where(ClaimLinkRow.transcript_id == transcript_id,
                   ClaimLinkRow.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount  # type: ignore[attr-defined, no-any-return]

    def revoke_share_links(self, transcript_id: str, now: datetime, reason: str) -> int:
        """Revoke every live share link of a transcript; how many there were."""
        result = self.session.execute(
            update(ShareLinkRow)
            .where(ShareLinkRow.transcript_id == transcript_id,
                   ShareLinkRow.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason=reason)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount  # type: ignore[attr-defined, no-any-return]

    def add_share_link(self, claim_link: ClaimLinkRow, *, token_hash: str, label: str,
                       now: datetime, expires_at: datetime, pin_hash: str | None
                       ) -> ShareLinkRow:
        row = ShareLinkRow(transcript_id=claim_link.transcript_id, claim_link_id=claim_link.id,
                           token_hash=token_hash, label=label, created_at=now,
                           expires_at=expires_at, revoked_reason="", pin_hash=pin_hash,
                           pin_attempts=0, pin_failures=0, view_count=0)
        self.session.add(row)
        self.session.flush()
        return row

    def log_access(self, share: ShareLinkRow, *, now: datetime, ip: str, user_agent: str,
                   outcome: str) -> None:
        self.session.add(ShareAccessRow(share_link_id=share.id, at=now, ip=ip[:64],
                                        user_agent=user_agent[:200], outcome=outcome))
        self.session.flush()

    # --- the PIN counters and views ------------------------------------------------------

    def reserve_pin_attempt(self, share_id: int, *, now: datetime,
                            max_attempts: int) -> int | None:
        """Count one PIN attempt before checking it, atomically: the attempt's number (1 to
        `max_attempts`), or None if the link is locked or disabled. Parallel guesses each
        take a number, so they cannot outrun the lockout."""
        return self.session.execute(
            update(ShareLinkRow)
            .where(ShareLinkRow.id == share_id, ShareLinkRow.revoked_at.is_(None),
                   ShareLinkRow.pin_attempts < max_attempts,
                   or_(ShareLinkRow.locked_until.is_(None), ShareLinkRow.locked_until <= now))
            .values(pin_attempts=ShareLinkRow.pin_attempts + 1)
            .returning(ShareLinkRow.pin_attempts)
        ).scalar_one_or_none()

    def record_wrong_pin(self, share_id: int, attempt: int, *, now: datetime,
                         max_attempts: int, lockout: timedelta, max_failures: int) -> None:
        """A failed attempt: the last one allowed locks the link for `lockout` (and starts
        a new count); the `max_failures`-th in all disables it."""
        locking = attempt >= max_attempts
        values: dict[str, object] = {"pin_failures": ShareLinkRow.pin_failures + 1}
        if locking:
            values |= {"locked_until": now + lockout, "pin_attempts": 0}
        self.session.execute(
            update(ShareLinkRow).where(ShareLinkRow.id == share_id).values(**values)
            .execution_options(synchronize_session=False))
        self.session.execute(
            update(ShareLinkRow)
            .where(ShareLinkRow.id == share_id, ShareLinkRow.revoked_at.is_(None),
                   ShareLinkRow.pin_failures >= max_failures)
            .values(revoked_at=now, revoked_reason="too many wrong PINs")
            .execution_options(synchronize_session=False)
        )

    def record_right_pin(self, share_id: int) -> None:
        self.session.execute(update(ShareLinkRow).where(ShareLinkRow.id == share_id)
                             .values(pin_attempts=0)
                             .execution_options(synchronize_session=False))

    def record_view(self, share_id: int, now: datetime) -> None:
        self.session.execute(
            update(ShareLinkRow).where(ShareLinkRow.id == share_id)
            .values(view_count=ShareLinkRow.view_count + 1, last_viewed_at=now)
            .execution_options(synchronize_session=False)
        )
