"""The Flask extensions, created here and bound to the app in `create_app`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from issuer.adapters import queries
from issuer.services.context import Issuer

csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
limiter = Limiter(get_remote_address, default_limits=["1200 per minute"], headers_enabled=True)


def issuer() -> Issuer:
    """The issuer (settings, database, keys) of the running app."""
    return current_app.extensions["bkt_issuer"]


def init_app(app: Flask, the_issuer: Issuer) -> None:
    app.extensions["bkt_issuer"] = the_issuer


@contextmanager
def reading() -> Iterator[queries.Reader]:
    """The running issuer's `queries.reading` session, for the pages' queries."""
    with queries.reading(issuer().uow()) as session:
        yield session
