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
worker CPU per request; this one sweeps inline, at most once a second. It is built on
`limits`' public extension point for custom storages (`limits.storage.Storage`), and
serves the fixed-window strategy, Flask-Limiter's default and the only one used here.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from limits.storage import Storage

from verifier.app.errors import problem

log = logging.getLogger(__name__)
SCOPE = "api"
SWEEP_EVERY = 1.0  # seconds


class SweptMemoryStorage(Storage):
    """In-process fixed-window counters, expired ones swept inline instead of by threads.

    A counter past its expiry reads as zero and restarts on the next hit; the sweep only
    frees the memory of clients gone quiet.
    """

    STORAGE_SCHEME = ["bkt-memory"]  # noqa: RUF012 -- how `limits` registers a scheme

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False,
                 clock: Callable[[], float] = time.time, **options: float | str | bool) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._clock = clock
        self._lock = threading.Lock()
        self._counters: dict[str, tuple[int, float]] = {}  # key -> (count, expires at)
        self._next_sweep = 0.0

    @property
    def base_exceptions(self) -> type[Exception]:
        return ValueError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add `amount` to `key`'s counter, started with `expiry` seconds if it had none."""
        now = self._clock()
        with self._lock:
            self._sweep(now)
            count, expires = self._counters.get(key, (0, 0.0))
            if expires <= now:
                count, expires = 0, now + expiry
            count += amount
            self._counters[key] = (count, expires)
            return count

    def get(self, key: str) -> int:
        count, expires = self._counters.get(key, (0, 0.0))
        return count if expires > self._clock() else 0

    def get_expiry(self, key: str) -> float:
        now = self._clock()
        _, expires = self._counters.get(key, (0, now))
        return expires if expires > now else now

    def check(self) -> bool:
        return True

    def reset(self) -> int:
        with self._lock:
            count = len(self._counters)
            self._counters.clear()
            return count

    def clear(self, key: str) -> None:
        with self._lock:
            self._counters.pop(key, None)

    def held(self) -> int:
        """Counters in memory, expired ones not yet swept included."""
        return len(self._counters)

    def _sweep(self, now: float) -> None:
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_EVERY
            self._counters = {k: v for k, v in self._counters.items() if v[1] > now}


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
