"""The Open Badges 3.0 view of a record says what `transcript.json` says, field for
field (docs/interop.md's mapping), and nothing in it is dropped by JSON-LD."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from issuer.core.record_json import record_digest, to_dict
from issuer.core.records import TranscriptRecord
from tests.factories import primary_record, school_record, vocational_record
from verifier.core import jsonld, open_badge, status_vc

DID = "did:web:127.0.0.1%3A8000"
BASE = "http://127.0.0.1:8000"


def export(record: TranscriptRecord) -> tuple[dict[str, Any], dict[str, Any]]:
    data = to_dict(record)
    status = status_vc.entries(BASE, record.institution.code, record.status_index)
    return data, open_badge.credential(data, did=DID, record_digest=record_digest(record),
                                       status=status)


def results(credential: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    """``{result key: (description name, value)}``."""
    subject = credential["credentialSubject"]
    names = {d["id"]: d["name"] for d in subject["achievement"]["resultDescription"]}
    assert len(names) == len(subject["result"])  # one description per result
    return {r["resultDescription"].rsplit(":", 1)[1]: (names[r["resultDescription"]],
                                                       r.get("value"))
            for r in subject["result"]}


@pytest.mark.parametrize("make", [school_record, vocational_record, primary_record])
def test_the_credential_carries_the_record_whole(make: Any) -> None:
    record = make()
    data, credential = export(record)
    subject = credential["credentialSubject"]
    assert subject["transcript"] == data  # exactly transcript.json's content
    assert subject["transcriptDigest"] == record_digest(record)  # the QR's ``h``
    assert credential["id"] == f"urn:bkt:transcript:{data['transcript_id']}:v{data['version']}"
    assert credential["validFrom"] == credential["awardedDate"] == data["issued_at"]
    issuer = credential["issuer"]
    assert issuer["id"] == DID and issuer["name"] == data["institution"]["name_en"]
    assert issuer["otherIdentifier"][0]["identifier"] == data["institution"]["code"]
    assert issuer["address"]["addressLocality"] == data["institution"]["district_en"]
    achievement = subject["achievement"]
    assert achievement["humanCode"] == data["programme"]["code"]
    assert achievement["name"] == data["programme"]["name_en"]
    assert achievement["description"] == data["programme"]["name_th"]
    student = data["student"]
    names = [i["identityHash"] for i in subject["identifier"]]
    assert names == [
        f"{student['prefix_en']} {student['first_name_en']} {student['last_name_en']}",
        f"{student['prefix_th']}{student['first_name_th']} {student['last_name_th']}",
        student["student_id"]]
    assert subject.get("activityEndDate") == data["graduation_date"]
    assert [(s["statusPurpose"], s["statusListIndex"]) for s in credential["credentialStatus"]] \
        == [("revocation", str(data["status_index"])), ("refresh", str(data["status_index"]))]
    outcome = results(credential)["outcome"][1]
    decision = data["summary"]["decision"]
    assert outcome == (None if decision is None else decision["en"])
    jsonld.canonize(credential)  # every term defined: nothing dropped, nothing relative


@pytest.mark.parametrize("make", [school_record, primary_record])
def test_school_results_are_the_records_grades(make: Any) -> None:
    data, credential = export(make())
    found = results(credential)
    courses = [found[f"course-{i}"] for i in range(len(data["courses"]))]
    assert courses == [(f"{c['year']}/{c['semester']} {c['code']} {c['name_en']}", c["grade"])
                       for c in data["courses"]]
    assert [found[f"activity-{i}"][1] for i in range(len(data["activities"]))] == \
        [a["result"] for a in data["activities"]]
    summary = data["summary"]
    assert found.get("gpax", (None, None))[1] == summary["gpa"]
    for area in summary["learning_areas"]:
        assert found.get(f"area-{area['key']}", (None, None))[1] == area["gpa"]
    earned = credential["credentialSubject"]["creditsEarned"]
    assert Decimal(str(earned)) == Decimal(summary["credits_earned"])
    assert not isinstance(earned, float) or earned % 1  # whole numbers as JSON integers


def test_vocational_results_are_the_modules() -> None:
    data, credential = export(vocational_record())
    found = results(credential)
    assert [found[f"module-{i}"][1] for i in range(len(data["modules"]))] == \
        [m["result"] for m in data["modules"]]
    assert credential["credentialSubject"]["achievement"]["achievementType"] == "Certificate"
    assert "creditsEarned" not in credential["credentialSubject"]  # hours, not credits
    assert "gpax" not in found


def test_a_fractional_number_stays_a_float() -> None:
    assert open_badge.number("78.0") == 78 and isinstance(open_badge.number("78.0"), int)
    assert open_badge.number("77.5") == 77.5
