"""The verifier web service: the page the QR opens and the JSON API (``/api/v1``).

`create_app` only wires things up: configuration, the trust source, the rate limiter,
security headers, error handlers and the two blueprints. The verifier holds no private
key and no database; it learns keys and status from the issuer (see `verifier.sources`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

from verifier import sandbox
from verifier.app import api, errors, pages, ratelimit
from verifier.app.config import VerifierConfig
from verifier.core.freshness import FreshnessPolicy
from verifier.directory import Directories
from verifier.qr_image import PhotoLimits
from verifier.shared import open_shared
from verifier.sources import SourceSettings, TrustSource
from verifier.verification import Verifier

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

# No third-party origin anywhere; no inline script or style.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
PAGE_RATE_LIMIT = "600 per minute"  # the page, its two assets, OpenAPI, health
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


def load_roots(paths: tuple[Path, ...]) -> tuple[x509.Certificate, ...]:
    """Every certificate in the PEM files given; unreadable files are skipped (logged)."""
    roots: list[x509.Certificate] = []
    for path in paths:
        try:
            roots.extend(x509.load_pem_x509_certificates(Path(path).read_bytes()))
        except (OSError, ValueError) as exc:
            log.error("pinned root %s unusable: %s", path, exc)
    return tuple(roots)


def create_app(
    config: VerifierConfig | None = None, *, source: TrustSource | None = None
) -> Flask:
    """The verifier app; `source` replaces the one built from `config` (tests)."""
    config = config or VerifierConfig.from_env()
    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=config.max_upload,
        RATELIMIT_ENABLED=config.ratelimit_enabled,
        RATELIMIT_HEADERS_ENABLED=True,
        BKT_VERIFIER=config,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    if config.proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.proxies)  # type: ignore[method-assign]

    if source is None:
        roots = load_roots(config.roots)
        if roots or config.trust_file:
            source = TrustSource(SourceSettings(
                roots=roots, jwks=config.jwks, status=config.status,
                trust_file=config.trust_file, timeout=config.timeout,
                freshness=FreshnessPolicy(config.status_ttl, config.status_max_age,
                                          config.clock_skew),
                shared=open_shared(config.shared),
            ))
    if source is not None and not source.settings.roots:
        source = None
    app.extensions["bkt_verifier"] = (Verifier(source, Directories(source))
                                      if source is not None else None)
    app.extensions["bkt_photo_limits"] = PhotoLimits(
        slots=config.photo_slots, process=sandbox.Limits(
            cpu_seconds=config.photo_seconds, wall_seconds=5.0 * config.photo_seconds + 5))
    if source is None:
        log.error("no pinned root certificate: every verification answers 503")

    # No global default and no X-RateLimit-* headers; the page blueprint by decorator, the
    # API through `ratelimit` (Flask-Limiter's strategy and storage, without its per-request
    # bookkeeping, which cost a third of a verification).
    limiter = Limiter(get_remote_address, app=app,
                      storage_uri=ratelimit.storage_uri(config.ratelimit_storage),
                      headers_enabled=False, swallow_errors=True)
    limiter.limit(PAGE_RATE_LIMIT)(pages.bp)
    ratelimit.init_app(app, limiter, config.rate_limit)
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    errors.init_app(app)

    app.wsgi_app = _with_headers(app.wsgi_app)  # type: ignore[method-assign]
    return app


def _with_headers(wsgi_app: WSGIApplication) -> WSGIApplication:
    """Add the security headers (and ``Cache-Control: no-store``) unless already set.

    Done as WSGI middleware: Werkzeug's ``Headers.setdefault`` for eight headers cost
    more per request than verifying the credential.
    """
    defaults = [*SECURITY_HEADERS.items(), ("Cache-Control", "no-store")]

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        extra = [*defaults]
        if environ.get("wsgi.url_scheme") == "https":  # as the proxy says (ProxyFix)
            extra.append(("Strict-Transport-Security", HSTS))
        if environ.get("PATH_INFO", "").startswith("/api/"):  # never rendered as a page
            extra.append(("Content-Disposition", 'attachment; filename="api.json"'))

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in headers}
            headers.extend(h for h in extra if h[0].lower() not in present)
            if exc_info is None:
                return start_response(status, headers)
            return start_response(status, headers, exc_info)

        return wsgi_app(environ, start)

    return app
