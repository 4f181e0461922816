"""Batch warnings the registrar confirms before submitting.

`batches.warnings` holds what the import questioned but did not refuse (a prefix against
the sex), as JSON: a list of ``{"row", "column", "value", "reason_th", "reason_en"}``
(`issuer.core.batch.BatchWarning`); ``[]`` for a batch without any. A batch with warnings
is submitted only once `warnings_confirmed_by` and `warnings_confirmed_at` say who
confirmed them and when (`issuer.core.lifecycle`).

Revision ID: 0010_batch_warnings
Revises: 0009_encrypted_at_rest
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_batch_warnings"
down_revision: str | None = "0009_encrypted_at_rest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("batches") as batch:
        batch.add_column(sa.Column("warnings", sa.Text(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("warnings_confirmed_by", sa.String(length=100),
                                   nullable=True))
        batch.add_column(sa.Column("warnings_confirmed_at", sa.DateTime(timezone=True),
                                   nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+, PostgreSQL): batch mode would copy `batches` and drop
    # the old table, which the transcripts' foreign keys forbid while rows exist.
    for column in ("warnings_confirmed_at", "warnings_confirmed_by", "warnings"):
        op.execute(f"ALTER TABLE batches DROP COLUMN {column}")
