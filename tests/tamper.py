"""What a database writer who owns the tables can do that the application cannot: turn
the audit log's append-only triggers off for one statement (PostgreSQL: as the tables'
owner; SQLite: whoever holds the file drops them and creates them again)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

TABLES = ("audit_events", "audit_checkpoints")


def as_owner(session: Session, statement: str, params: dict[str, Any] | None = None) -> None:
    """Run `statement` with the append-only triggers off, in the session's transaction
    (the caller commits)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        for table in TABLES:
            session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        session.execute(text(statement), params or {})
        for table in TABLES:
            session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
        return
    triggers = session.execute(text(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
    for name, _ in triggers:
        session.execute(text(f'DROP TRIGGER "{name}"'))
    session.execute(text(statement), params or {})
    for _, sql in triggers:
        session.execute(text(sql))
