"""Names at import (pure): malformed ones refused with row and column, real hard names
accepted, a prefix against the sex a warning."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from openpyxl import Workbook

from issuer.adapters.batchfile import load_batch
from issuer.core.batch import BatchWarning, parse_batch
from issuer.core.names import NameKind, name_problem, prefix_sex_conflicts
from tests.unit.test_batch import SCHOOL, STUDENT_A, TODAY, items, school_rows, table

HARD_NAMES = ["ปิ่นปั้น", "ญาญ่าน้ำผึ้ง", "ศักดิ์สิทธิ์", "สุรศักดิ์", "บุญเกื้อกูล", "ฤทธิ์",
              "ฤๅษี", "ณ อยุธยา", "กัญญ์ณัฏฐ์", "ศรีสุวรรณ์", "พันธุ์ทิพย์", "เกาะแก้ว",
              "ไพฑูรย์", "เก็จมณี", "ก๋วยเตี๋ยว", "ภูมิพัฒน์", "พฤกษ์"]


@pytest.mark.parametrize("name", HARD_NAMES)
def test_real_hard_thai_names_pass(name: str) -> None:
    assert name_problem(name, NameKind.THAI) is None


@pytest.mark.parametrize("name", ["O'Brien", "Mary-Jane", "St. John", "José", "D\u2019Souza"])
def test_real_english_names_pass(name: str) -> None:
    assert name_problem(name, NameKind.LATIN) is None


@pytest.mark.parametrize(("name", "needle"), [
    ("จักรพันธ์ุ์", "◌ุ after ◌์"),  # two thanthakhat around a vowel (the issue's)
    ("ก่่มล", "two tone marks"),
    ("กิีรติ", "two vowels or marks"),
    ("่สมชาย", "no consonant under it"),
    ("สม ่ชาย", "no consonant under it"),
    ("นํา", "ำ typed as two characters"),
    ("นำ้ฝน", "the tone mark comes before ำ"),
    ("ำนาญ", "ำ must follow a consonant"),
    ("เเก้ว", "not เเ"),
    ("สมชาย1", "no digits"),
    ("สมชาย๑", "no digits"),
    ("สม\u200bชาย", "U+200B"),
    ("สม\tชาย", "U+0009"),
    ("สม\u202eชาย", "U+202E"),
    ("สมชาย!", "only Thai letters"),
    ("Somchai", "only Thai letters"),
    ("ก" * 75, "longer than 50"),
    ("สม  ชาย", "two spaces"),
])
def test_malformed_thai_names_are_refused(name: str, needle: str) -> None:
    problem = name_problem(name, NameKind.THAI)
    assert problem is not None and needle in problem.en and problem.th


@pytest.mark.parametrize(("name", "needle"), [
    ("Smith2", "no digits"), ("Sm\u00a0ith", "U+00A0"), ("Sm@th", "only Latin letters"),
    ("สมชาย", "only Latin letters"), ("A" * 51, "longer than 50"), ("'Ann", "start with a letter"),
])
def test_malformed_english_names_are_refused(name: str, needle: str) -> None:
    problem = name_problem(name, NameKind.LATIN)
    assert problem is not None and needle in problem.en


BAD = {"last_name_th": "จักรพันธ์ุ์", "first_name_th": "สมชาย\x07", "last_name_en": "Srisuwan3",
       "first_name_en": "K" * 75}


def test_each_malformed_name_is_an_error_with_row_and_column_and_rejects_the_batch() -> None:
    rows = school_rows()  # rows 2-7 student A, 8-13 student B
    for r in rows[6:]:
        r.update(BAD)
    result = parse_batch(table(rows), SCHOOL, today=TODAY)
    assert result.records == ()
    named = {(e.row, e.column) for e in result.errors}
    assert named == {(8, col) for col in BAD}  # once, at the student's first row
    by_col = {e.column: e for e in result.errors}
    assert "◌ุ after ◌์" in by_col["last_name_th"].reason_en
    assert "U+0007" in by_col["first_name_th"].reason_en
    assert "no digits" in by_col["last_name_en"].reason_en
    assert "longer than 50" in by_col["first_name_en"].reason_en
    assert str(by_col["last_name_th"]).startswith('แถว/row 8, last_name_th = "จักรพันธ์ุ์": ')


def test_parent_names_and_prefixes_are_checked_too() -> None:
    rows = [{**STUDENT_A, "father_name_th": "นายสมชาย ศรีสุวรรณ์2", "prefix_th": "ด.ญ.",
             "prefix_en": "Miss", **i} for i in items()]
    result = parse_batch(table(rows), SCHOOL, today=TODAY)
    assert {(e.row, e.column) for e in result.errors} == {(2, "father_name_th")}


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def _xlsx(rows: list[list[str]]) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.parametrize("encode", [_csv, _xlsx])
def test_a_file_with_a_malformed_name_is_rejected_whole(
        encode: Callable[[list[list[str]]], bytes]) -> None:
    rows = school_rows()
    for r in rows[6:]:  # student B, rows 8-13
        r["last_name_th"] = "จักรพันธ์ุ์"
    result = load_batch(encode(table(rows)), SCHOOL, today=TODAY)
    assert result.records == ()
    assert [(e.row, e.column) for e in result.errors] == [(8, "last_name_th")]


def test_hard_names_import() -> None:
    rows = [{**STUDENT_A, "first_name_th": first, "last_name_th": last, **i}
            for first, last in [("ญาญ่าน้ำผึ้ง", "ปิ่นปั้น")] for i in items()]
    result = parse_batch(table(rows), SCHOOL, today=TODAY)
    assert result.ok
    assert result.records[0].student.name.name_th == "ญาญ่าน้ำผึ้ง ปิ่นปั้น"


# --- prefix and sex: a warning, not an error --------------------------------------------

@pytest.mark.parametrize(("th", "en", "sex", "columns"), [
    ("นาย", "Mr", "หญิง", ["prefix_th", "prefix_en"]),
    ("นางสาว", "Miss", "ชาย", ["prefix_th", "prefix_en"]),
    ("เด็กหญิง", "Mr.", "หญิง", ["prefix_en"]),
    ("นาง", "Mrs", "", []),
    ("นาย", "Ms", "", ["prefix_en"]),
    ("ว่าที่ร้อยตรี", "Acting Sub Lt.", "หญิง", []),  # a rank states no sex
    ("นาย", "Mr", "ชาย", []),
])
def test_prefix_sex_conflicts(th: str, en: str, sex: str, columns: list[str]) -> None:
    assert [col for col, _ in prefix_sex_conflicts(th, en, sex)] == columns


def test_prefix_against_sex_imports_with_a_warning() -> None:
    rows = school_rows()
    for r in rows[6:]:  # student B: นาย / Mr. but หญิง
        r["sex"] = "หญิง"
    result = parse_batch(table(rows), SCHOOL, today=TODAY)
    assert result.ok and len(result.records) == 2
    assert result.warnings == (
        BatchWarning(8, "prefix_th", "นาย", "คำนำหน้า นาย ไม่ตรงกับเพศ หญิง: ตรวจสอบแล้วยืนยัน",
                     "the prefix นาย does not match the sex หญิง (female): check it, then "
                     "confirm"),
        BatchWarning(8, "prefix_en", "Mr.", "คำนำหน้า Mr. ไม่ตรงกับเพศ หญิง: ตรวจสอบแล้วยืนยัน",
                     "the prefix Mr. does not match the sex หญิง (female): check it, then "
                     "confirm"),
    )
