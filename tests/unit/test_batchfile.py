"""Reading batch files: CSV encodings, XLSX cells, limits, and the sample batches."""

from __future__ import annotations

import csv
import importlib.util
import io
import zipfile
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from issuer.adapters import batchfile
from issuer.adapters.batchfile import (
    BatchFileError,
    cell_text,
    decode_text,
    load_batch,
    read_csv,
    read_rows,
)
from issuer.core import grading
from issuer.core.batch import ALL_COLUMNS
from issuer.core.records import Institution, InstitutionKind

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SCHOOL = Institution("1001", InstitutionKind.SCHOOL, "โรงเรียนวัดดอน (สำนักงานเขตสาทร)",
                     "Wat Don School (Sathon District Office)")
VOC = Institution("2001", InstitutionKind.VOCATIONAL, "โรงเรียนฝึกอาชีพกรุงเทพมหานคร (ดินแดง 1)",
                  "BMA Vocational Training School (Din Daeng 1)")


def example(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()


def make_examples() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_examples", EXAMPLES / "make_examples.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the sample batches ---------------------------------------------------------------

def test_school_sample_parses_to_expected_records() -> None:
    result = load_batch(example("school-batch.csv"), SCHOOL)
    assert result.errors == ()
    assert [r.student.name.full_name_th for r in result.records] == [
        "เด็กหญิงกัญญ์ณัฏฐ์ ศรีสุวรรณ์", "นายณัฐวุฒิ ทองประเสริฐ", "นางสาวพิมพ์ชนก แก้วมณีวงศ์",
        "เด็กชายธีรภัทร์ เรืองศรีสุข", "นางสาวปุณยนุช ชื่นฤทัย", "นายศุภณัฐ เพ็ชรบุญเรือง"]
    first = result.records[0]
    assert first.student.birth_date == date(2011, 8, 14)  # 14/08/2554 BE
    assert first.student.admission_date == date(2023, 5, 16)
    assert first.graduation_date == date(2026, 3, 31)
    assert len(first.courses) == 72 and len(first.activities) == 12
    assert first.courses[0].code == "ท21101" and first.courses[0].credits == Decimal("1.5")
    assert sorted({(c.term.year, c.term.semester) for c in first.courses}) == [
        (y, s) for y in (2566, 2567, 2568) for s in (1, 2)]
    summaries = [grading.summarise(r, SCHOOL.kind) for r in result.records]
    assert [s.graduated for s in summaries] == [True] * 5 + [False]
    assert all(s.credits_basic == 66 for s in summaries[:5])
    assert summaries[2].credits_additional == 11  # a 0 in ค22201, still enough
    last = result.records[-1]
    assert last.graduation_date is None
    assert [c.grade for c in last.courses if c.code == "ว23102"] == ["ร"]


def test_vocational_sample_parses_to_expected_records() -> None:
    result = load_batch(example("vocational-batch.csv"), VOC)
    assert result.errors == ()
    assert len(result.records) == 6
    for rec in result.records:
        assert rec.programme.total_hours == 200 and rec.programme.cohort == "1/2569"
        assert sum(c.hours for c in rec.courses) == 200
        assert all(c.grade == "ผ่าน" for c in rec.courses)
        assert rec.graduation_date == date(2026, 8, 28)
        assert grading.summarise(rec, VOC.kind).graduated


@pytest.mark.parametrize(("stem", "institution"), [("school-batch", SCHOOL),
                                                    ("vocational-batch", VOC)])
def test_xlsx_gives_the_same_records_as_csv(stem: str, institution: Institution) -> None:
    from_csv = load_batch(example(f"{stem}.csv"), institution)
    from_xlsx = load_batch(example(f"{stem}.xlsx"), institution)
    assert from_xlsx.errors == ()
    assert from_xlsx.records == from_csv.records
    assert len(from_xlsx.records) == 6


def test_samples_are_what_the_generator_writes() -> None:
    gen = make_examples()
    for stem, rows, columns in (("school-batch", gen.school_rows(), gen.SCHOOL_COLUMNS),
                                ("vocational-batch", gen.vocational_rows(),
                                 gen.VOCATIONAL_COLUMNS)):
        data = gen.to_csv(rows, columns)
        assert data == example(f"{stem}.csv")
        assert gen.csv_to_xlsx(data) == example(f"{stem}.xlsx")


def test_sample_xlsx_holds_typed_cells() -> None:
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(example("school-batch.xlsx")), read_only=True).worksheets[0]
    header, first = list(ws.iter_rows(min_row=1, max_row=2, values_only=True))
    row = dict(zip(header, first, strict=True))
    assert row["credits"] == 1.5 and isinstance(row["academic_year"], int)
    assert isinstance(row["birth_date"], datetime)


