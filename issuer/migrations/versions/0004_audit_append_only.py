"""The audit log becomes append-only: triggers refuse UPDATE, DELETE and TRUNCATE of
``audit_events`` (and of the new ``audit_checkpoints``) whoever runs them; on PostgreSQL
only the tables' owner or a superuser can disable a trigger, so the application's role
(which should not own its tables) cannot. The same triggers on SQLite, where whoever
holds the file can drop them. ``prev_hash``/``hash`` become NOT NULL: rows are inserted
complete.

Existing events keep their SHA-256 hashes from 0003: this migration has no key to MAC
them with. They stay checkable as *legacy* events, anchored by the first keyed event
(its MAC covers the last legacy hash) and pinned by the first checkpoint
(``legacy_head_id``); see `issuer.adapters.audit_chain`.

Note for later migrations: Alembic's SQLite batch mode rebuilds a table without its
triggers; a migration that alters ``audit_events`` on SQLite must create them again.

Revision ID: 0004_audit_append_only
Revises: 0003_jobs_audit_links
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_audit_append_only"
down_revision: str | None = "0003_jobs_audit_links"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TABLES = ("audit_events", "audit_checkpoints")
_FUNCTION = "bkt_refuse_audit_change"


def _postgresql_up(table: str) -> None:
    op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
               f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {_FUNCTION}()")


def _sqlite_up(table: str) -> None:
    for what in ("UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER {table}_no_{what.lower()} BEFORE {what} ON {table} "
                   f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {what} refused'); END")


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
    op.create_table(
        "audit_checkpoints",
        sa.Column("seq", _BIGID, autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("head_id", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("legacy_head_id", sa.BigInteger(), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_checkpoints")),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(f"""
            CREATE FUNCTION {_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END $$""")
        for table in _TABLES:
            _postgresql_up(table)
    elif dialect == "sqlite":
        for table in _TABLES:
            _sqlite_up(table)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for table in _TABLES:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute(f"DROP FUNCTION {_FUNCTION}()")
    elif dialect == "sqlite":
        for table in _TABLES:
            for what in ("update", "delete"):
                op.execute(f"DROP TRIGGER {table}_no_{what}")
    op.drop_table("audit_checkpoints")
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("hash", existing_type=sa.String(length=64), nullable=True)
        batch.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=True)
