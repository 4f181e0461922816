"""Web accounts: create, sign in (password, then an optional TOTP code), manage.

Every sign-in failure raises the same `LoginFailed`, whatever the cause (unknown name,
wrong password, wrong or replayed code, locked or disabled account), so a caller cannot
forget a case and a guesser learns nothing. After `MAX_FAILURES` consecutive failures an
account is locked for `LOCKOUT`; the web layer also limits attempts per address.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp

from issuer.adapters import accounts as accounts_adapter
from issuer.adapters.orm import AccountRow
from issuer.adapters.repositories import UnitOfWork
from issuer.core.lifecycle import AccountRole
from issuer.services.context import Actor, Issuer, ServiceError

log = logging.getLogger(__name__)
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 12
TOTP_ISSUER = "Bangkok Transcripts"


class LoginFailed(ServiceError):
    """Sign-in refused; deliberately says nothing about why."""

    def __init__(self) -> None:
        super().__init__("incorrect username, password or code")


@dataclass(frozen=True)
class AccountInfo:
    """An account as the web layer sees it (no password hash, no TOTP secret)."""

    id: int
    username: str
    role: AccountRole
    institution_code: str | None
    display_name: str
    email: str
    active: bool
    totp_enabled: bool
    session_token: str
    """Changes when the password does, which ends every other session of the account."""
    last_login_at: datetime | None = None
    locked_until: datetime | None = None

    @classmethod
    def of(cls, row: AccountRow) -> AccountInfo:
        return cls(
            id=row.id, username=row.username, role=row.role,
            institution_code=row.institution.code if row.institution else None,
            display_name=row.display_name or row.username, email=row.email, active=row.active,
            totp_enabled=row.totp_secret is not None,
            session_token=f"{row.id}:{int(row.password_changed_at.timestamp() * 1000)}",
            last_login_at=row.last_login_at, locked_until=row.locked_until,
        )


@dataclass(frozen=True)
class SignIn:
    """A correct password: `account`, and whether a TOTP code must follow."""

    account: AccountInfo
    needs_code: bool


def generate_password() -> str:
    """A random password of 20 URL-safe characters (about 120 bits)."""
    return secrets.token_urlsafe(15)


def check_new_password(password: str, username: str = "") -> None:
    if len(password) < MIN_PASSWORD:
        raise ServiceError(f"a password needs at least {MIN_PASSWORD} characters")
    if username and username.strip().lower() in password.lower():
        raise ServiceError("a password must not contain the username")


def require_admin(uow: UnitOfWork, actor: Actor, doing: str) -> None:
    """An administrator; or, while the installation has no account at all, whoever sets it
    up (the first `transcripts accounts create`, `institutions load`)."""
    if actor.role is AccountRole.ADMIN or not uow.accounts.exist():
        return
    raise ServiceError(f"only an administrator may {doing} (on the command line: "
                       "transcripts --as ADMIN ...)")


def create_account(
    issuer: Issuer,
    *,
    username: str,
    password: str,
    role: AccountRole | str,
    institution_code: str | None,
    actor: Actor,
    email: str = "",
    display_name: str = "",
) -> AccountInfo:
    role = AccountRole(role)
    username = username.strip()
    if not username or len(username) > 100 or any(c.isspace() for c in username):
        raise ServiceError("a username is 1-100 characters without spaces")
    check_new_password(password, username)
    if (role is AccountRole.ADMIN) != (institution_code is None):
        raise ServiceError("administrators have no institution; everyone else has one")
    with issuer.uow() as uow:
        require_admin(uow, actor, "create accounts")
        if uow.accounts.find(username) is not None:
            raise ServiceError(f"the username {username!r} is taken")
        institution = None
        if institution_code is not None:
            institution = uow.institutions.get(institution_code)
            if institution is None:
                raise ServiceError(f"no institution with code {institution_code!r}")
        now = issuer.clock()
        row = uow.accounts.add(
            username=username, password_hash=accounts_adapter.hash_password(password),
            role=role, institution=institution, now=now, email=email,
            display_name=display_name, seal_key=_seal_key(uow),
        )
        uow.audit.append(
            actor=actor.name, action="account.create", source=actor.source, now=now,
            institution=institution, subject=f"account:{username}", detail={"role": role.value},
        )
        uow.commit()
        return AccountInfo.of(row)


def _seal_key(uow: UnitOfWork) -> bytes:
    return uow.integrity_key(accounts_adapter.SEAL_PURPOSE)


def _intact(uow: UnitOfWork, row: AccountRow | None, source: str, now: datetime) -> bool:
    """Whether `row` carries the service's seal; a broken seal (the row was made or
    changed in the database, not by this service) is audited and treated as no account."""
    if row is None:
        return False
    if accounts_adapter.sealed(row, _seal_key(uow)):
        return True
    log.warning("account %s (id %s) has a broken seal: refused", row.username, row.id)
    uow.audit.append(actor="system", action="account.seal_broken", source=source, now=now,
                     institution=row.institution, subject=f"account:{row.username}",
                     detail={"id": row.id})
    uow.commit()
    return False


def load_account(issuer: Issuer, account_id: int) -> AccountInfo | None:
    with issuer.uow() as uow:
        row = uow.accounts.get(account_id)
        if not _intact(uow, row, "session", issuer.clock()):
            return None
        assert row is not None
        return AccountInfo.of(row)


def seal_unsealed(issuer: Issuer) -> int:
    """Seal the accounts that have no seal at all (those that existed before seals, right
    after the migration that added them); how many."""
    with issuer.uow() as uow:
        rows = [r for r in uow.accounts.every() if r.seal is None]
        for row in rows:
            accounts_adapter.seal(row, _seal_key(uow))
        if rows:
            uow.audit.append(actor="system", action="account.seal_existing",
                             source="upgrade", now=issuer.clock(),
                             detail={"accounts": [r.username for r in rows]})
        uow.commit()
        return len(rows)


def list_accounts(issuer: Issuer) -> list[AccountInfo]:
    with issuer.uow() as uow:
        return [AccountInfo.of(row) for row in uow.accounts.every()]


def _locked(row: AccountRow, now: datetime) -> bool:
    return row.locked_until is not None and row.locked_until > now


def _fail(issuer: Issuer, account_id: int, source: str, why: str) -> LoginFailed:
    """Count one failure (locking the account at the limit), audit it, return the error."""
    with issuer.uow() as uow:
        row = uow.accounts.get(account_id)
        assert row is not None
        now = issuer.clock()
        row.failed_logins += 1
        detail = {"reason": why, "failures": row.failed_logins}
        if row.failed_logins >= MAX_FAILURES:
            row.locked_until = now + LOCKOUT
            row.failed_logins = 0
            detail["locked_until"] = row.locked_until.isoformat()
        uow.audit.append(
            actor=row.username, action="login.failed", source=source, now=now,
            institution=row.institution, subject=f"account:{row.username}", detail=detail,
        )
        uow.commit()
    return LoginFailed()


def _succeed(uow: UnitOfWork, row: AccountRow, source: str, now: datetime) -> None:
    row.failed_logins = 0
    row.locked_until = None
    row.last_login_at = now
    uow.audit.append(
        actor=row.username, action="login", source=source, now=now,
        institution=row.institution, subject=f"account:{row.username}",
    )


def sign_in(issuer: Issuer, username: str, password: str, *, source: str) -> SignIn:
    """Check a password. Without TOTP this completes the sign-in; with TOTP the caller
    must follow with `verify_code`. Raises `LoginFailed` on any failure."""
    with issuer.uow() as uow:
        row = uow.accounts.find(username)
        ok = accounts_adapter.check_password(row.password_hash if row else None, password)
        if not _intact(uow, row, source, issuer.clock()):
            raise LoginFailed()
        assert row is not None
        now = issuer.clock()
        if not row.active:
            raise LoginFailed()
        if _locked(row, now):
            account_id = row.id
            uow.rollback()
            raise _fail(issuer, account_id, source, "locked")
        if not ok:
            account_id = row.id
            uow.rollback()
            raise _fail(issuer, account_id, source, "password")
        if accounts_adapter.needs_rehash(row.password_hash):
            row.password_hash = accounts_adapter.hash_password(password)
            accounts_adapter.seal(row, _seal_key(uow))
        if row.totp_secret is None:
            _succeed(uow, row, source, now)
        uow.commit()
        return SignIn(AccountInfo.of(row), needs_code=row.totp_secret is not None)


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The TOTP time step whose code is `code` (the current one or either neighbour)."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    for offset in (0, -1, 1):
        at = now + timedelta(seconds=offset * totp.interval)
        if secrets.compare_digest(totp.at(at), code):
            return totp.timecode(at)
    return None


def verify_code(issuer: Issuer, account_id: int, code: str, *, source: str) -> AccountInfo:
    """The second step of a sign-in: a TOTP code never used before on this account."""
    with issuer.uow() as uow:
        row = uow.accounts.get(account_id)
        if not _intact(uow, row, source, issuer.clock()):
            raise LoginFailed()
        assert row is not None
        if not row.active or row.totp_secret is None:
            raise LoginFailed()
        now = issuer.clock()
        step = _matching_step(row.totp_secret, code, now)
        locked = _locked(row, now)
        if locked or step is None or (
            row.totp_last_step is not None and step <= row.totp_last_step
        ):
            uow.rollback()
            raise _fail(issuer, account_id, source, "locked" if locked else "code")
        row.totp_last_step = step
        _succeed(uow, row, source, now)
        uow.commit()
        return AccountInfo.of(row)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, username: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads (shown as a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)


Change = Callable[[AccountRow, datetime], dict[str, Any] | None]


def _update(issuer: Issuer, account_id: int, actor: Actor, action: str,
            change: Change) -> AccountInfo:
    with issuer.uow() as uow:
        row = uow.accounts.get(account_id)
        if row is None:
            raise ServiceError(f"no account {account_id}")
        if not accounts_adapter.sealed(row, _seal_key(uow)):
            raise ServiceError(f"account {row.username} was changed outside the service: "
                               "it cannot be used or changed (see the audit log)")
        now = issuer.clock()
        detail = change(row, now) or {}
        accounts_adapter.seal(row, _seal_key(uow))
        uow.audit.append(
            actor=actor.name, action=action, source=actor.source, now=now,
            institution=row.institution, subject=f"account:{row.username}", detail=detail,
        )
        uow.commit()
        return AccountInfo.of(row)


def enable_totp(issuer: Issuer, account_id: int, secret: str, code: str, *,
                actor: Actor) -> AccountInfo:
    """Turn on the second factor once the user proves their app holds `secret`."""
    step = _matching_step(secret, code, issuer.clock())
    if step is None:
        raise ServiceError("the code does not match: check the time on your phone")

    def change(row: AccountRow, now: datetime) -> None:
        row.totp_secret = secret
        row.totp_last_step = step

    return _update(issuer, account_id, actor, "account.totp_enable", change)


def disable_totp(issuer: Issuer, account_id: int, *, actor: Actor,
                 password: str | None = None) -> AccountInfo:
    """Turn the second factor off: by the holder (who gives their `password`) or by an
    administrator (after a lost phone)."""
    if password is not None:
        with issuer.uow() as uow:
            row = uow.accounts.get(account_id)
            if row is None or not accounts_adapter.check_password(row.password_hash, password):
                raise ServiceError("the current password is not correct")

    def change(row: AccountRow, now: datetime) -> None:
        row.totp_secret = None
        row.totp_last_step = None

    return _update(issuer, account_id, actor, "account.totp_disable", change)


def change_password(issuer: Issuer, account_id: int, current: str, new: str, *,
                    actor: Actor) -> AccountInfo:
    """The holder changes their own password; every other session of theirs ends."""
    with issuer.uow() as uow:
        row = uow.accounts.get(account_id)
        if row is None or not accounts_adapter.check_password(row.password_hash, current):
            raise ServiceError("the current password is not correct")
        check_new_password(new, row.username)

    def change(row: AccountRow, now: datetime) -> None:
        row.password_hash = accounts_adapter.hash_password(new)
        row.password_changed_at = now

    return _update(issuer, account_id, actor, "account.password_change", change)


def reset_password(issuer: Issuer, account_id: int, *, actor: Actor) -> tuple[AccountInfo, str]:
    """An administrator sets a new random password (and unlocks); returns it once."""
    password = generate_password()

    def change(row: AccountRow, now: datetime) -> None:
        row.password_hash = accounts_adapter.hash_password(password)
        row.password_changed_at = now
        row.failed_logins = 0
        row.locked_until = None

    return _update(issuer, account_id, actor, "account.password_reset", change), password


def set_active(issuer: Issuer, account_id: int, active: bool, *, actor: Actor) -> AccountInfo:
    def change(row: AccountRow, now: datetime) -> dict[str, bool]:
        row.active = active
        if active:
            row.failed_logins = 0
            row.locked_until = None
        return {"active": active}

    return _update(issuer, account_id, actor,
                   "account.enable" if active else "account.disable", change)
