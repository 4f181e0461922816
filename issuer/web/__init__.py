"""The issuer's web service: registrars, approvers and BMA administrators.

`create_app` only wires things up: configuration, the issuer (database, keys), the
extensions (sessions, CSRF, rate limits, Thai/English), the sign-in limits, the issuance jobs, the
blueprints (auth, batches, transcripts, admin, published, graduates) and security headers.
Templates live in ``issuer/web/templates/issuer/``, static files in
``issuer/web/static/``, catalogs in ``issuer/web/translations/``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, redirect, url_for
from flask_babel import lazy_gettext
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from issuer.config import Settings
from issuer.services.context import Issuer
from issuer.web import (
    admin,
    auth,
    batches,
    errors,
    graduates,
    published,
    transcripts,
    uploads,
)
from issuer.web.config import WebConfig
from issuer.web.extensions import babel, csrf, limiter, login_manager
from issuer.web.i18n import DEFAULT_LOCALE, TRANSLATIONS, compile_catalogs, select_locale
from issuer.web.jobs import IssueJobs, job_engine
from issuer.web.labels import register_filters
from issuer.web.shared_limits import SharedLimits

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def create_app(
    settings: Settings | None = None,
    issuer: Issuer | None = None,
    *,
    config: WebConfig | None = None,
    jobs: IssueJobs | None = None,
) -> Flask:
    """The issuer web app. `issuer` (or one opened from `settings`, default the
    environment) gives the database and keys; `jobs` replaces the background runner."""
    if issuer is None:
        issuer = Issuer.open(settings or Settings.from_env())
    config = config or WebConfig.from_env()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=config.secret_key,
        SESSION_COOKIE_NAME=config.cookie_name,
        SESSION_COOKIE_PATH="/",
        SESSION_COOKIE_DOMAIN=None,
        SESSION_COOKIE_SECURE=config.secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=config.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=config.session_hours),
        MAX_CONTENT_LENGTH=config.max_upload,
        WTF_CSRF_TIME_LIMIT=config.session_hours * 3600,
        WTF_CSRF_SSL_STRICT=config.secure_cookies,
        RATELIMIT_ENABLED=config.ratelimit_enabled,
        RATELIMIT_STORAGE_URI=config.ratelimit_storage,
        RATELIMIT_HEADERS_ENABLED=True,
        BABEL_DEFAULT_LOCALE=DEFAULT_LOCALE,
        BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS),
        BKT_WEB=config,
    )
    if config.proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=config.proxies, x_proto=config.proxies
        )
    compile_catalogs()
    app.extensions["bkt_issuer"] = issuer
    app.extensions["bkt_jobs"] = jobs or job_engine(issuer, config)
    for name, spec in (("sign-in", config.login_limit), ("upload", config.upload_limit)):
        app.extensions[f"bkt_{name.replace('-', '_')}_limits"] = SharedLimits(
            spec, config.ratelimit_storage, issuer, namespace=f"bkt-{name}",
            enabled=config.ratelimit_enabled)

    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    login_manager.login_message = lazy_gettext("Please sign in to continue.")
    login_manager.login_message_category = "info"
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)

    for module in (auth, batches, uploads, transcripts, admin, published, graduates):
        app.register_blueprint(module.bp)
    errors.init_app(app)
    register_filters(app)

    @app.get("/")
    def index() -> Any:
        if current_user.is_authenticated:
            return redirect(auth.home_for(auth.user().role))
        return redirect(url_for("auth.login"))

    @app.get("/healthz")
    def healthz() -> Any:
        return {"status": "ok"}

    @app.after_request
    def _headers(response):  # type: ignore[no-untyped-def]
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if config.secure_cookies:
            response.headers.setdefault("Strict-Transport-Security",
                                        "max-age=31536000; includeSubDomains")
        if "attachment" in response.headers.get("Content-Disposition", ""):
            response.headers["Cache-Control"] = "no-store"  # a download: kept nowhere
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app
