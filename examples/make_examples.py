"""Generate the sample batch files in examples/ (deterministic: same bytes every run).

    .venv/bin/python examples/make_examples.py

Writes school-batch.csv (a BMA lower-secondary school, six ม.3 students, three years)
and vocational-batch.csv (a 200-hour course, six trainees), then the .xlsx of each from
its CSV with openpyxl, typing the cells as a school's Excel would (numbers, dates).
"""

from __future__ import annotations

import csv
import io
import random
import zipfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
FIXED = datetime(2026, 3, 31, 9, 0, 0)

SCHOOL_COLUMNS = (
    "record_type", "institution_code", "student_id", "national_id", "prefix_th",
    "first_name_th", "last_name_th", "prefix_en", "first_name_en", "last_name_en",
    "birth_date", "sex", "religion_th", "father_name_th", "mother_name_th", "admission_date",
    "previous_school_th", "previous_school_province_th", "graduation_date", "leave_date",
    "leave_reason_th", "form_set", "form_number", "programme_code", "programme_name_th",
    "programme_name_en", "programme_level", "academic_year", "semester", "code", "name_th",
    "name_en", "course_type", "credits", "hours", "grade", "learning_area",
)
VOCATIONAL_COLUMNS = (
    "record_type", "institution_code", "student_id", "national_id", "prefix_th",
    "first_name_th", "last_name_th", "prefix_en", "first_name_en", "last_name_en",
    "birth_date", "sex", "graduation_date", "form_number", "programme_code",
    "programme_name_th", "programme_name_en", "programme_level", "programme_total_hours",
    "programme_cohort",
    "academic_year", "semester", "code", "name_th", "name_en", "course_type", "hours", "grade",
)
INTEGER_COLUMNS = {"academic_year", "semester", "hours", "programme_total_hours"}
DATE_COLUMNS = {"birth_date", "admission_date", "graduation_date", "leave_date"}


def national_id(rng: random.Random, prefix: str = "11028") -> str:
    """A 13-digit ID with a valid mod-11 check digit; the prefix is the person type (1 born
    after 1984, 3 registered earlier) and the district (1028 เขตสาทร, 1026 เขตดินแดง)."""
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(12 - len(prefix)))
    check = (11 - sum(int(d) * (13 - i) for i, d in enumerate(body)) % 11) % 10
    return body + str(check)


# --- school ---------------------------------------------------------------------------

# (code pattern, Thai, English, credits, area); {y} ม.1-3, {s} semester, {a}/{b} pairs.
BASIC = (
    ("ท2{y}10{s}", "ภาษาไทย", "Thai Language", "1.5", "thai"),
    ("ค2{y}10{s}", "คณิตศาสตร์", "Mathematics", "1.5", "math"),
    ("ว2{y}10{s}", "วิทยาศาสตร์และเทคโนโลยี", "Science and Technology", "1.5", "science"),
    ("ส2{y}10{a}", "สังคมศึกษา", "Social Studies", "1.5", "social"),
    ("ส2{y}10{b}", "ประวัติศาสตร์", "History", "0.5", "social"),
    ("พ2{y}10{a}", "สุขศึกษา", "Health Education", "0.5", "health"),
    ("พ2{y}10{b}", "พลศึกษา", "Physical Education", "0.5", "health"),
    ("ศ2{y}10{s}", "ศิลปะ", "Arts", "1.0", "arts"),
    ("ง2{y}10{s}", "การงานอาชีพ", "Occupations", "1.0", "career"),
    ("อ2{y}10{s}", "ภาษาอังกฤษ", "English", "1.5", "foreign"),
)
ADDITIONAL = {  # by ม. level: two 1.0-credit courses a semester (12 credits in all)
    1: (("ค2120{s}", "คณิตศาสตร์เพิ่มเติม {n}", "Additional Mathematics {n}", "math"),
        ("อ2120{s}", "ภาษาอังกฤษเพื่อการสื่อสาร {n}", "English for Communication {n}",
         "foreign")),
    2: (("ค2220{s}", "คณิตศาสตร์เพิ่มเติม {n}", "Additional Mathematics {n}", "math"),
        ("I2020{s}", "{is_th}", "{is_en}", "is")),
    3: (("ค2320{s}", "คณิตศาสตร์เพิ่มเติม {n}", "Additional Mathematics {n}", "math"),
        ("อ2320{s}", "ภาษาอังกฤษเพื่อการสื่อสาร {n}", "English for Communication {n}",
         "foreign")),
}
IS_NAMES = {1: ("การศึกษาค้นคว้าและสร้างองค์ความรู้", "Research and Knowledge Formation"),
            2: ("การสื่อสารและการนำเสนอ", "Communication and Presentation")}
