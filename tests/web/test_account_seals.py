"""Accounts a database writer makes or changes do not sign in: each account carries a MAC
under the integrity key (`issuer.adapters.accounts.seal`). Without it, whoever could
write to the database could add an approver of their own and approve their own batch."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select, update

from issuer.adapters.db import downgrade
from issuer.adapters.orm import AccountRow
from issuer.core.lifecycle import AccountRole
from issuer.services import accounts
from issuer.services.context import Issuer, ServiceError
from tests.web.conftest import PASSWORD, SETUP, as_user, web_app


def _row(issuer: Issuer, username: str) -> AccountRow:
    with issuer.uow() as uow:
        row = uow.session.scalars(select(AccountRow).filter_by(username=username)).one()
        uow.session.expunge(row)
        return row


def _write(issuer: Issuer, statement) -> None:  # type: ignore[no-untyped-def]
    with issuer.uow() as uow:
        uow.session.execute(statement)
        uow.commit()


def _events(issuer: Issuer) -> list[str]:
    with issuer.uow() as uow:
        return [e.action for e in uow.audit.events(limit=1000)]


def test_an_approver_inserted_in_the_database_cannot_sign_in(web_issuer: Issuer) -> None:
    director = _row(web_issuer, "dir1001")
    _write(web_issuer, insert(AccountRow).values(  # a copy: a password hash the writer knows
        username="mallory", email="", display_name="", password_hash=director.password_hash,
        role=AccountRole.APPROVER, institution_id=director.institution_id, active=True,
        failed_logins=0, created_at=director.created_at,
        password_changed_at=director.password_changed_at, seal=director.seal))
    with pytest.raises(accounts.LoginFailed):
        accounts.sign_in(web_issuer, "mallory", PASSWORD, source="test")
    assert "account.seal_broken" in _events(web_issuer)
    response = as_user(web_app(web_issuer), None).post(
        "/login", {"username": "mallory", "password": PASSWORD})
    assert response.status_code != 302 or "/login" in response.headers.get("Location", "")


@pytest.mark.parametrize("change", [
    {"role": AccountRole.APPROVER},  # a registrar made director
    {"password_hash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"},
    {"active": True, "totp_secret": None},  # second factor removed (and active kept)
])
def test_an_account_changed_in_the_database_is_refused(web_issuer: Issuer,
                                                      change: dict) -> None:
    app = web_app(web_issuer)
    signed_in = as_user(app, "reg1001")  # a session from before the change
    _write(web_issuer, update(AccountRow).where(AccountRow.username == "reg1001")
           .values(**change))
    if change.get("totp_secret", "x") is None:  # it had none: make the change a change
        _write(web_issuer, update(AccountRow).where(AccountRow.username == "reg1001")
               .values(totp_secret="JBSWY3DPEHPK3PXP"))
    with pytest.raises(accounts.LoginFailed):
        accounts.sign_in(web_issuer, "reg1001", PASSWORD, source="test")
    assert signed_in.get("/batches").status_code == 302  # the session ends too
    account = _row(web_issuer, "reg1001")
    with pytest.raises(ServiceError, match="changed outside the service"):
        accounts.set_active(web_issuer, account.id, False, actor=SETUP)


def test_changes_made_by_the_service_keep_the_seal(web_issuer: Issuer) -> None:
    account = _row(web_issuer, "reg1001")
    accounts.change_password(web_issuer, account.id, PASSWORD, PASSWORD + " two",
                             actor=SETUP)
    accounts.set_active(web_issuer, account.id, False, actor=SETUP)
    accounts.set_active(web_issuer, account.id, True, actor=SETUP)
    assert accounts.sign_in(web_issuer, "reg1001", PASSWORD + " two", source="t").account


def test_accounts_from_before_seals_are_sealed_on_upgrade(web_issuer: Issuer) -> None:
    engine = web_issuer.sessions.kw["bind"]
    downgrade(engine, "0005_frozen_batches")  # a database from before seals
    reopened = Issuer.open(web_issuer.settings)  # the service upgrading it seals them
    assert _row(reopened, "reg1001").seal is not None
    assert accounts.sign_in(reopened, "reg1001", PASSWORD, source="test").account
    assert "account.seal_existing" in _events(reopened)
