"""Student photos and institution emblems (issue 11, part 3).

`images` holds normalised images by their SHA-256 (hex): the photos batch snapshots name
(`student.photo_sha256`) and the institutions' emblems (`institutions.emblem_sha256`,
frozen into snapshots as `institution.emblem_sha256`). Issuing checks each image against
the digest the approved snapshot holds. `uploads.photos` keeps a web upload's ZIP of
photos (encrypted) until the background job has read it.

Revision ID: 0012_images
Revises: 0011_institution_subdistrict
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_images"
down_revision: str | None = "0011_institution_subdistrict"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "images",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("size >= 0", name=op.f("ck_images_size_nonnegative")),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_images")),
    )
    with op.batch_alter_table("institutions") as batch:
        batch.add_column(sa.Column("emblem_sha256", sa.String(length=64), nullable=True))
    with op.batch_alter_table("uploads") as batch:
        batch.add_column(sa.Column("photos", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+, PostgreSQL), as 0010 and 0011.
    op.execute("ALTER TABLE uploads DROP COLUMN photos")
    op.execute("ALTER TABLE institutions DROP COLUMN emblem_sha256")
    op.drop_table("images")
