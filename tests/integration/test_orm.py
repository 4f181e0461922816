"""The persistence layer on SQLite and PostgreSQL: migrations, round trips, constraints."""

from __future__ import annotations

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
    BatchRow,
    BatchStatus,
    EnrolmentRow,
    InstitutionRow,
    StatusListCounterRow,
    StudentRow,
    TranscriptRow,
    TranscriptStatus,
)
from issuer.core import records
from issuer.core.record_json import record_digest, to_canonical

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
                   records.CourseType.ADDITIONAL, "work"),
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
        summary=records.Summary(
            terms=(), credits_basic=Decimal("4.5"), credits_additional=Decimal("0.5"),
            credits_earned=Decimal("4.5"), gpa=Decimal("3.17"), hours_total=0, hours_passed=0,
            graduated=True,
        ),
        issued_at=NOW + timedelta(minutes=version),
        status_index=status_index,
        national_id_salt="c2FsdHNhbHRzYWx0c2FsdA",
    )


@pytest.fixture
def school_id(sessions: sessionmaker[Session]) -> int:
    with repo.UnitOfWork(sessions) as uow:
        row = repo.get_or_create_institution(
            uow.session, SCHOOL, now=NOW,
            registrar=("นางสาวทะเบียน ถูกต้อง", "Ms Tabian"), director=("นายผู้อำนวย", "Mr D"),
        )
        uow.commit()
        return row.id


def _school(session: Session) -> InstitutionRow:
    row = repo.get_institution(session, SCHOOL.code)
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


# --- records ----------------------------------------------------------------------


def test_student_record_round_trips(sessions: sessionmaker[Session], school_id: int) -> None:
    original = student_record()
    with repo.UnitOfWork(sessions) as uow:
        enrolment = repo.save_student_record(uow.session, _school(uow.session), original, None,
                                             now=NOW)
        uow.commit()
        enrolment_id = enrolment.id
    with repo.UnitOfWork(sessions) as uow:
        loaded = repo.load_student_record(uow.session, enrolment_id)
    assert loaded == original
    # Equal decimals can still print differently ("1.5" vs "1.50"): the JSON would differ.
    assert [str(c.credits) for c in loaded.courses] == [str(c.credits) for c in original.courses]


def test_student_records_load_many_at_once(
    sessions: sessionmaker[Session], school_id: int
) -> None:
    """What issuing reads per chunk: the same records as one by one; unknown IDs absent."""
    originals = [student_record("1"), student_record("2", "M6")]
    with repo.UnitOfWork(sessions) as uow:
        ids = [repo.save_student_record(uow.session, _school(uow.session), r, None, now=NOW).id
               for r in originals]
        uow.commit()
    with repo.UnitOfWork(sessions) as uow:
        loaded = repo.load_student_records(uow.session, [*ids, max(ids) + 1])
    assert loaded == dict(zip(ids, originals, strict=True))


def test_saving_again_replaces_the_enrolment_contents(
    sessions: sessionmaker[Session], school_id: int
) -> None:
    first = student_record()
    corrected = records.StudentRecord(
        institution_code=first.institution_code,
        student=first.student,
        programme=first.programme,
        courses=(*first.courses[:2], course(2567, 2, "ว21101", "วิทยาศาสตร์ 1", "Science 1",
                                            "3", "1.5", area="science")),
        activities=first.activities[:1],
        graduation_date=date(2026, 4, 1),
    )
    with repo.UnitOfWork(sessions) as uow:
        school = _school(uow.session)
        a = repo.save_student_record(uow.session, school, first, None, now=NOW)
        b = repo.save_student_record(uow.session, school, corrected, None, now=NOW)
        uow.commit()
        assert a.id == b.id
        assert repo.find_enrolment(uow.session, school, "12345", "M3") is b
        assert repo.load_student_record(uow.session, b) == corrected


def test_credits_that_numeric_4_1_would_round_are_refused(
    sessions: sessionmaker[Session], school_id: int
) -> None:
    rec = student_record()
    bad = records.StudentRecord(
        institution_code=rec.institution_code, student=rec.student, programme=rec.programme,
        courses=(course(2566, 1, "ท21101", "ภาษาไทย 1", "Thai 1", "4", "1.25"),),
    )
    with repo.UnitOfWork(sessions) as uow, pytest.raises(ValueError, match="one decimal"):
        repo.save_student_record(uow.session, _school(uow.session), bad, None, now=NOW)


def test_timestamps_come_back_aware_utc(sessions: sessionmaker[Session], school_id: int) -> None:
    bangkok = datetime(2026, 3, 20, 16, 30, tzinfo=timezone(timedelta(hours=7)))
    with repo.UnitOfWork(sessions) as uow:
        repo.save_student_record(uow.session, _school(uow.session), student_record(), None,
                                 now=bangkok)
        uow.commit()
    with repo.UnitOfWork(sessions) as uow:
        row = uow.session.scalars(select(StudentRow)).one()
        assert row.created_at == bangkok and row.created_at.tzinfo == UTC
        assert _school(uow.session).created_at == NOW
    with repo.UnitOfWork(sessions) as uow, pytest.raises(Exception, match="naive"):
        repo.append_audit(uow.session, actor="x", action="y", source="cli",
                          now=datetime(2026, 1, 1))


