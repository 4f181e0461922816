"""transcript.json v4 follows its published JSON Schema; school and vocational shapes."""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest
from jsonschema import ValidationError

from issuer.adapters.publish import schema_files, write_schemas
from issuer.core.record_json import to_canonical, to_dict
from issuer.core.records import InstitutionKind, schema_url
from tests.factories import primary_record, school_record, vocational_record
from tests.record_schema import validate, validators

RECORDS = {
    "lower secondary": school_record,
    "many courses, long name": lambda: school_record(many_courses=True, long_name=True),
    "religion": lambda: school_record(religion="พุทธ"),
    "primary": primary_record,
    "vocational": vocational_record,
    "many modules": lambda: vocational_record(many_modules=True),
}


def test_a_schema_per_kind_each_named_by_its_url() -> None:
    current = {schema_url(kind) for kind in InstitutionKind}
    assert current <= set(validators())
    assert all(url.endswith("/v4.json") for url in current)
    # Older versions stay published: the PDFs that name them stay valid.
    assert {schema_url(kind, v) for kind in InstitutionKind for v in (2, 3)} <= set(
        validators())


@pytest.mark.parametrize("name", list(RECORDS))
def test_every_record_follows_its_schema(name: str) -> None:
    document = json.loads(to_canonical(RECORDS[name]()))
    validate(document)
    assert document["schema"] == schema_url(InstitutionKind(document["institution"]["kind"]))


def test_images_are_named_by_digest_or_null() -> None:
    record = school_record()
    document = to_dict(record)
    assert document["student"]["photo_sha256"] is None
    assert document["institution"]["emblem_sha256"] is None
    pictured = dataclasses.replace(
        record, institution=dataclasses.replace(record.institution, emblem_sha256="e" * 64),
        record=dataclasses.replace(record.record, student=dataclasses.replace(
            record.record.student, photo_sha256="f" * 64)))
    document = json.loads(to_canonical(pictured))
    validate(document)
    assert (document["student"]["photo_sha256"], document["institution"]["emblem_sha256"]) \
        == ("f" * 64, "e" * 64)
    vocational = json.loads(to_canonical(vocational_record()))
    assert "photo_sha256" not in vocational["student"]
    assert vocational["institution"]["emblem_sha256"] is None


def test_school_record_carries_what_the_back_page_shows() -> None:
    document = to_dict(school_record())
    summary = document["summary"]
    assert [a["key"] for a in summary["learning_areas"]][:2] == ["thai", "math"]
    assert summary["decision"] == {"th": "จบการศึกษาภาคบังคับ",
                                   "en": "Completed compulsory education"}
    assert [t["type"] for t in summary["course_types"]] == ["basic", "additional"]
    assert summary["course_types"][0]["credits_required"] == "66.0"
    assert [a["key"] for a in summary["assessments"]] == [
        "reading_thinking_writing", "desirable_characteristics", "activities"]
    assert summary["form"] == "บ" and summary["stage"] == "lower_secondary"
    assert all(c["credits"].count(".") == 1 for c in document["courses"])


def test_vocational_record_has_its_own_shape() -> None:
    document = to_dict(vocational_record())
    assert "courses" not in document and "level" not in document["programme"]
    assert document["programme"]["total_hours"] == 200
    assert set(document["modules"][0]) == {"year", "code", "name_th", "name_en", "hours",
                                           "result"}
    assert document["summary"] == {
        "hours_total": 200, "hours_passed": 200, "modules_total": 8, "modules_passed": 8,
        "graduated": True, "decision": {"th": "ผ่าน", "en": "Pass"},
        "graduation_problems": []}
    assert "father_name_th" not in document["student"]


@pytest.mark.parametrize(("change", "where"), [
    (lambda d: d["courses"][0].update(credits="1.55"), "credits"),
    (lambda d: d["summary"].update(gpa="3.456"), "gpa"),
    (lambda d: d["summary"].pop("decision"), "decision"),
    (lambda d: d["student"].update(religion_th="พุทธ"), "religion_th"),
    (lambda d: d.update(schema=schema_url(InstitutionKind.VOCATIONAL)), "schema"),
    (lambda d: d["student"].update(photo_sha256="photo.jpg"), "photo_sha256"),
    (lambda d: d["student"].pop("photo_sha256"), "photo_sha256"),
    (lambda d: d["institution"].update(emblem_sha256="A" * 64), "emblem_sha256"),
    (lambda d: d["student"].update(photo="/9j/4AAQSkZJRg=="), "photo"),  # never the image
])
def test_a_record_off_its_schema_is_refused(change, where: str) -> None:
    document = copy.deepcopy(to_dict(school_record()))
    change(document)
    with pytest.raises((ValidationError, AssertionError)):
        validate(document)


def test_the_issuer_publishes_every_schema_version(tmp_path) -> None:
    written = write_schemas(tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == [
        "schema/transcript/school/v2.json", "schema/transcript/school/v3.json",
        "schema/transcript/school/v4.json", "schema/transcript/vocational/v2.json",
        "schema/transcript/vocational/v3.json", "schema/transcript/vocational/v4.json"]
    for target, source in schema_files().items():
        assert (tmp_path / target).read_bytes() == source.read_bytes()
        assert json.loads(source.read_text())["$id"].endswith(target.as_posix())


def test_the_suite_validates_every_record_it_serialises() -> None:
    record = school_record()
    bad = dataclasses.replace(record, record=dataclasses.replace(
        record.record, programme=dataclasses.replace(record.record.programme, level="ม.9")))
    with pytest.raises(ValidationError):
        to_canonical(bad)  # tests/conftest.py hooks the schema into record_json.to_dict
