"""Per-client limits on ``/api/v1``, counted by Flask-Limiter's own strategy and storage.

The app's `Limiter` holds the configured storage (``memory://`` per worker, or Redis so
that every worker and instance counts together) and strategy. The page blueprint uses
its usual decorator; the API checks here, calling ``limiter.limiter.hit`` directly:
Flask-Limiter's per-request bookkeeping (limit resolution, blueprint and exemption
scopes) cost about 0.25 ms of worker CPU per request, a third of a whole verification
(bench/verify.py). Every limit in the configured string counts, as with the decorator.
A storage failure lets the request through (logged): the verifier stays available.
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

from verifier.app.errors import problem

log = logging.getLogger(__name__)
SCOPE = "api"


@dataclass(frozen=True)
class ApiLimits:
    limiter: Limiter
    items: tuple[RateLimitItem, ...]


def init_app(app: Flask, limiter: Limiter, limits: str) -> None:
    app.extensions["bkt_api_limits"] = ApiLimits(limiter, tuple(parse_many(limits)))


def check() -> Response | None:
    """A 429 answer when this client is over a limit; None to go on."""
    state: ApiLimits | None = current_app.extensions.get("bkt_api_limits")
    if state is None or not state.limiter.enabled:
        return None
    client = get_remote_address()
    try:
        strategy = state.limiter.limiter
        for item in state.items:
            if not strategy.hit(item, SCOPE, client):
                reset = strategy.get_window_stats(item, SCOPE, client).reset_time
                response = problem(429, "rate_limited", "Too many requests; try again later",
                                   "มีคำขอมากเกินไป กรุณาลองใหม่ภายหลัง")
                response.headers["Retry-After"] = str(max(1, math.ceil(reset - time.time())))
                return response
    except Exception as exc:  # storage down (e.g. Redis): let the request through
        log.warning("rate-limit storage unavailable: %s", type(exc).__name__)
    return None
