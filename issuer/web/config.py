"""Web settings, read from the environment; every field has a working default."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from issuer.config import ROOT
from issuer.core.sessions import SessionPolicy
from issuer.services.uploads import MAX_UPLOAD, MAX_ZIP_BYTES

MiB = 1024 * 1024


def _flag(value: str) -> bool:
    return value.strip().lower() not in ("0", "false", "no", "off", "")


def persistent_secret(path: Path) -> str:
    """A random key kept in `path` (created 0600 on first use), shared by every worker."""
    try:
        return path.read_text("ascii").strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key)
        return key


@dataclass(frozen=True)
class WebConfig:
    secret_key: str
    """``BKT_WEB_SECRET_KEY``: signs session cookies and CSRF tokens; default a random key
    kept in ``var/web-secret`` (every worker of one machine shares it). It cannot make a
    session: those are rows of the database, found by a MAC under the integrity key."""
    secure_cookies: bool = True
    """``BKT_WEB_SECURE_COOKIES=0`` allows cookies over plain http://localhost in development."""
    ratelimit_storage: str = "memory://"
    """``BKT_WEB_RATELIMIT_STORAGE``: e.g. ``redis://127.0.0.1:6379`` so all workers count
    together. With the default (memory) the general request limit counts per worker
    process, but sign-in attempts and uploads are counted in the issuer's database,
    which every worker shares (looking back at most a day)."""
    ratelimit_enabled: bool = True
    """``BKT_WEB_RATELIMIT_ENABLED=0`` turns the limits off."""
    login_limit: str = "10 per minute;50 per hour"
    """``BKT_WEB_LOGIN_LIMIT``: sign-in attempts (password or code) per client address,
    counted across every worker (``limits`` syntax); accounts are also locked after 5
    failures in a row (per account)."""
    proxies: int = 0
    """``BKT_WEB_PROXIES``: reverse proxies setting X-Forwarded-For/-Proto in front of us."""
    max_upload: int = MAX_UPLOAD + MAX_ZIP_BYTES + MiB
    """``BKT_WEB_MAX_UPLOAD``: largest request body (batch file and photo ZIP) in bytes."""
    issue_workers: int = 2
    """``BKT_WEB_ISSUE_WORKERS``: signing processes per issuance job (0: in the thread)."""
    session_hours: int = 8
    """``BKT_WEB_SESSION_HOURS``: how long a sign-in lasts at most, however busy."""
    session_idle_minutes: int = 30
    """``BKT_WEB_SESSION_IDLE_MINUTES``: a session ends after this long without a request."""
    embedded_worker: bool = True
    """``BKT_WEB_EMBEDDED_WORKER=0`` when jobs run elsewhere (``transcripts worker``
    processes); with ``BKT_CELERY_BROKER`` set, Celery workers run them and the web
    process never does."""
    upload_limit: str = "20 per hour"
    """``BKT_WEB_UPLOAD_LIMIT``: batch files one account may upload (Flask-Limiter
    syntax), whichever worker or sign-in they come through (`issuer.web.shared_limits`)."""
    public_base_url: str = "http://127.0.0.1:8000"
    """``BKT_PUBLIC_BASE_URL``: where graduates and employers reach this service; claim and
    share links are built on it, never on the request's Host header. With secure cookies
    (production) it must be set, to an https:// address (e.g.
    ``https://transcripts.example.go.th``)."""

    @property
    def session_policy(self) -> SessionPolicy:
        return SessionPolicy(idle=timedelta(minutes=self.session_idle_minutes),
                             absolute=timedelta(hours=self.session_hours))

    @property
    def cookie_name(self) -> str:
        """``__Host-bkt_session`` (Secure, Path=/, no Domain: no other host or path can set
        it); plain ``bkt_session`` only without secure cookies (http in development)."""
        return "__Host-bkt_session" if self.secure_cookies else "bkt_session"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebConfig:
        env = dict(os.environ if env is None else env)
        var = Path(env.get("BKT_VAR_DIR", ROOT / "var"))
        secret = env.get("BKT_WEB_SECRET_KEY") or persistent_secret(var / "web-secret")
        secure = _flag(env.get("BKT_WEB_SECURE_COOKIES", "1"))
        base = env.get("BKT_PUBLIC_BASE_URL", cls.public_base_url)
        if secure and not base.startswith("https://"):
            raise ValueError("BKT_PUBLIC_BASE_URL must be this service's https:// address "
                             "(claim and share links are built on it); only development "
                             "over http (BKT_WEB_SECURE_COOKIES=0) may leave it unset")
        return cls(
            secret_key=secret,
            secure_cookies=secure,
            ratelimit_storage=env.get("BKT_WEB_RATELIMIT_STORAGE", cls.ratelimit_storage),
            ratelimit_enabled=_flag(env.get("BKT_WEB_RATELIMIT_ENABLED", "1")),
            login_limit=env.get("BKT_WEB_LOGIN_LIMIT", cls.login_limit),
            proxies=int(env.get("BKT_WEB_PROXIES", 0)),
            max_upload=int(env.get("BKT_WEB_MAX_UPLOAD", cls.max_upload)),
            issue_workers=int(env.get("BKT_WEB_ISSUE_WORKERS", cls.issue_workers)),
            session_hours=int(env.get("BKT_WEB_SESSION_HOURS", cls.session_hours)),
            session_idle_minutes=int(env.get("BKT_WEB_SESSION_IDLE_MINUTES",
                                             cls.session_idle_minutes)),
            embedded_worker=_flag(env.get("BKT_WEB_EMBEDDED_WORKER", "1")),
            upload_limit=env.get("BKT_WEB_UPLOAD_LIMIT", cls.upload_limit),
            public_base_url=base,
        )
