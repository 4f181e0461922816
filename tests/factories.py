"""Builders of realistic transcript records for tests and benchmarks.

`school_record()` is a BMA lower-secondary (ม.1-ม.3) ปพ.1 with six semesters of courses,
activities and assessments; `vocational_record()` a 200-hour vocational course. The summary
comes from `issuer.core.grading.summarise` when that module exists, else is computed here
with the ปพ.1 rule (GPA truncated to two decimals).
"""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, date, datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any

from issuer.core.records import (
    ActivityResult,
    Assessments,
    CourseResult,
    CourseType,
    Institution,
    InstitutionKind,
    Person,
    Programme,
    Signatory,
    Student,
    StudentRecord,
    Summary,
    Term,
    TermSummary,
    TranscriptRecord,
)

D = Decimal
SALT = "c2FsdHNhbHRzYWx0c2FsdA"

GIRL = Person("เด็กหญิง", "กัญญ์ณัฏฐ์", "ศรีสุวรรณ์", "Miss", "Kanyanat", "Srisuwan")
BOY = Person("นาย", "ณัฐวุฒิ", "ทองประเสริฐ", "Mr", "Nattawut", "Thongprasert")
LONG = Person("เด็กหญิง", "พรรณพัชรวลัญช์กรณ์ณัฏฐ์", "เจริญรุ่งเรืองสุขสวัสดิ์วงศ์ษา", "Miss",
              "Phanphatcharawalankornnat", "Charoenrungrueangsuksawatwongsa")

SCHOOL = Institution(
    code="1001",
    kind=InstitutionKind.SCHOOL,
    name_th="โรงเรียนวัดดอน (สำนักงานเขตสาทร)",
    name_en="Wat Don School (Sathon District Office)",
    district_th="เขตสาทร",
    district_en="Sathon",
    subdistrict_th="แขวงทุ่งมหาเมฆ",
    subdistrict_en="Thung Maha Mek",
)
TRAINING = Institution(
    code="3001",
    kind=InstitutionKind.VOCATIONAL,
    name_th="โรงเรียนฝึกอาชีพกรุงเทพมหานคร (ดินแดง 1)",
    name_en="BMA Vocational Training School (Din Daeng 1)",
    district_th="เขตดินแดง",
    district_en="Din Daeng",
    affiliation_th="สำนักพัฒนาสังคม กรุงเทพมหานคร",
    affiliation_en="Social Development Department, Bangkok Metropolitan Administration",
)
SCHOOL_SIGNATORIES = (
    Signatory("นายทะเบียน", "Registrar", "นางสาวสุนันทา แก้วประเสริฐ", "Ms Sunanta Kaewprasert"),
    Signatory("ผู้อำนวยการโรงเรียน", "School Director", "นายธีรวัฒน์ ศรีวงศ์ษา",
              "Mr Theerawat Sriwongsa"),
)
TRAINING_SIGNATORIES = (
    Signatory("นายทะเบียน", "Registrar", "นางปราณี ชื่นใจ", "Mrs Pranee Chuenjai"),
    Signatory("ผู้อำนวยการ", "Director", "นายสมศักดิ์ วงศ์ใหญ่", "Mr Somsak Wongyai"),
)

