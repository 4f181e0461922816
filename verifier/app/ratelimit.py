"""Per-client limits on ``/api/v1``, counted by Flask-Limiter's own strategy and storage.

The app's `Limiter` holds the configured storage (``memory://`` per worker, or Redis so
that every worker and instance counts together) and strategy. The page blueprint uses
its usual decorator; the API checks here, calling ``limiter.limiter.hit`` directly:
Flask-Limiter's per-request bookkeeping (limit resolution, blueprint and exemption
scopes) cost about 0.25 ms of worker CPU per request, a third of a whole verification
(bench/verify.py). Every limit in the configured string counts, as with the decorator.
A storage failure lets the request through (logged): the verifier stays available.

``memory://`` is served by `SweptMemoryStorage`: the `limits` memory storage starts a new
timer thread every 10 ms under load to expire counters, which cost another ~0.15 ms of
worker CPU per request; this one sweeps inline, at most once a second.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from flask import Flask, Response, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage

from verifier.app.errors import problem

log = logging.getLogger(__name__)
SCOPE = "api"
SWEEP_EVERY = 1.0  # seconds


class SweptMemoryStorage(MemoryStorage):
    """`limits`' in-process storage, expired counters swept inline instead of by threads.

    Expiry itself is unaffected (an expired counter is reset when read); the sweep only
    frees the memory of clients gone quiet.
    """

    STORAGE_SCHEME = ["bkt-memory"]  # noqa: RUF012 -- how `limits` registers a scheme

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False,
                 **options: str) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.timer.cancel()
        self._next_sweep = 0.0

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the timer-thread version
        now = time.time()
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_EVERY
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


def storage_uri(configured: str) -> str:
    """``memory://`` means `SweptMemoryStorage`; anything else is passed on."""
    return "bkt-memory://" if configured.strip() in ("memory://", "memory") else configured


@dataclass(frozen=True)
class ApiLimits:
    limiter: Limiter
    items: tuple[RateLimitItem, ...]


def init_app(app: Flask, limiter: Limiter, limits: str) -> None:
    app.extensions["bkt_api_limits"] = ApiLimits(limiter, tuple(parse_many(limits)))


def check() -> Response | None:
    """A 429 answer when this client is over a limit; None to go on."""
    retry_after = exceeded()
    if retry_after is None:
        return None
    response = problem(429, "rate_limited", "Too many requests; try again later",
                       "มีคำขอมากเกินไป กรุณาลองใหม่ภายหลัง")
    response.headers["Retry-After"] = str(retry_after)
    return response


def exceeded() -> int | None:
    """Count one verification for this client: the seconds to wait if it is over a
    limit, None to go on (also the page's form posts, which answer in HTML)."""
    state: ApiLimits | None = current_app.extensions.get("bkt_api_limits")
    if state is None or not state.limiter.enabled:
        return None
    client = get_remote_address()
    try:
        strategy = state.limiter.limiter
        for item in state.items:
            if not strategy.hit(item, SCOPE, client):
                reset = strategy.get_window_stats(item, SCOPE, client).reset_time
                return max(1, math.ceil(reset - time.time()))
    except Exception as exc:  # storage down (e.g. Redis): let the request through
        log.warning("rate-limit storage unavailable: %s", type(exc).__name__)
    return None
