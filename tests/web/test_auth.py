"""Sign-in: cookies, one answer for every failure, lockout per account, limits per address,
TOTP (with replay refused), sessions ended by a password change, no open redirect;
administrators managing accounts; the language switch."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from issuer.adapters.orm import AuditEventRow
from issuer.services import accounts
from issuer.services.context import Issuer, ServiceError
from tests.tamper import as_owner
from tests.web.conftest import PASSWORD, SETUP, Browser, as_user, web_app


def test_session_cookie_is_secure_httponly_and_lax(web_issuer: Issuer) -> None:
    app = web_app(web_issuer, secure_cookies=True)
    browser = Browser(app.test_client())
    response = browser.login("reg1001")
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"]


def test_security_headers(browser: Browser) -> None:
    response = browser.get("/login")
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_every_failure_gets_the_same_answer(browser: Browser) -> None:
    wrong = browser.login("reg1001", "not the password")
    unknown = browser.login("nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert _flash(wrong) == _flash(unknown)
    assert browser.client.get("/batches").status_code == 302  # still signed out


def test_an_account_locks_after_five_failures_then_unlocks(web_issuer: Issuer,
                                                           browser: Browser) -> None:
    now = web_issuer.clock()
    web_issuer.clock = lambda: now
    for _ in range(accounts.MAX_FAILURES):
        assert browser.login("reg1001", "guess").status_code == 401
    assert browser.login("reg1001").status_code == 401  # right password, locked
    with web_issuer.uow() as uow:
        actions = uow.session.scalars(select(AuditEventRow.action).where(
            AuditEventRow.actor == "reg1001")).all()
    assert actions.count("login.failed") == accounts.MAX_FAILURES + 1
    web_issuer.clock = lambda: now + accounts.LOCKOUT + timedelta(seconds=1)
    assert browser.login("reg1001").status_code == 302


def test_sign_in_attempts_are_limited_per_address(web_issuer: Issuer) -> None:
    app = web_app(web_issuer, login_limit="3 per minute")
    browser = Browser(app.test_client())
    codes = [browser.login(f"user{i}", "x").status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]


def test_two_step_sign_in_with_totp(web_issuer: Issuer, app: Flask) -> None:
    browser = as_user(app, "dir1001")
    browser.get("/account")
    browser.post("/account/totp/start")
    page = browser.get("/account").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)  # type: ignore[union-attr]
    assert "<svg" in page  # the QR code for the app
    assert browser.post("/account/totp/enable",
                        {"code": "000000", "current": PASSWORD}).status_code == 302
    assert not accounts.load_account(web_issuer, _id(web_issuer, "dir1001")).totp_enabled  # type: ignore[union-attr]
    totp = pyotp.TOTP(secret)
    now = web_issuer.clock()
    web_issuer.clock = lambda: now
    browser.post("/account/totp/enable", {"code": totp.at(now), "current": PASSWORD})
    assert accounts.load_account(web_issuer, _id(web_issuer, "dir1001")).totp_enabled  # type: ignore[union-attr]

    later = now + timedelta(seconds=90)
    web_issuer.clock = lambda: later
    fresh = Browser(app.test_client())
    response = fresh.login("dir1001")
    assert response.headers["Location"].endswith("/login/code")
    assert fresh.client.get("/batches").status_code == 302  # the password alone is not enough
    fresh.get("/login/code")
    assert fresh.post("/login/code", {"code": "123456"}).status_code == 401
    fresh.get("/login/code")
    code = totp.at(later)
    assert fresh.post("/login/code", {"code": code}).status_code == 302
    assert fresh.client.get("/batches").status_code == 200

    replay = Browser(app.test_client())  # the same code again, within its 30 seconds
    replay.login("dir1001")
    replay.get("/login/code")
    assert replay.post("/login/code", {"code": code}).status_code == 401


def test_changing_the_password_ends_other_sessions(app: Flask) -> None:
    phone, desk = as_user(app, "reg1001"), as_user(app, "reg1001")
    desk.get("/account")
    new = "a new and long password"
    response = desk.post("/account/password", {"current": PASSWORD, "new": new, "confirm": new})
    assert response.status_code == 302
    assert desk.client.get("/batches").status_code == 200  # carries on
    assert phone.client.get("/batches").status_code == 302  # signed out
    assert Browser(app.test_client()).login("reg1001", new).status_code == 302


def test_no_open_redirect_after_sign_in(app: Flask) -> None:
    browser = Browser(app.test_client())
    browser.get("/login")
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        response = browser.post(f"/login?next={target}",
                                {"username": "reg1001", "password": PASSWORD})
        assert response.headers["Location"] == "/batches", target
        browser.token = ""  # the sign-in started a new session, with a new token
        assert browser.post("/logout").status_code == 302
        browser.token = ""
        browser.get("/login")
    response = browser.post("/login?next=/transcripts", {"username": "reg1001",
                                                         "password": PASSWORD})
    assert response.headers["Location"] == "/transcripts"


def test_administrators_create_and_disable_accounts(web_issuer: Issuer, app: Flask) -> None:
    admin = as_user(app, "admin")
    admin.get("/admin/accounts")
    response = admin.post("/admin/accounts", {"username": "reg1001b", "role": "registrar",
                                              "institution": "1001"})
    password = re.search(r'id="new-password">([^<]+)<', response.get_data(as_text=True))
    assert password, "the generated password is shown once"
    new = Browser(app.test_client())
    assert new.login("reg1001b", password.group(1)).status_code == 302
    assert new.client.get("/batches").status_code == 200
    admin.post(f"/admin/accounts/{_id(web_issuer, 'reg1001b')}", {"action": "disable"})
    assert new.client.get("/batches").status_code == 302  # the session ends at once
    assert Browser(app.test_client()).login("reg1001b", password.group(1)).status_code == 401
    # an administrator needs no institution; a registrar needs one
    admin.post("/admin/accounts", {"username": "nowhere", "role": "registrar"})
    assert "nowhere" not in {a.username for a in accounts.list_accounts(web_issuer)}


def test_passwords_are_argon2id_and_checked_for_length(web_issuer: Issuer) -> None:
    with web_issuer.uow() as uow:
        row = uow.accounts.find("REG1001 ")  # case, spaces ignored
        assert row is not None and row.password_hash.startswith("$argon2id$")
    with pytest.raises(ServiceError, match="12 characters"):
        accounts.create_account(web_issuer, username="short", password="short", role="admin",
                                institution_code=None, actor=accounts_actor())


def test_thai_by_default_and_english_on_request(browser: Browser) -> None:
    page = browser.get("/login").get_data(as_text=True)
    assert '<html lang="th">' in page and "เข้าสู่ระบบ" in page
    browser.client.get("/lang/en?next=/login")
    page = browser.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Sign in" in page and "เข้าสู่ระบบ" not in page
    browser.login("reg1001")
    assert "Batches" in browser.client.get("/batches").get_data(as_text=True)  # it stays


def accounts_actor():  # type: ignore[no-untyped-def]
    return SETUP


def _id(issuer: Issuer, username: str) -> int:
    return next(a.id for a in accounts.list_accounts(issuer) if a.username == username)


def _flash(response) -> str:  # type: ignore[no-untyped-def]
    found = re.search(r'<p class="flash error"[^>]*>([^<]*)</p>', response.get_data(as_text=True))
    return found.group(1) if found else ""


def test_the_audit_log_exports_as_csv_without_formulas(web_issuer: Issuer, app: Flask) -> None:
    import csv
    import io

    accounts.create_account(web_issuer, username="=SUM(1)", password=PASSWORD,
                            role="registrar", institution_code="1001", actor=accounts_actor())
    as_user(app, "=SUM(1)")  # the audit log records its sign-in with that name as actor
    admin = as_user(app, "admin")
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert "account.create" in page and "login" in page
    response = admin.client.get("/admin/audit.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:4] == ["id", "at", "actor", "action"]
    assert {"account.create", "login"} <= {r[3] for r in rows[1:]}
    assert all(not cell.startswith(("=", "+", "@")) for r in rows[1:] for cell in r[2:])
    assert "'=SUM(1)" in {r[2] for r in rows[1:]}
    filtered = admin.client.get("/admin/audit.csv?subject=account:reg1001")
    assert all(r[5] == "account:reg1001"
               for r in csv.reader(io.StringIO(filtered.get_data(as_text=True))) if r[0] != "id")


def test_the_audit_chain_is_checked_and_exported_whole(web_issuer: Issuer, app: Flask) -> None:
    from sqlalchemy import update

    from issuer.services.audit import verify_export

    admin = as_user(app, "admin")
    assert 'class="flash ok" id="chain"' in admin.get("/admin/audit").get_data(as_text=True)
    for fmt in ("jsonl", "csv"):
        response = admin.client.get(f"/admin/audit/export.{fmt}")
        assert response.status_code == 200
        lines = response.get_data(as_text=True).splitlines(keepends=True)
        assert len(lines) > 3 and verify_export(lines, fmt) is None
    assert admin.client.get("/admin/audit/export.xml").status_code == 404
    # the application cannot edit an event...
    with web_issuer.uow() as uow, pytest.raises(DBAPIError, match="append-only"):
        uow.session.execute(update(AuditEventRow).where(AuditEventRow.id == 2)
                            .values(actor="someone else"))
    with web_issuer.uow() as uow:  # ...a table owner can, behind the application's back
        as_owner(uow.session, "UPDATE audit_events SET actor = 'someone else' WHERE id = 2")
        uow.commit()
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert 'class="flash error" id="chain"' in page


def test_every_security_header_on_pages_errors_and_https(web_issuer: Issuer) -> None:
    """ASVS 14.4: nosniff, a referrer policy, framing refused on every answer, errors
    included; HSTS covers subdomains."""
    client = web_app(web_issuer, secure_cookies=True).test_client()
    for response in (client.get("/login"), client.get("/no-such-page")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["X-Frame-Options"] == "DENY"
    https = client.get("/login", base_url="https://localhost")
    assert "includeSubDomains" in https.headers["Strict-Transport-Security"]


def test_refusals_are_logged_with_who_and_what(
        web_issuer: Issuer, caplog: pytest.LogCaptureFixture) -> None:
    """ASVS 7.2.2: access-control failures are logged (a role's 403, a bad CSRF token);
    link tokens never are."""
    app = web_app(web_issuer)
    app.config["WTF_CSRF_ENABLED"] = True
    registrar = as_user(app, "reg1001")
    with caplog.at_level("WARNING", logger="issuer.web.errors"):
        assert registrar.get("/admin/").status_code == 403
        assert registrar.client.post("/logout").status_code == 400  # no CSRF token
        assert app.test_client().post("/c/SECRET-TOKEN-123/shares").status_code == 400
    lines = [r.getMessage() for r in caplog.records]
    assert any("403 GET /admin/: reg1001" in line for line in lines), lines
    assert any("400 POST /logout: reg1001" in line for line in lines), lines
    assert any("400 POST /c/…/shares: anonymous" in line for line in lines), lines
    assert "SECRET-TOKEN-123" not in caplog.text