# --- encodings ------------------------------------------------------------------------

THAI_CSV = ("record_type,first_name_th,last_name_th\r\n"
            "course,กัญญ์ณัฏฐ์,ศรีสุวรรณ์\r\n"
            "course,\"ณัฐวุฒิ, จูเนียร์\",ทองประเสริฐ\r\n")
THAI_ROWS = [["record_type", "first_name_th", "last_name_th"],
             ["course", "กัญญ์ณัฏฐ์", "ศรีสุวรรณ์"], ["course", "ณัฐวุฒิ, จูเนียร์", "ทองประเสริฐ"]]


def test_utf8_without_bom() -> None:
    data = THAI_CSV.encode("utf-8")
    assert data[:3] != b"\xef\xbb\xbf"
    assert decode_text(data)[1] == "utf-8"
    assert list(read_rows(data)) == THAI_ROWS


def test_utf8_with_bom_drops_the_bom() -> None:
    data = THAI_CSV.encode("utf-8-sig")
    assert data.startswith(b"\xef\xbb\xbf")
    assert decode_text(data)[1] == "utf-8-sig"
    assert next(read_rows(data))[0] == "record_type"  # not "\ufeffrecord_type"
    assert list(read_rows(data)) == THAI_ROWS


@pytest.mark.parametrize("codec", ["cp874", "tis_620"])
def test_windows_874_and_tis_620(codec: str) -> None:
    data = THAI_CSV.encode(codec)
    assert "ก".encode(codec) == b"\xa1"  # one byte a letter: really not UTF-8
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert decode_text(data) == (THAI_CSV, "cp874")
    assert list(read_rows(data)) == THAI_ROWS


def test_cp874_sample_batch_round_trip() -> None:
    text = example("school-batch.csv").decode("utf-8")
    data = text.encode("cp874")
    assert load_batch(data, SCHOOL).records == load_batch(example("school-batch.csv"),
                                                          SCHOOL).records


@pytest.mark.parametrize("data", [
    b"\x81\x82\x83\xfc\xfd,\xfe\xff\r\n",  # neither UTF-8 nor Windows-874
    b"name\r\n\x80\x85\x93\x94\r\n",  # decodes as cp874 but holds no Thai
    "ชื่อ,\x00\r\n".encode(),  # a NUL: binary, not text
    "ชื่อ,\x85\r\n".encode(),  # a C1 control character
    "ชื่อ\r\n".encode("utf-16"),  # UTF-16 with its BOM
    b"\xef\xbb\xbf\xa1\xa2\r\n",  # a UTF-8 BOM on bytes that are not UTF-8
])
def test_undecodable_files_are_refused(data: bytes) -> None:
    with pytest.raises(BatchFileError) as info:
        list(read_rows(data))
    err = info.value.error
    assert err.row == 0 and err.reason_th and err.reason_en
    result = load_batch(data, SCHOOL)
    assert result.records == () and result.errors == (err,)


# --- other files ----------------------------------------------------------------------

def _zip(names: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, body in names.items():
            z.writestr(name, body)
    return out.getvalue()


@pytest.mark.parametrize(("data", "needle"), [
    (b"", "empty"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, ".xls"),
    (_zip({"content.xml": b"<office/>", "mimetype": b"application/vnd.oasis"}), "not an Excel"),
    (b"PK\x03\x04garbage", "damaged"),
    (b"record_type;student_id\r\ncourse;1\r\n", "commas"),
])
def test_files_that_are_not_batches(data: bytes, needle: str) -> None:
    with pytest.raises(BatchFileError) as info:
        list(read_rows(data))
    assert needle in info.value.error.reason_en


def test_size_limits_per_format(monkeypatch: pytest.MonkeyPatch) -> None:
    """CSV and XLSX have limits of their own (intentional change: one 20 MB limit before)."""
    monkeypatch.setattr(batchfile, "MAX_CSV_BYTES", 100)
    with pytest.raises(BatchFileError, match="CSV file is larger than"):
        list(read_rows(b"a," * 60))
    assert list(read_rows(b"a," * 40))
    xlsx = example("vocational-batch.xlsx")
    assert list(read_rows(xlsx))
    monkeypatch.setattr(batchfile, "MAX_XLSX_BYTES", len(xlsx) - 1)
    with pytest.raises(BatchFileError, match="XLSX file is larger than") as info:
        list(read_rows(xlsx))
    assert "split it into several files" in info.value.error.reason_en


def test_row_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batchfile, "MAX_ROWS", 3)
    assert len(list(read_rows(b"h\r\n1\r\n2\r\n3\r\n"))) == 4
    with pytest.raises(BatchFileError, match="more than 3 rows"):
        list(read_rows(b"h\r\n1\r\n2\r\n3\r\n4\r\n"))
    wb = Workbook()
    for i in range(6):
        wb.active.append([f"r{i}"])
    raw = io.BytesIO()
    wb.save(raw)
    with pytest.raises(BatchFileError, match="more than 3 rows"):
        list(read_rows(raw.getvalue()))