# (code pattern, Thai name, English name, credits, learning area); {y} is the grade
# digit (1-3 for ม.1-ม.3), {n}/{m} the semester's course numbers.
_BASIC_SEM = (
    ("ท2{y}10{s}", "ภาษาไทย", "Thai Language", "1.5", "thai"),
    ("ค2{y}10{s}", "คณิตศาสตร์", "Mathematics", "1.5", "math"),
    ("ว2{y}10{s}", "วิทยาศาสตร์และเทคโนโลยี", "Science and Technology", "1.5", "science"),
    ("ว2{y}10{s2}", "วิทยาการคำนวณ", "Computing Science", "0.5", "science"),
    ("ส2{y}10{a}", "สังคมศึกษา", "Social Studies", "1.5", "social"),
    ("ส2{y}10{b}", "ประวัติศาสตร์", "History", "0.5", "social"),
    ("พ2{y}10{a}", "สุขศึกษา", "Health Education", "0.5", "health"),
    ("พ2{y}10{b}", "พลศึกษา", "Physical Education", "0.5", "health"),
    ("ศ2{y}10{s}", "ศิลปะ", "Arts", "1.0", "arts"),
    ("ง2{y}10{s}", "การงานอาชีพ", "Occupations", "0.5", "career"),
    ("อ2{y}10{s}", "ภาษาอังกฤษ", "English", "1.5", "foreign"),
)
_ADDITIONAL = (
    ("ค2{y}20{s}", "คณิตศาสตร์เพิ่มเติม", "Additional Mathematics", "1.0", "math"),
    ("อ2{y}20{s}", "ภาษาอังกฤษเพื่อการสื่อสาร", "English for Communication", "1.0", "foreign"),
)
_EXTRA = (  # only with many_courses
    ("จ2{y}2{k}", "ภาษาจีนพื้นฐาน", "Basic Chinese", "0.5", "foreign"),
    ("ง2{y}2{k}", "การเขียนโปรแกรมเบื้องต้น", "Introductory Programming", "0.5", "career"),
    ("ศ2{y}2{k}", "ดนตรีไทย", "Thai Music", "0.5", "arts"),
    ("ว2{y}2{k}", "โครงงานวิทยาศาสตร์", "Science Project", "0.5", "science"),
    ("I2{y}2{k}", "การศึกษาค้นคว้าและสร้างองค์ความรู้", "Research and Knowledge Formation",
     "0.5", "is"),
    ("ส2{y}2{k}", "หน้าที่พลเมือง", "Civics", "0.5", "social"),
)
_GRADES = ("4", "4", "3.5", "3.5", "3", "3", "2.5", "2")
_ACTIVITIES = (
    ("แนะแนว", "Guidance", 40),
    ("ลูกเสือ-เนตรนารี", "Boy Scouts / Girl Guides", 40),
    ("ชุมนุม", "Club", 30),
    ("กิจกรรมเพื่อสังคมและสาธารณประโยชน์", "Social and public service", 10),
)


def _courses(years: tuple[int, ...], many: bool, rng: random.Random) -> list[CourseResult]:
    out: list[CourseResult] = []
    for level, year in enumerate(years, 1):
        for sem in (1, 2):
            nums = {"y": level, "s": sem, "s2": sem + 2, "a": 2 * sem - 1, "b": 2 * sem}
            rows = [(*r, CourseType.BASIC) for r in _BASIC_SEM]
            rows += [(*r, CourseType.ADDITIONAL) for r in _ADDITIONAL]
            if many:
                rows += [(p.replace("{k}", f"{20 + 10 * sem + i:02d}"), *rest,
                          CourseType.ADDITIONAL)
                         for i, (p, *rest) in enumerate(_EXTRA * 2)]
            for pattern, th, en, cr, area, kind in rows:
                suffix = f" {2 * level - 2 + sem}" if kind is CourseType.BASIC else ""
                out.append(CourseResult(
                    term=Term(year, sem), code=pattern.format(**nums), name_th=th + suffix,
                    name_en=en + suffix, course_type=kind, grade=rng.choice(_GRADES),
                    credits=D(cr), learning_area=area))
    return out


def _gpa(points: Decimal, credits: Decimal) -> Decimal | None:
    return (points / credits).quantize(D("0.01"), rounding=ROUND_DOWN) if credits else None


def local_summary(rec: StudentRecord, kind: InstitutionKind) -> Summary:
    """The summary as the ปพ.1 rules define it (used when grading is not available)."""
    if kind is InstitutionKind.VOCATIONAL:
        total = sum(c.hours for c in rec.courses)
        passed = sum(c.hours for c in rec.courses if c.grade == "ผ่าน")
        return Summary((), D(0), D(0), D(0), None, total, passed, passed == total)
    terms: list[TermSummary] = []
    all_points = all_credits = D(0)
    basic = additional = D(0)
    for term in sorted({c.term for c in rec.courses}, key=Term.sort_key):
        points = attempted = got = D(0)
        for c in (c for c in rec.courses if c.term == term):
            g = D(c.grade)
            points += g * c.credits
            attempted += c.credits
            if g > 0:
                got += c.credits
                if c.course_type is CourseType.BASIC:
                    basic += c.credits
                else:
                    additional += c.credits
        terms.append(TermSummary(term, attempted, got, _gpa(points, attempted)))
        all_points += points
        all_credits += attempted
    graduated = basic >= 66 and additional >= 11
    return Summary(tuple(terms), basic, additional, basic + additional,
                   _gpa(all_points, all_credits), 0, 0, graduated)


