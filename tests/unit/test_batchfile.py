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
from issuer.adapters import xlsx as xlsx_reader
from issuer.adapters.batchfile import (
    BatchFileError,
    cell_text,
    decode_text,
    load_batch,
    read_csv,
    read_rows,
)
from issuer.adapters.xlsx import MAX_SHARED_STRINGS
from issuer.core import grading
from issuer.core.batch import ALL_COLUMNS, MAX_CELL, MAX_COLUMNS, column_letter
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


# --- cohort-size files (issue 8): streaming sources, progress ---------------------------

TODAY = date(2026, 4, 1)


def test_rows_are_streamed_not_read_whole() -> None:
    data = example("school-batch.csv")
    stream = io.BytesIO(data)
    rows = read_rows(stream)
    assert not isinstance(rows, list)
    assert next(rows)[0] == "record_type"
    assert stream.tell() < len(data) // 4  # the first 64 KB decide the encoding
    assert sum(1 for _ in rows) == 516


def test_load_batch_takes_bytes_a_path_or_a_file(tmp_path: Path) -> None:
    expected = load_batch(example("school-batch.xlsx"), SCHOOL, today=TODAY).records
    assert len(expected) == 6
    for name in ("school-batch.csv", "school-batch.xlsx"):
        assert load_batch(EXAMPLES / name, SCHOOL, today=TODAY).records == expected
        assert load_batch(str(EXAMPLES / name), SCHOOL, today=TODAY).records == expected
        with (EXAMPLES / name).open("rb") as f:
            f.read(10)  # a file is read from its start, and left open
            assert load_batch(f, SCHOOL, today=TODAY).records == expected
            assert not f.closed


def test_progress_reports_data_rows_as_they_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batchfile, "PROGRESS_EVERY", 100)
    calls: list[int] = []
    assert load_batch(example("school-batch.csv"), SCHOOL, today=TODAY,
                      progress=calls.append).ok
    assert calls == [100] * 5 + [16]  # 516 data rows


def test_today_defaults_to_bangkok() -> None:
    assert batchfile.bangkok_today() == datetime.now(batchfile.BANGKOK).date()
    future = example("school-batch.csv").replace(b"14/08/2554", b"14/08/2600")
    errors = load_batch(future, SCHOOL).errors
    assert [(e.row, e.column) for e in errors if "future" in e.reason_en] == [(2, "birth_date")]


def test_an_undecodable_byte_after_the_probe_refuses_the_file() -> None:
    data = example("school-batch.csv")
    assert len(data) > batchfile.ENCODING_PROBE
    bad = data[:-200] + "ก".encode("cp874") + data[-199:]  # cp874 in a UTF-8 file
    (err,) = load_batch(bad, SCHOOL, today=TODAY).errors
    assert err.row == 0 and "cannot read the file" in err.reason_en


def test_limits_are_stated_in_the_format_document() -> None:
    doc = (ROOT / "docs" / "batch-format.md").read_text(encoding="utf-8")
    for figure in (f"{batchfile.MAX_CSV_BYTES // batchfile.MB} MB",
                   f"{batchfile.MAX_XLSX_BYTES // batchfile.MB} MB",
                   f"{xlsx_reader.MAX_SHEET_INFLATED // batchfile.MB} MB",
                   f"{xlsx_reader.MAX_PARTS_INFLATED // batchfile.MB} MB",
                   f"{batchfile.MAX_ROWS:,}", f"{MAX_COLUMNS} columns",
                   f"{MAX_CELL} characters", f"{MAX_SHARED_STRINGS:,}"):
        assert figure in doc


# --- XLSX: cells read as openpyxl reads them ------------------------------------------

