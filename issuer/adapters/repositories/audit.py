"""Appending to and reading the audit log (its chain: `issuer.adapters.audit_chain`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.adapters import audit_chain
from issuer.adapters.orm import (
    AuditEventRow,
    InstitutionRow,
)

# --- audit log ----------------------------------------------------------------------


def append_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    source: str,
    now: datetime,
    institution: InstitutionRow | None = None,
    subject: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEventRow:
    """Append one event (`source` e.g. ``"cli"`` or ``"web 203.0.113.7"``) to the hash
    chain (`issuer.adapters.audit_chain`); appends are serialised until the caller's
    transaction ends, so commit soon after."""
    event = AuditEventRow(
        at=now, actor=actor, action=action, source=source,
        institution_id=institution.id if institution is not None else None,
        subject=subject, detail=dict(detail or {}),
    )
    return audit_chain.append(session, event)


class AuditLog:
    def __init__(self, session: Session) -> None:
        self.session = session

    def append(self, **event: Any) -> AuditEventRow:
        """`append_audit` in this unit of work."""
        return append_audit(self.session, **event)


def audit_events(
    session: Session,
    *,
    institution: InstitutionRow | None = None,
    subject: str | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[AuditEventRow]:
    """Events in the order they were appended, optionally filtered; page with `after_id`."""
    stmt = select(AuditEventRow).where(AuditEventRow.id > after_id)
    if institution is not None:
        stmt = stmt.where(AuditEventRow.institution_id == institution.id)
    if subject is not None:
        stmt = stmt.where(AuditEventRow.subject == subject)
    return list(session.scalars(stmt.order_by(AuditEventRow.id).limit(limit)))


def verify_audit_chain(session: Session) -> int | None:
    """The id of the first audit event that was edited, inserted or follows a deleted one
    (its hash or its link to the previous event is wrong), or None if the chain holds."""
    return audit_chain.verify(session)
