"""Snapshots: exact round trip, digests that follow content, readable differences."""

from __future__ import annotations

import dataclasses

from issuer.core.snapshot import (
    Snapshot,
    content_digest,
    diff,
    from_dict,
    snapshot_digest,
    student_data,
    to_canonical,
    to_dict,
)
from tests.factories import SCHOOL, TRAINING, school_record, vocational_record


def snap(kind: str = "school", **kw: object) -> Snapshot:
    t = school_record(**kw) if kind == "school" else vocational_record(**kw)
    return Snapshot(SCHOOL if kind == "school" else TRAINING, t.record)


def test_round_trip_is_exact() -> None:
    for s in (snap("school"), snap("school", many_courses=True), snap("vocational")):
        assert from_dict(to_dict(s)) == s
        assert to_canonical(from_dict(to_dict(s))) == to_canonical(s)


def test_digest_follows_every_change_and_nothing_else() -> None:
    s = snap()
    same = from_dict(to_dict(s))
    assert snapshot_digest(to_canonical(s)) == snapshot_digest(to_canonical(same))
    course = dataclasses.replace(s.record.courses[0], grade="4")
    if course == s.record.courses[0]:
        course = dataclasses.replace(course, grade="3")
    changed = dataclasses.replace(s, record=dataclasses.replace(
        s.record, courses=(course, *s.record.courses[1:])))
    assert snapshot_digest(to_canonical(changed)) != snapshot_digest(to_canonical(s))


def test_content_digest_ignores_order() -> None:
    assert content_digest(["b", "a"]) == content_digest(["a", "b"])
    assert content_digest(["a"]) != content_digest(["a", "b"])


def test_diff_names_each_changed_field() -> None:
    s = snap()
    name = dataclasses.replace(s.record.student.name, first_name_en="Kanyanut")
    first = s.record.courses[0]
    new_grade = "1" if first.grade != "1" else "2"
    record = dataclasses.replace(
        s.record, student=dataclasses.replace(s.record.student, name=name),
        courses=(dataclasses.replace(first, grade=new_grade), *s.record.courses[1:-1]))
    changes = {c.field: (c.old, c.new) for c in diff(s, dataclasses.replace(s, record=record))}
    assert changes["student.first_name_en"] == ("Kanyanat", "Kanyanut")
    key = f"course {first.term.year}/{first.term.semester}/{first.code}.grade"
    assert changes[key] == (first.grade, new_grade)
    last = s.record.courses[-1]
    gone = f"course {last.term.year}/{last.term.semester}/{last.code}.grade"
    assert changes[gone] == (last.grade, "")
    assert diff(s, s) == ()


def test_student_data_leaves_out_who_signs() -> None:
    s = snap()
    other = dataclasses.replace(s, record=dataclasses.replace(s.record, signatories=()))
    assert student_data(s) == student_data(other)
    assert to_canonical(s) != to_canonical(other)


def test_snapshots_from_before_the_form_fields_keep_their_digest() -> None:
    """A snapshot frozen before the serial line and leaving fields existed reads back and
    re-serialises to the same canonical JSON (its approval covers that digest)."""
    s = snap("school")
    rec = dataclasses.replace(
        s.record, form_set="", form_number="",
        student=dataclasses.replace(s.record.student, previous_school_province_th="",
                                    leave_date=None, leave_reason_th=""))
    old = dataclasses.replace(s, record=rec)
    data = to_dict(old)
    assert not {"form_set", "form_number"} & set(data)
    assert not {"leave_date", "leave_reason_th", "previous_school_province_th"} & set(
        data["student"])
    assert to_canonical(from_dict(data)) == to_canonical(old)
    # and with them, they round-trip
    assert from_dict(to_dict(s)) == s and to_dict(s)["form_number"] == "000345"


def test_the_photo_and_the_emblem_are_in_the_snapshot_by_digest() -> None:
    """A snapshot without images keeps the JSON it had before images existed; with them
    it names each by digest, so the approval covers them, and a new photo is a change of
    the student's data (a correction), a new emblem one of the institution's."""
    s = snap("school")
    assert "photo_sha256" not in to_dict(s)["student"]
    assert "emblem_sha256" not in to_dict(s)["institution"]
    photo, emblem = "a" * 64, "b" * 64
    pictured = Snapshot(dataclasses.replace(s.institution, emblem_sha256=emblem),
                        dataclasses.replace(s.record, student=dataclasses.replace(
                            s.record.student, photo_sha256=photo)))
    data = to_dict(pictured)
    assert (data["student"]["photo_sha256"], data["institution"]["emblem_sha256"]) == (
        photo, emblem)
    assert from_dict(data) == pictured
    assert snapshot_digest(to_canonical(pictured)) != snapshot_digest(to_canonical(s))
    assert student_data(pictured) != student_data(s)
    assert [c.field for c in diff(s, pictured)] == ["student.photo_sha256",
                                                    "institution.emblem_sha256"]
