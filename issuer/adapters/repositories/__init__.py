"""Repositories over the ORM rows, and the unit of work the services use.

A `UnitOfWork` is one transaction; its repositories (`institutions`, `enrolments`,
`batches`, `transcripts`, `images`, `audit`, `jobs`, `uploads`, `accounts`, `links`, `web_sessions`,
`login_attempts`) never commit:
the service decides; a broken constraint is `Conflict`, any database failure a
`DatabaseFailure`. Mutating methods take `now` (an aware UTC datetime) explicitly.
`issuer.testing.FakeUnitOfWork` has the lifecycle's repositories in memory, so those
rules run in tests without a database.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from issuer.adapters.accounts import Accounts
from issuer.adapters.graduate_links import Links
from issuer.adapters.job_store import Jobs
from issuer.adapters.repositories import sessions as sessions_repo
from issuer.adapters.repositories.audit import AuditLog
from issuer.adapters.repositories.batches import (
    Batches,
    Changed,
    NewRecord,
    move_values,
    new_batch_row,
)
from issuer.adapters.repositories.identity import (
    Enrolments,
    Institutions,
    take_names,
    to_institution,
)
from issuer.adapters.repositories.images import ImageChanged, Images
from issuer.adapters.repositories.sessions import LoginAttempts, WebSessions
from issuer.adapters.repositories.transcripts import (
    IssuedFiles,
    Transcripts,
    allocate_status_indexes,
    new_transcript_row,
    revoke_row,
)
from issuer.adapters.repositories.uploads import ErrorGroup, Uploads

__all__ = [
    "Accounts", "AuditLog", "Batches", "Changed", "Conflict", "DatabaseFailure", "Enrolments",
    "ErrorGroup", "ImageChanged", "Images", "Institutions", "IssuedFiles", "Links",
    "LoginAttempts", "NewRecord",
    "Transcripts", "UnitOfWork", "Uploads", "WebSessions", "allocate_status_indexes",
    "move_values", "new_batch_row", "new_transcript_row", "revoke_row", "take_names",
    "to_institution",
]

Conflict = IntegrityError
"""A write broke a constraint, typically a unique key another transaction took first
(raised by `UnitOfWork.commit` or a flush)."""
DatabaseFailure = SQLAlchemyError
"""Any failure of the database or of talking to it (SQLAlchemy's base error)."""


class UnitOfWork:
    """One transaction: ``with UnitOfWork(factory) as uow: ...; uow.commit()``.

    Leaving the block without `commit` rolls back, so a failed use case writes nothing.
    """

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self._session_factory = session_factory

    def __enter__(self) -> Self:
        self.session = self._session_factory()
        self.institutions = Institutions(self.session)
        self.images = Images(self.session)
        self.enrolments = Enrolments(self.session)
        self.batches = Batches(self.session)
        self.transcripts = Transcripts(self.session)
        self.audit = AuditLog(self.session)
        self.jobs = Jobs(self.session)
        self.uploads = Uploads(self.session)
        self.accounts = Accounts(self.session)
        self.links = Links(self.session)
        self.web_sessions = WebSessions(
            self.session, lambda: self.integrity_key(sessions_repo.PURPOSE))
        self.login_attempts = LoginAttempts(self.session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    def integrity_key(self, purpose: str) -> bytes:
        """The integrity subkey for `purpose` (`issuer.adapters.integrity`)."""
        return self.session.info["integrity_key"](purpose)
