"""Background jobs, the audit log's hash chain, graduates' claim and share links.

Existing audit events are chained in id order (the hash function is frozen here, as
`issuer.adapters.audit_chain` defined it when this migration was written).

Revision ID: 0003_jobs_audit_links
Revises: 0002_accounts
Create Date: 2026-11-27
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC

import rfc8785
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_jobs_audit_links"
down_revision: str | None = "0002_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_ACTIVE = sa.text("state IN ('queued', 'running')")


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _str(name: str, length: int, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def _int(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=nullable)


def _hash(prev_hash: str, fields: dict) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + rfc8785.dumps(fields)).hexdigest()


def _chain_existing_events() -> None:
    bind = op.get_bind()
    events = sa.table(
        "audit_events", sa.column("id"), sa.column("at", sa.DateTime(timezone=True)),
        sa.column("actor"), sa.column("action"), sa.column("institution_id"),
        sa.column("subject"), sa.column("detail", _JSON), sa.column("source"),
        sa.column("prev_hash"), sa.column("hash"),
    )
    prev = "0" * 64
    for row in bind.execute(sa.select(events).order_by(events.c.id)).all():
        at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
        detail = row.detail if not isinstance(row.detail, str) else json.loads(row.detail)
        fields = {
            "id": row.id, "at": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "actor": row.actor, "action": row.action, "institution_id": row.institution_id,
            "subject": row.subject, "detail": detail or {}, "source": row.source,
        }
        digest = _hash(prev, fields)
        bind.execute(events.update().where(events.c.id == row.id)
                     .values(prev_hash=prev, hash=digest))
        prev = digest


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(_str("prev_hash", 64, nullable=True))
        batch.add_column(_str("hash", 64, nullable=True))
    _chain_existing_events()
    with op.batch_alter_table("audit_events") as batch:
        batch.create_unique_constraint(op.f("uq_audit_events_prev_hash"), ["prev_hash"])

    op.create_table(
        "jobs",
        sa.Column("id", _BIGID, nullable=False),
        _str("kind", 32),
        _str("key", 100),
        sa.Column("args", _JSON, nullable=False),
        _str("state", 16),
        _int("done"),
        _int("total", nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        _int("attempts"),
        _str("owner", 100, nullable=True),
        _int("batch_id", nullable=True),
        _str("created_by", 100),
        _ts("created_at"),
        _ts("updated_at"),
        _ts("started_at", nullable=True),
        _ts("heartbeat_at", nullable=True),
        _ts("finished_at", nullable=True),
        sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed')",
                           name=op.f("ck_jobs_state")),
        sa.CheckConstraint("done >= 0", name=op.f("ck_jobs_done_nonnegative")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_jobs_attempts_nonnegative")),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"],
                                name=op.f("fk_jobs_batch_id_batches")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index("ix_jobs_state_id", "jobs", ["state", "id"])
    op.create_index("ix_jobs_batch_id", "jobs", ["batch_id"])
    op.create_index("uq_jobs_active_key", "jobs", ["key"], unique=True,
                    sqlite_where=_ACTIVE, postgresql_where=_ACTIVE)

    op.create_table(
        "claim_links",
        _int("id"),
        _str("transcript_id", 64),
        _int("institution_id"),
        _str("token_hash", 64),
        _ts("created_at"),
        _str("created_by", 100),
        _ts("expires_at"),
        _ts("revoked_at", nullable=True),
        _ts("first_claimed_at", nullable=True),
        _ts("last_claimed_at", nullable=True),
        _int("claim_count"),
        sa.CheckConstraint("claim_count >= 0",
                           name=op.f("ck_claim_links_claim_count_nonnegative")),
        sa.ForeignKeyConstraint(["institution_id"], ["institutions.id"],
                                name=op.f("fk_claim_links_institution_id_institutions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_claim_links_token_hash")),
    )
    op.create_index("ix_claim_links_transcript_id", "claim_links", ["transcript_id"])

    op.create_table(
        "share_links",
        _int("id"),
        _str("transcript_id", 64),
        _int("claim_link_id"),
        _str("token_hash", 64),
        _str("label", 200),
        _ts("created_at"),
        _ts("expires_at"),
        _ts("revoked_at", nullable=True),
        _str("revoked_reason", 100),
        _str("pin_hash", 200, nullable=True),
        _int("pin_attempts"),
        _int("pin_failures"),
        _ts("locked_until", nullable=True),
        _int("view_count"),
        _ts("last_viewed_at", nullable=True),
        sa.CheckConstraint("pin_attempts >= 0",
                           name=op.f("ck_share_links_pin_attempts_nonnegative")),
        sa.CheckConstraint("pin_failures >= 0",
                           name=op.f("ck_share_links_pin_failures_nonnegative")),
        sa.ForeignKeyConstraint(["claim_link_id"], ["claim_links.id"],
                                name=op.f("fk_share_links_claim_link_id_claim_links")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_share_links_token_hash")),
    )
    op.create_index("ix_share_links_transcript_id", "share_links", ["transcript_id"])

    op.create_table(
        "share_accesses",
        sa.Column("id", _BIGID, nullable=False),
        _int("share_link_id"),
        _ts("at"),
        _str("ip", 64),
        _str("user_agent", 200),
        _str("outcome", 16),
        sa.ForeignKeyConstraint(["share_link_id"], ["share_links.id"], ondelete="CASCADE",
                                name=op.f("fk_share_accesses_share_link_id_share_links")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_accesses")),
    )
    op.create_index("ix_share_accesses_share_link_id_id", "share_accesses",
                    ["share_link_id", "id"])


def downgrade() -> None:
    op.drop_table("share_accesses")
    op.drop_table("share_links")
    op.drop_table("claim_links")
    op.drop_index("uq_jobs_active_key", table_name="jobs")
    op.drop_table("jobs")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_constraint(op.f("uq_audit_events_prev_hash"), type_="unique")
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
