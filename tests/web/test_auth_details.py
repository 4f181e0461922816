"""Authentication details: every change of the second factor asks for the password and
signs the account out everywhere; administrators never reset their own; the secret being
set up stays on the server; the code step cannot be reached with the cookie key alone;
common passwords are refused; sign-in limits hold across worker processes."""

from __future__ import annotations

import re
import time
import uuid
from datetime import timedelta

import pyotp
import pytest
from flask import Flask

from issuer.core.lifecycle import AccountRole
from issuer.services import accounts
from issuer.services.context import Actor, Issuer, ServiceError
from issuer.web.extensions import limiter
from tests.web.conftest import PASSWORD, SETUP, Browser, as_user, web_app

MINUTE = timedelta(minutes=1)


def _id(issuer: Issuer, username: str) -> int:
    return next(a.id for a in accounts.list_accounts(issuer) if a.username == username)


def _totp_on(issuer: Issuer, username: str) -> bool:
    info = accounts.load_account(issuer, _id(issuer, username))
    return info is not None and info.totp_enabled


def _start_setup(browser: Browser) -> str:
    browser.get("/account")
    browser.post("/account/totp/start")
    page = browser.get("/account").get_data(as_text=True)
    found = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page)
    assert found, "the setup shows the secret"
    return found.group(1)


def _turn_on(issuer: Issuer, username: str) -> pyotp.TOTP:
    """TOTP on for `username` through the service (the holder's password given)."""
    secret = accounts.new_totp_secret()
    totp = pyotp.TOTP(secret)
    accounts.enable_totp(issuer, _id(issuer, username), secret, totp.now(), password=PASSWORD,
                         actor=SETUP)
    return totp


def test_turning_totp_on_needs_the_password_and_signs_out_elsewhere(
        web_issuer: Issuer, app: Flask) -> None:
    phone, desk = as_user(app, "dir1001"), as_user(app, "dir1001")
    totp = pyotp.TOTP(_start_setup(desk))
    for password in ("not the password", ""):
        desk.post("/account/totp/enable", {"code": totp.now(), "current": password})
        assert not _totp_on(web_issuer, "dir1001"), password or "no password"
    assert phone.client.get("/batches").status_code == 200
    desk.post("/account/totp/enable", {"code": totp.now(), "current": PASSWORD})
    assert _totp_on(web_issuer, "dir1001")
    assert phone.client.get("/batches").status_code == 302  # signed out
    assert desk.client.get("/batches").status_code == 200  # carries on, with a new session


def test_turning_totp_off_needs_the_password_and_signs_out_everywhere(
        web_issuer: Issuer, app: Flask) -> None:
    phone = as_user_with_code(app, "dir1001", _turn_on(web_issuer, "dir1001"))
    with pytest.raises(ServiceError, match="password"):
        accounts.disable_totp(web_issuer, _id(web_issuer, "dir1001"), password="wrong one",
                              actor=SETUP)
    assert _totp_on(web_issuer, "dir1001")
    assert phone.client.get("/batches").status_code == 200
    accounts.disable_totp(web_issuer, _id(web_issuer, "dir1001"), password=PASSWORD,
                          actor=SETUP)
    assert not _totp_on(web_issuer, "dir1001")
    assert phone.client.get("/batches").status_code == 302


def test_an_administrator_resets_anothers_totp_with_their_password_never_their_own(
        web_issuer: Issuer, app: Flask) -> None:
    _turn_on(web_issuer, "dir1001")
    admin = as_user(app, "admin")
    admin.get("/admin/accounts")
    target = f"/admin/accounts/{_id(web_issuer, 'dir1001')}"
    admin.post(target, {"action": "reset_totp"})
    admin.post(target, {"action": "reset_totp", "current": "not the password"})
    assert _totp_on(web_issuer, "dir1001")
    admin.post(target, {"action": "reset_totp", "current": PASSWORD})
    assert not _totp_on(web_issuer, "dir1001")

    # the administrator's own second factor, through the web and the service
    signed_in = as_user_with_code(app, "admin", _turn_on(web_issuer, "admin"))
    signed_in.get("/admin/accounts")
    signed_in.post(f"/admin/accounts/{_id(web_issuer, 'admin')}",
                   {"action": "reset_totp", "current": PASSWORD})
    assert _totp_on(web_issuer, "admin")
    with pytest.raises(ServiceError, match="another administrator"):
        accounts.reset_totp(web_issuer, _id(web_issuer, "admin"), password=PASSWORD,
                            actor=Actor("admin", "test", AccountRole.ADMIN))


def as_user_with_code(app: Flask, username: str, totp: pyotp.TOTP) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(username).headers["Location"].endswith("/login/code")
    browser.get("/login/code")
    code = totp.at(time.time() + totp.interval)  # the next step: never used yet
    assert browser.post("/login/code", {"code": code}).status_code == 302
    browser.token = ""
    return browser


