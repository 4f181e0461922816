"""Frozen batches: one snapshot per student in each batch, approvals under a MAC.

Imports used to write every student's data into shared, normalised tables (students'
details, enrolments, courses, results, activities, signatories), which a later import
could change after an approval. Now each batch holds its own frozen snapshots
(`batch_records`), and the shared tables keep identity only. Data:

- every issued transcript version gets the snapshot it was built from, rebuilt from its
  `transcript.json` and the student's national ID and religion (which the record does
  not hold in clear), in the batch that issued it; versions issued by a reissue (no
  batch) each get a batch of their own (kind ``reissue``, status ``issued``);
- batches not yet issued are closed (``withdrawn``): their approvals carried no MAC,
  so their files must be imported again, and go through submit and approve again.

The downgrade restores the old schema, not the normalised copies of the data.

Revision ID: 0005_frozen_batches
Revises: 0004_audit_append_only
Create Date: 2026-12-02
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime

import rfc8785
import sqlalchemy as sa
from alembic import op

revision: str = "0005_frozen_batches"
down_revision: str | None = "0004_audit_append_only"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SNAPSHOT_SCHEMA = "https://transcripts.bangkok.go.th/schema/snapshot/v1"
_UNISSUED = ("imported", "submitted", "approved", "issuing")
_STUDENT_DETAILS = (
    ("national_id", 13), ("sex", 20), ("nationality_th", 50), ("religion_th", 50),
    ("father_name_th", 200), ("mother_name_th", 200), ("previous_school_th", 200),
)
_ENROLMENT_DETAILS = (("cohort", 32), ("reading_thinking_writing", 32),
                      ("desirable_characteristics", 32))


def _str(name: str, length: int, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def _int(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=nullable)


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _one_of(table: str, column: str, values: Sequence[str]) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=op.f(f"ck_{table}_{column}"))


def _fk(table: str, column: str, target: str, ondelete: str | None = None
        ) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete)


# --- the snapshot of an issued version, as issuer.core.snapshot defined it here ----------

def _snapshot(record: dict, national_id: str, religion_th: str) -> dict:
    st = record["student"]
    return {
        "schema": SNAPSHOT_SCHEMA,
        "institution": record["institution"],
        "student": {
            "student_id": st["student_id"], "national_id": national_id,
            **{k: st[k] for k in ("prefix_th", "first_name_th", "last_name_th", "prefix_en",
                                  "first_name_en", "last_name_en")},
            "birth_date": st["birth_date"], "sex": st["sex"],
            "nationality_th": st["nationality_th"], "religion_th": religion_th,
            "father_name_th": st["father_name_th"], "mother_name_th": st["mother_name_th"],
            "admission_date": st["admission_date"],
            "previous_school_th": st["previous_school_th"],
        },
        "programme": record["programme"],
        "courses": record["courses"],
        "activities": record["activities"],
        "assessments": record["assessments"],
        "graduation_date": record["graduation_date"],
        "signatories": record["signatories"],
    }


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _snapshot_existing_transcripts() -> None:
    bind = op.get_bind()
    meta = sa.MetaData()
    transcripts = sa.Table("transcripts", meta, autoload_with=bind)
    students = sa.Table("students", meta, autoload_with=bind)
    batches = sa.Table("batches", meta, autoload_with=bind)
    records = sa.Table("batch_records", meta, autoload_with=bind)
    now = datetime.now(UTC)
    positions: dict[int, int] = {}
    rows = bind.execute(
        sa.select(transcripts, students.c.national_id, students.c.religion_th)
        .join(students, transcripts.c.student_id == students.c.id)
        .order_by(transcripts.c.id)).all()
    for row in rows:
        record = json.loads(row.record_json)
        canonical = rfc8785.dumps(_snapshot(record, row.national_id, row.religion_th))
        batch_id = row.batch_id
        if batch_id is None:  # a reissued version: a batch of its own
            batch_id = bind.execute(batches.insert().values(
                institution_id=row.institution_id, kind="reissue",
                filename="(reissued before the upgrade)",
                content_digest=hashlib.sha256(canonical).hexdigest(), status="issued",
                row_count=1, reason=row.status_reason or "", status_reason="",
                created_at=row.issued_at, created_by="(before the upgrade)",
                status_changed_at=row.issued_at,
            ).returning(batches.c.id)).scalar_one()
        position = positions.get(batch_id, 0)
        positions[batch_id] = position + 1
        st = record["student"]
        record_id = bind.execute(records.insert().values(
            batch_id=batch_id, position=position, enrolment_id=row.enrolment_id,
            transcript_id=row.transcript_id,
            kind="new" if row.version == 1 else "correction",
            supersedes_version=None if row.version == 1 else row.version - 1,
            student_id=st["student_id"],
            name_th=f"{st['prefix_th']}{st['first_name_th']} {st['last_name_th']}",
            name_en=f"{st['prefix_en']} {st['first_name_en']} {st['last_name_en']}".strip(),
            record_json=canonical, record_digest=_digest(canonical),
        ).returning(records.c.id)).scalar_one()
        bind.execute(transcripts.update().where(transcripts.c.id == row.id)
                     .values(batch_record_id=record_id, batch_id=batch_id))
    bind.execute(batches.update().where(batches.c.status.in_(_UNISSUED)).values(
        status="withdrawn", status_changed_at=now,
        status_reason="imported before an upgrade: import the file again"))


def upgrade() -> None:
    op.create_table(
        "batch_records",
        _int("id"),
        _int("batch_id"),
        _int("position"),
        _int("enrolment_id"),
        _str("transcript_id", 64),
        _str("kind", 16),
        _int("supersedes_version", nullable=True),
        _str("student_id", 32),
        _str("name_th", 300),
        _str("name_en", 300),
        sa.Column("record_json", sa.LargeBinary(), nullable=False),
        _str("record_digest", 64),
        _one_of("batch_records", "kind", ["new", "correction", "reissue"]),
        sa.CheckConstraint("position >= 0", name=op.f("ck_batch_records_position_nonnegative")),
        sa.CheckConstraint("supersedes_version IS NULL OR supersedes_version >= 1",
                           name=op.f("ck_batch_records_supersedes_version_positive")),
        _fk("batch_records", "batch_id", "batches"),
        _fk("batch_records", "enrolment_id", "enrolments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_records")),
        sa.UniqueConstraint("batch_id", "position",
                            name=op.f("uq_batch_records_batch_id_position")),
        sa.UniqueConstraint("batch_id", "enrolment_id",
                            name=op.f("uq_batch_records_batch_id_enrolment_id")),
    )
    op.create_index(op.f("ix_batch_records_enrolment_id"), "batch_records", ["enrolment_id"])
    op.create_index(op.f("ix_batch_records_transcript_id"), "batch_records", ["transcript_id"])

    with op.batch_alter_table("batches") as batch:
        batch.add_column(_str("kind", 16, nullable=True))
        batch.add_column(_str("content_digest", 64, nullable=True))
        batch.add_column(sa.Column("reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("status_reason", sa.Text(), nullable=True))
        batch.add_column(_str("submitted_by", 100, nullable=True))
        batch.add_column(_ts("submitted_at", nullable=True))
        batch.add_column(_str("manifest_digest", 64, nullable=True))
        batch.add_column(_str("approval_mac", 64, nullable=True))
        batch.drop_constraint("uq_batches_institution_id_content_sha256", type_="unique")
        batch.drop_constraint(op.f("ck_batches_status"), type_="check")
    op.execute("UPDATE batches SET kind = 'import', content_digest = content_sha256, "
               "reason = '', status_reason = ''")
    with op.batch_alter_table("batches") as batch:
        for name in ("kind", "content_digest"):
            batch.alter_column(name, existing_type=sa.String(length=16 if name == "kind"
                                                              else 64), nullable=False)
        for name in ("reason", "status_reason"):
            batch.alter_column(name, existing_type=sa.Text(), nullable=False)
        batch.drop_column("content_sha256")
        batch.create_check_constraint(
            op.f("ck_batches_status"), "status IN ('imported', 'submitted', 'approved', "
            "'issuing', 'issued', 'rejected', 'withdrawn')")
        batch.create_check_constraint(op.f("ck_batches_kind"),
                                      "kind IN ('import', 'correction', 'reissue')")
    op.create_index("ix_batches_institution_id_content_digest", "batches",
                    ["institution_id", "content_digest"])

    with op.batch_alter_table("transcripts") as batch:
        batch.add_column(_int("batch_record_id", nullable=True))
    _snapshot_existing_transcripts()
    with op.batch_alter_table("transcripts") as batch:
        batch.alter_column("batch_record_id", existing_type=sa.Integer(), nullable=False)
        batch.create_unique_constraint(op.f("uq_transcripts_batch_record_id"),
                                       ["batch_record_id"])
        batch.create_foreign_key(op.f("fk_transcripts_batch_record_id_batch_records"),
                                 "batch_records", ["batch_record_id"], ["id"])

    for table in ("results", "activity_results", "enrolment_signatories", "courses"):
        op.drop_table(table)
    with op.batch_alter_table("enrolments") as batch:
        batch.drop_index("ix_enrolments_batch_id")
        batch.drop_constraint(op.f("fk_enrolments_batch_id_batches"), type_="foreignkey")
        for name in ("batch_id", "cohort", "graduation_date", "reading_thinking_writing",
                     "desirable_characteristics", "updated_at"):
            batch.drop_column(name)
    with op.batch_alter_table("students") as batch:
        for name, _ in _STUDENT_DETAILS:
            batch.drop_column(name)
        batch.drop_column("birth_date")
        batch.drop_column("admission_date")


def downgrade() -> None:
    with op.batch_alter_table("students") as batch:
        for name, length in _STUDENT_DETAILS:
            batch.add_column(sa.Column(name, sa.String(length=length), nullable=False,
                                       server_default=""))
        batch.add_column(sa.Column("birth_date", sa.Date(), nullable=False,
                                   server_default="1900-01-01"))
        batch.add_column(sa.Column("admission_date", sa.Date(), nullable=True))
    with op.batch_alter_table("enrolments") as batch:
        batch.add_column(_int("batch_id", nullable=True))
        for name, length in _ENROLMENT_DETAILS:
            batch.add_column(sa.Column(name, sa.String(length=length), nullable=False,
                                       server_default=""))
        batch.add_column(sa.Column("graduation_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                                   server_default=sa.text("CURRENT_TIMESTAMP")))
        batch.create_foreign_key(op.f("fk_enrolments_batch_id_batches"), "batches", ["batch_id"],
                                 ["id"])
        batch.create_index("ix_enrolments_batch_id", ["batch_id"])
    op.create_table(
        "courses",
        _int("id"), _int("institution_id"), _str("code", 32), _str("name_th", 200),
        _str("name_en", 200), _str("course_type", 16),
        sa.Column("credits", sa.Numeric(precision=4, scale=1), nullable=False),
        _int("hours"), _str("learning_area", 32),
        _one_of("courses", "course_type", ["basic", "additional", "module"]),
        sa.CheckConstraint("credits >= 0", name=op.f("ck_courses_credits_nonnegative")),
        sa.CheckConstraint("hours >= 0", name=op.f("ck_courses_hours_nonnegative")),
        _fk("courses", "institution_id", "institutions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses")),
        sa.UniqueConstraint("institution_id", "code", name=op.f("uq_courses_institution_id_code")),
    )
    op.create_table(
        "activity_results",
        _int("id"), _int("enrolment_id"), _int("position"), _int("academic_year"),
        _str("name_th", 200), _str("name_en", 200), _int("hours"), _str("result", 16),
        sa.CheckConstraint("hours >= 0", name=op.f("ck_activity_results_hours_nonnegative")),
        _fk("activity_results", "enrolment_id", "enrolments", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_results")),
        sa.UniqueConstraint("enrolment_id", "position",
                            name=op.f("uq_activity_results_enrolment_id_position")),
    )
    op.create_table(
        "enrolment_signatories",
        _int("id"), _int("enrolment_id"), _int("position"), _str("role_th", 100),
        _str("role_en", 100), _str("name_th", 200), _str("name_en", 200),
        _fk("enrolment_signatories", "enrolment_id", "enrolments", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolment_signatories")),
        sa.UniqueConstraint("enrolment_id", "position",
                            name=op.f("uq_enrolment_signatories_enrolment_id_position")),
    )
    op.create_table(
        "results",
        _int("id"), _int("enrolment_id"), _int("course_id"), _int("position"),
        _int("academic_year"), _int("semester"), _str("grade", 16),
        sa.CheckConstraint("semester BETWEEN 0 AND 3", name=op.f("ck_results_semester_range")),
        _fk("results", "course_id", "courses"),
        _fk("results", "enrolment_id", "enrolments", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_results")),
        sa.UniqueConstraint("enrolment_id", "course_id", "academic_year", "semester",
                            name=op.f("uq_results_enrolment_id_course_id_academic_year_"
                                      "semester")),
        sa.UniqueConstraint("enrolment_id", "position",
                            name=op.f("uq_results_enrolment_id_position")),
    )
    op.create_index(op.f("ix_results_course_id"), "results", ["course_id"])

    with op.batch_alter_table("transcripts") as batch:
        batch.drop_constraint(op.f("fk_transcripts_batch_record_id_batch_records"),
                              type_="foreignkey")
        batch.drop_constraint(op.f("uq_transcripts_batch_record_id"), type_="unique")
        batch.drop_column("batch_record_id")
    op.drop_index("ix_batches_institution_id_content_digest", "batches")
    with op.batch_alter_table("batches") as batch:
        batch.add_column(_str("content_sha256", 64, nullable=True))
    op.execute("UPDATE batches SET content_sha256 = substr(content_digest, 1, 52) || '-' || id")
    op.execute("UPDATE batches SET status = 'rejected' WHERE status = 'withdrawn'")
    with op.batch_alter_table("batches") as batch:
        batch.alter_column("content_sha256", existing_type=sa.String(length=64),
                           type_=sa.String(length=64), nullable=False)
        batch.drop_constraint(op.f("ck_batches_kind"), type_="check")
        batch.drop_constraint(op.f("ck_batches_status"), type_="check")
        batch.create_check_constraint(
            op.f("ck_batches_status"), "status IN ('imported', 'submitted', 'approved', "
            "'issuing', 'issued', 'rejected')")
        for name in ("kind", "content_digest", "reason", "status_reason", "submitted_by",
                     "submitted_at", "manifest_digest", "approval_mac"):
            batch.drop_column(name)
        batch.create_unique_constraint("uq_batches_institution_id_content_sha256",
                                       ["institution_id", "content_sha256"])
    op.drop_table("batch_records")
