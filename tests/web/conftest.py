"""The issuer web app on a temporary issuer, with one account per role and institution.

`Browser` wraps Flask's test client like a person with a browser: it reads the CSRF
token from the page (``<meta name="csrf-token">``) and sends it with every form.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from issuer.adapters import accounts as accounts_repo
from issuer.core.lifecycle import AccountRole
from issuer.services.accounts import create_account
from issuer.services.context import Actor, Issuer
from issuer.web import create_app
from issuer.web.config import WebConfig
from issuer.web.jobs import InlineJobs
from tests.e2e.conftest import key_store, make_issuer  # noqa: F401  (fixtures)
from tests.integration.conftest import db_url, postgres_server  # noqa: F401  (fixtures)

PASSWORD = "correct horse battery staple"
SETUP = Actor("test-setup", "test", AccountRole.ADMIN)
# username -> (role, institution)
ACCOUNTS = {
    "reg1001": ("registrar", "1001"),
    "dir1001": ("approver", "1001"),
    "reg2001": ("registrar", "2001"),
    "dir2001": ("approver", "2001"),
    "admin": ("admin", None),
}
_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


_HASH = accounts_repo.hash_password


@functools.cache
def _password_hash() -> str:
    """PASSWORD's argon2id hash, made once: each hash costs 0.1 s, and every test of the
    web service starts with five accounts (sign-ins still check the hash for real)."""
    return _HASH(PASSWORD)


def add_accounts(issuer: Issuer) -> None:
    with mock.patch.object(accounts_repo, "hash_password", lambda _: _password_hash()):
        for username, (role, code) in ACCOUNTS.items():
            create_account(issuer, username=username, password=PASSWORD, role=role,
                           institution_code=code, actor=SETUP)


def web_app(issuer: Issuer, jobs: Any = None, **config: Any) -> Flask:
    """The app with jobs run within the request that queues them (unless `jobs` says
    otherwise)."""
    options: dict[str, Any] = {"secret_key": "test secret", "secure_cookies": False}
    options.update(config)
    app = create_app(issuer=issuer, config=WebConfig(**options),
                     jobs=jobs or InlineJobs(issuer, 0))
    app.testing = True
    return app


class Browser:
    """A test client that behaves like a browser filling in forms."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token = ""

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        response = self.client.get(path, **kwargs)
        found = _TOKEN.search(response.get_data(as_text=True)) \
            if response.mimetype == "text/html" else None
        if found:
            self.token = found.group(1)
        return response

    def ensure_token(self) -> str:
        if not self.token:
            self.get("/login", follow_redirects=True)  # signed in: the home page
        return self.token

    def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True,
             **kwargs: Any) -> TestResponse:
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.ensure_token())
        return self.client.post(path, data=data, **kwargs)

    def login(self, username: str, password: str = PASSWORD) -> TestResponse:
        self.get("/login")
        response = self.post("/login", {"username": username, "password": password})
        self.token = ""
        return response


@pytest.fixture
def web_issuer(key_store: Path, tmp_path: Path) -> Issuer:  # noqa: F811
    """An issuer on SQLite with both sample institutions and every account."""
    issuer = make_issuer(f"sqlite:///{tmp_path / 'web.db'}", key_store, tmp_path,
                         vc_export=True)
    add_accounts(issuer)
    return issuer


@pytest.fixture
def app(web_issuer: Issuer) -> Flask:
    return web_app(web_issuer)


@pytest.fixture
def browser(app: Flask) -> Iterator[Browser]:
    with app.test_client() as client:
        yield Browser(client)


def as_user(app: Flask, username: str | None) -> Browser:
    browser = Browser(app.test_client())
    if username:
        response = browser.login(username)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return browser
