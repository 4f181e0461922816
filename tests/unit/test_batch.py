"""Batch validation (pure): rows -> StudentRecords, or every error with row and column."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from issuer.core import grading
from issuer.core.batch import (
    ALL_COLUMNS,
    BatchError,
    BatchResult,
    Invalid,
    column_letter,
    national_id_ok,
    parse_batch,
    parse_credits,
    parse_date,
    parse_national_id,
)
from issuer.core.names import NameKind, name_problem
from issuer.core.records import (
    ActivityResult,
    Assessments,
    CourseResult,
    CourseType,
    Institution,
    InstitutionKind,
    Person,
    Programme,
    Student,
    StudentRecord,
    Term,
)

TODAY = date(2026, 4, 1)
SCHOOL = Institution("1001", InstitutionKind.SCHOOL, "โรงเรียนวัดดอน", "Wat Don School")
VOC = Institution("2001", InstitutionKind.VOCATIONAL, "โรงเรียนฝึกอาชีพ", "Vocational School")


def with_check_digit(twelve: str) -> str:
    total = sum(int(d) * (13 - i) for i, d in enumerate(twelve))
    return twelve + str((11 - total % 11) % 10)


NID_A = with_check_digit("110170020345")
NID_B = with_check_digit("110280012345")

STUDENT_A = {
    "institution_code": "1001", "student_id": "66001", "national_id": NID_A,
    "prefix_th": "เด็กหญิง", "first_name_th": "กัญญ์ณัฏฐ์", "last_name_th": "ศรีสุวรรณ์",
    "prefix_en": "Miss", "first_name_en": "Kanyanat", "last_name_en": "Srisuwan",
    "birth_date": "14/08/2554", "sex": "หญิง", "religion_th": "พุทธ",
    "father_name_th": "นายสมชาย ศรีสุวรรณ์", "mother_name_th": "นางกาญจนา ศรีสุวรรณ์",
    "admission_date": "2023-05-16", "previous_school_th": "โรงเรียนวัดช่องลม",
    "graduation_date": "31/03/2569", "programme_code": "LS-2551",
    "programme_name_th": "หลักสูตรแกนกลาง ระดับมัธยมศึกษาตอนต้น",
    "programme_name_en": "Core Curriculum, Lower Secondary", "programme_level": "ม.3",
}
STUDENT_B = {**STUDENT_A, "student_id": "66002", "national_id": NID_B, "prefix_th": "นาย",
             "first_name_th": "ณัฐวุฒิ", "last_name_th": "ทองประเสริฐ", "prefix_en": "Mr.",
             "first_name_en": "Nattawut", "last_name_en": "Thongprasert", "sex": "ชาย",
             "religion_th": "", "father_name_th": "", "mother_name_th": ""}


def course(year: str, sem: str, code: str, th: str, en: str, credits: str, grade: str,
           ctype: str = "basic", area: str = "") -> dict[str, str]:
    return {"record_type": "course", "academic_year": year, "semester": sem, "code": code,
            "name_th": th, "name_en": en, "course_type": ctype, "credits": credits,
            "grade": grade, "learning_area": area}


def items() -> list[dict[str, str]]:
    return [
        course("2567", "2", "ค21102", "คณิตศาสตร์ 2", "Mathematics 2", "1.5", "3.5"),
        course("2566", "1", "ท21101", "ภาษาไทย 1", "Thai Language 1", "1.5", "4"),
        course("2566", "1", "อ21201", "ภาษาอังกฤษเพื่อการสื่อสาร 1", "English for Communication 1",
               "1", "ร", "additional", "foreign"),
        {"record_type": "activity", "academic_year": "2566", "name_th": "แนะแนว",
         "name_en": "Guidance", "hours": "40", "grade": "ผ"},
        {"record_type": "assessment", "code": "reading_thinking_writing", "grade": "ดีเยี่ยม"},
        {"record_type": "assessment", "code": "desirable_characteristics", "grade": "ดี"},
    ]


def table(dict_rows: list[dict[str, str]], columns: tuple[str, ...] = ALL_COLUMNS
          ) -> list[list[str]]:
    return [list(columns), *([r.get(c, "") for c in columns] for r in dict_rows)]


def school_rows() -> list[dict[str, str]]:
    """Rows 2-7 student A, rows 8-13 student B."""
    return [{**STUDENT_A, **i} for i in items()] + [{**STUDENT_B, **i} for i in items()]


def errors_at(result: BatchResult) -> set[tuple[int, str]]:
    return {(e.row, e.column) for e in result.errors}


# --- a valid batch --------------------------------------------------------------------

def test_valid_school_batch_parses_to_records() -> None:
    result = parse_batch(table(school_rows()), SCHOOL, today=TODAY)
    assert result.ok and result.errors == ()
    a, b = result.records
    assert a.institution_code == "1001" and a.signatories == ()
    assert a.student == Student(
        student_id="66001", national_id=NID_A,
        name=Person("เด็กหญิง", "กัญญ์ณัฏฐ์", "ศรีสุวรรณ์", "Miss", "Kanyanat", "Srisuwan"),
        birth_date=date(2011, 8, 14), sex="หญิง", religion_th="พุทธ",
        father_name_th="นายสมชาย ศรีสุวรรณ์", mother_name_th="นางกาญจนา ศรีสุวรรณ์",
        admission_date=date(2023, 5, 16), previous_school_th="โรงเรียนวัดช่องลม")
    assert a.programme == Programme("LS-2551", "หลักสูตรแกนกลาง ระดับมัธยมศึกษาตอนต้น",
                                    "Core Curriculum, Lower Secondary", level="ม.3")
    assert a.graduation_date == date(2026, 3, 31)
    # sorted by term, file order within a term; area inferred from the code letter
    assert [(c.term, c.code) for c in a.courses] == [
        (Term(2566, 1), "ท21101"), (Term(2566, 1), "อ21201"), (Term(2567, 2), "ค21102")]
    assert a.courses[0] == CourseResult(Term(2566, 1), "ท21101", "ภาษาไทย 1", "Thai Language 1",
                                        CourseType.BASIC, "4", Decimal("1.5"), 0, "thai")
    assert str(a.courses[1].credits) == "1.0"  # "1" is stored with one decimal
    assert a.courses[1].course_type is CourseType.ADDITIONAL
    assert a.activities == (ActivityResult(2566, "แนะแนว", "Guidance", 40, "ผ"),)
    assert a.assessments == Assessments("ดีเยี่ยม", "ดี")
    assert b.student.name.first_name_th == "ณัฐวุฒิ" and b.student.religion_th == ""
    assert b.student.nationality_th == "ไทย"


def test_valid_vocational_batch() -> None:
    person = {**STUDENT_B, "institution_code": "2001", "programme_code": "IND-AC-200",
              "programme_level": "200", "programme_total_hours": "200",
              "programme_cohort": "รุ่นที่ 1/2569", "graduation_date": "2026-08-28"}
    rows = [{**person, "record_type": "course", "academic_year": "2569", "semester": s,
             "code": f"AC-0{i}", "name_th": f"หน่วยที่ {i}", "name_en": f"Module {i}",
             "course_type": "module", "hours": h, "grade": "ผ่าน"}
            for i, (s, h) in enumerate([("1", "100"), ("", "60"), ("0", "40")], 1)]
    result = parse_batch(table(rows), VOC, today=TODAY)
    assert result.ok, [str(e) for e in result.errors]
    (rec,) = result.records
    assert rec.programme.total_hours == 200 and rec.programme.cohort == "1/2569"
    assert [(c.term, c.hours, c.credits) for c in rec.courses] == [
        (Term(2569, 0), 60, 0), (Term(2569, 0), 40, 0), (Term(2569, 1), 100, 0)]
    assert grading.summarise(rec, VOC.kind).graduated


# --- every error at once --------------------------------------------------------------

def test_several_errors_are_all_reported_with_row_and_column() -> None:
    rows = school_rows()
    rows[1]["grade"] = "A"  # row 3
    for r in rows[6:]:  # every row of student B: one bad national ID, reported once
        r["national_id"] = NID_B[:-1] + str((int(NID_B[-1]) + 1) % 10)
    rows[3]["first_name_th"] = "กัญญา"  # row 5: disagrees with row 2
    rows[0]["birth_date"] = "31/02/2554"  # row 2: no such date ...
    for r in rows[1:6]:  # ... on every row of student A, so only row 2 reports it
        r["birth_date"] = "31/02/2554"
    columns = tuple(c for c in ALL_COLUMNS if c != "grade")
    result = parse_batch(table(rows, columns), SCHOOL, today=TODAY)
    assert result.records == ()
    # "grade" is missing from the header, so the bad grade cannot be seen: put it back
    assert (1, "grade") in errors_at(result)
    result = parse_batch(table(rows), SCHOOL, today=TODAY)
    assert result.records == ()
    assert errors_at(result) == {(3, "grade"), (8, "national_id"), (5, "first_name_th"),
                                 (2, "birth_date")}
    by_column = {e.column: e for e in result.errors}
    assert by_column["grade"].value == "A"
    assert by_column["first_name_th"].value == "กัญญา"
    assert "row 2" in by_column["first_name_th"].reason_en
    assert by_column["national_id"].reason_th.startswith("เลขประจำตัวประชาชนไม่ถูกต้อง")
    assert [e.row for e in result.errors] == sorted(e.row for e in result.errors)


def test_missing_required_column_is_reported_and_other_checks_still_run() -> None:
    rows = school_rows()
    rows[0]["credits"] = "1.55"
    columns = tuple(c for c in ALL_COLUMNS if c not in ("national_id", "sex"))  # sex optional
    result = parse_batch(table(rows, columns), SCHOOL, today=TODAY)
    assert errors_at(result) == {(1, "national_id"), (2, "credits")}
    assert result.records == ()


def test_one_bad_row_rejects_the_whole_batch() -> None:
    rows = school_rows()
    rows[8]["credits"] = "0"
    result = parse_batch(table(rows), SCHOOL, today=TODAY)
    assert result.records == ()
    assert errors_at(result) == {(10, "credits")}


@pytest.mark.parametrize(("row", "column", "value", "needle"), [
    (0, "institution_code", "1002", "institution being imported"),
    (0, "semester", "3", "semester"),
    (0, "academic_year", "2023", "Buddhist Era"),
    (0, "course_type", "module", "course_type"),
    (0, "grade", "ผ่าน", "not a valid result"),
    (0, "credits", "1.25", "one decimal"),
    (0, "credits", "15", "at most 10"),
    (0, "credits", "หนึ่ง", "number"),
    (0, "code", "", "required"),
    (0, "learning_area", "cooking", "unknown learning area"),
    (3, "grade", "ผ่าน", "activity result"),
    (3, "hours", "0", "above 0"),
    (3, "semester", "1", "must be empty"),
    (4, "grade", "ดีมาก", "assessment result"),
    (4, "code", "reading", "assessment code"),
    (0, "record_type", "grade", "record_type"),
    (0, "sex", "M", "sex"),
    (0, "national_id", "110170020345", "13 digits"),
    (0, "admission_date", "2010-01-01", "after the birth date"),
    (0, "graduation_date", "2569-03-31", "CE year"),
])
def test_single_value_errors(row: int, column: str, value: str, needle: str) -> None:
    rows = school_rows()
    if rows[row].get(column, "") == rows[row + 1].get(column, "") and column in STUDENT_A:
        for r in rows[:6]:  # a student column: change it on all the student's rows
            r[column] = value
    else:
        rows[row][column] = value
    result = parse_batch(table(rows), SCHOOL, today=TODAY)
    assert len(result.errors) == 1, [str(e) for e in result.errors]
    (err,) = result.errors
    assert (err.row, err.column) == (row + 2, column)
    assert needle in err.reason_en
    assert err.reason_th and err.reason_th != err.reason_en


def test_programme_level_and_programme_agreement() -> None:
    rows = school_rows()
    for r in rows[:6]:
        r["programme_level"] = "ม.7"
    result = parse_batch(table(rows), SCHOOL, today=TODAY)
    assert errors_at(result) == {(2, "programme_level"), (8, "programme_level")}
    assert "must be one of" in result.errors[0].reason_en
    assert "same programme code differs from row 2" in result.errors[1].reason_en


def test_duplicate_course_in_a_term() -> None:
    rows = school_rows()
    rows.insert(2, dict(rows[1]))  # row 4 repeats row 3 (ท21101 in 2566/1)
    result = parse_batch(table(rows), SCHOOL, today=TODAY)
    (err,) = result.errors
    assert (err.row, err.column) == (4, "code") and "row 3" in err.reason_en


def test_same_course_code_in_another_term_is_fine() -> None:
    rows = school_rows()
    rows.insert(2, {**rows[1], "semester": "2"})
    assert parse_batch(table(rows), SCHOOL, today=TODAY).ok


def test_missing_assessment_and_no_courses() -> None:
    rows = [r for r in school_rows() if not (r["student_id"] == "66002"
                                              and r["record_type"] in ("course", "assessment"))]
    result = parse_batch(table(rows), SCHOOL, today=TODAY)
    assert {(e.row, e.column) for e in result.errors} == {(8, "record_type")}
    assert len(result.errors) == 3  # no courses, and neither assessment


def test_same_national_id_for_two_students() -> None:
    rows = school_rows()
    for r in rows[6:]:
        r["national_id"] = NID_A
    result = parse_batch(table(rows), SCHOOL, today=TODAY)
    assert errors_at(result) == {(8, "national_id")}


def test_vocational_rejects_school_rows_and_missing_hours() -> None:
    person = {**STUDENT_B, "institution_code": "2001", "programme_total_hours": "200"}
    rows = [
        {**person, "record_type": "course", "academic_year": "2569", "semester": "1",
         "code": "AC-01", "name_th": "หน่วย", "name_en": "Module", "course_type": "module",
         "hours": "", "grade": "ผ่าน", "credits": "1.0"},
        {**person, "record_type": "activity", "academic_year": "2569", "name_th": "แนะแนว",
         "name_en": "Guidance", "hours": "10", "grade": "ผ"},
    ]
    result = parse_batch(table(rows), VOC, today=TODAY)
    assert errors_at(result) == {(2, "hours"), (2, "credits"), (3, "record_type")}


def test_primary_course_may_state_hours_instead_of_credits() -> None:
    rows = [{**r, "programme_level": "ป.6"} for r in school_rows()]
    rows[0].update(credits="", hours="120")
    rows[1].update(credits="")  # no hours either
    result = parse_batch(table(rows), SCHOOL, today=TODAY)
    assert errors_at(result) == {(3, "hours")}


def test_header_problems() -> None:
    """Header errors name the column as written in row 1, its letter in the reason; only a
    column without a name is named by its letter."""
    header = [*ALL_COLUMNS, "national_id", "religon_th", ""]
    body = table(school_rows())[1:]
    body[0] = [*body[0], "", "พุทธ", "stray"]
    result = parse_batch([header, *body], SCHOOL, today=TODAY)
    n = len(ALL_COLUMNS)
    assert errors_at(result) == {(1, "national_id"), (1, "religon_th"),
                                 (1, column_letter(n + 2))}
    reasons = sorted(e.reason_en for e in result.errors)
    assert reasons == [
        f"column {column_letter(n + 2)} has values but no header",
        f"the column appears twice (columns D and {column_letter(n)})",
        f"unknown column name, in column {column_letter(n + 1)} (a typo?)"]


def test_empty_and_header_only_batches() -> None:
    assert parse_batch([], SCHOOL, today=TODAY).errors[0].row == 1
    result = parse_batch([list(ALL_COLUMNS), [""] * 3], SCHOOL, today=TODAY)
    assert not result.ok and "no student rows" in result.errors[0].reason_en


def test_blank_rows_are_skipped_but_keep_their_numbers() -> None:
    rows = table(school_rows())
    rows.insert(2, [""] * len(ALL_COLUMNS))  # a blank spreadsheet row 3
    rows[3][ALL_COLUMNS.index("grade")] = "9"  # the old row 3 is now row 4
    assert errors_at(parse_batch(rows, SCHOOL, today=TODAY)) == {(4, "grade")}


def test_batch_error_prints_one_clear_line() -> None:
    err = BatchError(5, "national_id", "1234", "เลขประจำตัวประชาชนไม่ถูกต้อง", "invalid national ID")
    text = str(err)
    assert "\n" not in text
    assert text == 'แถว/row 5, national_id = "1234": เลขประจำตัวประชาชนไม่ถูกต้อง / invalid national ID'
    assert str(BatchError(0, "", "", "ไฟล์ว่าง", "empty")) == "ไฟล์/file: ไฟล์ว่าง / empty"


# --- value parsers --------------------------------------------------------------------

@given(st.text("0123456789", min_size=12, max_size=12), st.integers(1, 9))
def test_national_id_check_digit(twelve: str, shift: int) -> None:
    good = with_check_digit(twelve)
    assert national_id_ok(good)
    assert parse_national_id(f"{good[0]}-{good[1:5]}-{good[5:10]}-{good[10:12]}-{good[12]}") == good
    wrong = good[:12] + str((int(good[12]) + shift) % 10)
    assert not national_id_ok(wrong)
    with pytest.raises(Invalid):
        parse_national_id(wrong)


def test_known_national_id() -> None:
    # 1·13 + 1·12 + 0·11 + 1·10 + 7·9 + 0·8 + 0·7 + 2·6 + 0·5 + 3·4 + 4·3 + 5·2 = 144;
    # 144 mod 11 = 1; (11 - 1) mod 10 = 0
    assert national_id_ok("1101700203450")
    assert not national_id_ok("1101700203451")
    assert not national_id_ok("110170020345")


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_dates_iso_and_thai_buddhist_era(d: date) -> None:
    assert parse_date(d.isoformat()) == d
    assert parse_date(f"{d.day:02d}/{d.month:02d}/{d.year + 543}") == d
    assert parse_date(f"{d.day}/{d.month}/{d.year + 543}") == d


@pytest.mark.parametrize("text", ["31/03/2026", "2569-03-31", "31-03-2569", "29/02/2566",
                                  "2026/03/31", "", "yesterday"])
def test_bad_dates(text: str) -> None:
    with pytest.raises(Invalid):
        parse_date(text)


def test_thai_digits_are_read() -> None:
    assert parse_date("๓๑/๐๓/๒๕๖๙") == date(2026, 3, 31)
    assert parse_credits("๑.๕") == Decimal("1.5")


@given(st.integers(1, 100))
def test_credits_one_decimal(tenths: int) -> None:
    value = Decimal(tenths) / 10
    assert parse_credits(format(value, "f")) == value
    assert parse_credits(format(value, "f")).as_tuple().exponent == -1


# --- round trip: records -> rows -> records -------------------------------------------

def to_rows(records: list[StudentRecord]) -> list[list[str]]:
    out = []
    for rec in records:
        s = rec.student
        person = {
            "institution_code": rec.institution_code, "student_id": s.student_id,
            "national_id": s.national_id, "prefix_th": s.name.prefix_th,
            "first_name_th": s.name.first_name_th, "last_name_th": s.name.last_name_th,
            "prefix_en": s.name.prefix_en, "first_name_en": s.name.first_name_en,
            "last_name_en": s.name.last_name_en, "birth_date": s.birth_date.isoformat(),
            "sex": s.sex, "programme_code": rec.programme.code,
            "programme_name_th": rec.programme.name_th,
            "programme_name_en": rec.programme.name_en, "programme_level": rec.programme.level,
        }
        for c in rec.courses:
            out.append({**person, **course(str(c.term.year), str(c.term.semester), c.code,
                                           c.name_th, c.name_en, format(c.credits, "f"),
                                           c.grade, c.course_type.value, c.learning_area)})
        for a in rec.activities:
            out.append({**person, "record_type": "activity", "academic_year": str(a.year),
                        "name_th": a.name_th, "name_en": a.name_en, "hours": str(a.hours),
                        "grade": a.result})
        for code in ("reading_thinking_writing", "desirable_characteristics"):
            out.append({**person, "record_type": "assessment", "code": code,
                        "grade": getattr(rec.assessments, code)})
    return table(out)


thai_name = st.text("กขคงจฉชซญดตถทธนบปผพฟภมยรลวศสหอฮะาิีึืุูเแโใไ่้๊๋ั์ณฐ", min_size=1,
                    max_size=12).filter(lambda t: t == t.strip())
latin_name = st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12).map(str.title)
# People's names must be spelt right (issuer.core.names): syllables, not any Thai letters.
_syllable = st.tuples(st.sampled_from(["", "เ", "แ", "โ", "ใ", "ไ"]),
                      st.sampled_from("กขคงจชซญดตถทธนบปผพฟมยรลวศสหอณฐ"),
                      st.sampled_from(["", "ั", "ิ", "ี", "ึ", "ื", "ุ", "ู"]),
                      st.sampled_from(["", "่", "้", "๊", "๋"]),
                      st.sampled_from(["", "น", "ม", "ง", "ก", "ด", "ย", "า", "ะ"]))
thai_person = st.lists(_syllable.map("".join), min_size=1, max_size=4).map("".join).filter(
    lambda t: name_problem(t, NameKind.THAI) is None)


@st.composite
def records(draw: st.DrawFn, sid: str) -> StudentRecord:
    area = st.sampled_from(list(grading.LEARNING_AREAS))
    n = draw(st.integers(1, 6))
    courses = tuple(sorted((
        CourseResult(Term(draw(st.integers(2560, 2570)), draw(st.sampled_from([1, 2]))),
                     f"ท2110{i}", draw(thai_name), draw(latin_name),
                     draw(st.sampled_from([CourseType.BASIC, CourseType.ADDITIONAL])),
                     draw(st.sampled_from(grading.SCHOOL_GRADES)),
                     Decimal(draw(st.integers(1, 40))) / 10, 0, draw(area))
        for i in range(n)), key=lambda c: c.term.sort_key()))
    courses = tuple(dataclasses.replace(c, credits=c.credits.quantize(Decimal("0.1")))
                    for c in courses)  # as the batch stores them: "1.0", not "1"
    acts = tuple(ActivityResult(y, "แนะแนว", "Guidance", draw(st.integers(1, 60)),
                                draw(st.sampled_from(grading.ACTIVITY_RESULTS)))
                 for y in sorted(draw(st.sets(st.integers(2560, 2570), max_size=3))))
    return StudentRecord(
        institution_code="1001",
        student=Student(sid, with_check_digit(draw(st.text("0123456789", min_size=12,
                                                            max_size=12))),
                        Person(draw(thai_person), draw(thai_person), draw(thai_person),
                               draw(latin_name), draw(latin_name), draw(latin_name)),
                        draw(st.dates(date(1990, 1, 1), date(2010, 1, 1))),  # before 2560
                        sex=draw(st.sampled_from(["", "ชาย", "หญิง"]))),
        programme=Programme("LS", "หลักสูตร", "Curriculum", level="ม.3"),
        courses=courses, activities=acts,
        assessments=Assessments(draw(st.sampled_from(grading.ASSESSMENT_RESULTS)),
                                draw(st.sampled_from(grading.ASSESSMENT_RESULTS))))


@settings(max_examples=60, deadline=None)
@given(st.tuples(records("S1"), records("S2")).filter(
    lambda rs: rs[0].student.national_id != rs[1].student.national_id))
def test_round_trip(recs: tuple[StudentRecord, StudentRecord]) -> None:
    result = parse_batch(to_rows(list(recs)), SCHOOL, today=TODAY)
    assert result.errors == ()
    assert result.records == recs


# --- cohort-size batches (issue 8): streaming, dates, blank values ---------------------

def test_rows_are_consumed_as_a_stream() -> None:
    """Any iterable of rows, read once (a generator, as the file reader yields them)."""
    pulled = []

    def rows() -> Iterator[list[str]]:
        for row in table(school_rows()):
            pulled.append(row)
            yield row

    result = parse_batch(rows(), SCHOOL, today=TODAY)
    assert result.ok and len(result.records) == 2 and len(pulled) == 13


def test_interleaved_students_are_still_grouped() -> None:
    rows = school_rows()
    interleaved = [r for pair in zip(rows[:6], rows[6:], strict=True) for r in pair]
    result = parse_batch(table(interleaved), SCHOOL, today=TODAY)
    assert result.records == parse_batch(table(rows), SCHOOL, today=TODAY).records


def test_birth_date_in_the_future() -> None:
    rows = school_rows()
    for r in rows[:6]:
        r["birth_date"] = "02/04/2569"  # 2026-04-02, the day after TODAY
        r["admission_date"] = r["graduation_date"] = ""
    result = parse_batch(table(rows), SCHOOL, today=TODAY)
    (err,) = result.errors  # not also "results before the year of birth"
    assert (err.row, err.column, err.value) == (2, "birth_date", "02/04/2569")
    assert "in the future (today is 2026-04-01)" in err.reason_en
    assert "01/04/2569" in err.reason_th
    for r in rows[:6]:
        r["birth_date"] = "01/04/2569"  # today is not the future ...
    result = parse_batch(table(rows), SCHOOL, today=TODAY)
    assert errors_at(result) == {(2, "academic_year")}  # ... but results before it are


def test_results_before_the_year_of_birth() -> None:
    """Rule: an academic year (BE) earlier than the BE year of birth is an error, once per
    student, at its first such row; the same year is accepted."""
    rows = school_rows()  # student A: 2567 on row 2; 2566 on rows 3, 4 and 5 (activity)
    for r in rows[:6]:
        r["birth_date"] = "01/01/2567"
        r["admission_date"] = r["graduation_date"] = ""
    result = parse_batch(table(rows), SCHOOL, today=TODAY)
    (err,) = result.errors
    assert (err.row, err.column, err.value) == (3, "academic_year", "2566")
    assert err.reason_en == (
        "the academic year 2566 is before the student's year of birth (born 01/01/2567, "
        "row 2); and 2 more rows of this student: check the birth date and the academic "
        "years (Buddhist Era)")
    assert "ปีการศึกษา 2566 อยู่ก่อนปีเกิด" in err.reason_th and "อีก 2 แถว" in err.reason_th
    for r in rows[:6]:
        r["birth_date"] = "31/12/2566"  # born in the year of the earliest results
    assert parse_batch(table(rows), SCHOOL, today=TODAY).ok


def test_a_blank_required_value_on_a_later_row_is_required_not_different() -> None:
    rows = school_rows()
    rows[3]["first_name_th"] = ""  # row 5
    rows[4]["religion_th"] = ""  # row 6: optional, so it differs
    result = parse_batch(table(rows), SCHOOL, today=TODAY)
    by_row = {(e.row, e.column): e.reason_en for e in result.errors}
    assert by_row == {(5, "first_name_th"): "a value is required",
                      (6, "religion_th"): 'differs from row 2 of the same student ("พุทธ")'}


def test_a_blank_first_row_is_reported_there_only() -> None:
    rows = school_rows()
    rows[0]["last_name_en"] = ""
    assert errors_at(parse_batch(table(rows), SCHOOL, today=TODAY)) == {(2, "last_name_en")}


def test_too_many_rows_stops_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    import issuer.core.batch as core

    monkeypatch.setattr(core, "MAX_ROWS", 5)
    pulled = []

    def rows() -> Iterator[list[str]]:
        for row in table(school_rows()):
            pulled.append(row)
            yield row

    (err,) = parse_batch(rows(), SCHOOL, today=TODAY).errors
    assert err.row == 0 and "more than 5 rows" in err.reason_en
    assert len(pulled) == 7  # the header, 5 rows and the one too many


# --- the full ปพ.1 (issue 11): serial line, previous school's province, leaving ---------

FORM_FIELDS = {"previous_school_province_th": "นนทบุรี", "leave_date": "31/03/2569",
               "leave_reason_th": "จบการศึกษา", "form_set": "0012", "form_number": "000345"}


def test_form_fields_reach_the_record() -> None:
    rows = [{**STUDENT_A, **FORM_FIELDS, **i} for i in items()]
    result = parse_batch(table(rows), SCHOOL, today=TODAY)
    assert result.errors == ()
    (rec,) = result.records
    assert rec.student.previous_school_province_th == "นนทบุรี"
    assert rec.student.leave_date == date(2026, 3, 31)
    assert rec.student.leave_reason_th == "จบการศึกษา"
    assert (rec.form_set, rec.form_number) == ("0012", "000345")


@pytest.mark.parametrize(("values", "column"), [
    ({"leave_date": "2023-05-01"}, "leave_date"),  # before admission (2023-05-16)
    ({"leave_date": "2011-08-14"}, "leave_date"),  # the birth date
    ({"leave_date": "", "leave_reason_th": "ย้ายโรงเรียน"}, "leave_date"),
    ({"form_set": "ชุด 1"}, "form_set"),
    ({"form_number": "1" * 21}, "form_number"),
    ({"leave_reason_th": "=HYPERLINK(1)"}, "leave_reason_th"),
])
def test_form_field_errors_name_row_and_column(values: dict[str, str], column: str) -> None:
    rows = [{**STUDENT_A, **FORM_FIELDS, **values, **i} for i in items()]
    result = parse_batch(table(rows), SCHOOL, today=TODAY)
    assert (2, column) in errors_at(result)


def test_form_fields_must_agree_across_a_students_rows() -> None:
    rows = [{**STUDENT_A, **FORM_FIELDS, **i} for i in items()]
    rows[2] = {**rows[2], "form_number": "000346"}
    assert (4, "form_number") in errors_at(parse_batch(table(rows), SCHOOL, today=TODAY))
