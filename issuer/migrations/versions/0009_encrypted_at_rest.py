"""National IDs and TOTP secrets encrypted at rest.

`accounts.totp_secret` widens to hold a sealed value (``bkt1.`` + base64url of
AES-256-GCM, `issuer.adapters.at_rest`); `batch_records.record_json` (the snapshot,
which holds the national ID) and `uploads.data` keep their type and hold sealed bytes.
The key lives outside the database (the integrity key's ``data-at-rest`` subkey), so
this migration cannot encrypt what is there: `issuer.services.context.Issuer.open`
seals the existing rows right after upgrading (`issuer.services.at_rest.seal_cleartext`).

Revision ID: 0009_encrypted_at_rest
Revises: 0008_web_sessions
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_encrypted_at_rest"
down_revision: str | None = "0008_web_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.alter_column("totp_secret", existing_type=sa.String(length=64),
                           type_=sa.String(length=255), existing_nullable=True)


def downgrade() -> None:
    # Sealed values do not fit the old width: a downgrade must first open them
    # (the service with its key), which it cannot do from here.
    with op.batch_alter_table("accounts") as batch:
        batch.alter_column("totp_secret", existing_type=sa.String(length=255),
                           type_=sa.String(length=64), existing_nullable=True)