def _parts(data: bytes, replace: dict[str, bytes]) -> bytes:
    """The workbook `data` with parts replaced or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename not in replace:
                dst.writestr(info, src.read(info.filename))
        for name, body in replace.items():
            dst.writestr(name, body)
    return out.getvalue()


def _workbook(*rows: list[object], merge: str = "") -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    if merge:
        wb.active.merge_cells(merge)
    raw = io.BytesIO()
    wb.save(raw)
    return raw.getvalue()


MAIN_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
SHARED = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst {MAIN_NS} count="3" uniqueCount="3"><si><t>course</t></si>
<si><r><rPr><b/></rPr><t>กัญญ์</t></r><r><t xml:space="preserve">ณัฏฐ์ </t></r>
<rPh sb="0" eb="1"><t>ignored</t></rPh></si><si><t>z</t></si></sst>""".encode()
SHEET = f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment before the root is fine -->
<worksheet {MAIN_NS}><sheetData>
<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>
<c r="C1" t="inlineStr"><is><r><t>in</t></r><r><t>line</t></r></is></c></row>
<row r="2"><c r="A2"><v>1.5</v></c><c r="B2" s="1"><v>40</v></c><c r="C2" s="2"><v>45000.5</v></c>
<c r="D2" s="3"><v>2.5</v></c><c r="E2" t="b"><v>1</v></c><c r="F2" t="str"><f>"x"</f><v>x</v></c>
<c r="G2" t="e"><f>1/0</f><v>#DIV/0!</v></c><c r="H2"><f>1+1</f><v>2</v></c>
<c r="I2" t="str"><f>""</f><v></v></c><c r="K2" t="n"><v>2566</v></c><c r="L2" s="9"/></row>
<row r="4"><c r="A4" t="s"><v>2</v></c><c r="B4" s="1"><v>45382</v></c></row>
<row r="6"/></sheetData></worksheet>""".encode()
XFS = ('<numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy hh:mm"/></numFmts>',
       '<cellXfs count="4"><xf numFmtId="0" xfId="0"/><xf numFmtId="14" xfId="0"/>'
       '<xf numFmtId="164" xfId="0"/><xf numFmtId="2" xfId="0"/></cellXfs>')


def _rich_workbook(date1904: bool) -> bytes:
    base = _workbook(["x"])
    with zipfile.ZipFile(io.BytesIO(base)) as z:
        styles = z.read("xl/styles.xml").decode()
        workbook = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        types = z.read("[Content_Types].xml").decode()
    styles = styles.replace('<numFmts count="0"/>', XFS[0])
    start, end = styles.index("<cellXfs"), styles.index("</cellXfs>") + len("</cellXfs>")
    styles = styles[:start] + XFS[1] + styles[end:]
    if date1904:
        workbook = workbook.replace("<workbookPr/>", '<workbookPr date1904="1"/>')
    rels = rels.replace("</Relationships>", '<Relationship Id="rIdS" Type="http://schemas.'
                        'openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
                        'Target="sharedStrings.xml"/></Relationships>')
    types = types.replace("</Types>", '<Override PartName="/xl/sharedStrings.xml" ContentType='
                          '"application/vnd.openxmlformats-officedocument.spreadsheetml.'
                          'sharedStrings+xml"/></Types>')
    return _parts(base, {"xl/styles.xml": styles.encode(), "xl/workbook.xml": workbook.encode(),
                         "xl/_rels/workbook.xml.rels": rels.encode(),
                         "[Content_Types].xml": types.encode(), "xl/sharedStrings.xml": SHARED,
                         "xl/worksheets/sheet1.xml": SHEET})


def _as_openpyxl_reads(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    rows = []
    for values in wb.worksheets[0].iter_rows(values_only=True):
        row = [cell_text(v) for v in values]
        while row and not row[-1]:
            row.pop()
        rows.append(row)
    while rows and not rows[-1]:
        rows.pop()
    return rows


@pytest.mark.parametrize("date1904", [False, True])
def test_xlsx_cells_read_as_openpyxl_reads_them(date1904: bool) -> None:
    """Shared and rich-text strings (phonetic runs left out), inline strings, numbers, built-in
    and custom date formats, the 1904 date system, booleans, formula results and errors."""
    data = _rich_workbook(date1904)
    rows = list(read_rows(data))
    assert rows == _as_openpyxl_reads(data)
    assert rows[0] == ["course", "กัญญ์ณัฏฐ์ ", "inline"]
    assert rows[1][:9] == ["1.5", "1904-02-10" if date1904 else "1900-02-09",
                           "2027-03-16T12:00:00" if date1904 else "2023-03-15T12:00:00",
                           "2.5", "TRUE", "x", "#DIV/0!", "2", ""]
    assert rows[2] == [] and rows[3][0] == "z" and len(rows) == 4


# --- XLSX: formulas without a saved value, merged cells (issue 8) ---------------------

def _sample_rows() -> list[list[str]]:
    return list(read_rows(example("school-batch.csv")))


def test_a_formula_without_a_saved_value_is_named() -> None:
    """Before: the empty cell read as 0 hours, silently."""
    rows = _sample_rows()
    hours = rows[0].index("hours")
    rows[1][hours] = "=C2*40"  # openpyxl saves formulas without values, as some tools do
    data = _workbook(*rows)
    (err,) = load_batch(data, SCHOOL, today=TODAY).errors
    ref = f"{column_letter(hours)}2"
    assert (err.row, err.column, err.value) == (2, "hours", "")
    assert err.reason_en == (f"{ref}: a formula without a saved value: open the file in "
                             "Excel and save it, or paste values")
    assert f"เซลล์ {ref} เป็นสูตรที่ไม่มีค่าที่บันทึกไว้" in err.reason_th


def test_a_required_formula_cell_replaces_the_required_error() -> None:
    rows = _sample_rows()
    grade = rows[0].index("grade")
    rows[1][grade] = '=IF(TRUE,"4","0")'
    errors = load_batch(_workbook(*rows), SCHOOL, today=TODAY).errors
    assert [(e.row, e.column, "formula" in e.reason_en) for e in errors] == [(2, "grade", True)]


def test_many_formula_cells_in_a_column_are_summed_up() -> None:
    rows = _sample_rows()
    hours = rows[0].index("hours")
    for number in range(2, 27):  # 25 formula cells
        rows[number - 1][hours] = "=1"
    errors = load_batch(_workbook(*rows), SCHOOL, today=TODAY).errors
    assert len(errors) == 21 and {e.column for e in errors} == {"hours"}
    letter = column_letter(hours)
    assert errors[-1].row == 22
    assert errors[-1].reason_en.startswith(f"{letter}22 and 4 more cells below it in this "
                                           "column: formulas without a saved value")


def test_a_formula_with_a_saved_value_counts_by_it() -> None:
    sheet = SHEET.replace(b'<c r="A2"><v>1.5</v></c>', b'<c r="A2"><f>3/2</f><v>1.5</v></c>')
    problems: list = []
    assert list(read_rows(_parts(_rich_workbook(False), {"xl/worksheets/sheet1.xml": sheet}),
                          problems))[1][0] == "1.5"
    assert problems == []


def test_merged_cells_are_named_instead_of_puzzling_errors() -> None:
    """Before: "a value is required" on every covered row; now the merged range."""
    rows = _sample_rows()
    column = rows[0].index("first_name_th")
    letter = column_letter(column)
    data = _workbook(*rows, merge=f"{letter}2:{letter}5")
    errors = load_batch(data, SCHOOL, today=TODAY).errors
    assert [(e.row, e.column, e.value) for e in errors] == [(2, "first_name_th", "")]
    assert errors[0].reason_en.startswith(f"cells {letter}2:{letter}5 are merged: unmerge them")
    assert "ยกเลิกการผสานเซลล์" in errors[0].reason_th


def test_merged_cells_outside_the_data_are_ignored() -> None:
    rows = _sample_rows()
    data = _workbook(*rows, merge=f"A{len(rows) + 3}:C{len(rows) + 5}")
    assert load_batch(data, SCHOOL, today=TODAY).ok


# --- XLSX: hostile files --------------------------------------------------------------

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>"""


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/workbook.xml",
                                  "xl/styles.xml"])
