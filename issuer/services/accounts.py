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
from issuer.adapters import integrity
from issuer.adapters.orm import AccountRow
from issuer.adapters.repositories import UnitOfWork
from issuer.core.lifecycle import AccountRole
from issuer.core.passwords import MIN_LENGTH, password_problem
from issuer.core.refusal import Phrase
from issuer.services.context import Actor, Issuer, ServiceError, refused

log = logging.getLogger(__name__)
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = MIN_LENGTH
TOTP_ISSUER = "Bangkok Transcripts"
CHALLENGE_PURPOSE = "sign-in-challenge"
CHALLENGE_TTL = timedelta(minutes=5)


class LoginFailed(ServiceError):
    """Sign-in refused; deliberately says nothing about why."""

    def __init__(self) -> None:
        super().__init__(Phrase("incorrect username, password or code"))


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
    last_login_at: datetime | None = None
    locked_until: datetime | None = None

    @classmethod
    def of(cls, row: AccountRow) -> AccountInfo:
        return cls(
            id=row.id, username=row.username, role=row.role,
            institution_code=row.institution.code if row.institution else None,
            display_name=row.display_name or row.username, email=row.email, active=row.active,
            totp_enabled=row.totp_secret is not None,
            last_login_at=row.last_login_at, locked_until=row.locked_until,
        )


@dataclass(frozen=True)
class SignIn:
    """A correct password: `account`, and whether a TOTP code must follow."""

    account: AccountInfo
    needs_code: bool
    challenge: str | None = None
    """With a code to follow: what `verify_code` takes, a MAC under the integrity key of
    the account and the time, valid `CHALLENGE_TTL` (a cookie-signing key alone cannot
    make one, so it cannot skip the password)."""


def generate_password() -> str:
    """A random password of 20 URL-safe characters (about 120 bits)."""
    return secrets.token_urlsafe(15)


def check_new_password(password: str, username: str = "") -> None:
    """Refuse a password that is short, holds the username or is common
    (`issuer.core.passwords`)."""
    problem = password_problem(password, username)
    if problem is not None:
        raise refused(problem)


def require_admin(uow: UnitOfWork, actor: Actor, doing: Phrase) -> None:
    """An administrator; or, while the installation has no account at all, whoever sets it
    up (the first `transcripts accounts create`, `institutions load`)."""
    if actor.role is AccountRole.ADMIN or not uow.accounts.exist():
        return
    raise ServiceError("only an administrator may %(doing)s (on the command line: "
                       "transcripts --as ADMIN ...)", doing=doing)


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
        require_admin(uow, actor, Phrase("create accounts"))
        if uow.accounts.find(username) is not None:
            raise ServiceError("the username %(username)r is taken", username=username)
        institution = None
        if institution_code is not None:
            institution = uow.institutions.get(institution_code)
            if institution is None:
                raise ServiceError("no institution with code %(code)r", code=institution_code)
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


def intact(uow: UnitOfWork, row: AccountRow | None, source: str, now: datetime) -> bool:
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


def second_factor_missing(issuer: Issuer, account: AccountInfo) -> bool:
    """Whether `account`'s role must act with TOTP (`Settings.second_factor_roles`) and it
    has none yet: the web holds it on its account page, the command line refuses it."""
    return account.role.value in issuer.settings.second_factor_roles \
        and not account.totp_enabled


def load_account(issuer: Issuer, account_id: int) -> AccountInfo | None:
    with issuer.uow() as uow:
        row = uow.accounts.get(account_id)
        if not intact(uow, row, "session", issuer.clock()):
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
        if not intact(uow, row, source, issuer.clock()):
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
        challenge = None
        if row.totp_secret is None:
            _succeed(uow, row, source, now)
        else:
            challenge = _challenge(uow, row.id, int(now.timestamp()))
        uow.commit()
        return SignIn(AccountInfo.of(row), needs_code=challenge is not None,
                      challenge=challenge)


def _challenge(uow: UnitOfWork, account_id: int, at: int) -> str:
    message = f"{account_id}.{at}"
    return f"{message}.{integrity.mac(uow.integrity_key(CHALLENGE_PURPOSE), message.encode())}"


def _challenged(uow: UnitOfWork, challenge: str, now: datetime) -> int | None:
    """The account id of a valid, unexpired `challenge`."""
    account, _, rest = str(challenge).partition(".")
    at, _, _mac = rest.partition(".")
    if not (account.isdigit() and at.isdigit()):
        return None
    if not secrets.compare_digest(_challenge(uow, int(account), int(at)), str(challenge)):
        return None
    if not 0 <= now.timestamp() - int(at) <= CHALLENGE_TTL.total_seconds():
        return None
    return int(account)


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


def verify_code(issuer: Issuer, challenge: str, code: str, *, source: str) -> AccountInfo:
    """The second step of a sign-in, within `CHALLENGE_TTL` of the password (`challenge`
    from `sign_in`): a TOTP code never used before on this account."""
    with issuer.uow() as uow:
        account_id = _challenged(uow, challenge, issuer.clock())
        if account_id is None:
            raise LoginFailed()
        row = uow.accounts.get(account_id)
        if not intact(uow, row, source, issuer.clock()):
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
    """A random TOTP secret (base32, 160 bits)."""
    return pyotp.random_base32()


