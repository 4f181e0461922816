"""The lifecycle services on the in-memory unit of work (`issuer.testing`): importing and
classifying, four eyes on every decision, approvals that seal what they approved,
revocation and requests for new versions. No database, no keys, no PDF: milliseconds."""

from __future__ import annotations

import json

import pytest

from issuer.adapters.repositories import IssuedFiles
from issuer.core.lifecycle import AccountRole, BatchKind, BatchStatus, ItemKind, TranscriptStatus
from issuer.services.approval import approve, approved_digests
from issuer.services.context import Actor, ServiceError
from issuer.services.importing import AlreadyImported, BatchRejected, import_batch
from issuer.services.issuing import transcript_record
from issuer.services.lifecycle import request_new_version, revoke
from issuer.services.review import reject_batch, submit_batch, withdraw_batch
from issuer.testing import FakeIssuer
from tests.e2e.conftest import EXAMPLES, edit_csv
from tests.factories import SCHOOL

REG = Actor("reg", "test", AccountRole.REGISTRAR, "1001")
DIR = Actor("dir", "test", AccountRole.APPROVER, "1001")
OTHER_DIR = Actor("dir2", "test", AccountRole.APPROVER, "2001")
ADMIN = Actor("admin", "test", AccountRole.ADMIN)
SYSTEM = Actor("runner", "test")
FILE = (EXAMPLES / "school-batch.csv").read_bytes()


@pytest.fixture
def issuer() -> FakeIssuer:
    fake = FakeIssuer()
    fake.store.add_institution(SCHOOL, registrar=("นางสาวทะเบียน", "Ms Registrar"),
                               director=("นายผู้อำนวยการ", "Mr Director"))
    return fake


def status(issuer: FakeIssuer, batch_id: int) -> BatchStatus:
    return issuer.store.batches[batch_id].status


def issue(issuer: FakeIssuer, batch_id: int) -> list[int]:
    """What `issue_batch` stores, without signing: checks the approval first."""
    with issuer.uow() as uow:
        batch = uow.batches.get(batch_id)
        assert batch is not None
        records = uow.batches.records(batch)
        approved_digests(uow, batch, records)
        ids = []
        for i, row in enumerate(records):
            record = transcript_record(row, status_index=100 * batch_id + i, now=issuer.now)
            latest = uow.transcripts.latest(row.transcript_id)
            ids.append(uow.transcripts.add(record, batch_record=row, supersedes=latest,
                                           files=IssuedFiles("h.p.s")).id)
        batch.status = BatchStatus.ISSUED
        return ids


def approved(issuer: FakeIssuer, data: bytes = FILE) -> int:
    batch_id = import_batch(issuer, "1001", "s.csv", data, actor=REG).batch_id  # type: ignore[arg-type]
    submit_batch(issuer, batch_id, actor=REG)  # type: ignore[arg-type]
    approve(issuer, batch_id, actor=DIR)  # type: ignore[arg-type]
    return batch_id


def test_a_file_becomes_a_batch_of_new_students(issuer: FakeIssuer) -> None:
    imported = import_batch(issuer, "1001", "s.csv", FILE, actor=REG)  # type: ignore[arg-type]
    assert (imported.new, imported.corrections, imported.unchanged) == (6, 0, 0)
    batch = issuer.store.batches[imported.batch_id]
    assert (batch.kind, batch.status, batch.created_by) == (
        BatchKind.IMPORT, BatchStatus.IMPORTED, "reg")
    kinds = {r.kind for r in issuer.store.records.values()}
    assert kinds == {ItemKind.NEW}
    with pytest.raises(AlreadyImported):  # the same content, re-encoded
        import_batch(issuer, "1001", "s.csv", FILE.decode().encode("cp874"), actor=REG)  # type: ignore[arg-type]
    for who in (DIR, ADMIN, SYSTEM, Actor("reg2", "t", AccountRole.REGISTRAR, "2001")):
        with pytest.raises(ServiceError):
            import_batch(issuer, "1001", "t.csv", FILE, actor=who)  # type: ignore[arg-type]
    assert [e.action for e in issuer.store.audit] == ["batch.import"]


