"""One source of numbers: what the page prints is what `transcript.json` states.

The renderer must only format the record's summary (`grading.summarise`); a total, GPA or
verdict recomputed while drawing could disagree with the signed record. Read back with
pdftotext: digits, decimals and the English verdicts extract exactly (the Thai text
layer is another test's concern).
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
from decimal import Decimal
from typing import Any

import pytest

from issuer.adapters.render import render_transcript
from issuer.core.record_json import to_canonical
from issuer.core.records import AreaSummary, Decision, TranscriptRecord, TypeSummary
from tests.factories import primary_record, school_record, vocational_record

D = Decimal
QR = "https://transcripts.bangkok.go.th/v#x"
DECIMAL = re.compile(r"(?<![\d.])\d+\.\d+(?![\d.])")
LEGEND = ("Grades:", "very good", "ระดับผลการเรียน", "ดีมาก")  # the grade scale, not data


def text(record: TranscriptRecord) -> str:
    pdf = render_transcript(record, QR, "ABCD-EFGH")
    page = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, check=True,
                          capture_output=True).stdout.decode()
    return "\n".join(line for line in page.splitlines()
                     if not any(word in line for word in LEGEND))


def strings(value: Any) -> set[str]:
    """Every string and number in a JSON document, as text."""
    if isinstance(value, dict):
        return set().union(*(strings(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(strings(v) for v in value)) if value else set()
    return {str(value)}


RECORDS = {
    "lower secondary": school_record,
    "many courses": lambda: school_record(many_courses=True, long_name=True),
    "primary": primary_record,
    "vocational": vocational_record,
}


@pytest.fixture(scope="module")
def printed() -> dict[str, tuple[TranscriptRecord, str]]:
    return {name: (make(), text(make())) for name, make in RECORDS.items()}


@pytest.mark.parametrize("name", list(RECORDS))
def test_every_printed_decimal_is_in_the_record(printed, name: str) -> None:
    record, page = printed[name]
    stated = strings(json.loads(to_canonical(record)))
    shown = set(DECIMAL.findall(page))
    assert shown - stated == set()
    if name != "vocational":
        assert shown, "no credits or GPA found on the page"


@pytest.mark.parametrize("name", list(RECORDS))
def test_every_printed_count_of_hours_is_in_the_record(printed, name: str) -> None:
    record, page = printed[name]
    stated = strings(json.loads(to_canonical(record)))
    hours = set(re.findall(r"(\d+) hours", page))
    pairs = {n for pair in re.findall(r"studied/earned: ([\d.]+)/([\d.]+)", page) for n in pair}
    assert hours and (hours | pairs) - stated == set()


@pytest.mark.parametrize("name", ["lower secondary", "many courses", "primary"])
def test_the_verdicts_printed_are_the_records(printed, name: str) -> None:
    record, page = printed[name]
    lines = [*record.summary.course_types, *record.summary.assessments]
    assert page.count("Fail") == sum(not line.passed for line in lines)
    assert page.count("Pass") >= sum(line.passed for line in lines)
    assert record.summary.decision is not None
    assert record.summary.decision.en in page


def test_a_primary_transcript_states_hours_not_credits(printed) -> None:
    record, page = printed["primary"]
    assert "0.0" not in page  # no course carries credits on ปพ.1:ป
    assert "Hours" in page and "920" in page  # hours passed, from summary.hours_passed
    assert record.summary.hours_passed == 920


def test_a_primary_graduate_passes_every_line() -> None:
    """ปพ.1:ป states hours; no credit threshold applies (the renderer used to ask 66/11)."""
    s = primary_record().summary
    assert s.graduated and all(c.passed and c.credits_required is None
                               for c in s.course_types)
    assert {c.hours_attempted for c in s.course_types} == {880, 40}


def test_the_page_formats_the_summary_and_recomputes_nothing() -> None:
    """A summary that disagrees with the courses is printed as it is: nothing on the page
    comes from the courses' grades except the grades themselves."""
    record = school_record()
    s = record.summary
    odd = dataclasses.replace(
        s,
        gpa=D("1.23"),
        credits_earned=D("12.3"),
        course_types=tuple(dataclasses.replace(c, credits_attempted=D("45.6"), passed=False)
                           for c in s.course_types),
        areas=(AreaSummary("thai", "ภาษาไทย", "Thai Language", D("7.8"), D("7.8"), 0, D("0.42")),),
        activity_hours=987,
        decision=Decision(False, "ยังไม่จบหลักสูตร", "Not yet graduated"),
    )
    page = text(dataclasses.replace(record, summary=odd))
    for value in ("1.23", "12.3", "45.6/", "7.8", "0.42", "987 hours", "Not yet graduated"):
        assert value in page, value
    assert page.count("Fail") == 2  # the two course-type lines, as the summary says
    assert format(s.gpa, "f") not in page


def test_type_summary_is_what_the_threshold_compares() -> None:
    s = school_record().summary
    basic, additional = s.course_types
    assert isinstance(basic, TypeSummary)
    assert (basic.credits_required, additional.credits_required) == (D(66), D(11))
    assert basic.credits_earned == s.credits_basic
    assert additional.credits_earned == s.credits_additional
