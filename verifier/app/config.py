"""Verifier settings, read from the environment; every field has a working default.

The defaults fit a development checkout after ``make demo``: the root the demo PKI made
(``keys/root.crt``) and the documents the issuer published under ``var/published/``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024


def _split(value: str) -> tuple[Path, ...]:
    return tuple(Path(p) for p in value.replace(",", os.pathsep).split(os.pathsep) if p.strip())


@dataclass(frozen=True)
class VerifierConfig:
    roots: tuple[Path, ...]
    """``BKT_VERIFIER_ROOTS``: PEM file(s) of the pinned BMA root(s), ``:`` or ``,``
    separated (default ``keys/root.crt``). The only certificates trusted as such."""
    jwks: str | None
    """``BKT_VERIFIER_JWKS``: path or http(s) URL of the issuer's ``jwks.json``
    (default ``var/published/.well-known/jwks.json``); ``none`` to use the bundle only."""
    status: str | None
    """``BKT_VERIFIER_STATUS``: directory or URL base of the status lists, which live at
    ``<base>/<code>/<purpose>.jws`` (default ``var/published/status``); ``none`` too."""
    trust_file: Path | None = None
    """``BKT_VERIFIER_TRUST_FILE``: an offline trust bundle (``trust.json``); with the two
    locations above set to ``none`` the verifier runs fully offline."""
    max_upload: int = 10 * MiB
    """``BKT_VERIFIER_MAX_UPLOAD``: largest request body in bytes (413 beyond)."""
    rate_limit: str = "30 per minute;600 per hour"
    """``BKT_VERIFIER_RATELIMIT``: verifications per client (Flask-Limiter syntax)."""
    ratelimit_storage: str = "memory://"
    """``BKT_VERIFIER_RATELIMIT_STORAGE``: e.g. ``redis://127.0.0.1:6379`` so that every
    worker and instance counts together; memory counts per worker process."""
    ratelimit_enabled: bool = True
    """``BKT_VERIFIER_RATELIMIT_ENABLED=0`` turns limits off (benchmarks only)."""
    proxies: int = 0
    """``BKT_VERIFIER_PROXIES``: how many reverse proxies set X-Forwarded-For; the client
    address the limits count by is taken from there."""
    timeout: float = 3.0
    """``BKT_VERIFIER_TIMEOUT``: seconds to wait for the issuer."""
    shared: str | None = None
    """``BKT_VERIFIER_SHARED``: where the workers share the newest status list each has
    seen (`verifier.shared`): a directory (default ``var/verifier``), a Redis URL
    (``redis://127.0.0.1:6379/0``: every worker of every machine), or ``none`` (each
    process alone)."""
    status_ttl: float = 30.0
    """``BKT_VERIFIER_STATUS_TTL``: seconds a worker uses a status list before checking
    it with the issuer again (conditionally); a revocation reaches every worker within
    twice this (60 s)."""
    status_max_age: float = 12 * 3600.0
    """``BKT_VERIFIER_STATUS_MAX_AGE``: seconds after its signing that a status list is
    stale (the issuer re-signs every 6 h; 6 h of grace)."""
    clock_skew: float = 300.0
    """``BKT_VERIFIER_CLOCK_SKEW``: seconds a signed date may lie ahead of this clock."""
    photo_slots: int = 1
    """``BKT_VERIFIER_PHOTO_SLOTS``: photos of a QR decoded at once on this machine, all
    workers together; more at the same time are answered 503 (Retry-After)."""
    photo_seconds: int = 3
    """``BKT_VERIFIER_PHOTO_SECONDS``: CPU seconds one photo's decoding may use (its child
    process, at low priority, is stopped after that, or after 5x that plus 5 s of wall
    time, under gunicorn's 30 s worker timeout)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> VerifierConfig:
        env = dict(os.environ if env is None else env)
        var = Path(env.get("BKT_VAR_DIR", REPO / "var"))
        published = Path(env.get("BKT_PUBLISHED_DIR", var / "published"))
        keys = Path(env.get("BKT_KEYS_DIR", REPO / "keys"))

        def location(name: str, default: Path) -> str | None:
            value = env.get(name, str(default)).strip()
            return None if value.lower() in ("", "none", "off") else value

        trust_file = env.get("BKT_VERIFIER_TRUST_FILE", "").strip()
        return cls(
            roots=_split(env.get("BKT_VERIFIER_ROOTS", str(keys / "root.crt"))),
            jwks=location("BKT_VERIFIER_JWKS", published / ".well-known" / "jwks.json"),
            status=location("BKT_VERIFIER_STATUS", published / "status"),
            trust_file=Path(trust_file) if trust_file else None,
            max_upload=int(env.get("BKT_VERIFIER_MAX_UPLOAD", 10 * MiB)),
            rate_limit=env.get("BKT_VERIFIER_RATELIMIT", cls.rate_limit),
            ratelimit_storage=env.get("BKT_VERIFIER_RATELIMIT_STORAGE", cls.ratelimit_storage),
            ratelimit_enabled=env.get("BKT_VERIFIER_RATELIMIT_ENABLED", "1") not in ("0", "false"),
            proxies=int(env.get("BKT_VERIFIER_PROXIES", 0)),
            timeout=float(env.get("BKT_VERIFIER_TIMEOUT", 3.0)),
            shared=location("BKT_VERIFIER_SHARED", var / "verifier"),
            status_ttl=float(env.get("BKT_VERIFIER_STATUS_TTL", cls.status_ttl)),
            status_max_age=float(env.get("BKT_VERIFIER_STATUS_MAX_AGE", cls.status_max_age)),
            clock_skew=float(env.get("BKT_VERIFIER_CLOCK_SKEW", cls.clock_skew)),
            photo_slots=int(env.get("BKT_VERIFIER_PHOTO_SLOTS", 1)),
            photo_seconds=int(env.get("BKT_VERIFIER_PHOTO_SECONDS", 3)),
        )
