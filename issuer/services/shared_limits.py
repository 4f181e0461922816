"""Attempts per client (a sign-in address, an uploading account) counted in the issuer's
database: the embedded default, shared by every worker process without a Redis
(`issuer.web.shared_limits`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from issuer.services.context import Issuer

KEEP = timedelta(days=1)


def hit(issuer: Issuer, client: str, windows: Sequence[tuple[int, timedelta]]) -> bool:
    """Record one attempt from `client`; whether, counting it, at most `amount` attempts
    fell within the last `period`, for every `(amount, period)` of `windows` (a sliding
    window). The attempt is written before counting, so two workers at once can only
    both be refused, never both let through past the limit."""
    if not windows:
        return True
    with issuer.uow() as uow:
        now = issuer.clock()
        # Old attempts of every limit go together: without Redis, a limit looks back at
        # most KEEP (or its own longest window, for whoever counts it).
        uow.login_attempts.forget_before(now - max(KEEP, *(period for _, period in windows)))
        uow.login_attempts.add(client, now)
        uow.commit()
    with issuer.uow() as uow:
        return all(uow.login_attempts.count_since(client, now - period) <= amount
                   for amount, period in windows)
