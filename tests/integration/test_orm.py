"""The persistence layer on SQLite and PostgreSQL: migrations, round trips, constraints."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import CheckConstraint, Engine, delete, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from issuer.adapters import repositories as repo
from issuer.adapters.db import alembic_config, downgrade, migrate
from issuer.adapters.orm import (
    Base,
    BatchRecordRow,
    BatchRow,
    EnrolmentRow,
    InstitutionRow,
    StatusListCounterRow,
    StudentRow,
    TranscriptRow,
)
from issuer.core import grading, records
from issuer.core.lifecycle import BatchKind, BatchStatus, ItemKind, TranscriptStatus
from issuer.core.record_json import record_digest, to_canonical
from issuer.core.snapshot import Snapshot
from issuer.services.snapshots import Frozen, stored

NOW = datetime(2026, 3, 20, 9, 30, tzinfo=UTC)

SCHOOL = records.Institution(
    code="1001",
    kind=records.InstitutionKind.SCHOOL,
    name_th="โรงเรียนวัดสุทธิวราราม",
    name_en="Wat Sutthiwararam School",
    district_th="สาทร",
    district_en="Sathon",
)


def course(
    year: int, semester: int, code: str, name_th: str, name_en: str, grade: str,
    credits: str, kind: records.CourseType = records.CourseType.BASIC, area: str = "thai",
) -> records.CourseResult:
    return records.CourseResult(
        term=records.Term(year, semester), code=code, name_th=name_th, name_en=name_en,
        course_type=kind, grade=grade, credits=Decimal(credits), hours=int(Decimal(credits) * 40),
        learning_area=area,
    )


def student_record(student_id: str = "12345", programme_code: str = "M3") -> records.StudentRecord:
    return records.StudentRecord(
        institution_code="1001",
        student=records.Student(
            student_id=student_id,
            national_id="1103700012345",
            name=records.Person("เด็กหญิง", "สมหญิง", "ใจดีงาม", "Miss", "Somying", "Jaideengam"),
            birth_date=date(2011, 5, 17),
            sex="หญิง",
            religion_th="พุทธ",
            father_name_th="นายสมชาย ใจดีงาม",
            mother_name_th="นางสมศรี ใจดีงาม",
            admission_date=date(2023, 5, 16),
            previous_school_th="โรงเรียนวัดดอน",
        ),
        programme=records.Programme(
            code=programme_code, name_th="มัธยมศึกษาตอนต้น", name_en="Lower Secondary",
            level="ม.3",
        ),
        courses=(
            course(2566, 1, "ท21101", "ภาษาไทย 1", "Thai Language 1", "4", "1.5"),
            course(2566, 1, "ค21101", "คณิตศาสตร์ 1", "Mathematics 1", "3.5", "1.5",
                   area="math"),
            course(2566, 2, "ท21102", "ภาษาไทย 2", "Thai Language 2", "2.5", "1.5"),
            course(2566, 2, "ง21201", "คอมพิวเตอร์ 1", "Computer 1", "ร", "0.5",
                   records.CourseType.ADDITIONAL, "career"),
            course(2567, 1, "ท21101", "ภาษาไทย 1", "Thai Language 1", "1", "1.5"),
        ),
        activities=(
            records.ActivityResult(2566, "แนะแนว", "Guidance", 40, "ผ"),
            records.ActivityResult(2566, "ลูกเสือ-เนตรนารี", "Scouts", 40, "ผ"),
            records.ActivityResult(2567, "กิจกรรมเพื่อสังคม", "Social service", 10, "มผ"),
        ),
        assessments=records.Assessments("ดีเยี่ยม", "ดี"),
        graduation_date=date(2026, 3, 31),
        signatories=(
            records.Signatory("นายทะเบียน", "Registrar", "นางสาวทะเบียน ถูกต้อง", "Ms Tabian"),
            records.Signatory("ผู้อำนวยการ", "Director", "นายผู้อำนวย การดี", "Mr Director"),
        ),
    )


def transcript_record(
    record: records.StudentRecord, *, version: int, status_index: int,
    transcript_id: str = "BKT-1001-000001",
) -> records.TranscriptRecord:
    return records.TranscriptRecord(
        transcript_id=transcript_id,
        version=version,
        institution=SCHOOL,
        record=record,
        summary=grading.summarise(record, records.InstitutionKind.SCHOOL),
        issued_at=NOW + timedelta(minutes=version),
        status_index=status_index,
        national_id_salt="c2FsdHNhbHRzYWx0c2FsdA",
    )


@pytest.fixture
def school_id(sessions: sessionmaker[Session]) -> int:
    with repo.UnitOfWork(sessions) as uow:
        row = uow.institutions.get_or_create(
            SCHOOL, now=NOW,
            registrar=("นางสาวทะเบียน ถูกต้อง", "Ms Tabian"), director=("นายผู้อำนวย", "Mr D"),
        )
        uow.commit()
        return row.id


def _school(session: Session) -> InstitutionRow:
    row = repo.Institutions(session).get(SCHOOL.code)
    assert row is not None
    return row


# --- migrations -------------------------------------------------------------------


def test_migrated_schema_matches_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        # Alembic does not compare CHECK constraints: check the names ourselves.
        inspector = inspect(connection)
        for table in Base.metadata.sorted_tables:
            expected = {c.name for c in table.constraints if isinstance(c, CheckConstraint)}
            found = {c["name"] for c in inspector.get_check_constraints(table.name)}
            assert expected <= found, table.name


def test_downgrade_to_base_drops_every_table(engine: Engine) -> None:
    downgrade(engine)
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    migrate(engine)  # and back up again
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())


def test_migrate_from_a_url_is_idempotent(db_url: str, engine: Engine) -> None:
    migrate(db_url)  # already at head: nothing to do, no error
    with engine.connect() as connection:
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert MigrationContext.configure(connection).get_current_revision() == head


# --- identity, batches and their frozen records ------------------------------------


def _snapshot(record: records.StudentRecord) -> Frozen:
    return Frozen.of(Snapshot(SCHOOL, record))


def _batch(uow: repo.UnitOfWork, *recs: records.StudentRecord, digest: str = "ab" * 32,
           status: BatchStatus = BatchStatus.IMPORTED) -> BatchRow:
    school = _school(uow.session)
    batch = uow.batches.add(school, kind=BatchKind.IMPORT, filename="m3.xlsx",
                            content_digest=digest, row_count=len(recs), created_by="registrar",
                            now=NOW, status=status)
    items = []
    for rec in recs:
        enrolment = uow.enrolments.identify(school, rec, now=NOW)
        items.append(_snapshot(rec).new_record(enrolment, f"T-{enrolment.id}", ItemKind.NEW,
                                               None))
    uow.batches.add_records(batch, items)
    return batch


def test_identity_is_created_once_and_names_follow_issued_versions(
    sessions: sessionmaker[Session], school_id: int
) -> None:
    first = student_record()
    renamed = dataclasses.replace(first, student=dataclasses.replace(
        first.student, name=dataclasses.replace(first.student.name, first_name_en="Renamed")))
    with repo.UnitOfWork(sessions) as uow:
        school = _school(uow.session)
        a = uow.enrolments.identify(school, first, now=NOW)
        b = uow.enrolments.identify(school, renamed, now=NOW)  # an import changes nothing
        assert a.id == b.id and b.student.first_name_en == "Somying"
        other = uow.enrolments.identify(school, student_record(programme_code="M6"), now=NOW)
        assert other.id != a.id and other.student_id == a.student_id
        uow.enrolments.issued(b, renamed, now=NOW)  # an issued version's names are shown
        uow.commit()
    with repo.UnitOfWork(sessions) as uow:
        assert uow.session.scalars(select(StudentRow)).one().first_name_en == "Renamed"


def test_batch_records_keep_their_snapshots_in_file_order(
    sessions: sessionmaker[Session], school_id: int
) -> None:
    recs = [student_record("2"), student_record("1"), student_record("3", "M6")]
    with repo.UnitOfWork(sessions) as uow:
        batch_id = _batch(uow, *recs).id
        uow.commit()
    with repo.UnitOfWork(sessions) as uow:
        batch = uow.batches.get(batch_id, "1001")
        assert batch is not None and uow.batches.get(batch_id, "2001") is None
        rows = uow.batches.records(batch)
        assert [stored(r).record for r in rows] == recs  # exactly, decimals included
        assert [r.record_digest for r in rows] == [_snapshot(r).digest for r in recs]
        assert [r.student_id for r in rows] == ["2", "1", "3"]
        assert uow.batches.records(batch, [rows[2].id]) == [rows[2]]


def test_same_content_and_open_batches(sessions: sessionmaker[Session], school_id: int) -> None:
    with repo.UnitOfWork(sessions) as uow:
        batch = _batch(uow, student_record())
        school = _school(uow.session)
        assert uow.batches.same_content(school, "ab" * 32) is batch
        enrolment = uow.batches.records(batch)[0].enrolment_id
        assert uow.batches.open_batches_of([enrolment, 999]) == {enrolment: batch}
        uow.batches.move(batch, BatchStatus.WITHDRAWN, now=NOW, reason="wrong file")
        assert uow.batches.same_content(school, "ab" * 32) is None
        assert uow.batches.open_batches_of([enrolment]) == {}
        uow.commit()


def test_a_batch_moves_only_from_the_status_it_was_read_in(
    sessions: sessionmaker[Session], school_id: int
) -> None:
    with repo.UnitOfWork(sessions) as uow:
        batch_id = _batch(uow, student_record(), status=BatchStatus.SUBMITTED).id
        uow.commit()
    with repo.UnitOfWork(sessions) as first:
        stale = first.batches.get(batch_id)
        assert stale is not None and stale.status is BatchStatus.SUBMITTED
        first.commit()  # ends the read; the row stays loaded as it was
        with repo.UnitOfWork(sessions) as second:
            fresh = second.batches.get(batch_id)
            assert fresh is not None
            second.batches.move(fresh, BatchStatus.REJECTED, now=NOW, by="dir", reason="no")
            second.commit()
        with pytest.raises(repo.Changed):
            first.batches.approve(stale, by="dir2", now=NOW, manifest_digest="m")
    with repo.UnitOfWork(sessions) as uow:
        batch = uow.batches.get(batch_id)
        assert batch is not None and batch.status is BatchStatus.REJECTED
        assert (batch.status_reason, batch.approved_by) == ("no", None)


def test_timestamps_come_back_aware_utc(sessions: sessionmaker[Session], school_id: int) -> None:
    bangkok = datetime(2026, 3, 20, 16, 30, tzinfo=timezone(timedelta(hours=7)))
    with repo.UnitOfWork(sessions) as uow:
        uow.enrolments.identify(_school(uow.session), student_record(), now=bangkok)
        uow.commit()
    with repo.UnitOfWork(sessions) as uow:
        row = uow.session.scalars(select(StudentRow)).one()
        assert row.created_at == bangkok and row.created_at.tzinfo == UTC
        assert _school(uow.session).created_at == NOW
    with repo.UnitOfWork(sessions) as uow, pytest.raises(Exception, match="naive"):
        uow.audit.append(actor="x", action="y", source="cli", now=datetime(2026, 1, 1))


# --- transcripts -------------------------------------------------------------------


def _issue(uow: repo.UnitOfWork, record_row: BatchRecordRow, version: int,
           supersedes: TranscriptRow | None = None, status_index: int | None = None,
           transcript_id: str = "BKT-1001-000001") -> TranscriptRow:
    school = _school(uow.session)
    index = (uow.transcripts.allocate_status_indexes(school, 1)[0] if status_index is None
             else status_index)
    record = transcript_record(stored(record_row).record, version=version, status_index=index,
                               transcript_id=transcript_id)
    record_row.transcript_id = transcript_id
    files = repo.IssuedFiles(credential_jws=f"h.p{version}.s", signing_kid="k1",
                             pdf_path=f"1001/{transcript_id}-v{version}.pdf")
    return uow.transcripts.add(record, batch_record=record_row, files=files,
                               supersedes=supersedes)


def test_transcripts_issue_supersede_and_revoke(
    sessions: sessionmaker[Session], school_id: int
) -> None:
    with repo.UnitOfWork(sessions) as uow:
        first, second = uow.batches.records(_batch(uow, student_record(), student_record("2")))
        v1 = _issue(uow, first, 1)
        uow.commit()
        record_v1 = transcript_record(student_record(), version=1, status_index=v1.status_index)
        assert v1.record_json == to_canonical(record_v1)
        assert v1.record_digest == record_digest(record_v1)
        assert uow.transcripts.issued_record_ids([first.id, second.id]) == {first.id}
        second_id = second.id

    with repo.UnitOfWork(sessions) as uow:
        v1 = uow.transcripts.get("BKT-1001-000001", 1)
        (row,) = [r for r in uow.batches.records(v1.batch_record.batch) if r.id == second_id]
        v2 = _issue(uow, row, 2, supersedes=v1)
        uow.commit()
        assert v1.status is TranscriptStatus.SUPERSEDED
        assert v2.supersedes_id == v1.id and v2.status_index != v1.status_index
        assert uow.transcripts.latest("BKT-1001-000001").version == 2
        assert uow.transcripts.latest("BKT-1001-000001", "2001") is None
        assert uow.transcripts.latest_of(["BKT-1001-000001", "nope"]) == {
            "BKT-1001-000001": v2}
        uow.transcripts.revoke(v2, reason="ผลการเรียนผิดพลาด", now=NOW + timedelta(days=1))
        uow.commit()
    with repo.UnitOfWork(sessions) as uow:
        v2 = uow.transcripts.get("BKT-1001-000001", 2)
        assert v2.status is TranscriptStatus.REVOKED
        assert v2.status_reason == "ผลการเรียนผิดพลาด"
        assert v2.status_changed_at == NOW + timedelta(days=1)
        assert uow.transcripts.status_entries(_school(uow.session),
                                              [TranscriptStatus.REVOKED]) == [1]


def test_same_transcript_id_and_version_twice_fails(
    sessions: sessionmaker[Session], school_id: int
) -> None:
    with repo.UnitOfWork(sessions) as uow:
        first, second = uow.batches.records(_batch(uow, student_record(), student_record("2")))
        _issue(uow, first, 1)
        uow.commit()
        second_id = second.id
    with repo.UnitOfWork(sessions) as uow, pytest.raises(IntegrityError):
        row = uow.session.get_one(BatchRecordRow, second_id)
        _issue(uow, row, 1)  # fresh status index, same ID and version
        uow.commit()


def test_one_version_per_batch_record_and_one_status_index_per_institution(
    sessions: sessionmaker[Session], school_id: int
) -> None:
    with repo.UnitOfWork(sessions) as uow:
        first, _ = uow.batches.records(_batch(uow, student_record(), student_record("2")))
        _issue(uow, first, 1, status_index=0)
        uow.commit()
    with repo.UnitOfWork(sessions) as uow, pytest.raises(IntegrityError):
        first, _ = uow.batches.records(uow.batches.get(1))
        _issue(uow, first, 1, status_index=5, transcript_id="BKT-1001-000009")
        uow.commit()
    with repo.UnitOfWork(sessions) as uow, pytest.raises(IntegrityError):
        _, second = uow.batches.records(uow.batches.get(1))
        _issue(uow, second, 1, status_index=0, transcript_id="BKT-1001-000002")
        uow.commit()


# --- status indexes ---------------------------------------------------------------


def test_status_indexes_are_consecutive_and_distinct(
    sessions: sessionmaker[Session], school_id: int
) -> None:
    with repo.UnitOfWork(sessions) as uow:
        singles = [repo.allocate_status_indexes(uow.session, school_id)[0] for _ in range(3)]
        block = repo.allocate_status_indexes(uow.session, school_id, 5)
        uow.commit()
    assert singles == [0, 1, 2]
    assert block == range(3, 8)
    with repo.UnitOfWork(sessions) as uow:
        repo.allocate_status_indexes(uow.session, school_id)[0]
        # rolled back: the next caller gets the same index again
    with repo.UnitOfWork(sessions) as uow:
        assert repo.allocate_status_indexes(uow.session, school_id)[0] == 8


def test_status_index_counter_is_created_when_missing(
    sessions: sessionmaker[Session], school_id: int
) -> None:
    with repo.UnitOfWork(sessions) as uow:
        uow.session.execute(delete(StatusListCounterRow))
        assert repo.allocate_status_indexes(uow.session, school_id)[0] == 0
        assert repo.allocate_status_indexes(uow.session, school_id)[0] == 1


def test_concurrent_allocations_never_share_an_index(
    sessions: sessionmaker[Session], school_id: int
) -> None:
    workers, per_worker = 8, 10
    got: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(workers)

    def work() -> None:
        try:
            start.wait()
            for _ in range(per_worker):
                with repo.UnitOfWork(sessions) as uow:
                    index = repo.allocate_status_indexes(uow.session, school_id)[0]
                    uow.commit()
                with lock:
                    got.append(index)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(got) == list(range(workers * per_worker))


# --- audit log --------------------------------------------------------------------


def test_audit_events_are_appended_in_order(
    sessions: sessionmaker[Session], school_id: int
) -> None:
    actions = ["batch.imported", "batch.submitted", "batch.approved", "transcript.issued"]
    with repo.UnitOfWork(sessions) as uow:
        school = _school(uow.session)
        for i, action in enumerate(actions):
            uow.audit.append(
                actor="registrar@1001", action=action, source="web 203.0.113.7",
                now=NOW + timedelta(seconds=i), institution=school, subject="batch:1",
                detail={"หมายเหตุ": "ทดสอบ", "n": i},
            )
        uow.audit.append(actor="admin", action="key.rotated", source="cli", now=NOW)
        uow.commit()
    with repo.UnitOfWork(sessions) as uow:
        school = _school(uow.session)
        events = uow.audit.events(institution=school)
        assert [e.action for e in events] == actions
        assert [e.detail["n"] for e in events] == [0, 1, 2, 3]
        assert events[0].detail["หมายเหตุ"] == "ทดสอบ"
        assert [e.at for e in events] == sorted(e.at for e in events)
        everything = uow.audit.events()
        assert [e.action for e in everything] == [*actions, "key.rotated"]
        page = uow.audit.events(after_id=events[1].id, limit=2)
        assert [e.action for e in page] == actions[2:4]


# --- unit of work -------------------------------------------------------------------


def test_unit_of_work_without_commit_writes_nothing(
    sessions: sessionmaker[Session], school_id: int
) -> None:
    with pytest.raises(RuntimeError), repo.UnitOfWork(sessions) as uow:
        _batch(uow, student_record())
        raise RuntimeError("the use case failed half-way")
    with repo.UnitOfWork(sessions) as uow:
        for model in (StudentRow, EnrolmentRow, BatchRow, BatchRecordRow):
            assert uow.session.scalars(select(model)).all() == []