def _summarise(rec: StudentRecord, kind: InstitutionKind) -> Summary:
    try:
        from issuer.core import grading
    except ImportError:
        return local_summary(rec, kind)
    return grading.summarise(rec, kind)


def school_record(*, person: Person = GIRL, many_courses: bool = False,
                  long_name: bool = False, religion: str = "", seed: int = 7,
                  **overrides: Any) -> TranscriptRecord:
    """A ม.3 graduate of a BMA school; `overrides` replace TranscriptRecord fields."""
    rng = random.Random(seed)
    years = (2566, 2567, 2568)
    student = Student(
        student_id="12345",
        national_id="1103701234567",
        name=LONG if long_name else person,
        birth_date=date(2011, 8, 14),
        sex="หญิง" if (LONG if long_name else person).prefix_en == "Miss" else "ชาย",
        religion_th=religion,
        father_name_th="นายสมชาย ศรีสุวรรณ์",
        mother_name_th="นางกาญจนา ศรีสุวรรณ์",
        admission_date=date(2023, 5, 16),
        previous_school_th="โรงเรียนวัดช่องลม",
        previous_school_province_th="กรุงเทพมหานคร",
        leave_date=date(2026, 3, 31),
        leave_reason_th="จบการศึกษา",
    )
    activities = tuple(
        ActivityResult(year, th, en, hours, "ผ")
        for year in years for th, en, hours in _ACTIVITIES
    )
    rec = StudentRecord(
        institution_code=SCHOOL.code,
        student=student,
        programme=Programme("LS-2551", "หลักสูตรแกนกลางการศึกษาขั้นพื้นฐาน ระดับมัธยมศึกษาตอนต้น",
                            "Basic Education Core Curriculum, Lower Secondary", level="ม.3"),
        courses=tuple(_courses(years, many_courses, rng)),
        activities=activities,
        assessments=Assessments("ดีเยี่ยม", "ดีเยี่ยม"),
        graduation_date=date(2026, 3, 31),
        form_set="0012",
        form_number="000345",
        signatories=SCHOOL_SIGNATORIES,
    )
    record = TranscriptRecord(
        transcript_id="1001-2569-000123",
        version=1,
        institution=SCHOOL,
        record=rec,
        summary=_summarise(rec, SCHOOL.kind),
        issued_at=datetime(2026, 4, 2, 3, 0, tzinfo=UTC),
        status_index=4711,
        national_id_salt=SALT,
    )
    return dataclasses.replace(record, **overrides)


_MODULES = (
    ("AC-01", "ความปลอดภัยในงานช่างและการใช้เครื่องมือ", "Workshop safety and tools", 16),
    ("AC-02", "ไฟฟ้าเบื้องต้นสำหรับงานปรับอากาศ", "Basic electricity for air conditioning", 30),
    ("AC-03", "วัฏจักรเครื่องทำความเย็น", "Refrigeration cycle", 24),
    ("AC-04", "การติดตั้งเครื่องปรับอากาศแบบแยกส่วน", "Split-type air conditioner installation", 40),
    ("AC-05", "การเชื่อมและบานท่อทองแดง", "Copper pipe brazing and flaring", 30),
    ("AC-06", "การเติมสารทำความเย็นและตรวจหารอยรั่ว", "Refrigerant charging and leak testing", 24),
    ("AC-07", "การบำรุงรักษาและล้างเครื่องปรับอากาศ", "Maintenance and cleaning", 20),
    ("AC-08", "การวิเคราะห์และแก้ไขข้อขัดข้อง", "Fault finding and repair", 16),
)


