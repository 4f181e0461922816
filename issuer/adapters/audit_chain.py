"""The audit log as a keyed hash chain: what an event's hash covers, and checking a chain
(of database rows or of an export). Appending under the lock and reading the rows are
the `AuditLog` repository's (`issuer.adapters.repositories.audit`).

Each event's ``hash`` is HMAC-SHA256, under the integrity subkey for ``"audit-chain"``
(`issuer.adapters.integrity`, a secret kept outside the database), of its ``prev_hash``
(the previous event's ``hash``, 64 zeros for the first event) followed by the RFC 8785
canonical JSON of its fields::

    {"action": ..., "actor": ..., "at": "2026-04-02T03:00:00.000000Z", "detail": {...},
     "id": 17, "institution_id": 3, "source": "web 203.0.113.7", "subject": "batch:4"}

so a database writer without the key can neither edit an event nor re-hash the events
after it. Ids are contiguous (each append takes the head's id + 1), so a missing id
means a deleted event. Removing the newest events leaves a shorter valid chain: the
signed checkpoints of the head (`issuer.adapters.audit_checkpoint`) catch that.

**Legacy events.** Events written before migration 0004 were chained with plain
SHA-256 (`legacy_hash`, no key) and may have id gaps (PostgreSQL sequences skip on
rollback). They stay as they are: a log is a prefix of legacy events followed by keyed
ones, and the first keyed event's MAC covers the last legacy hash, so the legacy prefix
cannot be changed without breaking it. Where that prefix ends is pinned by the
checkpoints (``legacy_head_id``); without one it is inferred (the longest prefix whose
SHA-256 chain holds) and a legacy event after a keyed one is always refused.

Appends are serialised and rows are only ever inserted, complete: on PostgreSQL by a
transaction-scoped advisory lock; on SQLite by taking its single write lock (a write
that changes nothing) before the head is read. The head is read under the lock, so the
new event's id, ``prev_hash`` and ``hash`` are computed before its INSERT. The unique
``prev_hash`` and the primary key make a fork impossible even for a writer that
bypassed both; migration 0004 makes UPDATE, DELETE and TRUNCATE of the table fail.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from issuer.adapters import integrity
from verifier.core.canonical import canonical_json

GENESIS = "0" * 64
PURPOSE = "audit-chain"  # the integrity subkey's purpose
ADVISORY_LOCK_KEY = 0x424B5441_55444954 & 0x7FFFFFFFFFFFFFFF  # "BKTAUDIT", a signed bigint
FIELDS = ("id", "at", "actor", "action", "institution_id", "subject", "detail", "source")


class MissingKeyError(RuntimeError):
    """The session has no integrity key to append to or check the chain with."""


def timestamp(at: datetime) -> str:
    """The event time as hashed: UTC, microseconds, ``Z``."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_fields(event: Any) -> dict[str, Any]:
    """What the hash covers (and what an export holds besides the two hashes); `event` is
    an `AuditEventRow` or a row read by `AuditLog.chain`."""
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


def event_hash(key: bytes, prev_hash: str, fields: dict[str, Any]) -> str:
    """An event's ``hash``: HMAC-SHA256 under the audit-chain key, hex."""
    return integrity.mac(key, prev_hash.encode("ascii") + canonical_json(fields))


def legacy_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """The unkeyed SHA-256 of events written before the chain was keyed (migration 0003)."""
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_json(fields)).hexdigest()


def as_json(value: dict[str, Any]) -> dict[str, Any]:
    """`value` as the JSON column gives it back (tuples become lists, keys strings), so
    the hash computed now is the hash recomputed later."""
    return json.loads(json.dumps(value, ensure_ascii=False))


# --- checking ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    """What walking the chain found."""

    events: int
    first_broken_id: int | None
    """The first event whose hash or link to the previous event is wrong."""
    first_missing_id: int | None
    """The first id missing among keyed events (one was deleted)."""
    head_id: int | None
    head_hash: str | None
    legacy_head_id: int
    """The last legacy (unkeyed, pre-0004) event of the prefix, 0 if none."""
    legacy_events: int
    macs_checked: bool
    """False when no key was given: keyed events' links were followed, not their MACs."""
    watched: tuple[str, int] | None = None
    """For the `watch` id asked for: (its hash, the number of events up to it)."""

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None and self.first_missing_id is None


def check(
    rows: Iterable[Any],
    key: bytes | None,
    *,
    legacy_head_id: int | None = None,
    watch: int | None = None,
) -> ChainReport:
    """Walk `rows` in id order: `AuditEventRow`-like rows, or export lines (dicts of
    the `FIELDS`, ``at`` as hashed, plus ``prev_hash`` and ``hash``).

    `key` checks the keyed events' MACs (None: only their links and ids). Events up to
    `legacy_head_id` (from a checkpoint) must hold as legacy SHA-256 events and every
    later one as keyed; without it the legacy prefix is inferred. Ids must increase,
    and from the first keyed event on, by one. `watch` records the hash of that event
    and the number of events up to it (to compare with a checkpoint).
    """
    expected_prev, prev_id = GENESIS, None
    broken = missing = None
    keyed_seen = False
    legacy_head, legacy_count, n = 0, 0, 0
    watched = None
    for row in rows:
        n += 1
        event_id, fields, prev_hash, digest = _parts(row)
        linked = prev_hash == expected_prev and (prev_id is None or event_id > prev_id)
        legacy_ok = digest == legacy_hash(expected_prev, fields)
        if legacy_head_id is not None:
            legacy = event_id <= legacy_head_id
        else:
            legacy = not keyed_seen and legacy_ok and linked
        if legacy:
            good = linked and legacy_ok
            legacy_head, legacy_count = event_id, legacy_count + 1
        else:
            want = prev_id + 1 if prev_id is not None else 1
            if missing is None and event_id > want:
                missing = want
            keyed_seen = True
            good = (linked and digest is not None and not legacy_ok
                    and (key is None or digest == event_hash(key, expected_prev, fields)))
        if not good and broken is None:
            broken = event_id
        if event_id == watch:
            watched = (digest, n)
        expected_prev, prev_id = digest or "", event_id
    return ChainReport(n, broken, missing, prev_id, expected_prev if n else None,
                       legacy_head, legacy_count, key is not None, watched)


def _parts(row: Any) -> tuple[int, dict[str, Any], str | None, str | None]:
    if isinstance(row, dict):  # an export line: `at` is already the hashed timestamp
        fields = {name: row.get(name) for name in FIELDS}
        return row.get("id"), fields, row.get("prev_hash"), row.get("hash")
    return row.id, event_fields(row), row.prev_hash, row.hash
