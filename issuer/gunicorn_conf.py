"""Gunicorn settings for the issuer: graduates' link tokens never reach a log.

A claim link (``/c/<token>``) opens every version of a transcript and a share link
(``/s/<token>``) what the graduate shared; whoever reads a log line holding one could
open it. `RedactingLogger` replaces the token with ``…`` in the access log (every atom:
request line, path, referer, environment), in the error log (messages and tracebacks),
and in the application's own logs (``issuer``, Flask's ``issuer.web``, Werkzeug, the
root logger), which it sends through the same handlers.

    gunicorn -c python:issuer.gunicorn_conf -w 2 -b 127.0.0.1:8000 wsgi:issuer
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger

TOKEN_PATH = re.compile(r"(/[cs]/)[^/?#\s\"']+")
REDACTED = "…"
APP_LOGGERS = ("issuer", "werkzeug", "flask", "")  # "" is the root logger


def redact(text: str) -> str:
    """`text` with every ``/c/<token>`` and ``/s/<token>`` token replaced by ``…``."""
    return TOKEN_PATH.sub(rf"\g<1>{REDACTED}", text)


class RedactFilter(logging.Filter):
    """Redacts link tokens from a record's message and traceback (a handler filter, so it
    covers records from every logger the handler serves)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text, record.exc_info = redact(text), None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class RedactingLogger(Logger):
    """Gunicorn's logger with link tokens redacted from every line it writes, and the
    application's loggers sent through its error-log handlers."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        redacting = RedactFilter()
        for handler in (*self.error_log.handlers, *self.access_log.handlers):
            if not any(isinstance(f, RedactFilter) for f in handler.filters):
                handler.addFilter(redacting)
        for name in APP_LOGGERS:
            log = logging.getLogger(name)
            log.handlers = list(self.error_log.handlers)
            log.setLevel(self.loglevel)
            log.propagate = False

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        return {key: redact(value) if isinstance(value, str) else value
                for key, value in super().atoms(resp, req, environ, request_time).items()}


logger_class = RedactingLogger
accesslog = "-"
errorlog = "-"