@pytest.mark.parametrize("body", [
    LAUGHS,
    LAUGHS.replace(b"<?xml version=\"1.0\"?>", b"<?xml version=\"1.0\"?><!-- <a> -->"),
    b"\xef\xbb\xbf" + LAUGHS,
    b'<!DOCTYPE x SYSTEM "file:///etc/passwd"><worksheet/>',
])
def test_a_dtd_in_any_part_is_refused(part: str, body: bytes) -> None:
    data = _parts(_workbook(["a"]), {part: body})
    with pytest.raises(BatchFileError, match="declares a DTD"):
        list(read_rows(data))
    (err,) = load_batch(data, SCHOOL, today=TODAY).errors
    assert err.row == 0


@pytest.mark.parametrize("body", [b"", b"not xml", b"<worksheet><sheetData><row r='x'/>",
                                  b"<worksheet>&undefined;</worksheet>",
                                  b"\xef\xbb\xbf  " + LAUGHS])  # a declaration not first
def test_a_broken_sheet_is_damaged(body: bytes) -> None:
    data = _parts(_workbook(["a"]), {"xl/worksheets/sheet1.xml": body})
    with pytest.raises(BatchFileError, match="damaged"):
        list(read_rows(data))


def test_the_unpacked_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    data = example("vocational-batch.xlsx")
    monkeypatch.setattr(batchfile, "MAX_XLSX_UNPACKED", 10_000)
    with pytest.raises(BatchFileError, match="unpacks to more than"):
        list(read_rows(data))
