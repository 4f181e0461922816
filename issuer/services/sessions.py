"""Signed-in web sessions: started after a complete sign-in, resumed on each request,
ended by signing out, by their idle and absolute timeouts (`issuer.core.sessions`), and
by every change to the account that must sign it out everywhere (`end_all`: disable,
password change or reset, any change of the second factor).

A session id is 256 random bits, new at every sign-in; the browser holds it, the
database only its MAC under the integrity key (`issuer.adapters.repositories.sessions`).
A TOTP secret being set up waits in the session's row, encrypted under the session id.
"""

from __future__ import annotations

from dataclasses import dataclass

from issuer.adapters.repositories import UnitOfWork
from issuer.adapters.repositories import sessions as sessions_repo
from issuer.core.sessions import SessionPolicy
from issuer.services import accounts
from issuer.services.context import Issuer


@dataclass(frozen=True)
class Resumed:
    """A live session: its account, and the TOTP secret it is setting up, if any."""

    account: accounts.AccountInfo
    totp_setup: str | None


def start(issuer: Issuer, account_id: int, *, client: str, policy: SessionPolicy) -> str:
    """A new session for the account (after its password and code were checked); its id,
    for the browser only."""
    session_id = sessions_repo.new_id()
    with issuer.uow() as uow:
        now = issuer.clock()
        uow.web_sessions.end_older(now - policy.absolute, now - policy.idle)
        uow.web_sessions.add(session_id, account_id, client=client, now=now)
        uow.commit()
    return session_id


def resume(issuer: Issuer, session_id: str, policy: SessionPolicy) -> Resumed | None:
    """The session `session_id` if it is live and its account intact and active; None
    otherwise (an expired session is ended)."""
    with issuer.uow() as uow:
        row = uow.web_sessions.find(session_id)
        if row is None:
            return None
        now = issuer.clock()
        if not policy.alive(row.created_at, row.last_seen_at, now):
            uow.web_sessions.end(session_id)
            uow.commit()
            return None
        account = uow.accounts.get(row.account_id)
        if not accounts.intact(uow, account, "session", now):
            return None
        assert account is not None
        if not account.active:
            return None
        setup = sessions_repo.open_secret(session_id, row.totp_setup)
        if policy.needs_touch(row.last_seen_at, now):
            row.last_seen_at = now
        info = accounts.AccountInfo.of(account)
        uow.commit()
        return Resumed(info, setup)


def end(issuer: Issuer, session_id: str) -> None:
    """Sign out: the session's row is gone, so its cookie is worth nothing anywhere."""
    with issuer.uow() as uow:
        uow.web_sessions.end(session_id)
        uow.commit()


def end_all(uow: UnitOfWork, account_id: int) -> int:
    """End every session of the account, in the caller's transaction."""
    return uow.web_sessions.end_all(account_id)


def begin_totp_setup(issuer: Issuer, session_id: str) -> str | None:
    """A new TOTP secret for the session's account to set up, kept (encrypted) with the
    session, never in the browser's cookie; None if the session is gone."""
    secret = accounts.new_totp_secret()
    with issuer.uow() as uow:
        row = uow.web_sessions.find(session_id)
        if row is None:
            return None
        row.totp_setup = sessions_repo.seal_secret(session_id, secret)
        uow.commit()
    return secret
