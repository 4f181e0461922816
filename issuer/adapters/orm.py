"""SQLAlchemy 2 models: the database side of the domain, kept out of `issuer.core`.

Rows are named ``*Row`` so they never shadow the domain dataclasses in
`issuer.core.records`; `issuer.adapters.repositories` converts between the two.
Every timestamp is timezone-aware UTC (`UTCDateTime`), every enum-like column is a
VARCHAR with a CHECK constraint (portable across SQLite and PostgreSQL), and every
constraint is named through `NAMING_CONVENTION` so migrations can refer to it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from issuer.adapters.sealed_columns import remember_session_key, sealed
from issuer.core.lifecycle import (
    AccountRole,
    BatchKind,
    BatchStatus,
    ItemKind,
    TranscriptStatus,
)
from issuer.core.records import InstitutionKind

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend.

    Naive datetimes are refused. SQLite has no time zone type, so the value is
    stored as naive UTC there and given back its ``tzinfo`` when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware (UTC) datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _enum(enum_cls: type[StrEnum], name: str) -> Enum:
    """A VARCHAR + CHECK enum storing the member *values* (``"school"``, not ``"SCHOOL"``)."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )


JSONDocument = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments INTEGER PRIMARY KEY, so BIGINT keys fall back to INTEGER there.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
    }


class InstitutionRow(Base):
    """A school or vocational centre; also holds its default signatories' names."""

    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[InstitutionKind] = mapped_column(_enum(InstitutionKind, "kind"))
    name_th: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    district_th: Mapped[str] = mapped_column(String(100), default="")
    district_en: Mapped[str] = mapped_column(String(100), default="")
    subdistrict_th: Mapped[str] = mapped_column(String(100), default="")
    subdistrict_en: Mapped[str] = mapped_column(String(100), default="")
    province_th: Mapped[str] = mapped_column(String(100))
    province_en: Mapped[str] = mapped_column(String(100))
    affiliation_th: Mapped[str] = mapped_column(String(200))
    affiliation_en: Mapped[str] = mapped_column(String(200))
    registrar_name_th: Mapped[str] = mapped_column(String(200), default="")
    registrar_name_en: Mapped[str] = mapped_column(String(200), default="")
    director_name_th: Mapped[str] = mapped_column(String(200), default="")
    director_name_en: Mapped[str] = mapped_column(String(200), default="")
    emblem_sha256: Mapped[str | None] = mapped_column(String(64))
    """The emblem printed on its documents (an `ImageRow`), or None."""
    created_at: Mapped[datetime]


class ImageRow(Base):
    """A normalised image, by its SHA-256 (hex): a student's photo that a batch snapshot
    names, or an institution's emblem. Never changed once stored: issuing checks the bytes
    against the digest the approved snapshot holds. Photos are personal data, so `data`
    is encrypted at rest like the snapshots."""

    __tablename__ = "images"
    __table_args__ = (CheckConstraint("size >= 0", name="size_nonnegative"),)

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "photo" or "emblem"
    size: Mapped[int] = mapped_column(Integer)
    _image_sealed: Mapped[bytes] = mapped_column("data", LargeBinary)
    data = sealed("_image_sealed", lambda row: b"images.data|" + row.sha256.encode())
    created_at: Mapped[datetime]


class StatusListCounterRow(Base):
    """Next free position in an institution's Bitstring Status List (one row each)."""

    __tablename__ = "status_list_counters"
    __table_args__ = (CheckConstraint("next_index >= 0", name="next_index_nonnegative"),)

    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), primary_key=True
    )
    next_index: Mapped[int] = mapped_column(Integer, default=0)


class StatusSequenceRow(Base):
    """The number of an institution's latest status publication (one row each): every
    publication takes the next one, so verifiers can refuse an older list
    (`issuer.services.publishing`). Never decreases, never reused."""

    __tablename__ = "status_sequences"
    __table_args__ = (CheckConstraint("sequence >= 0", name="sequence_nonnegative"),)

    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), primary_key=True
    )
    sequence: Mapped[int] = mapped_column(BigInteger, default=0)


