"""Grading: ปพ.1 scales, truncated GPA, credits, learning areas and graduation checks."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from issuer.core import grading
from issuer.core.grading import (
    LEARNING_AREAS,
    gpa,
    is_valid_grade,
    learning_area_summary,
    summarise,
    truncate2,
)
from issuer.core.records import (
    ActivityResult,
    Assessments,
    CourseResult,
    CourseType,
    InstitutionKind,
    Person,
    Programme,
    Student,
    StudentRecord,
    Term,
)

D = Decimal
SCHOOL, VOC = InstitutionKind.SCHOOL, InstitutionKind.VOCATIONAL
BASIC, ADD, MODULE = CourseType.BASIC, CourseType.ADDITIONAL, CourseType.MODULE
T1 = Term(2566, 1)


def course(grade: str, credits: str = "1.0", *, code: str = "ท21101", term: Term = T1,
           kind: CourseType = BASIC, hours: int = 0, area: str = "") -> CourseResult:
    return CourseResult(term=term, code=code, name_th="วิชา", name_en="Course",
                        course_type=kind, grade=grade, credits=D(credits), hours=hours,
                        learning_area=area)


def module(grade: str = "ผ่าน", hours: int = 40, code: str = "AC-01") -> CourseResult:
    return CourseResult(term=Term(2569, 1), code=code, name_th="หน่วย", name_en="Module",
                        course_type=MODULE, grade=grade, hours=hours)


STUDENT = Student("66001", "1101700203451",
                  Person("เด็กหญิง", "กัญญ์ณัฏฐ์", "ศรีสุวรรณ์", "Miss", "Kanyanat", "Srisuwan"),
                  date(2010, 8, 14))
ACTIVITIES = tuple(ActivityResult(y, "แนะแนว", "Guidance", 40, "ผ") for y in (2566, 2567, 2568))


def lower_secondary(basic_credits: str = "66", additional_credits: str = "12",
                    **changes) -> StudentRecord:
    """A ม.3 record: one basic course and one additional course carrying the credits."""
    rec = StudentRecord(
        institution_code="1001", student=STUDENT,
        programme=Programme("LS-2551", "หลักสูตรแกนกลาง", "Core curriculum", level="ม.3"),
        courses=(course("3", basic_credits), course("4", additional_credits, code="ค21201",
                                                   kind=ADD)),
        activities=ACTIVITIES, assessments=Assessments("ดี", "ดีเยี่ยม"),
        graduation_date=date(2026, 3, 31))
    return dataclasses.replace(rec, **changes)


def vocational(modules: tuple[CourseResult, ...], total_hours: int = 200) -> StudentRecord:
    return StudentRecord(
        institution_code="2001", student=STUDENT,
        programme=Programme("IND-AC200", "ช่างซ่อมเครื่องปรับอากาศ", "Air-conditioner repair",
                            level="200", total_hours=total_hours, cohort="รุ่นที่ 1/2569"),
        courses=modules)


# --- truncate2 ------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    ("2.8999", "2.89"), ("3.666666", "3.66"), ("4", "4.00"), ("0", "0.00"), ("1.005", "1.00"),
    ("2.995", "2.99"),
])
def test_truncate2_examples(value: str, expected: str) -> None:
    assert str(truncate2(D(value))) == expected


@given(st.decimals(min_value=0, max_value=4, allow_nan=False, allow_infinity=False, places=8))
def test_truncate2_properties(x: Decimal) -> None:
    t = truncate2(x)
    assert t <= x < t + D("0.01")
    assert t.as_tuple().exponent == -2
    assert truncate2(t) == t


# --- scales ---------------------------------------------------------------------------

def test_valid_grades_by_kind_and_type() -> None:
    for g in ("4", "3.5", "3", "2.5", "2", "1.5", "1", "0", "ร", "มส"):
        assert is_valid_grade(SCHOOL, BASIC, g)
        assert is_valid_grade(SCHOOL, ADD, g)
        assert not is_valid_grade(VOC, MODULE, g)
    for g in ("ผ่าน", "ไม่ผ่าน"):
        assert is_valid_grade(VOC, MODULE, g)
        assert not is_valid_grade(SCHOOL, BASIC, g)
    for bad in ("4.0", "5", "A", "", "0.5", "ผ", "มผ", "ดี"):
        assert not is_valid_grade(SCHOOL, BASIC, bad)
    assert not is_valid_grade(SCHOOL, MODULE, "4")
    assert not is_valid_grade(VOC, BASIC, "ผ่าน")


def test_learning_areas_are_the_nine_of_the_form() -> None:
    assert list(LEARNING_AREAS) == ["thai", "math", "science", "social", "health", "arts",
                                    "career", "foreign", "is"]
    assert LEARNING_AREAS["thai"] == ("ภาษาไทย", "Thai Language")
    assert LEARNING_AREAS["science"][0] == "วิทยาศาสตร์และเทคโนโลยี"
    assert LEARNING_AREAS["social"][0] == "สังคมศึกษา ศาสนา และวัฒนธรรม"
    assert LEARNING_AREAS["is"][0] == "การศึกษาค้นคว้าด้วยตนเอง"


# --- GPA ------------------------------------------------------------------------------

def test_gpa_truncates_where_rounding_would_go_up() -> None:
    # (4 + 4 + 3) / 3 = 3.6666...: rounded 3.67, truncated 3.66
    assert gpa([course("4"), course("4"), course("3")]) == D("3.66")


def test_gpa_weights_by_credits_and_ignores_non_numeric() -> None:
    cs = [course("4", "1.5"), course("2", "0.5"), course("ร", "1.0"), course("มส", "2.0")]
    assert gpa(cs) == D("3.50")  # (6 + 1) / 2


def test_gpa_counts_zero_grades() -> None:
    assert gpa([course("4"), course("0")]) == D("2.00")


def test_gpa_none_without_numeric_grades() -> None:
    assert gpa([]) is None
    assert gpa([course("ร"), course("มส")]) is None
    assert gpa([module()]) is None


def test_gpa_uses_hours_when_a_primary_course_has_no_credits() -> None:
    cs = [course("4", "0", hours=160), course("2", "0", hours=40)]
    assert gpa(cs) == D("3.60")  # (4*4 + 2*1) / 5


numeric_courses = st.lists(
    st.tuples(st.sampled_from(grading.NUMERIC_GRADES),
              st.integers(min_value=1, max_value=40).map(lambda n: D(n) / 10)),
    min_size=1, max_size=30)


def _build(pairs: list[tuple[str, Decimal]]) -> list[CourseResult]:
    return [course(g, str(c)) for g, c in pairs]


@given(numeric_courses)
def test_gpa_is_the_truncated_exact_fraction(pairs: list[tuple[str, Decimal]]) -> None:
    exact = (sum(Fraction(g) * Fraction(c) for g, c in pairs)
             / sum(Fraction(c) for _, c in pairs))
    expected = Fraction(int(exact * 100), 100)  # floor: exact is never negative
    result = gpa(_build(pairs))
    assert result is not None
    assert Fraction(result) == expected
    assert D(0) <= result <= D(4)


@given(numeric_courses, st.randoms(use_true_random=False),
       st.lists(st.sampled_from(grading.NON_NUMERIC_GRADES), max_size=5))
def test_gpa_ignores_order_and_non_numeric(pairs, rnd, extra: list[str]) -> None:
    cs = _build(pairs)
    shuffled = cs + [course(g, "1.5") for g in extra]
    rnd.shuffle(shuffled)
    assert gpa(shuffled) == gpa(cs)


@given(st.sampled_from(grading.NUMERIC_GRADES), st.integers(1, 20))
def test_gpa_of_one_grade_everywhere_is_that_grade(grade: str, n: int) -> None:
    assert gpa([course(grade, "0.5")] * n) == truncate2(D(grade))


# --- credits and terms ----------------------------------------------------------------

def test_credits_attempted_and_earned() -> None:
    cs = [course("4", "1.5"), course("1", "1.0"), course("0", "1.0"), course("ร", "0.5"),
          course("มส", "0.5")]
    assert grading.credits_attempted(cs) == D("4.5")
    assert grading.credits_earned(cs) == D("2.5")


@given(st.lists(st.tuples(st.sampled_from(grading.SCHOOL_GRADES), st.integers(1, 30)),
                max_size=30))
def test_earned_never_exceeds_attempted(pairs: list[tuple[str, int]]) -> None:
    cs = [course(g, str(D(c) / 10)) for g, c in pairs]
    assert D(0) <= grading.credits_earned(cs) <= grading.credits_attempted(cs)


def test_summary_terms_in_order_with_own_gpa() -> None:
    t2 = Term(2566, 2)
    rec = lower_secondary(courses=(
        course("2", term=t2), course("4", term=T1), course("3", term=T1),
        course("0", "1.0", term=t2, code="ค21102")))
    s = summarise(rec, SCHOOL)
    assert [t.term for t in s.terms] == [T1, t2]
    assert [t.gpa for t in s.terms] == [D("3.50"), D("1.00")]
    assert [t.credits_attempted for t in s.terms] == [D(2), D(2)]
    assert [t.credits_earned for t in s.terms] == [D(2), D(1)]
    assert s.gpa == D("2.25")
    assert s.credits_earned == D(3)


# --- graduation -----------------------------------------------------------------------

def test_lower_secondary_graduate() -> None:
    s = summarise(lower_secondary(), SCHOOL)
    assert s.graduated and s.graduation_problems == ()
    assert (s.credits_basic, s.credits_additional, s.credits_earned) == (D(66), D(12), D(78))
    assert s.gpa == D("3.15")  # (3*66 + 4*12) / 78 = 3.1538


def test_lower_secondary_short_of_basic_credits() -> None:
    s = summarise(lower_secondary(basic_credits="65.5"), SCHOOL)
    assert not s.graduated
    assert len(s.graduation_problems) == 1
    assert "65.5" in s.graduation_problems[0] and "66" in s.graduation_problems[0]
    assert "รายวิชาพื้นฐาน" in s.graduation_problems[0]


def test_lower_secondary_short_of_additional_credits() -> None:
    s = summarise(lower_secondary(additional_credits="10.5"), SCHOOL)
    assert not s.graduated
    assert any("additional" in p for p in s.graduation_problems)


def test_incomplete_grade_earns_nothing_and_blocks_graduation() -> None:
    rec = lower_secondary(courses=(course("3", "64.5"), course("ร", "1.5", code="ว23102"),
                                   course("4", "12", code="ค21201", kind=ADD)))
    s = summarise(rec, SCHOOL)
    assert s.credits_basic == D("64.5") and not s.graduated


def test_upper_secondary_needs_77_in_all() -> None:
    prog = Programme("US", "ม.ปลาย", "Upper secondary", level="ม.6")
    ok = lower_secondary("41", "36", programme=prog)
    assert summarise(ok, SCHOOL).graduated
    short = lower_secondary("41", "35.5", programme=prog)
    problems = summarise(short, SCHOOL).graduation_problems
    assert len(problems) == 2  # additional < 36 and total < 77
    assert any("77" in p for p in problems)


def test_primary_needs_every_course_passed() -> None:
    prog = Programme("P", "ประถม", "Primary", level="ป.6")
    cs = (course("3", "0", hours=160), course("1", "0", hours=80, code="ค16101"))
    assert summarise(lower_secondary(programme=prog, courses=cs), SCHOOL).graduated
    failed = (cs[0], course("0", "0", hours=80, code="ค16101"))
    s = summarise(lower_secondary(programme=prog, courses=failed), SCHOOL)
    assert not s.graduated and "ค16101" in s.graduation_problems[0]


@pytest.mark.parametrize(("assessments", "needle"), [
    (Assessments("ไม่ผ่าน", "ดี"), "reading"),
    (Assessments("ดี", "ไม่ผ่าน"), "desirable"),
    (Assessments("", "ดี"), "no reading"),
])
def test_assessments_must_pass(assessments: Assessments, needle: str) -> None:
    s = summarise(lower_secondary(assessments=assessments), SCHOOL)
    assert not s.graduated
    assert [p for p in s.graduation_problems if needle in p]


def test_every_activity_must_pass() -> None:
    acts = (*ACTIVITIES, ActivityResult(2568, "ชุมนุม", "Club", 30, "มผ"))
    s = summarise(lower_secondary(activities=acts), SCHOOL)
    assert not s.graduated
    assert "ชุมนุม (2568) มผ" in s.graduation_problems[0]
    assert not summarise(lower_secondary(activities=()), SCHOOL).graduated


@pytest.mark.parametrize("level", ["ม.2", "ม.7", "ป.5"])
def test_a_level_that_does_not_end_a_stage_is_not_judged_graduated(level: str) -> None:
    prog = Programme("X", "?", "?", level=level)
    s = summarise(lower_secondary(programme=prog), SCHOOL)
    assert not s.graduated and level in s.graduation_problems[0]
    assert (s.decision.graduated, s.decision.en) == (False, "Not yet graduated")


def test_problems_carry_thai_and_english() -> None:
    problems = grading.graduation_problems(lower_secondary(basic_credits="60"), SCHOOL)
    assert problems[0].th.startswith("หน่วยกิตรายวิชาพื้นฐาน")
    assert problems[0].en.startswith("basic-course credits")
    assert str(problems[0]) == f"{problems[0].th} / {problems[0].en}"


# --- vocational -----------------------------------------------------------------------

def test_vocational_all_modules_passed() -> None:
    mods = tuple(module(hours=h, code=f"AC-0{i}") for i, h in enumerate((40, 40, 50, 70)))
    s = summarise(vocational(mods), VOC)
    assert s.graduated and s.gpa is None
    assert (s.hours_total, s.hours_passed) == (200, 200)
    assert all(t.gpa is None for t in s.terms)
    assert s.credits_earned == 0


def test_vocational_failed_module_or_short_hours() -> None:
    mods = (module(hours=150), module("ไม่ผ่าน", hours=50, code="AC-02"))
    s = summarise(vocational(mods), VOC)
    assert not s.graduated and s.hours_passed == 150
    assert len(s.graduation_problems) == 2
    assert "AC-02" in s.graduation_problems[0]
    short = summarise(vocational((module(hours=180),)), VOC)
    assert not short.graduated and "180" in short.graduation_problems[0]
    assert not summarise(vocational((module(hours=200),), total_hours=0), VOC).graduated


@given(st.lists(st.tuples(st.sampled_from(grading.MODULE_RESULTS), st.integers(1, 80)),
                min_size=1, max_size=8))
def test_vocational_graduated_iff_all_passed_and_enough_hours(pairs) -> None:
    mods = tuple(module(g, h, code=f"M{i}") for i, (g, h) in enumerate(pairs))
    s = summarise(vocational(mods, total_hours=100), VOC)
    all_passed = all(g == "ผ่าน" for g, _ in pairs)
    assert s.graduated == (all_passed and sum(h for _, h in pairs) >= 100)
    assert s.hours_passed <= s.hours_total


# --- learning areas -------------------------------------------------------------------

def test_learning_area_summary_groups_by_key_or_code_letter() -> None:
    cs = [course("4", "1.5", code="ท21101"), course("3", "1.5", code="ท21102"),
          course("2", "1.0", code="อ21201", kind=ADD), course("4", "0.5", code="จ21201"),
          course("3", "1.0", code="I20201"), course("4", "1.0", code="X1", area="arts"),
          course("4", "1.0", code="Z9")]  # unknown area: left out
    rows = {r.key: r for r in learning_area_summary(cs)}
    assert list(rows) == list(LEARNING_AREAS)
    assert (rows["thai"].credits_attempted, rows["thai"].gpa) == (D(3), D("3.50"))
    assert (rows["foreign"].credits_attempted, rows["foreign"].gpa) == (D("1.5"), D("2.66"))
    assert rows["is"].gpa == D("3.00")
    assert rows["arts"].credits_attempted == D(1)
    assert rows["math"].gpa is None and rows["math"].credits_attempted == 0
    assert sum(r.credits_attempted for r in rows.values()) == D("6.5")
    assert rows["social"].name_th == "สังคมศึกษา ศาสนา และวัฒนธรรม"


# --- stages, course types and the decision ----------------------------------------------

def level(name: str) -> Programme:
    return Programme("X", "หลักสูตร", "Curriculum", level=name)


@pytest.mark.parametrize(("name", "basic", "additional", "form", "th"), [
    ("ม.3", "66", "11", "บ", "จบการศึกษาภาคบังคับ"),
    ("ม.6", "41", "36", "พ", "จบการศึกษาขั้นพื้นฐาน"),
])
def test_thresholds_and_wording_per_stage(name, basic, additional, form, th) -> None:
    s = summarise(lower_secondary(basic, str(77 - int(basic)), programme=level(name)), SCHOOL)
    assert s.graduated and s.form == form and s.decision.th == th
    assert [c.credits_required for c in s.course_types] == [D(basic), D(additional)]
    short = summarise(lower_secondary(basic, str(int(additional) - 1), programme=level(name)),
                      SCHOOL)
    assert not short.graduated and short.decision.th == "ยังไม่จบหลักสูตร"
    assert [c.passed for c in short.course_types] == [True, False]


def test_primary_has_no_credit_threshold_and_weighs_hours() -> None:
    rec = lower_secondary(programme=level("ป.6"), courses=(
        course("4", "0", hours=160, code="ท16101"), course("2", "0", hours=40, code="ท16102")))
    s = summarise(rec, SCHOOL)
    assert s.graduated and s.form == "ป" and s.decision.en == "Completed primary education"
    assert [(c.credits_required, c.hours_attempted, c.passed) for c in s.course_types] == [
        (None, 200, True), (None, 0, True)]
    thai = next(a for a in s.areas if a.key == "thai")
    assert (thai.hours, thai.gpa) == (200, D("3.60"))  # (4*160 + 2*40) / 200


def test_assessment_lines_follow_the_record() -> None:
    s = summarise(lower_secondary(assessments=Assessments("ไม่ผ่าน", "ดี")), SCHOOL)
    assert [(a.key, a.result, a.passed) for a in s.assessments] == [
        ("reading_thinking_writing", "ไม่ผ่าน", False),
        ("desirable_characteristics", "ดี", True), ("activities", "", True)]
    assert s.activity_hours == 120 and not s.graduated
