"""Web accounts: argon2id password hashing, the accounts' seals, and the `Accounts`
repository over `AccountRow` (bound to a session; it never commits, the caller's unit
of work does).
"""

from __future__ import annotations

from datetime import datetime

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from issuer.adapters import integrity
from issuer.adapters.orm import AccountRow, InstitutionRow
from issuer.core.lifecycle import AccountRole
from verifier.core.canonical import canonical_json

# RFC 9106's second recommended option (64 MiB, 3 passes, 4 lanes) is the library default;
# we state it so a library upgrade never weakens stored hashes silently.
_HASHER = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4, type=Type.ID)
# Verified against when the username is unknown, so a guess costs the same either way.
_DUMMY_HASH = _HASHER.hash("not a password: equalises timing")


def hash_password(password: str) -> str:
    """An argon2id PHC string (salted) for `password`."""
    return _HASHER.hash(password)


def check_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; an unknown account (None) costs one verification too."""
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)


SEAL_PURPOSE = "account-seal"


def _seal_message(row: AccountRow) -> bytes:
    return canonical_json({
        "id": row.id, "username": row.username, "role": row.role.value,
        "institution_id": row.institution_id, "password_hash": row.password_hash,
        "totp_secret": row.totp_secret, "active": bool(row.active),
    })


def seal(row: AccountRow, key: bytes) -> None:
    """Seal what makes `row` an account (name, role, institution, password hash, second
    factor, active) with a MAC under `key` (the integrity key's ``account-seal`` subkey):
    a database writer without the key cannot make or change an account that signs in."""
    row.seal = integrity.mac(key, _seal_message(row))


def sealed(row: AccountRow, key: bytes) -> bool:
    return integrity.mac_ok(key, _seal_message(row), row.seal)


class Accounts:
    """Web accounts (`AccountRow`), with their institution loaded."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, account_id: int) -> AccountRow | None:
        return self.session.scalar(
            select(AccountRow).where(AccountRow.id == account_id)
            .options(joinedload(AccountRow.institution))
        )

    def find(self, username: str) -> AccountRow | None:
        """The account named `username` (case-insensitive, surrounding spaces ignored)."""
        return self.session.scalar(
            select(AccountRow)
            .where(func.lower(AccountRow.username) == username.strip().lower())
            .options(joinedload(AccountRow.institution))
        )

    def add(
        self,
        *,
        username: str,
        password_hash: str,
        role: AccountRole,
        institution: InstitutionRow | None,
        now: datetime,
        seal_key: bytes,
        email: str = "",
        display_name: str = "",
    ) -> AccountRow:
        row = AccountRow(
            username=username.strip(), email=email.strip(), display_name=display_name.strip(),
            password_hash=password_hash, role=role,
            institution_id=institution.id if institution is not None else None,
            active=True, failed_logins=0, created_at=now, password_changed_at=now,
        )
        self.session.add(row)
        self.session.flush()
        seal(row, seal_key)
        self.session.flush()
        return row

    def every(self, institution: InstitutionRow | None = None) -> list[AccountRow]:
        """Every account (or one institution's), administrators first, then by username."""
        stmt = select(AccountRow).options(joinedload(AccountRow.institution))
        if institution is not None:
            stmt = stmt.where(AccountRow.institution_id == institution.id)
        return list(self.session.scalars(stmt.order_by(AccountRow.institution_id.nulls_first(),
                                                       AccountRow.username)))

    def exist(self) -> bool:
        """Whether there is any account at all."""
        return self.session.scalar(select(AccountRow.id).limit(1)) is not None
