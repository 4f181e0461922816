"""The audit log as administrators see it whole: check its hash chain, export it.

Exports hold exactly what is hashed (`issuer.adapters.audit_chain.FIELDS`) plus
``prev_hash`` and ``hash``, so anyone can recompute the chain from the file alone
(`verify_export`).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TextIO

from issuer.adapters import audit_chain
from issuer.adapters import repositories as repo
from issuer.services.context import Issuer, ServiceError
from verifier.core.canonical import canonical_json

FORMATS = ("jsonl", "csv")
COLUMNS = (*audit_chain.FIELDS, "prev_hash", "hash")


@dataclass(frozen=True)
class ChainCheck:
    first_broken_id: int | None  # None: every event is intact and linked
    events: int
    head_id: int | None  # the newest event; keep (head_id, head_hash) to detect truncation
    head_hash: str | None

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None


def check_audit_chain(issuer: Issuer) -> ChainCheck:
    with issuer.uow() as uow:
        s = uow.session
        broken = repo.verify_audit_chain(s)
        count = sum(1 for _ in audit_chain.events(s))
        head = audit_chain.head(s)
    return ChainCheck(broken, count, head[0] if head else None, head[1] if head else None)


def _line(event: Any) -> dict[str, Any]:
    return audit_chain.event_fields(event) | {"prev_hash": event.prev_hash, "hash": event.hash}


def export_audit(issuer: Issuer, out: TextIO, fmt: str = "jsonl") -> int:
    """Write every event, in order, to `out` as JSON lines or CSV (``detail`` as canonical
    JSON); returns the number of events written."""
    if fmt not in FORMATS:
        raise ServiceError(f"unknown export format {fmt!r} (use {' or '.join(FORMATS)})")
    writer = None
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
    count = 0
    with issuer.uow() as uow:
        for event in audit_chain.events(uow.session):
            line = _line(event)
            if writer is not None:
                writer.writerow(line | {"detail": canonical_json(line["detail"]).decode()})
            else:
                out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
            count += 1
    return count


def verify_export(lines: Iterable[str], fmt: str = "jsonl") -> int | None:
    """Recompute the chain of an export: the id of the first broken event, or None.

    CSV values are text: ``id`` and ``institution_id`` are read back as integers, an
    empty ``subject``/``institution_id`` as null, ``detail`` as JSON.
    """
    if fmt == "csv":
        rows: Iterable[dict[str, Any]] = (_from_csv(r) for r in csv.DictReader(lines))
    elif fmt == "jsonl":
        rows = (json.loads(line) for line in lines if line.strip())
    else:
        raise ServiceError(f"unknown export format {fmt!r} (use {' or '.join(FORMATS)})")
    expected = audit_chain.GENESIS
    for row in rows:
        fields = {name: row.get(name) for name in audit_chain.FIELDS}
        if row.get("prev_hash") != expected or row.get("hash") != audit_chain.event_hash(
                expected, fields):
            return row.get("id")
        expected = row["hash"]
    return None


def _from_csv(row: dict[str, str]) -> dict[str, Any]:
    return row | {
        "id": int(row["id"]),
        "institution_id": int(row["institution_id"]) if row["institution_id"] else None,
        "subject": row["subject"] or None,
        "detail": json.loads(row["detail"]),
    }
