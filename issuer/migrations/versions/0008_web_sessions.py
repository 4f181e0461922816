"""Server-side web sessions; sign-in attempts counted in the database.

`web_sessions` holds one row per signed-in browser: a MAC of its random id (never the id),
the account, when it signed in and was last seen, and a seal under the integrity key
binding the three. Sessions from before this migration (Flask-Login ids derived from the
account row) are no longer accepted: everyone signs in again.
`login_attempts` counts sign-in attempts per client when no shared rate-limit store
(Redis) is configured, so every worker process counts together.

Revision ID: 0008_web_sessions
Revises: 0007_status_sequence
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_web_sessions"
down_revision: str | None = "0007_status_sequence"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client", sa.String(length=200), nullable=False),
        sa.Column("totp_setup", sa.String(length=200), nullable=True),
        sa.Column("seal", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name=op.f("fk_web_sessions_account_id_accounts"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_web_sessions")),
    )
    op.create_index(op.f("ix_web_sessions_account_id"), "web_sessions", ["account_id"])
    op.create_table(
        "login_attempts",
        sa.Column("id", _BIGID, nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    op.create_index("ix_login_attempts_client_at", "login_attempts", ["client", "at"])
    op.create_index("ix_login_attempts_at", "login_attempts", ["at"])


def downgrade() -> None:
    op.drop_index("ix_login_attempts_at", "login_attempts")
    op.drop_index("ix_login_attempts_client_at", "login_attempts")
    op.drop_table("login_attempts")
    op.drop_index(op.f("ix_web_sessions_account_id"), "web_sessions")
    op.drop_table("web_sessions")
