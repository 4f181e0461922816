"""What is signed is what an approver approved, on every path (issue 8's findings).

Each test reproduces one way an insider got unapproved data into a VALID transcript on
the old main: a registrar alone reissuing changed grades, an import after approval, an
import overwriting issued students, a revoked transcript made valid again, a database
writer editing rows after approval. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image
from sqlalchemy import delete, func, select, update

from issuer import demo_images
from issuer.adapters import queries
from issuer.adapters.orm import BatchRecordRow, BatchRow, ImageRow, TranscriptRow
from issuer.core.lifecycle import BatchStatus, ItemKind, TranscriptStatus
from issuer.services.admin import set_emblem
from issuer.services.approval import approve, approved_digests, manifest_digest
from issuer.services.checking import verify_pdf
from issuer.services.context import Issuer, ServiceError
from issuer.services.importing import AlreadyImported, BatchRejected, import_batch
from issuer.services.issuing import issue_batch
from issuer.services.lifecycle import request_new_version, revoke
from issuer.services.review import compare, submit_batch
from tests.e2e.conftest import (
    DIRECTOR,
    EXAMPLES,
    REGISTRAR,
    SYSTEM,
    approved_batch,
    edit_csv,
    issue_file,
)
from verifier.core.canonical import canonical_json, digest
from verifier.core.verdict import Result

SCHOOL = ("1001", "school-batch.csv")


def versions(issuer: Issuer, transcript_id: str | None = None) -> list[TranscriptRow]:
    with issuer.uow() as uow:
        stmt = select(TranscriptRow).order_by(TranscriptRow.transcript_id,
                                              TranscriptRow.version)
        if transcript_id:
            stmt = stmt.where(TranscriptRow.transcript_id == transcript_id)
        rows = list(uow.session.scalars(stmt))
        uow.session.expunge_all()
        return rows


def grades(row: TranscriptRow) -> list[str]:
    return [c["grade"] for c in json.loads(row.record_json)["courses"]]


def raise_grades(student_id: str | None = None):  # type: ignore[no-untyped-def]
    def change(r: dict[str, str]) -> None:
        if r["record_type"] == "course" and student_id in (None, r["student_id"]):
            r["grade"] = "4"
    return change


def pdf(issuer: Issuer, row: TranscriptRow) -> bytes:
    return (issuer.settings.output_dir / str(row.pdf_path)).read_bytes()


def test_a_registrar_alone_signs_no_changed_grades(issuer: Issuer) -> None:
    """Found: POST /transcripts/<id>/reissue with a corrected file was parsed, stored and
    signed at once by the registrar alone (v2 VALID, 23 grades raised to 4)."""
    issue_file(issuer, *SCHOOL)
    v1 = versions(issuer)[0]
    sid = json.loads(v1.record_json)["student"]["student_id"]
    corrected = edit_csv("school-batch.csv", raise_grades(sid))
    request = request_new_version(issuer, v1.transcript_id, reason="grades corrected",
                                  actor=REGISTRAR, corrected=("fix.csv", corrected))
    assert [r.version for r in versions(issuer, v1.transcript_id)] == [1]  # nothing signed
    with pytest.raises(ServiceError, match="must be approved"):
        issue_batch(issuer, request, actor=SYSTEM, workers=0)
    with pytest.raises(ServiceError, match="only an approver"):
        approve(issuer, request, actor=REGISTRAR)
    comparison = compare(issuer, request, _records(issuer, request)[0].id,
                         institution_code="1001")
    assert comparison.kind is ItemKind.CORRECTION and comparison.old_version == 1
    assert {c.new for c in comparison.changes if c.field.endswith(".grade")} == {"4"}
    approve(issuer, request, actor=DIRECTOR)
    issue_batch(issuer, request, actor=SYSTEM, workers=0)
    old, new = versions(issuer, v1.transcript_id)
    assert set(grades(new)) == {"4"} and old.status is TranscriptStatus.SUPERSEDED
    assert verify_pdf(issuer, pdf(issuer, new)).result is Result.VALID
    with issuer.uow() as uow:
        events = [(e.actor, e.action) for e in uow.audit.events(limit=1000)]
    assert (REGISTRAR.name, "transcript.correction_request") in events
    assert (DIRECTOR.name, "batch.approve") in events


def _records(issuer: Issuer, batch_id: int) -> list[BatchRecordRow]:
    with issuer.uow() as uow:
        batch = uow.batches.get(batch_id)
        assert batch is not None
        rows = uow.batches.records(batch)
        uow.session.expunge_all()
        return rows


def test_data_imported_after_approval_is_not_signed_under_it(issuer: Issuer) -> None:
    """Found: batch 6 approved, then batch 7 (same students, a failed module now passed,
    never submitted) imported: batch 6's transcripts carried batch 7's pass."""
    approved = approved_batch(issuer, *SCHOOL)
    passing = edit_csv("school-batch.csv", raise_grades())
    with pytest.raises(BatchRejected) as caught:  # its students wait in the approved batch
        import_batch(issuer, "1001", "later.csv", passing, actor=REGISTRAR)
    assert all(f"batch {approved}" in e.reason_en for e in caught.value.errors)
    issue_batch(issuer, approved, actor=SYSTEM, workers=0)
    issued = versions(issuer)
    assert len(issued) == 6 and all(set(grades(r)) != {"4"} for r in issued)


def test_an_unapproved_import_changes_no_issued_student(issuer: Issuer) -> None:
    """Found: importing a file that changed an issued student's name, grades or birth date
    rewrote the stored record at once; a reissue then signed it, and the issued batch
    showed 0 students (progress: total 0, issued 6)."""
    first, _ = issue_file(issuer, *SCHOOL)
    before = {r.transcript_id: r.record_json for r in versions(issuer)}

    def change(r: dict[str, str]) -> None:
        if r["student_id"] == "66002":
            r["first_name_en"], r["birth_date"] = "Renamed", "01/01/2553"

    corrections = import_batch(issuer, "1001", "changed.csv",
                               edit_csv("school-batch.csv", change), actor=REGISTRAR)
    assert (corrections.new, corrections.corrections, corrections.unchanged) == (0, 1, 5)
    assert {r.transcript_id: r.record_json for r in versions(issuer)} == before
    with issuer.uow() as uow:
        batch = uow.batches.get(first)
        assert queries.count_students(uow.session, batch) == 6
        assert queries.count_issued(uow.session, batch) == 6
        names = [line.name_en for line in queries.students_of_batch(uow.session, batch)]
        assert "Renamed" not in " ".join(names)
    (record,) = _records(issuer, corrections.batch_id)
    changes = {c.field: (c.old, c.new) for c in compare(
        issuer, corrections.batch_id, record.id, institution_code="1001").changes}
    assert changes["student.first_name_en"][1] == "Renamed"
    old_birth, new_birth = changes["student.birth_date"]
    assert new_birth == "2010-01-01" and old_birth != new_birth
    with pytest.raises(ServiceError, match="must be approved"):  # not until approved
        issue_batch(issuer, corrections.batch_id, actor=SYSTEM, workers=0)
    assert {r.transcript_id: r.record_json for r in versions(issuer)} == before


@pytest.mark.parametrize("variant", ["bom", "crlf", "tis-620", "xlsx"])
def test_the_same_data_in_another_encoding_or_format_is_the_same_batch(
        issuer: Issuer, variant: str) -> None:
    """Found: identical data re-saved with a BOM, as TIS-620, with CRLF or as XLSX counted
    as a new file each time."""
    text = (EXAMPLES / "school-batch.csv").read_text(encoding="utf-8-sig")
    data = {
        "bom": text.encode("utf-8-sig"),
        "crlf": text.replace("\n", "\r\n").encode("utf-8"),
        "tis-620": text.encode("cp874"),
        "xlsx": (EXAMPLES / "school-batch.xlsx").read_bytes(),
    }[variant]
    first = import_batch(issuer, "1001", "school-batch.csv", text.encode(), actor=REGISTRAR)
    with pytest.raises(AlreadyImported) as caught:
        import_batch(issuer, "1001", f"again.{variant}", data, actor=REGISTRAR)
    assert caught.value.batch_id == first.batch_id


def test_a_revoked_transcript_stays_revoked(issuer: Issuer) -> None:
    """Found: reissuing a revoked transcript without a file un-revoked it (v2 VALID)."""
    issue_file(issuer, *SCHOOL)
    v1 = versions(issuer)[0]
    revoke(issuer, v1.transcript_id, reason="issued in error", actor=REGISTRAR)
    with pytest.raises(ServiceError, match="cannot be undone"):
        request_new_version(issuer, v1.transcript_id, reason="undo", actor=REGISTRAR)
    with pytest.raises(AlreadyImported):  # the same file again changes nothing
        import_batch(issuer, "1001", "again.csv",
                     edit_csv("school-batch.csv", lambda r: None), actor=REGISTRAR)
    assert [r.status for r in versions(issuer, v1.transcript_id)] == [TranscriptStatus.REVOKED]
    # corrected data may get a new version, through four eyes; v1 stays revoked
    sid = json.loads(v1.record_json)["student"]["student_id"]
    request = request_new_version(
        issuer, v1.transcript_id, reason="grades corrected", actor=REGISTRAR,
        corrected=("fix.csv", edit_csv("school-batch.csv", raise_grades(sid))))
    approve(issuer, request, actor=DIRECTOR)
    issue_batch(issuer, request, actor=SYSTEM, workers=0)
    old, new = versions(issuer, v1.transcript_id)
    assert (old.status, new.status) == (TranscriptStatus.REVOKED, TranscriptStatus.ISSUED)
    assert verify_pdf(issuer, pdf(issuer, old)).result is Result.REVOKED


# --- a database writer without the service's files ----------------------------------------


def _tamper(issuer: Issuer, *statements) -> None:  # type: ignore[no-untyped-def]
    with issuer.uow() as uow:
        for statement in statements:
            uow.session.execute(statement)
        uow.commit()


def _refused(issuer: Issuer, batch_id: int, match: str) -> None:
    with pytest.raises(ServiceError, match=match):
        issue_batch(issuer, batch_id, actor=SYSTEM, workers=0)
    with issuer.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(TranscriptRow)) == 0
        events = uow.audit.events(subject=f"batch:{batch_id}")
        assert events[-1].action == "batch.integrity_failure"


def _forged_snapshot(record: BatchRecordRow) -> bytes:
    data = json.loads(record.record_json)
    for course in data["courses"]:
        course["grade"] = "4"
    return canonical_json(data)


def test_a_database_writer_cannot_change_what_was_approved(issuer: Issuer) -> None:
    batch_id = approved_batch(issuer, *SCHOOL)
    record = _records(issuer, batch_id)[0]
    forged = _forged_snapshot(record)
    rows = update(BatchRecordRow).where(BatchRecordRow.id == record.id)

    _tamper(issuer, rows.values(record_json=forged))  # the snapshot alone
    _refused(issuer, batch_id, "does not match its digest")
    _tamper(issuer, rows.values(record_digest=digest(forged)))  # and its digest
    _refused(issuer, batch_id, "not those approved")
    with issuer.uow() as uow:  # and the approval's manifest, recomputed
        manifest = manifest_digest(uow.batches.records(uow.batches.get(batch_id)))
    _tamper(issuer, update(BatchRow).where(BatchRow.id == batch_id)
            .values(manifest_digest=manifest))
    _refused(issuer, batch_id, "approval does not verify")
    _tamper(issuer, rows.values(record_json=record.record_json,
                                record_digest=record.record_digest),
            update(BatchRow).where(BatchRow.id == batch_id)
            .values(manifest_digest=None))
    _refused(issuer, batch_id, "approval does not verify")


def test_a_database_writer_cannot_swap_an_approved_photo_or_emblem(issuer: Issuer) -> None:
    """The snapshot names the photo and the emblem by digest; their bytes sit in `images`,
    where a database writer could replace them without touching any snapshot."""
    set_emblem(issuer, "1001", demo_images.emblem_png("ว.ด."), actor=SYSTEM)
    batch_id = import_batch(issuer, *SCHOOL, (EXAMPLES / SCHOOL[1]).read_bytes(),
                            actor=REGISTRAR, photos=demo_images.photos_zip(["66001"])
                            ).batch_id
    submit_batch(issuer, batch_id, actor=REGISTRAR)
    approve(issuer, batch_id, actor=DIRECTOR)
    swapped = io.BytesIO()
    Image.new("RGB", (354, 472), (255, 0, 0)).save(swapped, "JPEG")
    with issuer.uow() as uow:
        originals = {kind: sealed for kind, sealed in uow.session.execute(
            select(ImageRow.kind, ImageRow._image_sealed))}
    for kind in ("photo", "emblem"):  # raw bytes, as without the service's key
        rows = update(ImageRow).where(ImageRow.kind == kind)
        _tamper(issuer, rows.values(_image_sealed=swapped.getvalue()))
        _refused(issuer, batch_id, "does not match its digest")
        _tamper(issuer, rows.values(_image_sealed=originals[kind]))
    photo = update(ImageRow).where(ImageRow.kind == "photo")  # another row's sealed bytes
    _tamper(issuer, photo.values(_image_sealed=originals["emblem"]))
    _refused(issuer, batch_id, "cannot be decrypted")
    _tamper(issuer, delete(ImageRow).where(ImageRow.kind == "photo"))
    _refused(issuer, batch_id, "is missing")


def test_a_database_writer_cannot_approve(issuer: Issuer) -> None:
    batch_id = import_batch(issuer, *SCHOOL, (EXAMPLES / SCHOOL[1]).read_bytes(),
                            actor=REGISTRAR).batch_id  # imported, never submitted
    other = approved_batch(issuer, "2001", "vocational-batch.csv")
    with issuer.uow() as uow:
        real = uow.batches.get(other)
        assert real is not None
        stolen = (real.approved_at, real.approval_mac)
        manifest = manifest_digest(uow.batches.records(uow.batches.get(batch_id)))
    _tamper(issuer, update(BatchRow).where(BatchRow.id == batch_id).values(
        status=BatchStatus.APPROVED, approved_by="director@1001", approved_at=stolen[0],
        manifest_digest=manifest, approval_mac=stolen[1]))
    _refused(issuer, batch_id, "approval does not verify")
    with issuer.uow() as uow:  # the genuine approval still verifies
        real = uow.batches.get(other)
        assert approved_digests(uow, real, uow.batches.records(real))