def test_four_eyes_on_every_decision(issuer: FakeIssuer) -> None:
    batch_id = import_batch(issuer, "1001", "s.csv", FILE, actor=REG).batch_id  # type: ignore[arg-type]
    with pytest.raises(ServiceError, match="not submitted"):
        approve(issuer, batch_id, actor=DIR)  # type: ignore[arg-type]
    with pytest.raises(ServiceError, match="only a registrar"):
        submit_batch(issuer, batch_id, actor=DIR)  # type: ignore[arg-type]
    submit_batch(issuer, batch_id, actor=REG)  # type: ignore[arg-type]
    for who, message in ((REG, "only an approver"), (OTHER_DIR, "no batch"),
                         (SYSTEM, "signed-in account"),
                         (Actor("reg", "t", AccountRole.APPROVER, "1001"), "four eyes")):
        with pytest.raises(ServiceError, match=message):
            approve(issuer, batch_id, actor=who)  # type: ignore[arg-type]
        assert status(issuer, batch_id) is BatchStatus.SUBMITTED
    job_id = approve(issuer, batch_id, actor=DIR)  # type: ignore[arg-type]
    batch = issuer.store.batches[batch_id]
    assert (batch.status, batch.approved_by) == (BatchStatus.APPROVED, "dir")
    assert batch.manifest_digest and batch.approval_mac
    job = issuer.store.jobs[job_id]
    assert (job.kind, job.batch_id, job.total) == ("issue_batch", batch_id, 6)
    with pytest.raises(ServiceError, match="cannot be withdrawn"):
        withdraw_batch(issuer, batch_id, reason="too late", actor=REG)  # type: ignore[arg-type]
    assert [e.action for e in issuer.store.audit][-3:] == [
        "batch.submit", "batch.approve", "batch.issue_queued"]


def test_rejected_and_withdrawn_batches_free_their_students(issuer: FakeIssuer) -> None:
    changed = edit_csv("school-batch.csv", lambda r: r.update(first_name_en="Changed"))
    first = import_batch(issuer, "1001", "s.csv", FILE, actor=REG).batch_id  # type: ignore[arg-type]
    with pytest.raises(BatchRejected):
        import_batch(issuer, "1001", "c.csv", changed, actor=REG)  # type: ignore[arg-type]
    withdraw_batch(issuer, first, reason="wrong file", actor=REG)  # type: ignore[arg-type]
    second = import_batch(issuer, "1001", "c.csv", changed, actor=REG).batch_id  # type: ignore[arg-type]
    submit_batch(issuer, second, actor=REG)  # type: ignore[arg-type]
    with pytest.raises(ServiceError, match="reason"):
        reject_batch(issuer, second, reason="", actor=DIR)  # type: ignore[arg-type]
    reject_batch(issuer, second, reason="wrong term", actor=DIR)  # type: ignore[arg-type]
    assert issuer.store.batches[second].status_reason == "wrong term"
    assert import_batch(issuer, "1001", "s.csv", FILE, actor=REG).batch_id > second  # type: ignore[arg-type]


def test_an_approval_seals_exactly_what_was_approved(issuer: FakeIssuer) -> None:
    batch_id = approved(issuer)
    with issuer.uow() as uow:
        batch = uow.batches.get(batch_id)
        records = uow.batches.records(batch)
        assert set(approved_digests(uow, batch, records)) == {r.id for r in records}
        first = records[0]
        original = first.record_json
        data = json.loads(original)
        data["courses"][0]["grade"] = "4"
        first.record_json = json.dumps(data).encode()
        with pytest.raises(ServiceError, match="does not match its digest"):
            approved_digests(uow, batch, records)
        first.record_json = original
        for name, forged in (("approved_by", "someone"), ("created_by", "dir"),
                             ("manifest_digest", "0" * 64)):
            genuine = getattr(batch, name)
            setattr(batch, name, forged)
            with pytest.raises(ServiceError, match="approval does not verify"):
                approved_digests(uow, batch, records)
            setattr(batch, name, genuine)
        with pytest.raises(ServiceError, match="not those approved"):
            approved_digests(uow, batch, records[1:])


def test_issued_students_with_changed_data_are_corrections(issuer: FakeIssuer) -> None:
    issue(issuer, approved(issuer))

    def change(r: dict[str, str]) -> None:
        if r["student_id"] == "66002" and r["record_type"] == "course":
            r["grade"] = "4"

    imported = import_batch(issuer, "1001", "c.csv", edit_csv("school-batch.csv", change),  # type: ignore[arg-type]
                            actor=REG)
    assert (imported.new, imported.corrections, imported.unchanged) == (0, 1, 5)
    batch = issuer.store.batches[imported.batch_id]
    (record,) = [r for r in issuer.store.records.values() if r.batch_id == batch.id]
    assert (batch.kind, record.kind, record.supersedes_version) == (
        BatchKind.CORRECTION, ItemKind.CORRECTION, 1)
    one_student = b"\n".join(line for line in FILE.splitlines()
                              if b",66003," in line or line.startswith(b"record_type"))
    with pytest.raises(ServiceError, match="nothing to approve"):
        import_batch(issuer, "1001", "x.csv", one_student, actor=REG)  # type: ignore[arg-type]