class StudentRow(Base):
    """A learner as the institution knows them: identity, and the name their latest
    issued transcript states (for search). Everything else lives in the frozen
    snapshots of `BatchRecordRow` and in the issued records."""

    __tablename__ = "students"
    __table_args__ = (UniqueConstraint("institution_id", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    student_id: Mapped[str] = mapped_column(String(32))
    prefix_th: Mapped[str] = mapped_column(String(50))
    first_name_th: Mapped[str] = mapped_column(String(100))
    last_name_th: Mapped[str] = mapped_column(String(100))
    prefix_en: Mapped[str] = mapped_column(String(50))
    first_name_en: Mapped[str] = mapped_column(String(100))
    last_name_en: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    institution: Mapped[InstitutionRow] = relationship()


class ProgrammeRow(Base):
    """A school level (ป.6, ม.3, ม.6) or a vocational course an institution offers; its
    names as the latest issued transcript states them."""

    __tablename__ = "programmes"
    __table_args__ = (UniqueConstraint("institution_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    code: Mapped[str] = mapped_column(String(32))
    name_th: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(32))
    total_hours: Mapped[int]


class EnrolmentRow(Base):
    """A student in a programme: what one transcript is about (its ID derives from this
    row). Identity only: what the transcript states is in the batches' snapshots."""

    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("student_id", "programme_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"))
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    created_at: Mapped[datetime]

    student: Mapped[StudentRow] = relationship()
    programme: Mapped[ProgrammeRow] = relationship()


class BatchRow(Base):
    """A batch: a file's students, or a request for a new version; signed only once an
    approver other than its requester approved it (`issuer.core.lifecycle`).

    `content_digest` identifies the content whatever its encoding or format (see
    `issuer.core.snapshot.content_digest`). Approval records `manifest_digest` (over the
    records' digests) and `approval_mac` (a MAC under the integrity key over the
    approval), which issuing checks: rows a database writer changes are not signed.
    """

    __tablename__ = "batches"
    __table_args__ = (
        CheckConstraint("row_count >= 0", name="row_count_nonnegative"),
        Index("ix_batches_institution_id_created_at", "institution_id", "created_at"),
        Index("ix_batches_institution_id_content_digest", "institution_id", "content_digest"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    kind: Mapped[BatchKind] = mapped_column(_enum(BatchKind, "kind"))
    filename: Mapped[str] = mapped_column(String(255))
    content_digest: Mapped[str] = mapped_column(String(64))  # hex
    status: Mapped[BatchStatus] = mapped_column(_enum(BatchStatus, "status"))
    row_count: Mapped[int]  # students in the file (unchanged ones included)
    reason: Mapped[str] = mapped_column(Text, default="")  # why a new version is requested
    status_reason: Mapped[str] = mapped_column(Text, default="")  # why rejected, withdrawn
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    status_changed_at: Mapped[datetime]
    submitted_by: Mapped[str | None] = mapped_column(String(100))
    submitted_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(100))
    approved_at: Mapped[datetime | None]
    manifest_digest: Mapped[str | None] = mapped_column(String(64))  # hex
    approval_mac: Mapped[str | None] = mapped_column(String(64))  # hex
    # What the import questioned (JSON list of BatchWarning), and who confirmed it.
    warnings: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    warnings_confirmed_by: Mapped[str | None] = mapped_column(String(100))
    warnings_confirmed_at: Mapped[datetime | None]

    institution: Mapped[InstitutionRow] = relationship()


class BatchRecordRow(Base):
    """One student of a batch: the frozen snapshot its transcript version will state.

    `record_json` is the canonical JSON of an `issuer.core.snapshot.Snapshot`,
    `record_digest` its digest; both are fixed at import. `kind` says whether issuing
    it makes version 1 (`new`) or the version after `supersedes_version`. The display
    columns (`student_id`, names) are copied from the snapshot for lists and search.
    """

    __tablename__ = "batch_records"
    __table_args__ = (
        UniqueConstraint("batch_id", "position"),
        UniqueConstraint("batch_id", "enrolment_id"),
        CheckConstraint("position >= 0", name="position_nonnegative"),
        CheckConstraint("supersedes_version IS NULL OR supersedes_version >= 1",
                        name="supersedes_version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    position: Mapped[int]
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    transcript_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[ItemKind] = mapped_column(_enum(ItemKind, "kind"))
    supersedes_version: Mapped[int | None]
    student_id: Mapped[str] = mapped_column(String(32))
    name_th: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    _record_json_sealed: Mapped[bytes] = mapped_column("record_json", LargeBinary)
    record_json = sealed("_record_json_sealed",
                         lambda row: b"batch_records.record_json|" + row.record_digest.encode())
    """The snapshot (it holds the national ID), stored encrypted (`issuer.adapters.at_rest`);
    `record_digest` is over the plaintext and binds the ciphertext to it."""
    record_digest: Mapped[str] = mapped_column(String(64))  # base64url SHA-256

    batch: Mapped[BatchRow] = relationship()
    enrolment: Mapped[EnrolmentRow] = relationship()


class UploadState(StrEnum):
    QUEUED = "queued"  # received, waiting for a runner
    READING = "reading"  # being read and validated
    IMPORTED = "imported"  # became `batch_id`
    REJECTED = "rejected"  # has errors (`UploadErrorRow`); nothing stored
    DUPLICATE = "duplicate"  # the same content is `batch_id` already
    FAILED = "failed"  # could not be imported for another reason (`message`)


class UploadRow(Base):
    """A batch file a registrar uploaded through the web, read by a background job.

    `data` holds the file until the job has read it (then NULL): runners on other
    machines find it here. The outcome is `state` with `batch_id`, the errors, or
    `message`.
    """

    __tablename__ = "uploads"
    __table_args__ = (
        Index("ix_uploads_institution_id_id", "institution_id", "id"),
        CheckConstraint("size >= 0", name="size_nonnegative"),
        CheckConstraint("rows_read >= 0", name="rows_read_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    _data_sealed: Mapped[bytes | None] = mapped_column("data", LargeBinary)
    data = sealed("_data_sealed", lambda row: f"uploads.data|{row.created_by}|"
                  f"{row.filename}".encode())
    """The file as uploaded (national IDs in it), stored encrypted until read."""
    _photos_sealed: Mapped[bytes | None] = mapped_column("photos", LargeBinary)
    photos = sealed("_photos_sealed", lambda row: f"uploads.photos|{row.created_by}|"
                    f"{row.filename}".encode())
    """The ZIP of photos uploaded beside the file, if any; stored encrypted until read."""
    state: Mapped[UploadState] = mapped_column(_enum(UploadState, "state"))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    message: Mapped[str] = mapped_column(Text, default="")

    institution: Mapped[InstitutionRow] = relationship()


def error_value_aad(upload_id: int, position: int) -> bytes:
    """What binds an upload error's encrypted `value` to its row."""
    return f"upload_errors.value|{upload_id}|{position}".encode()


class UploadErrorRow(Base):
    """One error of a rejected upload, in the order the registrar should read them."""

    __tablename__ = "upload_errors"
    __table_args__ = (UniqueConstraint("upload_id", "position"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    upload_id: Mapped[int] = mapped_column(ForeignKey("uploads.id", ondelete="CASCADE"))
    position: Mapped[int]
    row: Mapped[int]
    column: Mapped[str] = mapped_column(String(100))
    _value_sealed: Mapped[str] = mapped_column("value", Text)
    value = sealed("_value_sealed", lambda row: error_value_aad(row.upload_id, row.position))
    """The cell as read (a national ID, a name), stored encrypted."""
    reason_th: Mapped[str] = mapped_column(Text)
    reason_en: Mapped[str] = mapped_column(Text)


class TranscriptRow(Base):
    """One issued transcript version and everything needed to serve and verify it;
    `batch_record_id` names the approved snapshot it was built from.

    The signed PDF lives in files (`pdf_path`, relative to `Settings.output_dir`)
    with its SHA-256 here: at a million documents a month, PDF bytes do not belong
    in the database. `record_json` (canonical JSON) is the authoritative data.
    """

    __tablename__ = "transcripts"
    __table_args__ = (
        UniqueConstraint("transcript_id", "version"),
        UniqueConstraint("institution_id", "status_index"),
        UniqueConstraint("supersedes_id"),
        UniqueConstraint("batch_record_id"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("status_index >= 0", name="status_index_nonnegative"),
        Index("ix_transcripts_institution_id_status", "institution_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"), index=True)
    batch_record_id: Mapped[int] = mapped_column(ForeignKey("batch_records.id"))
    status: Mapped[TranscriptStatus] = mapped_column(_enum(TranscriptStatus, "status"))
    status_reason: Mapped[str] = mapped_column(Text, default="")
    status_reason_code: Mapped[str | None] = mapped_column(String(32))
    """What verifiers are told of a revocation: a code of
    `verifier.core.status_details.REASONS` (`status_reason`, the registrar's words, is
    never published)."""
    status_changed_at: Mapped[datetime]
    status_index: Mapped[int]
    record_json: Mapped[bytes] = mapped_column(LargeBinary)
    record_digest: Mapped[str] = mapped_column(String(64))  # base64url SHA-256
    credential_jws: Mapped[str] = mapped_column(Text)
    signing_kid: Mapped[str | None] = mapped_column(String(64), index=True)
    pdf_path: Mapped[str | None] = mapped_column(String(500))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))  # hex
    issued_at: Mapped[datetime]
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("transcripts.id"))

    institution: Mapped[InstitutionRow] = relationship()
    student: Mapped[StudentRow] = relationship()
    enrolment: Mapped[EnrolmentRow] = relationship()
    supersedes: Mapped[TranscriptRow | None] = relationship(remote_side=[id])
    batch_record: Mapped[BatchRecordRow] = relationship()


class AuditEventRow(Base):
    """An append-only audit log entry; `id` gives the order of events.

    Events form one keyed hash chain (`issuer.adapters.audit_chain`): `hash` is the
    HMAC-SHA256 (SHA-256 for events older than migration 0004) of `prev_hash` and the
    canonical JSON of the event's fields, `prev_hash` the previous event's `hash` (64
    zeros for the first). A row is inserted complete, with the next id, and never
    changed: on PostgreSQL and SQLite triggers refuse UPDATE, DELETE and TRUNCATE
    (migration 0004). `prev_hash` is unique, so the chain cannot fork.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_institution_id_id", "institution_id", "id"),
        Index("ix_audit_events_subject", "subject"),
        Index("ix_audit_events_at", "at"),
        UniqueConstraint("prev_hash"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id"))
    subject: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    source: Mapped[str] = mapped_column(String(100))  # "cli", "web 203.0.113.7"
    prev_hash: Mapped[str] = mapped_column(String(64))  # hex
    hash: Mapped[str] = mapped_column(String(64))  # hex


class AuditCheckpointRow(Base):
    """A signed checkpoint of the audit chain's head, as published
    (`issuer.adapters.audit_checkpoint`): `seq` increases by one per checkpoint. The
    published files are what verifiers trust; these rows only number them across hosts
    and keep a copy. Append-only like the events (migration 0004).
    """

    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    head_id: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[str] = mapped_column(String(64))
    events: Mapped[int] = mapped_column(BigInteger)
    legacy_head_id: Mapped[int] = mapped_column(BigInteger)
    token: Mapped[str] = mapped_column(Text)


class AccountRow(Base):
    """A person who signs in to the issuer's web service.

    `password_hash` is an argon2id PHC string; `totp_secret` (base32) turns on the
    second factor. `failed_logins` and `locked_until` throttle guessing per account
    (the web layer throttles per address too); `totp_last_step` refuses a replayed
    code. An administrator has no institution;
    everyone else has exactly one.
    """

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint(
            "(role = 'admin' AND institution_id IS NULL) "
            "OR (role <> 'admin' AND institution_id IS NOT NULL)",
            name="role_institution",
        ),
        CheckConstraint("failed_logins >= 0", name="failed_logins_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    email: Mapped[str] = mapped_column(String(200), default="")
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[AccountRole] = mapped_column(_enum(AccountRole, "role"))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id"), index=True)
    _totp_secret_sealed: Mapped[str | None] = mapped_column("totp_secret", String(255))
    totp_secret = sealed("_totp_secret_sealed",
                         lambda row: f"accounts.totp_secret|{row.username}".encode())
    """Base32, stored encrypted (`issuer.adapters.at_rest`); the seal covers the plaintext."""
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)  # no code used twice
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    password_changed_at: Mapped[datetime]
    seal: Mapped[str | None] = mapped_column(String(64))  # `issuer.adapters.accounts.seal`

    institution: Mapped[InstitutionRow | None] = relationship()


class WebSessionRow(Base):
    """A signed-in web session (`issuer.adapters.repositories.sessions`).

    `id_hash` is a MAC of the random id the browser holds, under the integrity key: the
    id itself is stored nowhere. `seal` binds the row to its account and sign-in time.
    `totp_setup` is a second factor being set up, encrypted under the session's id.
    """

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"),
                                            index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    client: Mapped[str] = mapped_column(String(200), default="")
    totp_setup: Mapped[str | None] = mapped_column(String(200))
    seal: Mapped[str] = mapped_column(String(64))


class LoginAttemptRow(Base):
    """One sign-in attempt from a client address: counted by every worker alike when the
    rate limits have no shared store of their own (`issuer.services.shared_limits`)."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_client_at", "client", "at"),
                      Index("ix_login_attempts_at", "at"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"),
                                    primary_key=True)
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]


# --- background jobs ------------------------------------------------------------------


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


ACTIVE_JOB_STATES = (JobState.QUEUED.value, JobState.RUNNING.value)


class JobRow(Base):
    """A background job (`issuer.jobs`): what to run, who runs it, how far it got.

    `key` names what the job works on (``issue_batch:17``); a partial unique index allows
    one queued or running job per key. A runner claims a job by setting `owner`, and
    keeps `heartbeat_at` fresh while it runs; a running job whose heartbeat went stale
    is claimed again (the task is resumable). `done`/`total` is the progress.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_state_id", "state", "id"),
        Index("ix_jobs_batch_id", "batch_id"),
        Index(
            "uq_jobs_active_key", "key", unique=True,
            sqlite_where=text("state IN ('queued', 'running')"),
            postgresql_where=text("state IN ('queued', 'running')"),
        ),
        CheckConstraint("done >= 0", name="done_nonnegative"),
        CheckConstraint("attempts >= 0", name="attempts_nonnegative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(100))
    args: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    state: Mapped[JobState] = mapped_column(_enum(JobState, "state"))
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    owner: Mapped[str | None] = mapped_column(String(100))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


# --- graduates' links -------------------------------------------------------------------


class ClaimLinkRow(Base):
    """The link a school sends a graduate to fetch their transcript (all its versions).

    Only the SHA-256 of the token is stored. One live link per transcript: making a new
    one revokes the old.
    """

    __tablename__ = "claim_links"
    __table_args__ = (
        UniqueConstraint("token_hash"),
        Index("ix_claim_links_transcript_id", "transcript_id"),
        CheckConstraint("claim_count >= 0", name="claim_count_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[str] = mapped_column(String(64))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    token_hash: Mapped[str] = mapped_column(String(64))  # hex SHA-256 of the token
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    first_claimed_at: Mapped[datetime | None]
    last_claimed_at: Mapped[datetime | None]
    claim_count: Mapped[int] = mapped_column(Integer, default=0)


class ShareLinkRow(Base):
    """A link a graduate makes for an employer: expiring, revocable, optionally PIN-guarded.

    `pin_hash` is an argon2id PHC string. `pin_attempts` counts consecutive wrong PINs
    (reserved before each check, so parallel guesses count too) and locks the link until
    `locked_until`; `pin_failures` counts them all and disables the link at its limit.
    """

    __tablename__ = "share_links"
    __table_args__ = (
        UniqueConstraint("token_hash"),
        Index("ix_share_links_transcript_id", "transcript_id"),
        CheckConstraint("pin_attempts >= 0", name="pin_attempts_nonnegative"),
        CheckConstraint("pin_failures >= 0", name="pin_failures_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[str] = mapped_column(String(64))
    claim_link_id: Mapped[int] = mapped_column(ForeignKey("claim_links.id"))
    token_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str] = mapped_column(String(100), default="")
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    pin_attempts: Mapped[int] = mapped_column(Integer, default=0)
    pin_failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    view_count: Mapped[int] = mapped_column(Integer, default=0)
    last_viewed_at: Mapped[datetime | None]


class ShareAccessRow(Base):
    """One attempt to open a share link: when, from where, and what came of it."""

    __tablename__ = "share_accesses"
    __table_args__ = (Index("ix_share_accesses_share_link_id_id", "share_link_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    share_link_id: Mapped[int] = mapped_column(ForeignKey("share_links.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    ip: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    outcome: Mapped[str] = mapped_column(String(16))  # viewed, wrong_pin, locked, expired...


remember_session_key(AccountRow, BatchRecordRow, UploadRow, UploadErrorRow, ImageRow)
