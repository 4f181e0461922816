"""Error pages (HTML) and answers (JSON for ``*.json`` and API-style requests).

No stack trace and no echo of the request reaches the client. A missing or wrong CSRF
token is a 400 like any other malformed form. Every refusal (401, 403, 429, a bad CSRF
token) is logged with who and what, link tokens redacted (ASVS 7.2.2).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from issuer.gunicorn_conf import redact

log = logging.getLogger(__name__)

MESSAGES = {
    400: _l("The request was not valid. Reload the page and try again."),
    401: _l("Please sign in."),
    403: _l("Your account may not do this."),
    404: _l("Not found."),
    405: _l("Not allowed."),
    413: _l("The file is too large."),
    429: _l("Too many attempts. Wait a minute and try again."),
    500: _l("Something went wrong. Nothing was changed."),
}


def _answer(status: int) -> Any:
    message = str(MESSAGES.get(status, MESSAGES[500]))
    if request.path.endswith(".json") or request.accept_mimetypes.best == "application/json":
        return jsonify({"error": status, "message": message}), status
    return render_template("issuer/error.html", status=status, message=message), status


REFUSALS = (401, 403, 429)


def _log_refusal(error: HTTPException) -> None:
    if error.code in REFUSALS or isinstance(error, CSRFError):
        who = current_user.username if current_user.is_authenticated else "anonymous"
        log.warning("refused %s %s %s: %s from %s", error.code, request.method,
                    redact(request.path), who, request.remote_addr or "-")


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Any:
        if error.code is None or error.code < 400:
            return error
        _log_refusal(error)
        return _answer(error.code)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Any:
        if app.testing:
            raise error
        log.exception("unexpected error on %s %s", request.method, request.path)
        return _answer(500)