def totp_uri(secret: str, username: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads (shown as a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)


Change = Callable[[AccountRow, datetime], dict[str, Any] | None]


def _update(issuer: Issuer, account_id: int, actor: Actor, action: str, change: Change, *,
            end_sessions: bool = False) -> AccountInfo:
    """Apply `change` to the account, seal and audit it; with `end_sessions`, every
    session of the account ends in the same transaction (the caller starts a fresh one
    for the holder's own browser if it should carry on)."""
    with issuer.uow() as uow:
        row = uow.accounts.get(account_id)
        if row is None:
            raise ServiceError("no account %(account)s", account=account_id)
        if not accounts_adapter.sealed(row, _seal_key(uow)):
            raise ServiceError("account %(username)s was changed outside the service: it "
                               "cannot be used or changed (see the audit log)",
                               username=row.username)
        now = issuer.clock()
        detail = change(row, now) or {}
        accounts_adapter.seal(row, _seal_key(uow))
        if end_sessions:
            detail["sessions_ended"] = uow.web_sessions.end_all(row.id)
        uow.audit.append(
            actor=actor.name, action=action, source=actor.source, now=now,
            institution=row.institution, subject=f"account:{row.username}", detail=detail,
        )
        uow.commit()
        return AccountInfo.of(row)


def _reauthenticate(uow: UnitOfWork, row: AccountRow | None, password: str) -> AccountRow:
    """`row`, if `password` is its current password (a sensitive change asks again)."""
    if row is None or not accounts_adapter.check_password(row.password_hash, password):
        raise ServiceError("the current password is not correct")
    return row


def enable_totp(issuer: Issuer, account_id: int, secret: str, code: str, *, password: str,
                actor: Actor) -> AccountInfo:
    """Turn on the second factor: the holder gives their `password` and proves their app
    holds `secret`. Every session of the account ends."""
    with issuer.uow() as uow:
        _reauthenticate(uow, uow.accounts.get(account_id), password)
    step = _matching_step(secret, code, issuer.clock())
    if step is None:
        raise ServiceError("the code does not match: check the time on your phone")

    def change(row: AccountRow, now: datetime) -> None:
        row.totp_secret = secret
        row.totp_last_step = step

    return _update(issuer, account_id, actor, "account.totp_enable", change,
                   end_sessions=True)


def _remove_totp(row: AccountRow, now: datetime) -> None:
    row.totp_secret = None
    row.totp_last_step = None


def disable_totp(issuer: Issuer, account_id: int, *, password: str,
                 actor: Actor) -> AccountInfo:
    """The holder turns their second factor off, giving their `password`. Every session
    of the account ends."""
    with issuer.uow() as uow:
        _reauthenticate(uow, uow.accounts.get(account_id), password)
    return _update(issuer, account_id, actor, "account.totp_disable", _remove_totp,
                   end_sessions=True)


def reset_totp(issuer: Issuer, account_id: int, *, password: str, actor: Actor) -> AccountInfo:
    """An administrator turns someone else's second factor off (a lost phone), giving
    their own `password`. Never their own: another administrator must. Every session of
    the account ends."""
    with issuer.uow() as uow:
        if actor.role is not AccountRole.ADMIN:
            raise ServiceError("only an administrator may reset a second factor")
        admin = _reauthenticate(uow, uow.accounts.find(actor.name), password)
        if admin.id == account_id:
            raise ServiceError("ask another administrator to reset your own second factor")
    return _update(issuer, account_id, actor, "account.totp_reset", _remove_totp,
                   end_sessions=True)


def change_password(issuer: Issuer, account_id: int, current: str, new: str, *,
                    actor: Actor) -> AccountInfo:
    """The holder changes their own password; every session of theirs ends."""
    with issuer.uow() as uow:
        row = _reauthenticate(uow, uow.accounts.get(account_id), current)
        check_new_password(new, row.username)

    def change(row: AccountRow, now: datetime) -> None:
        row.password_hash = accounts_adapter.hash_password(new)
        row.password_changed_at = now

    return _update(issuer, account_id, actor, "account.password_change", change,
                   end_sessions=True)


def reset_password(issuer: Issuer, account_id: int, *, actor: Actor) -> tuple[AccountInfo, str]:
    """An administrator sets a new random password (and unlocks); returns it once. Every
    session of the account ends."""
    password = generate_password()

    def change(row: AccountRow, now: datetime) -> None:
        row.password_hash = accounts_adapter.hash_password(password)
        row.password_changed_at = now
        row.failed_logins = 0
        row.locked_until = None

    return _update(issuer, account_id, actor, "account.password_reset", change,
                   end_sessions=True), password


def set_active(issuer: Issuer, account_id: int, active: bool, *, actor: Actor) -> AccountInfo:
    """Disable (every session ends) or enable again (no old session comes back)."""
    def change(row: AccountRow, now: datetime) -> dict[str, bool]:
        row.active = active
        if active:
            row.failed_logins = 0
            row.locked_until = None
        return {"active": active}

    return _update(issuer, account_id, actor,
                   "account.enable" if active else "account.disable", change,
                   end_sessions=not active)