# --- batches and transcripts -------------------------------------------------------


def test_same_batch_content_twice_is_detected(
    sessions: sessionmaker[Session], school_id: int
) -> None:
    digest = "ab" * 32
    with repo.UnitOfWork(sessions) as uow:
        batch = repo.add_batch(uow.session, _school(uow.session), filename="m3.xlsx",
                               content_sha256=digest, row_count=2, created_by="registrar",
                               now=NOW)
        uow.commit()
    with repo.UnitOfWork(sessions) as uow:
        school = _school(uow.session)
        assert repo.find_batch_by_hash(uow.session, school, digest).id == batch.id
        with pytest.raises(repo.DuplicateBatchError) as caught:
            repo.add_batch(uow.session, school, filename="copy.xlsx", content_sha256=digest,
                           row_count=2, created_by="registrar", now=NOW)
        assert caught.value.existing.id == batch.id
    # The constraint holds even for a writer that skips the check.
    with repo.UnitOfWork(sessions) as uow, pytest.raises(IntegrityError):
        uow.session.add(BatchRow(
            institution_id=school_id, filename="race.xlsx", content_sha256=digest,
            status=BatchStatus.IMPORTED, row_count=2, created_at=NOW, created_by="r",
            status_changed_at=NOW,
        ))
        uow.commit()


def _issue(
    session: Session, enrolment: EnrolmentRow, batch: BatchRow | None, version: int,
    supersedes: TranscriptRow | None = None,
) -> TranscriptRow:
    index = repo.allocate_status_index(session, enrolment.student.institution_id)
    record = transcript_record(repo.load_student_record(session, enrolment), version=version,
                               status_index=index)
    files = repo.IssuedFiles(credential_jws=f"h.p{version}.s", signing_kid="k1",
                             pdf_path=f"1001/BKT-1001-000001-v{version}.pdf")
    return repo.add_transcript(session, record, enrolment=enrolment, batch=batch, files=files,
                               supersedes=supersedes)


def test_transcripts_issue_supersede_and_revoke(
    sessions: sessionmaker[Session], school_id: int
) -> None:
    with repo.UnitOfWork(sessions) as uow:
        s = uow.session
        school = _school(s)
        batch = repo.add_batch(s, school, filename="m3.xlsx", content_sha256="cd" * 32,
                               row_count=1, created_by="registrar", now=NOW)
        enrolment = repo.save_student_record(s, school, student_record(), batch, now=NOW)
        v1 = _issue(s, enrolment, batch, 1)
        uow.commit()
        record_v1 = transcript_record(repo.load_student_record(s, enrolment), version=1,
                                      status_index=v1.status_index)
        assert v1.record_json == to_canonical(record_v1)
        assert v1.record_digest == record_digest(record_v1)
        assert repo.transcripts_of_batch(s, batch) == [v1]

    with repo.UnitOfWork(sessions) as uow:
        s = uow.session
        v1 = repo.get_transcript(s, "BKT-1001-000001", 1)
        v2 = _issue(s, v1.enrolment, None, 2, supersedes=v1)
        uow.commit()
        assert v1.status is TranscriptStatus.SUPERSEDED
        assert v2.supersedes_id == v1.id and v2.status_index != v1.status_index
        assert repo.latest_version(s, "BKT-1001-000001").version == 2
        assert repo.latest_transcript_for_student(s, v2.student).id == v2.id
        assert repo.latest_transcript_for_student(s, v2.student, "M3").id == v2.id
        assert repo.latest_transcript_for_student(s, v2.student, "M6") is None

        repo.revoke_transcript(s, v2, reason="ผลการเรียนผิดพลาด", now=NOW + timedelta(days=1))
        uow.commit()
    with repo.UnitOfWork(sessions) as uow:
        v2 = repo.get_transcript(uow.session, "BKT-1001-000001", 2)
        assert v2.status is TranscriptStatus.REVOKED
        assert v2.status_reason == "ผลการเรียนผิดพลาด"
        assert v2.status_changed_at == NOW + timedelta(days=1)
        assert repo.status_entries(uow.session, school_id, [TranscriptStatus.REVOKED]) == [1]


def test_same_transcript_id_and_version_twice_fails(
    sessions: sessionmaker[Session], school_id: int
) -> None:
    with repo.UnitOfWork(sessions) as uow:
        enrolment = repo.save_student_record(uow.session, _school(uow.session), student_record(),
                                             None, now=NOW)
        _issue(uow.session, enrolment, None, 1)
        uow.commit()
    with repo.UnitOfWork(sessions) as uow, pytest.raises(IntegrityError):
        enrolment = repo.find_enrolment(uow.session, _school(uow.session), "12345", "M3")
        _issue(uow.session, enrolment, None, 1)  # fresh status index, same ID and version
        uow.commit()


