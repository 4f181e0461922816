"""Server-side sessions: a random id per sign-in, kept only as a keyed hash; ended by
logout, disable, a password change or reset and any change of the second factor; idle
and absolute timeouts by the issuer's clock; a ``__Host-`` cookie. Knowing the cookie
signing key (``var/web-secret``) and writing to the database does not make a session."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import insert, select

from issuer.adapters.orm import AccountRow, WebSessionRow
from issuer.services import accounts
from issuer.services.context import Issuer
from tests.web.conftest import PASSWORD, Browser, as_user, web_app

COOKIE = "bkt_session"


def _cookie(browser: Browser, name: str = COOKIE) -> str:
    cookie = browser.client.get_cookie(name)
    assert cookie is not None
    return cookie.value


def _contents(app: Flask, value: str) -> dict[str, Any]:
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    return dict(serializer.loads(value))


def _replay(app: Flask, value: str, path: str = "/batches") -> int:
    """The status of `path` for a fresh client that presents the cookie `value`."""
    client = app.test_client()
    client.set_cookie(COOKIE, value)
    return client.get(path).status_code


def _id(issuer: Issuer, username: str) -> int:
    return next(a.id for a in accounts.list_accounts(issuer) if a.username == username)


def test_a_cookie_from_before_logout_is_refused(app: Flask) -> None:
    browser = as_user(app, "reg1001")
    captured = _cookie(browser)
    assert _replay(app, captured) == 200
    browser.get("/batches")
    assert browser.post("/logout").status_code == 302
    assert _replay(app, captured) == 302  # from another client: to the sign-in page
    browser.client.set_cookie(COOKIE, captured)
    assert browser.client.get("/batches").status_code == 302  # and from the same one


def test_a_cookie_from_before_disable_is_refused_after_re_enabling(web_issuer: Issuer,
                                                                   app: Flask) -> None:
    captured = _cookie(as_user(app, "reg1001"))
    admin = as_user(app, "admin")
    admin.get("/admin/accounts")
    account = _id(web_issuer, "reg1001")
    admin.post(f"/admin/accounts/{account}", {"action": "disable"})
    admin.post(f"/admin/accounts/{account}", {"action": "enable"})
    assert accounts.load_account(web_issuer, account).active  # type: ignore[union-attr]
    assert _replay(app, captured) == 302


def test_a_password_reset_ends_the_accounts_sessions(web_issuer: Issuer, app: Flask) -> None:
    captured = _cookie(as_user(app, "reg1001"))
    admin = as_user(app, "admin")
    admin.get("/admin/accounts")
    admin.post(f"/admin/accounts/{_id(web_issuer, 'reg1001')}", {"action": "reset_password"})
    assert _replay(app, captured) == 302


def test_two_sign_ins_get_different_ids_and_the_database_holds_neither(
        web_issuer: Issuer, app: Flask) -> None:
    ids = [_contents(app, _cookie(as_user(app, "reg1001")))["_user_id"] for _ in range(2)]
    assert ids[0] != ids[1] and all(len(i) >= 43 for i in ids)
    with web_issuer.uow() as uow:
        stored = set(uow.session.scalars(select(WebSessionRow.id_hash)))
    assert len(stored) == 2
    assert not any(i in s or hashlib.sha256(i.encode()).hexdigest() == s
                   for i in ids for s in stored)


def test_idle_and_absolute_timeouts(web_issuer: Issuer) -> None:
    app = web_app(web_issuer, session_idle_minutes=30, session_hours=8)
    start = web_issuer.clock()
    web_issuer.clock = lambda: start
    idle = as_user(app, "reg1001")
    busy = as_user(app, "reg1001")
    for minutes in range(20, 8 * 60, 20):  # busy every 20 minutes, for 8 hours
        web_issuer.clock = lambda m=minutes: start + timedelta(minutes=m)  # type: ignore[misc]
        assert busy.client.get("/batches").status_code == 200, minutes
        if minutes == 40:
            assert idle.client.get("/batches").status_code == 302  # 40 minutes without a request
    web_issuer.clock = lambda: start + timedelta(hours=8, minutes=1)
    assert busy.client.get("/batches").status_code == 302  # no renewal past 8 hours
    assert as_user(app, "reg1001").client.get("/batches").status_code == 200  # sign in again


def test_a_session_cannot_be_minted_with_the_cookie_key_and_the_database(
        web_issuer: Issuer, app: Flask) -> None:
    """The attacker holds the cookie signing key (``var/web-secret``), may write to the
    database and has a registrar's account of their own; they want the administrator's."""
    mine = as_user(app, "reg1001")
    contents = _contents(app, _cookie(mine))
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    admin_id = _id(web_issuer, "admin")
    with web_issuer.uow() as uow:
        admin_row = uow.session.get(AccountRow, admin_id)
        assert admin_row is not None
        old_style = f"{admin_id}:{int(admin_row.password_changed_at.timestamp() * 1000)}"
    # the old id was computed from the account's row
    assert _replay(app, serializer.dumps({**contents, "_user_id": old_style}),
                   "/admin/") == 302
    # a session row of their own making, for an id they chose, copying a real row's seal
    chosen = "A" * 43
    with web_issuer.uow() as uow:
        real = uow.session.scalars(select(WebSessionRow)).first()
        assert real is not None
        uow.session.execute(insert(WebSessionRow).values(
            id_hash=hashlib.sha256(chosen.encode()).hexdigest(), account_id=admin_id,
            created_at=real.created_at, last_seen_at=real.last_seen_at, client=real.client,
            seal=real.seal))
        uow.commit()
    assert _replay(app, serializer.dumps({**contents, "_user_id": chosen}), "/admin/") == 302
    # their own real session moved to the administrator
    with web_issuer.uow() as uow:
        row = uow.session.get(WebSessionRow, real.id_hash)
        assert row is not None
        row.account_id = admin_id
        uow.commit()
    assert mine.client.get("/admin/").status_code == 302


def test_the_cookie_is_host_prefixed_secure_and_site_wide(web_issuer: Issuer) -> None:
    app = web_app(web_issuer, secure_cookies=True)
    response = app.test_client().get("/login", base_url="https://localhost")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-bkt_session="), cookie
    assert "; Secure" in cookie and "; Path=/" in cookie and "Domain" not in cookie
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    plain = web_app(web_issuer, secure_cookies=False).test_client().get("/login")
    assert plain.headers["Set-Cookie"].startswith("bkt_session=")


def test_sign_in_with_password_and_logout_leave_no_rows(web_issuer: Issuer, app: Flask) -> None:
    browser = as_user(app, "reg1001")
    browser.get("/batches")
    browser.post("/logout")
    with web_issuer.uow() as uow:
        assert uow.session.scalars(select(WebSessionRow)).all() == []
    assert Browser(app.test_client()).login("reg1001", PASSWORD).status_code == 302
