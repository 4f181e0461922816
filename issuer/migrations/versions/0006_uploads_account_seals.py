"""Uploads read in the background (the file until it is read, its outcome, its errors);
account seals.

An account's `seal` is a MAC under the integrity key over what makes it an account (name,
role, institution, password hash, second factor, active), so a database writer cannot
create an approver of their own or change one. Accounts that exist when this migration
runs are sealed by the service right after it (`Issuer.open`), which holds the key.

Revision ID: 0006_uploads_account_seals
Revises: 0005_frozen_batches
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_uploads_account_seals"
down_revision: str | None = "0005_frozen_batches"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_STATES = ("queued", "reading", "imported", "rejected", "duplicate", "failed")


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("seal", sa.String(length=64), nullable=True))
    op.create_table(
        "uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.CheckConstraint("state IN (" + ", ".join(f"'{s}'" for s in _STATES) + ")",
                           name=op.f("ck_uploads_state")),
        sa.CheckConstraint("size >= 0", name=op.f("ck_uploads_size_nonnegative")),
        sa.CheckConstraint("rows_read >= 0", name=op.f("ck_uploads_rows_read_nonnegative")),
        sa.ForeignKeyConstraint(["institution_id"], ["institutions.id"],
                                name=op.f("fk_uploads_institution_id_institutions")),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"],
                                name=op.f("fk_uploads_batch_id_batches")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploads")),
    )
    op.create_index("ix_uploads_institution_id_id", "uploads", ["institution_id", "id"])
    op.create_table(
        "upload_errors",
        sa.Column("id", _BIGID, nullable=False),
        sa.Column("upload_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("column", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("reason_th", sa.Text(), nullable=False),
        sa.Column("reason_en", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["upload_id"], ["uploads.id"],
                                name=op.f("fk_upload_errors_upload_id_uploads"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upload_errors")),
        sa.UniqueConstraint("upload_id", "position",
                            name=op.f("uq_upload_errors_upload_id_position")),
    )


def downgrade() -> None:
    op.drop_table("upload_errors")
    op.drop_index("ix_uploads_institution_id_id", "uploads")
    op.drop_table("uploads")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("seal")
