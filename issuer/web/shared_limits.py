"""Rate limits counted by every worker process together: sign-in attempts per client
address, batch uploads per account.

With a shared store configured (``BKT_WEB_RATELIMIT_STORAGE=redis://...``), attempts are
counted there by `limits`' moving window. Without one (the embedded default,
``memory://``, which would count per process), they are counted in the issuer's database
(`issuer.services.shared_limits`), which every worker shares. Either way, with
``10 per minute`` the eleventh attempt in a minute is refused whichever worker gets it.
"""

from __future__ import annotations

from datetime import timedelta

from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from issuer.services import shared_limits
from issuer.services.context import Issuer


class SharedLimits:
    """`hit(client)`: count one attempt; whether it is within every limit. `namespace`
    keeps one limit's clients apart from another's (sign-ins, uploads)."""

    def __init__(self, spec: str, storage_uri: str, issuer: Issuer, *, namespace: str,
                 enabled: bool = True) -> None:
        self.namespace = namespace
        self.items: list[RateLimitItem] = parse_many(spec)
        self.enabled = enabled
        self.issuer = issuer
        self.shared: MovingWindowRateLimiter | None = None
        if not storage_uri.startswith("memory://"):
            self.shared = MovingWindowRateLimiter(storage_from_string(storage_uri))

    def hit(self, client: str) -> bool:
        if not self.enabled:
            return True
        if self.shared is not None:
            return all([self.shared.hit(item, self.namespace, client) for item in self.items])
        windows = [(item.amount, timedelta(seconds=item.get_expiry())) for item in self.items]
        return shared_limits.hit(self.issuer, f"{self.namespace}:{client}", windows)
