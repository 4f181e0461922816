"""The issuer's runtime context: settings, database sessions, clock and signing keys."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from issuer.adapters import hsm, integrity, keystore, passphrase
from issuer.adapters.db import current_revision, make_engine, migrate, session_factory
from issuer.adapters.pki import (
    AuditSigner,
    InstitutionKeys,
    load_audit_signer,
    load_institution_keys,
    private_dir,
)
from issuer.adapters.repositories import UnitOfWork
from issuer.config import BANGKOK, Settings
from issuer.core.lifecycle import AccountRole, LifecycleError, Principal
from issuer.core.records import reason_text
from issuer.core.refusal import Refusal


class ServiceError(Refusal):
    """A failure the user can act on: one line, a catalog message with named values
    (`issuer.core.refusal`)."""


@dataclass(frozen=True)
class Actor:
    """Who acts and from where, as the audit log records it.

    A signed-in account has its `role` (and institution); an actor without a role is the
    system itself (a job runner, a setup command), which may do only what needs no
    person: issuing what an approver approved, publishing.
    """

    name: str
    source: str  # "cli", "web 203.0.113.7"
    role: AccountRole | None = None
    institution_code: str | None = None

    @property
    def principal(self) -> Principal | None:
        if self.role is None:
            return None
        return Principal(self.name, self.role, self.institution_code)


def signed_in(actor: Actor) -> Principal:
    """The account acting, or ServiceError if `actor` is not one (e.g. a CLI command run
    without ``--as``)."""
    if actor.principal is None:
        raise ServiceError("this needs a signed-in account (on the command line: "
                           "transcripts --as USERNAME ...)")
    return actor.principal


@contextmanager
def rules() -> Iterator[None]:
    """Report a broken lifecycle rule as the `ServiceError` callers show."""
    try:
        yield
    except LifecycleError as e:
        raise refused(e) from None


def refused(e: Exception) -> ServiceError:
    """`e` as the ServiceError callers show: a `Refusal` keeps its catalog message, any
    other error is shown in its own words."""
    if isinstance(e, Refusal):
        return ServiceError(e.message, **e.values)
    return ServiceError("%(problem)s", problem=str(e))


def given_reason(reason: str) -> str:
    """A reason someone typed (revoking, reissuing, rejecting, withdrawing): required and
    bounded (`issuer.core.records.reason_text`), or refused."""
    try:
        return reason_text(reason)
    except ValueError as e:
        raise refused(e) from None


def private_state(settings: Settings) -> None:
    """The service's state is its own: var/, the output folder and a SQLite database's
    folder 0700, the database file 0600 (also one made by an earlier version)."""
    if settings.var_dir.is_dir():
        os.chmod(settings.var_dir, 0o700)
    private_dir(settings.output_dir)
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(url.database)
        private_dir(path.parent)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))  # SQLite accepts it empty
        os.chmod(path, 0o600)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Issuer:
    settings: Settings
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime] = utc_now
    _keys: dict[str, tuple[keystore.Stamp, InstitutionKeys]] = field(default_factory=dict,
                                                                     repr=False)
    _integrity: dict[str, bytes] = field(default_factory=dict, repr=False)
    _audit_signer: AuditSigner | None = field(default=None, repr=False)
    _passphrase: bytes | None = field(default=None, repr=False)
    _token: hsm.TokenConfig | None = field(default=None, repr=False)

    @classmethod
    def open(cls, settings: Settings, *, upgrade: bool = True) -> Issuer:
        """Connect to the configured database, bringing its schema up to date first."""
        private_state(settings)
        engine = make_engine(settings.database_url)
        before = current_revision(engine) if upgrade else None
        if upgrade:
            migrate(engine)
        issuer = cls(settings, session_factory(engine))
        if before is not None and int(before[:4]) < 6:  # accounts from before their seals
            from issuer.services.accounts import seal_unsealed

            seal_unsealed(issuer)
        if before is not None and int(before[:4]) < 9:  # stored before encryption at rest
            issuer.seal_cleartext()
        return issuer

    def seal_cleartext(self) -> int:
        """Encrypt what is still stored in clear (`issuer.adapters.repositories.sealing`):
        after migration 0009, which cannot see the key."""
        from issuer.adapters.repositories.sealing import seal_cleartext

        return seal_cleartext(lambda: self.sessions(info={"integrity_key": self.integrity_key}))

    def uow(self) -> UnitOfWork:
        """A unit of work whose session knows the integrity keys
        (``session.info["integrity_key"]``, a function of the purpose)."""
        return UnitOfWork(lambda: self.sessions(info={"integrity_key": self.integrity_key}))

    def publish(self, institutions: Iterable[str] | None = None) -> Path:
        """Re-sign what verifiers read (`issuer.services.publishing.publish`): after every
        change of a transcript's status."""
        from issuer.services.publishing import publish

        return publish(self, institutions)

    def integrity_key(self, purpose: str) -> bytes:
        """The integrity subkey for `purpose` (`issuer.adapters.integrity`), read once.

        Without ``BKT_INTEGRITY_KEY``, a key store that has no key file yet gets one
        (like the development passphrase): the first audit event may come before
        `transcripts keys create`."""
        if purpose not in self._integrity:
            if not self.settings.integrity_key:
                integrity.create_key_file(self.settings.keys_dir)
            try:
                master = integrity.load_key(self.settings.integrity_key,
                                            self.settings.keys_dir)
            except integrity.IntegrityKeyError as e:
                raise refused(e) from None
            self._integrity[purpose] = integrity.derive(master, purpose)
        return self._integrity[purpose]

    def audit_signer(self) -> AuditSigner:
        """The audit-checkpoint signing key (`issuer.adapters.pki`), read once."""
        if self._audit_signer is None:
            self._audit_signer = load_audit_signer(self.settings.keys_dir, self.passphrase())
        return self._audit_signer

    def today(self) -> date:
        """The date in Bangkok by the issuer's clock."""
        return self.clock().astimezone(BANGKOK).date()

    def passphrase(self) -> bytes:
        """The private keys' passphrase (`issuer.adapters.passphrase`), read once; never
        from a file in the keys directory."""
        if self._passphrase is None:
            s = self.settings
            self._passphrase = passphrase.resolve(s.keys_dir, s.var_dir, s.key_passphrase,
                                                  s.key_passphrase_file, s.credentials_dir)
        return self._passphrase

    def token(self) -> hsm.TokenConfig | None:
        """The HSM (`issuer.adapters.hsm`) when ``BKT_HSM_TOKEN`` names one, its PIN read
        once; None when only file keys are used."""
        s = self.settings
        if s.hsm_token is None:
            return None
        if self._token is None:
            pin = hsm.resolve_pin(s.keys_dir, s.hsm_pin, s.hsm_pin_file, s.credentials_dir)
            self._token = hsm.TokenConfig(s.hsm_module, s.hsm_token, pin, s.hsm_key_label)
        return self._token

    def keys(self, code: str) -> InstitutionKeys:
        """The institution's active signing keys, read (and decrypted) once per change of
        its key store: a rotation made by another process (`transcripts keys rotate`) is
        seen at the next call, without a restart."""
        stamp = keystore.stamp(self.settings.keys_dir, code)
        cached = self._keys.get(code)
        if cached is None or cached[0] != stamp:
            keys = load_institution_keys(self.settings.keys_dir, code, self.passphrase(),
                                         self.token())
            self._keys[code] = cached = (stamp, keys)
        return cached[1]
