"""ตำบล/แขวง of an institution: the ปพ.1 header prints it above อำเภอ/เขต (FORMS.md).

Revision ID: 0011_institution_subdistrict
Revises: 0010_batch_warnings
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_institution_subdistrict"
down_revision: str | None = "0010_batch_warnings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("institutions") as batch:
        for column in ("subdistrict_th", "subdistrict_en"):
            batch.add_column(sa.Column(column, sa.String(length=100), nullable=False,
                                       server_default=""))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+, PostgreSQL), as 0010: batch mode would copy the table,
    # which the foreign keys to institutions forbid while rows exist.
    for column in ("subdistrict_en", "subdistrict_th"):
        op.execute(f"ALTER TABLE institutions DROP COLUMN {column}")