def test_status_index_is_unique_per_institution(
    sessions: sessionmaker[Session], school_id: int
) -> None:
    with repo.UnitOfWork(sessions) as uow:
        enrolment = repo.save_student_record(uow.session, _school(uow.session), student_record(),
                                             None, now=NOW)
        record = transcript_record(student_record(), version=1, status_index=0)
        files = repo.IssuedFiles(credential_jws="a.b.c")
        repo.add_transcript(uow.session, record, enrolment=enrolment, batch=None, files=files)
        uow.commit()
    with repo.UnitOfWork(sessions) as uow, pytest.raises(IntegrityError):
        enrolment = repo.find_enrolment(uow.session, _school(uow.session), "12345", "M3")
        other = transcript_record(student_record(), version=1, status_index=0,
                                  transcript_id="BKT-1001-000002")
        repo.add_transcript(uow.session, other, enrolment=enrolment, batch=None, files=files)
        uow.commit()


# --- status indexes ---------------------------------------------------------------


def test_status_indexes_are_consecutive_and_distinct(
    sessions: sessionmaker[Session], school_id: int
) -> None:
    with repo.UnitOfWork(sessions) as uow:
        singles = [repo.allocate_status_index(uow.session, school_id) for _ in range(3)]
        block = repo.allocate_status_indexes(uow.session, school_id, 5)
        uow.commit()
    assert singles == [0, 1, 2]
    assert block == range(3, 8)
    with repo.UnitOfWork(sessions) as uow:
        repo.allocate_status_index(uow.session, school_id)
        # rolled back: the next caller gets the same index again
    with repo.UnitOfWork(sessions) as uow:
        assert repo.allocate_status_index(uow.session, school_id) == 8


def test_status_index_counter_is_created_when_missing(
    sessions: sessionmaker[Session], school_id: int
) -> None:
    with repo.UnitOfWork(sessions) as uow:
        uow.session.execute(delete(StatusListCounterRow))
        assert repo.allocate_status_index(uow.session, school_id) == 0
        assert repo.allocate_status_index(uow.session, school_id) == 1


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
                    index = repo.allocate_status_index(uow.session, school_id)
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
            repo.append_audit(
                uow.session, actor="registrar@1001", action=action, source="web 203.0.113.7",
                now=NOW + timedelta(seconds=i), institution=school, subject="batch:1",
                detail={"หมายเหตุ": "ทดสอบ", "n": i},
            )
        repo.append_audit(uow.session, actor="admin", action="key.rotated", source="cli",
                          now=NOW)
        uow.commit()
    with repo.UnitOfWork(sessions) as uow:
        school = _school(uow.session)
        events = repo.audit_events(uow.session, institution=school)
        assert [e.action for e in events] == actions
        assert [e.detail["n"] for e in events] == [0, 1, 2, 3]
        assert events[0].detail["หมายเหตุ"] == "ทดสอบ"
        assert [e.at for e in events] == sorted(e.at for e in events)
        everything = repo.audit_events(uow.session)
        assert [e.action for e in everything] == [*actions, "key.rotated"]
        page = repo.audit_events(uow.session, after_id=events[1].id, limit=2)
        assert [e.action for e in page] == actions[2:4]


# --- unit of work and batch life ------------------------------------------------------


def test_unit_of_work_without_commit_writes_nothing(
    sessions: sessionmaker[Session], school_id: int
) -> None:
    with pytest.raises(RuntimeError), repo.UnitOfWork(sessions) as uow:
        repo.save_student_record(uow.session, _school(uow.session), student_record(), None,
                                 now=NOW)
        raise RuntimeError("the use case failed half-way")
    with repo.UnitOfWork(sessions) as uow:
        assert uow.session.scalars(select(StudentRow)).all() == []


def test_batch_status_and_its_enrolments(
    sessions: sessionmaker[Session], school_id: int
) -> None:
    later = NOW + timedelta(hours=2)
    with repo.UnitOfWork(sessions) as uow:
        s = uow.session
        school = _school(s)
        batch = repo.add_batch(s, school, filename="m3.xlsx", content_sha256="ef" * 32,
                               row_count=2, created_by="registrar", now=NOW)
        a = repo.save_student_record(s, school, student_record("1"), batch, now=NOW)
        b = repo.save_student_record(s, school, student_record("2"), batch, now=NOW)
        repo.set_batch_status(s, batch, BatchStatus.SUBMITTED, now=NOW)
        repo.set_batch_status(s, batch, BatchStatus.APPROVED, now=later, by="director")
        uow.commit()
    with repo.UnitOfWork(sessions) as uow:
        batch = uow.session.get(BatchRow, batch.id)
        assert batch.status is BatchStatus.APPROVED
        assert (batch.approved_by, batch.approved_at, batch.status_changed_at) == (
            "director", later, later)
        assert [e.id for e in repo.enrolments_of_batch(uow.session, batch)] == [a.id, b.id]