ACTIVITIES = (
    ("แนะแนว", "Guidance", 40),
    ("ลูกเสือ-เนตรนารี", "Boy Scouts / Girl Guides", 40),
    ("ชุมนุม", "Club", 30),
    ("กิจกรรมเพื่อสังคมและสาธารณประโยชน์", "Social and Public Service", 10),
)
YEARS = (2566, 2567, 2568)

# prefix_th, first, last, prefix_en, first, last, birth (BE), sex, religion, father, mother,
# grade weights (best first), exceptions {code: grade}
STUDENTS = (
    ("เด็กหญิง", "กัญญ์ณัฏฐ์", "ศรีสุวรรณ์", "Miss", "Kanyanat", "Srisuwan", "14/08/2554",
     "หญิง", "พุทธ", "นายสมชาย ศรีสุวรรณ์", "นางกาญจนา ศรีสุวรรณ์", (6, 3, 1, 0, 0), {}),
    ("นาย", "ณัฐวุฒิ", "ทองประเสริฐ", "Mr.", "Nattawut", "Thongprasert", "02/03/2554",
     "ชาย", "พุทธ", "นายประยูร ทองประเสริฐ", "นางสุดารัตน์ ทองประเสริฐ", (2, 3, 3, 2, 1), {}),
    ("นางสาว", "พิมพ์ชนก", "แก้วมณีวงศ์", "Miss", "Pimchanok", "Kaewmaneewong", "21/01/2554",
     "หญิง", "", "นายวิเชียร แก้วมณีวงศ์", "นางอรพิน แก้วมณีวงศ์", (1, 2, 3, 3, 2),
     {"ค22201": "0"}),  # fails one additional course yet keeps 11 additional credits
    ("เด็กชาย", "ธีรภัทร์", "เรืองศรีสุข", "Master", "Teerapat", "Ruangsrisuk", "30/09/2554",
     "ชาย", "พุทธ", "นายธนพล เรืองศรีสุข", "นางเยาวลักษณ์ เรืองศรีสุข", (3, 3, 2, 1, 0), {}),
    ("นางสาว", "ปุณยนุช", "ชื่นฤทัย", "Miss", "Punyanuch", "Chuenruethai", "11/12/2553",
     "หญิง", "อิสลาม", "นายอับดุลเลาะ ชื่นฤทัย", "นางฟาตีมะห์ ชื่นฤทัย", (4, 3, 1, 1, 0), {}),
    ("นาย", "ศุภณัฐ", "เพ็ชรบุญเรือง", "Mr.", "Suppanat", "Phetboonruang", "05/06/2554",
     "ชาย", "คริสต์", "นายสุเทพ เพ็ชรบุญเรือง", "นางลำดวน เพ็ชรบุญเรือง", (0, 1, 2, 3, 3),
     {"ว23102": "ร"}),  # incomplete basic course: 64.5 basic credits, does not graduate
)
GRADES = ("4", "3.5", "3", "2.5", "2")


