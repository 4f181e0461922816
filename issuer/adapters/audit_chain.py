"""The audit log as a hash chain: appending under a lock, verifying, exporting.

Each event's ``hash`` is SHA-256 over its ``prev_hash`` (the previous event's ``hash``,
64 zeros for the first event) followed by the RFC 8785 canonical JSON of its fields::

    {"action": ..., "actor": ..., "at": "2026-04-02T03:00:00.000000Z", "detail": {...},
     "id": 17, "institution_id": 3, "source": "web 203.0.113.7", "subject": "batch:4"}

so editing an event breaks its own hash and deleting or reordering events breaks the
next event's ``prev_hash``. (Removing the newest events leaves a shorter valid chain:
compare with a head hash kept elsewhere, e.g. the last export, to see that.)

Appends are serialised: on PostgreSQL by a transaction-scoped advisory lock taken before
the insert, held until the appending transaction ends; SQLite allows one writer at a time
and the insert takes its write lock before the previous event is read. The unique
``prev_hash`` makes a fork impossible even if a writer bypassed both.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from issuer.adapters.orm import AuditEventRow
from verifier.core.canonical import canonical_json

GENESIS = "0" * 64
ADVISORY_LOCK_KEY = 0x424B5441_55444954 & 0x7FFFFFFFFFFFFFFF  # "BKTAUDIT", a signed bigint
FIELDS = ("id", "at", "actor", "action", "institution_id", "subject", "detail", "source")


def timestamp(at: datetime) -> str:
    """The event time as hashed: UTC, microseconds, ``Z``."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_fields(event: Any) -> dict[str, Any]:
    """What the hash covers (and what an export holds besides the two hashes); `event` is
    an `AuditEventRow` or a row read by `events`."""
    return {
        "id": event.id,
        "at": timestamp(event.at),
        "actor": event.actor,
        "action": event.action,
        "institution_id": event.institution_id,
        "subject": event.subject,
        "detail": event.detail or {},
        "source": event.source,
    }


def event_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_json(fields)).hexdigest()


def as_json(value: dict[str, Any]) -> dict[str, Any]:
    """`value` as the JSON column gives it back (tuples become lists, keys strings), so
    the hash computed now is the hash recomputed later."""
    return json.loads(json.dumps(value, ensure_ascii=False))


def lock_chain(session: Session) -> None:
    """Serialise appends until the current transaction ends (PostgreSQL; SQLite needs
    nothing: its single writer lock is taken by the insert that follows)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})


def append(session: Session, event: AuditEventRow) -> AuditEventRow:
    """Insert `event` as the new head of the chain (flushes; the caller commits)."""
    event.detail = as_json(event.detail or {})
    lock_chain(session)
    event.prev_hash = event.hash = None
    session.add(event)
    session.flush()  # assigns the id; on SQLite, takes the write lock
    previous = session.scalar(
        select(AuditEventRow.hash)
        .where(AuditEventRow.id < event.id)
        .order_by(AuditEventRow.id.desc())
        .limit(1)
    )
    event.prev_hash = previous or GENESIS
    event.hash = event_hash(event.prev_hash, event_fields(event))
    session.flush()
    return event


def events(session: Session, batch: int = 1000) -> Iterator[Any]:
    """Every event in chain order as plain rows (attribute access like `AuditEventRow`),
    read `batch` at a time without filling the session: memory stays flat."""
    table = AuditEventRow.__table__
    after = 0
    while True:
        rows = session.execute(
            select(*table.c).where(table.c.id > after).order_by(table.c.id).limit(batch)
        ).all()
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].id


def verify(session: Session) -> int | None:
    """The id of the first event whose hash or link is wrong, or None if the chain holds."""
    expected_prev = GENESIS
    for event in events(session):
        if (event.prev_hash != expected_prev or event.hash is None
                or event.hash != event_hash(expected_prev, event_fields(event))):
            return event.id
        expected_prev = event.hash
    return None


def head(session: Session) -> tuple[int, str] | None:
    """(id, hash) of the newest event: keep it elsewhere to detect truncation later."""
    row = session.execute(
        select(AuditEventRow.id, AuditEventRow.hash).order_by(AuditEventRow.id.desc()).limit(1)
    ).first()
    return (row[0], row[1]) if row else None