def test_revocation_is_final(issuer: FakeIssuer) -> None:
    issue(issuer, approved(issuer))
    tid = next(iter(issuer.store.transcripts.values())).transcript_id
    with pytest.raises(ServiceError, match="only a registrar"):
        revoke(issuer, tid, reason="x", actor=DIR)  # type: ignore[arg-type]
    assert revoke(issuer, tid, reason="issued in error", actor=REG) == 1  # type: ignore[arg-type]
    assert issuer.published == [["1001"]]
    with pytest.raises(ServiceError, match="already revoked"):
        revoke(issuer, tid, reason="again", actor=REG)  # type: ignore[arg-type]
    with pytest.raises(ServiceError, match="cannot be undone"):
        request_new_version(issuer, tid, reason="undo", actor=REG)  # type: ignore[arg-type]
    sid = next(r for r in issuer.store.records.values() if r.transcript_id == tid).student_id

    def change(r: dict[str, str]) -> None:
        if r["student_id"] == sid and r["record_type"] == "course":
            r["grade"] = "4"

    fix = ("fix.csv", edit_csv("school-batch.csv", change))
    request = request_new_version(issuer, tid, reason="grades corrected", actor=REG,  # type: ignore[arg-type]
                                  corrected=fix)
    assert status(issuer, request) is BatchStatus.SUBMITTED
    with pytest.raises(ServiceError, match="already in batch"):
        request_new_version(issuer, tid, reason="again", actor=REG, corrected=fix)  # type: ignore[arg-type]
    approve(issuer, request, actor=DIR)  # type: ignore[arg-type]
    issue(issuer, request)
    versions = sorted((t for t in issuer.store.transcripts.values() if t.transcript_id == tid),
                      key=lambda t: t.version)
    assert [(t.version, t.status) for t in versions] == [
        (1, TranscriptStatus.REVOKED), (2, TranscriptStatus.ISSUED)]


def test_a_reissue_takes_the_current_signatories(issuer: FakeIssuer) -> None:
    issue(issuer, approved(issuer))
    tid = next(iter(issuer.store.transcripts.values())).transcript_id
    institution = next(iter(issuer.store.institutions.values()))
    institution.director_name_th = "นางผู้อำนวยการคนใหม่"
    request = request_new_version(issuer, tid, reason="new director", actor=REG)  # type: ignore[arg-type]
    (record,) = [r for r in issuer.store.records.values() if r.batch_id == request]
    assert record.kind is ItemKind.REISSUE and record.supersedes_version == 1
    signatories = json.loads(record.record_json)["signatories"]
    assert "นางผู้อำนวยการคนใหม่" in {s["name_th"] for s in signatories}


def test_a_corrected_prefix_against_the_sex_waits_for_the_requesters_confirmation(
        issuer: FakeIssuer) -> None:
    """A correction request is submitted at once: its prefix/sex warnings are confirmed by
    the requester when asking, or the request is refused, as an imported batch's are."""
    issue(issuer, approved(issuer))
    tid = next(iter(issuer.store.transcripts.values())).transcript_id
    sid = next(r for r in issuer.store.records.values() if r.transcript_id == tid).student_id

    def other_sex(r: dict[str, str]) -> None:
        if r["student_id"] == sid:
            r["sex"] = "ชาย" if r["sex"] == "หญิง" else "หญิง"

    fix = ("fix.csv", edit_csv("school-batch.csv", other_sex))
    with pytest.raises(ServiceError, match="confirm: prefix_th"):
        request_new_version(issuer, tid, reason="sex corrected", actor=REG, corrected=fix)  # type: ignore[arg-type]
    request = request_new_version(issuer, tid, reason="sex corrected", actor=REG,  # type: ignore[arg-type]
                                  corrected=fix, confirm_warnings=True)
    batch = issuer.store.batches[request]
    assert batch.status is BatchStatus.SUBMITTED and batch.warnings_confirmed_by == "reg"
    assert {w["column"] for w in json.loads(batch.warnings)} == {"prefix_th", "prefix_en"}
