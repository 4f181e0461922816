"""After issuance: revoke a transcript, or request a new version of it.

A registrar revokes alone (it only ever makes a transcript less valid) and a revocation
is final. A new version, corrected from a file or the same data issued again, is only
ever a request: a batch of one record, submitted at once, signed after an approver other
than the requester approved it (`issuer.services.approval`).
"""

from __future__ import annotations

import dataclasses
from datetime import date

from issuer.adapters import repositories as repo
from issuer.adapters.batchfile import load_batch
from issuer.adapters.orm import TranscriptRow
from issuer.core.batch import BatchWarning
from issuer.core.lifecycle import (
    BatchKind,
    BatchStatus,
    ItemKind,
    check_new_version,
    check_request,
    check_revoke,
)
from issuer.core.names import prefix_sex_conflicts
from issuer.core.records import StudentRecord
from issuer.core.refusal import Both
from issuer.core.snapshot import Snapshot, content_digest, student_data
from issuer.services.context import (
    Actor,
    Issuer,
    ServiceError,
    given_reason,
    rules,
    signed_in,
)
from issuer.services.importing import BatchRejected
from issuer.services.snapshots import Frozen, Issuing, stored
from verifier.core.status_details import REASONS, UNSPECIFIED


def _latest(uow: repo.UnitOfWork, transcript_id: str, institution_code: str | None
            ) -> TranscriptRow:
    row = uow.transcripts.latest(transcript_id, institution_code)
    if row is None:
        raise ServiceError("no transcript %(transcript)s", transcript=transcript_id)
    return row


def revoke(issuer: Issuer, transcript_id: str, *, reason: str, actor: Actor,
           reason_code: str = UNSPECIFIED) -> int:
    """Revoke the current version of a transcript; returns that version.

    `reason` (the registrar's words) is kept and audited; verifiers are told only
    `reason_code`, one of `REASONS`, with the date (`issuer.services.publishing`)."""
    reason = given_reason(reason)
    if reason_code not in REASONS:
        raise ServiceError("unknown public reason %(code)r: one of %(reasons)s",
                           code=reason_code, reasons=", ".join(REASONS))
    who = signed_in(actor)
    with issuer.uow() as uow:
        row = _latest(uow, transcript_id, who.institution_code)
        with rules():
            check_revoke(row.status, who, row.institution.code, f"{transcript_id} "
                         f"v{row.version}")
        now = issuer.clock()
        uow.transcripts.revoke(row, reason=reason, now=now, reason_code=reason_code)
        uow.audit.append(
            actor=actor.name, action="transcript.revoke", source=actor.source,
            now=now, institution=row.institution, subject=f"{transcript_id} v{row.version}",
            detail={"reason": reason, "reason_code": reason_code},
        )
        uow.commit()
        version, code = row.version, row.institution.code
    issuer.publish([code])
    return version


def _corrected_record(issuing: Issuing, old: Snapshot, corrected: tuple[str, bytes],
                      today: date) -> StudentRecord:
    filename, data = corrected
    result = load_batch(data, issuing.institution, today=today)
    if not result.ok:
        raise BatchRejected(result.errors)
    matches = [r for r in result.records if
               (r.student.student_id, r.programme.code) == old.key]
    if len(matches) != 1:
        raise ServiceError("%(filename)s holds no rows for student %(student)s in programme "
                           "%(programme)s", filename=filename, student=old.key[0],
                           programme=old.key[1])
    # A request carries no photos: the issued photo stays (a new photo is an import).
    return dataclasses.replace(matches[0], student=dataclasses.replace(
        matches[0].student, photo_sha256=old.record.student.photo_sha256))


def _prefix_warnings(record: StudentRecord) -> list[BatchWarning]:
    """The corrected student's prefix/sex warnings, as an import would give them."""
    name = record.student.name
    return [BatchWarning(0, column, getattr(name, column), why.th, why.en)
            for column, why in prefix_sex_conflicts(name.prefix_th, name.prefix_en,
                                                    record.student.sex)]


def request_new_version(
    issuer: Issuer, transcript_id: str, *, reason: str, actor: Actor,
    corrected: tuple[str, bytes] | None = None, confirm_warnings: bool = False,
) -> int:
    """Ask for a new version of a transcript; the id of the request (a submitted batch).

    `corrected` is a batch file ``(filename, data)`` holding the student's corrected rows;
    without it, the stored data is issued again with the institution's current details
    and signatories (e.g. after a new director took office). A revoked transcript gets
    a new version only for corrected student data. Corrected data whose prefix disagrees
    with the sex is refused unless the requester confirms it (`confirm_warnings`), as a
    registrar confirms an imported batch's warnings; the request records who did.
    """
    reason = given_reason(reason)
    who = signed_in(actor)
    with issuer.uow() as uow:
        latest = _latest(uow, transcript_id, who.institution_code)
        institution = latest.institution
        with rules():
            check_request(who, institution.code, transcript_id)
        uow.institutions.lock(institution)
        old = stored(latest.batch_record)
        issuing = Issuing.of(institution)
        warnings: list[BatchWarning] = []
        if corrected is not None:
            record = _corrected_record(issuing, old, corrected, issuer.today())
            warnings = _prefix_warnings(record)
            if warnings and not confirm_warnings:
                raise ServiceError("check and confirm: %(warnings)s", warnings=Both(
                    "; ".join(f"{w.column} {w.value}: {w.reason_th}" for w in warnings),
                    "; ".join(f"{w.column} {w.value}: {w.reason_en}" for w in warnings)))
            kind, snapshot = ItemKind.CORRECTION, issuing.snapshot(record)
        else:
            kind, snapshot = ItemKind.REISSUE, Snapshot(issuing.institution, dataclasses.replace(
                old.record, signatories=issuing.signatories))
        frozen = Frozen.of(snapshot)
        with rules():
            check_new_version(
                kind, latest.status, transcript=transcript_id,
                same_record=frozen.digest == latest.batch_record.record_digest,
                same_student_data=student_data(old) == student_data(snapshot))
        enrolment = latest.batch_record.enrolment
        busy = uow.batches.open_batches_of([enrolment.id])
        if busy:
            raise ServiceError("%(transcript)s is already in batch %(batch)s, not yet issued",
                               transcript=transcript_id, batch=busy[enrolment.id].id)
        now = issuer.clock()
        batch = uow.batches.add(
            institution, kind=BatchKind.CORRECTION if corrected else BatchKind.REISSUE,
            filename=corrected[0] if corrected else "", row_count=1,
            content_digest=content_digest([frozen.digest, f"{transcript_id}:{now}"]),
            created_by=who.username, now=now, status=BatchStatus.SUBMITTED, reason=reason,
            warnings=warnings)
        if warnings:
            uow.batches.confirm_warnings(batch, by=who.username, now=now)
        uow.batches.add_records(batch, [frozen.new_record(enrolment, transcript_id, kind,
                                                          latest.version)])
        uow.audit.append(
            actor=actor.name, action=f"transcript.{kind.value}_request", source=actor.source,
            now=now, institution=institution, subject=f"{transcript_id} v{latest.version}",
            detail={"batch": batch.id, "reason": reason,
                    "corrected_file": corrected[0] if corrected else None,
                    "warnings_confirmed": len(warnings)})
        uow.commit()
        return batch.id