# --- XLSX cells -----------------------------------------------------------------------

@pytest.mark.parametrize(("value", "text"), [
    (None, ""), (1.0, "1.0"), (1.5, "1.5"), (40, "40"), (2566, "2566"),
    (1101700203450, "1101700203450"), (datetime(2026, 3, 31), "2026-03-31"),
    (datetime(2026, 3, 31, 8, 30), "2026-03-31T08:30:00"), (date(2011, 8, 14), "2011-08-14"),
    (time(8, 30), "08:30:00"), (True, "TRUE"), ("ภาษาไทย 1", "ภาษาไทย 1"),
])
def test_cell_text(value: object, text: str) -> None:
    assert cell_text(value) == text


def test_xlsx_blank_rows_keep_spreadsheet_row_numbers() -> None:
    csv_rows = list(read_rows(example("school-batch.csv")))
    wb = Workbook()
    ws = wb.active
    ws.append(csv_rows[0])
    ws.append(csv_rows[1])
    bad = list(csv_rows[2])
    bad[csv_rows[0].index("grade")] = "4.0"
    ws.cell(row=4, column=1)  # row 3 stays empty
    for col, value in enumerate(bad, 1):
        ws.cell(row=4, column=col, value=value)
    raw = io.BytesIO()
    wb.save(raw)
    rows = list(read_rows(raw.getvalue()))
    assert rows[2] == [] and rows[3] == bad
    errors = [e for e in load_batch(raw.getvalue(), SCHOOL).errors if e.column == "grade"]
    assert [(e.row, e.value) for e in errors] == [(4, "4.0")]


def test_xlsx_reads_the_first_sheet() -> None:
    wb = Workbook()
    wb.active.append(["a", "b"])
    wb.active.append([1.5, "x"])
    wb.create_sheet("other").append(["y"])
    raw = io.BytesIO()
    wb.save(raw)
    assert list(read_rows(raw.getvalue())) == [["a", "b"], ["1.5", "x"]]


# --- CSV round trip -------------------------------------------------------------------

cell = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=20)
thai_cell = st.text("กขคฆงจฉชซญฎฏฐดตถทธนบปผพภมยรลวศษสหอฮะัาำิีึืุูเแโใไๆ่้๊๋็์ ,\"'0123456789abc",
                    max_size=20)


def _write(rows: list[list[str]], encoding: str) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


@settings(max_examples=80)
@given(st.lists(st.lists(cell, min_size=2, max_size=5), min_size=1, max_size=6))
def test_utf8_csv_round_trip(rows: list[list[str]]) -> None:
    rows[0][0] = "h" + rows[0][0]  # never an empty header line
    assert list(read_csv(_write(rows, "utf-8"))) == rows
    assert list(read_csv(_write(rows, "utf-8-sig"))) == rows


@settings(max_examples=80)
@given(st.lists(st.lists(thai_cell, min_size=2, max_size=5), min_size=1, max_size=6))
def test_cp874_csv_round_trip(rows: list[list[str]]) -> None:
    rows[0][0] = "ชื่อ" + rows[0][0]  # Thai somewhere, as any Thai batch has
    assert list(read_csv(_write(rows, "cp874"))) == rows


def test_all_columns_header_reads_back() -> None:
    data = (",".join(ALL_COLUMNS) + "\r\n").encode()
    assert list(read_rows(data)) == [list(ALL_COLUMNS)]


def test_the_documented_example_is_valid() -> None:
    doc = (ROOT / "docs" / "batch-format.md").read_text(encoding="utf-8")
    block = doc.split("```csv\n", 1)[1].split("```", 1)[0]
    result = load_batch(block.encode(), SCHOOL)
    assert result.errors == ()
    (rec,) = result.records
    assert [c.code for c in rec.courses] == ["ท21101", "I20201"]
    assert rec.courses[1].learning_area == "is"