def test_the_secret_being_set_up_is_not_in_the_cookie(app: Flask) -> None:
    browser = as_user(app, "dir1001")
    secret = _start_setup(browser)
    cookie = browser.client.get_cookie("bkt_session")
    assert cookie is not None
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert secret not in repr(serializer.loads(cookie.value))
    assert secret in browser.get("/account").get_data(as_text=True)  # still being set up


def test_the_code_step_needs_the_password_step_not_just_the_cookie_key(
        web_issuer: Issuer, app: Flask) -> None:
    """With the cookie key and the account's TOTP secret (read from the database), a
    forged 'password checked' state does not sign in."""
    totp = _turn_on(web_issuer, "dir1001")
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    account = _id(web_issuer, "dir1001")
    for pending in ({"id": account, "at": time.time(), "next": ""},
                    {"challenge": f"{account}.{int(time.time())}.{'0' * 64}", "next": ""}):
        browser = Browser(app.test_client())
        browser.get("/login")
        contents = serializer.loads(browser.client.get_cookie("bkt_session").value)  # type: ignore[union-attr]
        browser.client.set_cookie("bkt_session", serializer.dumps({**contents,
                                                                   "pending": pending}))
        browser.post("/login/code", {"code": totp.at(time.time() + totp.interval)})
        assert browser.client.get("/batches").status_code == 302, pending


def test_common_passwords_are_refused(web_issuer: Issuer) -> None:
    for password in ("aaaaaaaaaaaa", "password1234", "PASSWORD1234", "P@ssw0rd1234",
                     "qwertyuiop123"):
        with pytest.raises(ServiceError, match="too common"):
            accounts.create_account(web_issuer, username="newreg", password=password,
                                    role="registrar", institution_code="1001", actor=SETUP)
        with pytest.raises(ServiceError, match="too common"):
            accounts.change_password(web_issuer, _id(web_issuer, "reg1001"), PASSWORD,
                                     password, actor=SETUP)


def test_the_web_form_refuses_a_common_password(app: Flask) -> None:
    browser = as_user(app, "reg1001")
    browser.get("/account")
    new = "Password1234"
    browser.post("/account/password", {"current": PASSWORD, "new": new, "confirm": new})
    assert "เดาง่ายเกินไป" in browser.get("/account").get_data(as_text=True)  # in Thai
    assert Browser(app.test_client()).login("reg1001", new).status_code == 401


def test_sign_in_limits_hold_across_worker_processes(web_issuer: Issuer) -> None:
    """Two app instances on one database, like two gunicorn workers: with 3 a minute, the
    fourth attempt is refused whichever worker gets it. A worker process has its own
    memory: the in-process limiter store is emptied between them to say so."""
    workers = [web_app(web_issuer, login_limit="3 per minute") for _ in range(2)]
    codes = []
    for i in range(5):
        limiter.reset()  # what another process's memory knows of the attempts so far
        codes.append(Browser(workers[i % 2].test_client()).login(f"u{i}", "x").status_code)
    assert codes == [401, 401, 401, 429, 429]


def test_sign_in_limits_count_in_the_shared_store_when_one_is_configured(
        web_issuer: Issuer) -> None:
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    address = f"test-{uuid.uuid4()}"  # a client this store has never seen
    workers = [web_app(web_issuer, login_limit="2 per minute", ratelimit_storage=url)
               for _ in range(2)]
    codes = []
    for i in range(3):
        client = workers[i % 2].test_client()
        client.environ_base["REMOTE_ADDR"] = address
        codes.append(Browser(client).login("nobody", "x").status_code)
    assert codes == [401, 401, 429]
    with web_issuer.uow() as uow:  # counted in Redis, not in the database
        assert uow.login_attempts.count_since(address, web_issuer.clock() - MINUTE) == 0


def test_administrators_and_approvers_work_only_with_a_second_factor(
        web_issuer: Issuer) -> None:
    """ASVS 4.3.1, with the production default: an approver or administrator without TOTP
    reaches only the account page until it is on; registrars are not held back."""
    from dataclasses import replace

    from issuer.config import Settings

    assert Settings.from_env({}).second_factor_roles == ("admin", "approver")
    production = replace(web_issuer.settings, second_factor_roles=("admin", "approver"))
    app = web_app(Issuer.open(production))
    director, admin = as_user(app, "dir1001"), as_user(app, "admin")
    for browser, page in ((director, "/batches"), (admin, "/admin/")):
        held = browser.client.get(page)
        assert held.status_code == 302 and held.headers["Location"].endswith("/account")
        assert "ต้องใช้การยืนยันตัวตนสองขั้นตอน" in browser.get("/account").get_data(as_text=True)
    json = director.client.get("/batches", headers={"Accept": "application/json"})
    assert json.status_code == 403
    assert as_user(app, "reg1001").client.get("/batches").status_code == 200

    totp = pyotp.TOTP(_start_setup(director))  # turned on from the page it is held on
    director.post("/account/totp/enable", {"code": totp.now(), "current": PASSWORD})
    assert director.client.get("/batches").status_code == 200