def vocational_record(*, person: Person = BOY, long_name: bool = False,
                      many_modules: bool = False, **overrides: Any) -> TranscriptRecord:
    """A 200-hour air-conditioning technician course, every module passed.

    `many_modules` splits it into 40 five-hour units: long enough to need two pages.
    """
    term = Term(2568, 0)
    rows = _MODULES if not many_modules else tuple(
        (f"AC-{i:02d}", f"หน่วยที่ {i} งานบริการเครื่องปรับอากาศ", f"Unit {i}: air-conditioner service",
         5) for i in range(1, 41))
    modules = tuple(
        CourseResult(term=term, code=code, name_th=th, name_en=en,
                     course_type=CourseType.MODULE, grade="ผ่าน", hours=hours)
        for code, th, en, hours in rows
    )
    rec = StudentRecord(
        institution_code=TRAINING.code,
        student=Student(student_id="68-0457", national_id="3101200456789",
                        name=LONG if long_name else person, birth_date=date(1994, 11, 2),
                        sex="ชาย"),
        programme=Programme("IND-AC200", "ช่างเครื่องปรับอากาศและเครื่องทำความเย็น",
                            "Air Conditioning and Refrigeration Technician",
                            level="200", total_hours=200, cohort="2/2568"),
        courses=modules,
        graduation_date=date(2026, 3, 20),
        form_number="2569/0042",
        signatories=TRAINING_SIGNATORIES,
    )
    record = TranscriptRecord(
        transcript_id="3001-2569-000045",
        version=1,
        institution=TRAINING,
        record=rec,
        summary=_summarise(rec, TRAINING.kind),
        issued_at=datetime(2026, 3, 25, 2, 30, tzinfo=UTC),
        status_index=815,
        national_id_salt=SALT,
    )
    return dataclasses.replace(record, **overrides)


_PRIMARY = (  # (code, Thai, English, hours per year, area) of a ป.6 year (ปพ.1:ป)
    ("ท16101", "ภาษาไทย", "Thai Language", 160, "thai"),
    ("ค16101", "คณิตศาสตร์", "Mathematics", 160, "math"),
    ("ว16101", "วิทยาศาสตร์และเทคโนโลยี", "Science and Technology", 120, "science"),
    ("ส16101", "สังคมศึกษา ศาสนา และวัฒนธรรม", "Social Studies", 80, "social"),
    ("พ16101", "สุขศึกษาและพลศึกษา", "Health and Physical Education", 80, "health"),
    ("ศ16101", "ศิลปะ", "Arts", 80, "arts"),
    ("ง16101", "การงานอาชีพ", "Occupations", 40, "career"),
    ("อ16101", "ภาษาอังกฤษ", "English", 160, "foreign"),
)


def primary_record(**overrides: Any) -> TranscriptRecord:
    """A ป.6 graduate (ปพ.1:ป): whole-year courses in hours, no credits, one additional."""
    grades = ("4", "3.5", "3", "2.5", "4", "3", "2", "3.5")
    courses = [
        CourseResult(term=Term(2568, 1), code=code, name_th=th, name_en=en,
                     course_type=CourseType.BASIC, grade=grade, hours=hours, learning_area=area)
        for (code, th, en, hours, area), grade in zip(_PRIMARY, grades, strict=True)
    ]
    courses.append(CourseResult(term=Term(2568, 1), code="อ16201", name_th="ภาษาอังกฤษเพื่อการสื่อสาร",
                                name_en="English for Communication",
                                course_type=CourseType.ADDITIONAL, grade="3", hours=40,
                                learning_area="foreign"))
    rec = StudentRecord(
        institution_code=SCHOOL.code,
        student=Student(student_id="54321", national_id="1103701234568", name=BOY,
                        birth_date=date(2013, 5, 2), sex="ชาย",
                        admission_date=date(2019, 5, 16)),
        programme=Programme("PR-2551", "หลักสูตรแกนกลางการศึกษาขั้นพื้นฐาน ระดับประถมศึกษา",
                            "Basic Education Core Curriculum, Primary", level="ป.6"),
        courses=tuple(courses),
        activities=tuple(ActivityResult(2568, th, en, hours, "ผ")
                         for th, en, hours in _ACTIVITIES),
        assessments=Assessments("ดี", "ดีเยี่ยม"),
        graduation_date=date(2026, 3, 31),
        signatories=SCHOOL_SIGNATORIES,
    )
    record = TranscriptRecord(
        transcript_id="1001-2569-000124", version=1, institution=SCHOOL, record=rec,
        summary=_summarise(rec, SCHOOL.kind), issued_at=datetime(2026, 4, 2, 3, 0, tzinfo=UTC),
        status_index=4712, national_id_salt=SALT)
    return dataclasses.replace(record, **overrides)
