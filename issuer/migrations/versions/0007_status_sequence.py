"""Numbered status publications; the published reason code of a revocation.

`status_sequences` holds, per institution, the number of its latest status publication:
each publication of its lists takes the next one (never reused), so a verifier that has
seen number N refuses a list numbered below N (a replayed or outdated copy).
`transcripts.status_reason_code` is what verifiers are told of a revocation (a code of
`verifier.core.status_details.REASONS`); the free-text `status_reason` stays private.

Revision ID: 0007_status_sequence
Revises: 0006_uploads_account_seals
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_status_sequence"
down_revision: str | None = "0006_uploads_account_seals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "status_sequences",
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("sequence >= 0", name=op.f("ck_status_sequences_sequence_nonnegative")),
        sa.ForeignKeyConstraint(["institution_id"], ["institutions.id"],
                                name=op.f("fk_status_sequences_institution_id_institutions"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("institution_id", name=op.f("pk_status_sequences")),
    )
    with op.batch_alter_table("transcripts") as batch:
        batch.add_column(sa.Column("status_reason_code", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transcripts") as batch:
        batch.drop_column("status_reason_code")
    op.drop_table("status_sequences")
