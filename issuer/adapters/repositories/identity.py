"""Institutions, and who a transcript is about: students, programmes, enrolments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from issuer.adapters.orm import (
    EnrolmentRow,
    InstitutionRow,
    ProgrammeRow,
    StatusListCounterRow,
    StudentRow,
)
from issuer.core import records

# --- institutions -----------------------------------------------------------------


def to_institution(row: InstitutionRow) -> records.Institution:
    return records.Institution(
        code=row.code,
        kind=row.kind,
        name_th=row.name_th,
        name_en=row.name_en,
        district_th=row.district_th,
        district_en=row.district_en,
        subdistrict_th=row.subdistrict_th,
        subdistrict_en=row.subdistrict_en,
        province_th=row.province_th,
        province_en=row.province_en,
        affiliation_th=row.affiliation_th,
        affiliation_en=row.affiliation_en,
        emblem_sha256=row.emblem_sha256 or "",
    )


class Institutions:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, code: str) -> InstitutionRow | None:
        return self.session.scalar(select(InstitutionRow).where(InstitutionRow.code == code))

    def every(self) -> list[InstitutionRow]:
        """Every institution, by code."""
        return list(self.session.scalars(select(InstitutionRow).order_by(InstitutionRow.code)))

    def get_or_create(
        self,
        institution: records.Institution,
        *,
        now: datetime,
        registrar: tuple[str, str] = ("", ""),
        director: tuple[str, str] = ("", ""),
    ) -> InstitutionRow:
        """The institution with `institution.code`, created (with its status counter) if
        new.

        `registrar` and `director` are (Thai, English) names; an existing row is returned
        unchanged.
        """
        row = self.get(institution.code)
        if row is not None:
            return row
        row = InstitutionRow(
            code=institution.code,
            kind=institution.kind,
            name_th=institution.name_th,
            name_en=institution.name_en,
            district_th=institution.district_th,
            district_en=institution.district_en,
            subdistrict_th=institution.subdistrict_th,
            subdistrict_en=institution.subdistrict_en,
            province_th=institution.province_th,
            province_en=institution.province_en,
            affiliation_th=institution.affiliation_th,
            affiliation_en=institution.affiliation_en,
            registrar_name_th=registrar[0],
            registrar_name_en=registrar[1],
            director_name_th=director[0],
            director_name_en=director[1],
            created_at=now,
        )
        self.session.add(row)
        self.session.flush()
        self.session.add(StatusListCounterRow(institution_id=row.id, next_index=0))
        self.session.flush()
        return row

    def programmes(self, institution: InstitutionRow) -> dict[str, tuple[str, str]]:
        """The institution's programmes: code -> (Thai name, English name), by code."""
        rows = self.session.execute(
            select(ProgrammeRow.code, ProgrammeRow.name_th, ProgrammeRow.name_en)
            .where(ProgrammeRow.institution_id == institution.id).order_by(ProgrammeRow.code))
        return {code: (th, en) for code, th, en in rows}

    def lock(self, institution: InstitutionRow) -> None:
        """Serialise imports and requests of one institution until the transaction ends:
        a row lock on PostgreSQL; on SQLite the write lock, taken before anything is read
        so no decision rests on a stale snapshot."""
        self.session.execute(update(InstitutionRow).where(InstitutionRow.id == institution.id)
                             .values(code=InstitutionRow.code))


# --- identity: students, programmes, enrolments -------------------------------------

_NAME_FIELDS = (
    "prefix_th", "first_name_th", "last_name_th", "prefix_en", "first_name_en", "last_name_en",
)


class Enrolments:
    """Who a transcript is about. Identity only: the data stay in the snapshots, and the
    names kept here (for search) are those of the latest issued version."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def identify(self, institution: InstitutionRow, record: records.StudentRecord, *,
                 now: datetime) -> EnrolmentRow:
        """The enrolment of `record`'s student in its programme, created if new (the names
        of a new student or programme are taken from `record`, nothing else is changed)."""
        s, p = record.student, record.programme
        student = self.session.scalar(select(StudentRow).filter_by(
            institution_id=institution.id, student_id=s.student_id))
        if student is None:
            student = StudentRow(institution_id=institution.id, student_id=s.student_id,
                                 created_at=now, updated_at=now,
                                 **{f: getattr(s.name, f) for f in _NAME_FIELDS})
            self.session.add(student)
        programme = self.session.scalar(select(ProgrammeRow).filter_by(
            institution_id=institution.id, code=p.code))
        if programme is None:
            programme = ProgrammeRow(institution_id=institution.id, code=p.code,
                                     name_th=p.name_th, name_en=p.name_en, level=p.level,
                                     total_hours=p.total_hours)
            self.session.add(programme)
        self.session.flush()
        enrolment = self.session.scalar(select(EnrolmentRow).filter_by(
            student_id=student.id, programme_id=programme.id))
        if enrolment is None:
            enrolment = EnrolmentRow(student_id=student.id, programme_id=programme.id,
                                     created_at=now)
            self.session.add(enrolment)
            self.session.flush()
        return enrolment

    def get(self, enrolment_id: int) -> EnrolmentRow | None:
        return self.session.get(EnrolmentRow, enrolment_id)

    def issued(self, enrolment: EnrolmentRow, record: records.StudentRecord, *,
               now: datetime) -> None:
        take_names(enrolment, record, now)


def take_names(enrolment: EnrolmentRow, record: records.StudentRecord, now: datetime) -> None:
    """Take the names of a just-issued version for search and lists."""
    student, p = enrolment.student, record.programme
    for f in _NAME_FIELDS:
        setattr(student, f, getattr(record.student.name, f))
    student.updated_at = now
    programme = enrolment.programme
    programme.name_th, programme.name_en = p.name_th, p.name_en
    programme.level, programme.total_hours = p.level, p.total_hours