def school_rows(
    students: Sequence[tuple[Any, ...]] = STUDENTS, *, seed: int = 2569, first: int = 1
) -> list[dict[str, str]]:
    """Rows of `students` (tuples shaped as STUDENTS), numbered from `first`; the
    benchmark passes generated students to build batches of any size."""
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    for i, (pth, fth, lth, pen, fen, len_, born, sex, religion, father, mother, weights,
            special) in enumerate(students, first):
        graduates = "ร" not in special.values()
        person = {
            "institution_code": "1001", "student_id": f"66{i:03d}",
            "national_id": national_id(rng), "prefix_th": pth, "first_name_th": fth,
            "last_name_th": lth, "prefix_en": pen, "first_name_en": fen, "last_name_en": len_,
            "birth_date": born, "sex": sex, "religion_th": religion, "father_name_th": father,
            "mother_name_th": mother, "admission_date": "16/05/2566",
            "previous_school_th": "โรงเรียนวัดช่องลม (สำนักงานเขตยานนาวา)",
            "previous_school_province_th": "กรุงเทพมหานคร",
            "graduation_date": "31/03/2569" if graduates else "",
            "leave_date": "31/03/2569" if graduates else "",
            "leave_reason_th": "จบการศึกษา" if graduates else "",
            "form_set": "0012", "form_number": f"{344 + i:06d}",
            "programme_code": "LS-2551",
            "programme_name_th": "หลักสูตรแกนกลางการศึกษาขั้นพื้นฐาน พุทธศักราช 2551 "
                                 "ระดับมัธยมศึกษาตอนต้น",
            "programme_name_en": "Basic Education Core Curriculum B.E. 2551, Lower Secondary",
            "programme_level": "ม.3",
        }

        def add(record_type: str, **item: str) -> None:
            rows.append({"record_type": record_type, **person, **item})  # noqa: B023

        for level, year in enumerate(YEARS, 1):
            for sem in (1, 2):
                n = 2 * (level - 1) + sem
                nums = {"y": level, "s": sem, "a": 2 * sem - 1, "b": 2 * sem}
                courses = [(p.format(**nums), f"{th} {n}", f"{en} {n}", cr, area, "basic")
                           for p, th, en, cr, area in BASIC]
                is_th, is_en = IS_NAMES[sem]
                courses += [(p.format(**nums),
                             th.format(n=n, is_th=is_th), en.format(n=n, is_en=is_en),
                             "1.0", area, "additional")
                            for p, th, en, area in ADDITIONAL[level]]
                for code, th, en, cr, area, ctype in courses:
                    grade = special.get(code) or rng.choices(GRADES, weights)[0]
                    add("course", academic_year=str(year), semester=str(sem), code=code,
                        name_th=th, name_en=en, course_type=ctype, credits=cr,
                        hours=str(int(float(cr) * 40)), grade=grade, learning_area=area)
            for th, en, hours in ACTIVITIES:
                add("activity", academic_year=str(year), name_th=th, name_en=en,
                    hours=str(hours), grade="ผ")
        add("assessment", code="reading_thinking_writing",
            name_th="การอ่าน คิดวิเคราะห์และเขียน", name_en="Reading, thinking and writing",
            grade="ดีเยี่ยม" if weights[0] >= 3 else "ดี")
        add("assessment", code="desirable_characteristics",
            name_th="คุณลักษณะอันพึงประสงค์", name_en="Desirable characteristics",
            grade="ดีเยี่ยม" if i % 2 else "ดี")
    return rows


# --- vocational -----------------------------------------------------------------------

MODULES = (
    ("AC-01", "ความปลอดภัยและเครื่องมือในงานช่างเครื่องปรับอากาศ",
     "Safety and Tools for Air-Conditioning Work", 20),
    ("AC-02", "หลักการทำความเย็นและวงจรไฟฟ้าเบื้องต้น",
     "Refrigeration Principles and Basic Electrical Circuits", 40),
    ("AC-03", "การติดตั้งเครื่องปรับอากาศแบบแยกส่วน", "Split-Type Air-Conditioner Installation", 50),
    ("AC-04", "การบำรุงรักษาและล้างเครื่องปรับอากาศ", "Air-Conditioner Maintenance and Cleaning", 40),
    ("AC-05", "การตรวจซ่อมและเติมสารทำความเย็น", "Troubleshooting, Repair and Refrigerant Charging",
     50),
)
TRAINEES = (
    ("นาย", "สุรศักดิ์", "บุญเกื้อกูล", "Mr.", "Surasak", "Boonkuekool", "1988-04-12", "ชาย"),
    ("นางสาว", "อรุณี", "แสงทองดี", "Miss", "Arunee", "Saengthongdee", "1996-10-03", "หญิง"),
    ("นาย", "วีระพงษ์", "พึ่งน้ำใจ", "Mr.", "Weerapong", "Phuengnamjai", "1979-01-27", "ชาย"),
    ("นาง", "บุษบา", "ศักดิ์สิทธิ์เจริญ", "Mrs.", "Butsaba", "Saksitcharoen", "1984-07-19", "หญิง"),
    ("นาย", "อภิชาติ", "ฤทธิ์เดชา", "Mr.", "Apichat", "Ritdecha", "2001-02-08", "ชาย"),
    ("นาย", "ก้องภพ", "ธนะสมบูรณ์", "Mr.", "Kongphop", "Thanasomboon", "1993-11-30", "ชาย"),
)


