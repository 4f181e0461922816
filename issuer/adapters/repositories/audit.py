"""The audit log's tables: appending to the keyed chain under its lock, reading it,
and the signed checkpoints' rows (the chain's format and checks:
`issuer.adapters.audit_chain`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from issuer.adapters import audit_chain
from issuer.adapters.audit_chain import (
    ADVISORY_LOCK_KEY,
    GENESIS,
    PURPOSE,
    MissingKeyError,
    as_json,
    event_fields,
    event_hash,
    legacy_hash,
)
from issuer.adapters.orm import (
    AuditCheckpointRow,
    AuditEventRow,
    InstitutionRow,
)


class AuditLog:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- appending ----------------------------------------------------------------------

    def append(
        self,
        *,
        actor: str,
        action: str,
        source: str,
        now: datetime,
        institution: InstitutionRow | None = None,
        subject: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> AuditEventRow:
        """Append one event (`source` e.g. ``"cli"`` or ``"web 203.0.113.7"``) as the new
        head of the keyed chain (flushes; the caller commits); appends are serialised
        until the caller's transaction ends, so commit soon after."""
        key = self._key()
        event = AuditEventRow(
            at=now, actor=actor, action=action, source=source,
            institution_id=institution.id if institution is not None else None,
            subject=subject, detail=as_json(dict(detail or {})),
        )
        # the caller's pending writes first, so only the event follows the lock
        self.session.flush()
        self._lock()
        newest = self.head()
        event.id = newest[0] + 1 if newest else 1
        event.prev_hash = newest[1] if newest else GENESIS
        event.hash = event_hash(key, event.prev_hash, event_fields(event))
        self.session.add(event)
        self.session.flush()
        return event

    def _key(self) -> bytes:
        """The audit-chain key of the session (``session.info["integrity_key"]``, a
        function of the purpose, which `Issuer.uow()` sets)."""
        key_of: Callable[[str], bytes] | None = self.session.info.get("integrity_key")
        if key_of is None:
            raise MissingKeyError(
                "this session has no integrity key (session.info['integrity_key']): open it "
                "with Issuer.uow() to append to or check the audit chain")
        return key_of(PURPOSE)

    def _lock(self) -> None:
        """Serialise appends until the current transaction ends. PostgreSQL: an advisory
        lock. SQLite: an INSERT of no rows, which takes the single write lock (the driver
        begins the transaction before it), so no other writer can append until we commit."""
        dialect = self.session.get_bind().dialect.name
        if dialect == "postgresql":
            self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                 {"key": ADVISORY_LOCK_KEY})
        elif dialect == "sqlite":
            self.session.execute(
                text("INSERT INTO audit_events SELECT * FROM audit_events WHERE 0"))

    # --- reading ------------------------------------------------------------------------

    def events(
        self,
        *,
        institution: InstitutionRow | None = None,
        subject: str | None = None,
        after_id: int = 0,
        limit: int = 100,
    ) -> list[AuditEventRow]:
        """Events in the order they were appended, optionally filtered; page with
        `after_id`."""
        stmt = select(AuditEventRow).where(AuditEventRow.id > after_id)
        if institution is not None:
            stmt = stmt.where(AuditEventRow.institution_id == institution.id)
        if subject is not None:
            stmt = stmt.where(AuditEventRow.subject == subject)
        return list(self.session.scalars(stmt.order_by(AuditEventRow.id).limit(limit)))

    def chain(self, batch: int = 1000) -> Iterator[Any]:
        """Every event in chain order as plain rows (attribute access like `AuditEventRow`),
        read `batch` at a time without filling the session: memory stays flat."""
        table = AuditEventRow.__table__
        after = 0
        while True:
            rows = self.session.execute(
                select(*table.c).where(table.c.id > after).order_by(table.c.id).limit(batch)
            ).all()
            yield from rows
            if len(rows) < batch:
                return
            after = rows[-1].id

    def head(self) -> tuple[int, str] | None:
        """(id, hash) of the newest event, or None for an empty log."""
        row = self.session.execute(
            select(AuditEventRow.id, AuditEventRow.hash)
            .order_by(AuditEventRow.id.desc()).limit(1)
        ).first()
        return (row[0], row[1]) if row else None

    def hash_at(self, event_id: int) -> str | None:
        return self.session.scalar(
            select(AuditEventRow.hash).where(AuditEventRow.id == event_id))

    def count_upto(self, event_id: int) -> int:
        return self.session.scalar(select(func.count()).select_from(AuditEventRow)
                                   .where(AuditEventRow.id <= event_id)) or 0

    def legacy_prefix(self) -> int:
        """The id of the last event of the legacy (SHA-256) prefix, 0 if none: where the
        first checkpoint pins the boundary (reads only that prefix and one event more)."""
        expected_prev, last = GENESIS, 0
        for row in self.chain(batch=200):
            if row.prev_hash != expected_prev or row.hash != legacy_hash(expected_prev,
                                                                         event_fields(row)):
                break
            expected_prev, last = row.hash, row.id
        return last

    def verify(self) -> int | None:
        """The id of the first audit event that was edited, inserted or follows a deleted
        one (its hash or its link to the previous event is wrong), failing that the first
        missing one, or None if the chain holds (MACs under the session's key; legacy
        prefix inferred)."""
        report = audit_chain.check(self.chain(), self._key())
        return report.first_broken_id if report.first_broken_id is not None \
            else report.first_missing_id

    # --- checkpoints --------------------------------------------------------------------

    def last_checkpoint_seq(self) -> int:
        """The highest checkpoint number recorded, 0 if none."""
        return self.session.scalar(select(func.max(AuditCheckpointRow.seq))) or 0

    def add_checkpoint(self, *, seq: int, at: datetime, head_id: int, head_hash: str,
                       events: int, legacy_head_id: int, token: str) -> None:
        """Record a signed checkpoint (its number is unique: a second host taking the same
        one fails on commit)."""
        self.session.add(AuditCheckpointRow(seq=seq, at=at, head_id=head_id,
                                            head_hash=head_hash, events=events,
                                            legacy_head_id=legacy_head_id, token=token))