def vocational_rows(
    trainees: Sequence[tuple[str, ...]] = TRAINEES, *, seed: int = 2001, first: int = 1
) -> list[dict[str, str]]:
    """Rows of `trainees` (tuples shaped as TRAINEES), numbered from `first`."""
    rng = random.Random(seed)
    rows = []
    for i, (pth, fth, lth, pen, fen, len_, born, sex) in enumerate(trainees, first):
        person_type = "1" if born >= "1984" else "3"
        person = {
            "institution_code": "2001", "student_id": f"69-1{i:03d}",
            "national_id": national_id(rng, person_type + "1026"), "prefix_th": pth,
            "first_name_th": fth,
            "last_name_th": lth, "prefix_en": pen, "first_name_en": fen, "last_name_en": len_,
            "birth_date": born, "sex": sex, "graduation_date": "2026-08-28",
            "form_number": f"2569/{i:04d}", "programme_code": "IND-AC-200",
            "programme_name_th": "ช่างซ่อมเครื่องปรับอากาศ",
            "programme_name_en": "Air-Conditioner Repair", "programme_level": "200",
            "programme_total_hours": "200", "programme_cohort": "รุ่นที่ 1/2569",
        }
        for code, th, en, hours in MODULES:
            rows.append({"record_type": "course", **person, "academic_year": "2569",
                         "semester": "1", "code": code, "name_th": th, "name_en": en,
                         "course_type": "module", "hours": str(hours), "grade": "ผ่าน"})
    return rows


# --- files ----------------------------------------------------------------------------

def to_csv(rows: list[dict[str, str]], columns: tuple[str, ...]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, columns, restval="", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def typed(column: str, text: str) -> object:
    """A CSV value as Excel would hold it: integers, float credits, date cells."""
    if not text:
        return None
    if column in INTEGER_COLUMNS:
        return int(text)
    if column == "credits":
        return float(text)
    if column in DATE_COLUMNS:
        return parse_date(text)
    return text


def parse_date(text: str) -> datetime:
    """ISO (CE) or DD/MM/YYYY with a Buddhist Era year, as docs/batch-format.md allows."""
    if "/" in text:
        day, month, year = (int(p) for p in text.split("/"))
        return datetime(year - 543, month, day)
    return datetime.fromisoformat(text)


def csv_to_xlsx(data: bytes) -> bytes:
    """An .xlsx holding the CSV's rows with typed cells; fixed timestamps, so reproducible."""
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    header = next(reader)
    wb = Workbook()
    ws = wb.active
    ws.title = "batch"
    ws.append(header)
    for row in reader:
        ws.append([typed(col, value) for col, value in zip(header, row, strict=True)])
    for cells in ws.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd"
    wb.properties.created = wb.properties.modified = FIXED
    raw = io.BytesIO()
    wb.save(raw)
    return _fix_zip_times(raw.getvalue())


def _fix_zip_times(data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" on save
                body = _pin_modified(body)
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, body)
    return out.getvalue()


def _pin_modified(core: bytes) -> bytes:
    import re

    stamp = FIXED.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    return re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                  rb"\g<1>" + stamp + rb"\g<2>", core)


def main() -> None:
    for name, rows, columns in (("school-batch", school_rows(), SCHOOL_COLUMNS),
                                ("vocational-batch", vocational_rows(), VOCATIONAL_COLUMNS)):
        data = to_csv(rows, columns)
        (HERE / f"{name}.csv").write_bytes(data)
        (HERE / f"{name}.xlsx").write_bytes(csv_to_xlsx(data))
        print(f"wrote examples/{name}.csv and .xlsx ({len(rows)} rows)")


if __name__ == "__main__":
    main()
