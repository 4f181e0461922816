"""Between import and issuance: preview, submit for approval, approve (four eyes), reject.

The web service drives a batch through these steps; `issuer.services.issuing` does
the approval itself and the signing. The command line keeps its shortcut (approve an
imported batch directly); the web insists on a submitted batch and on an approver
other than the person who uploaded it.
"""

from __future__ import annotations

import dataclasses

from issuer.adapters import repositories as repo
from issuer.adapters.orm import BatchStatus, EnrolmentRow
from issuer.adapters.render import render_transcript
from issuer.adapters.render.preview import PREVIEW_CODE, PREVIEW_QR, mark_preview
from issuer.pipeline import build_record
from issuer.services.context import Actor, Issuer, ServiceError
from issuer.services.issuing import (
    approve_batch,
    find_batch,
    signatories_for,
    transcript_id_for,
)


class FourEyes(ServiceError):
    """The approver uploaded the batch themselves."""

    def __init__(self, batch_id: int) -> None:
        super().__init__(
            f"batch {batch_id}: the person who uploaded a batch cannot approve it"
        )


def _move(issuer: Issuer, batch_id: int, *, actor: Actor, institution_code: str,
          expected: BatchStatus, to: BatchStatus, action: str,
          detail: dict[str, str] | None = None) -> None:
    with issuer.uow() as uow:
        batch = find_batch(uow.session, batch_id, institution_code)
        if batch.status is not expected:
            raise ServiceError(f"batch {batch_id} is {batch.status.value}, not {expected.value}")
        now = issuer.clock()
        repo.set_batch_status(uow.session, batch, to, now=now, by=actor.name)
        repo.append_audit(
            uow.session, actor=actor.name, action=action, source=actor.source, now=now,
            institution=batch.institution, subject=f"batch:{batch.id}", detail=detail,
        )
        uow.commit()


def submit_batch(issuer: Issuer, batch_id: int, *, actor: Actor, institution_code: str) -> None:
    """The registrar, having previewed, asks the director to approve."""
    _move(issuer, batch_id, actor=actor, institution_code=institution_code,
          expected=BatchStatus.IMPORTED, to=BatchStatus.SUBMITTED, action="batch.submit")


def reject_batch(issuer: Issuer, batch_id: int, *, reason: str, actor: Actor,
                 institution_code: str) -> None:
    """The director sends a submitted batch back; the registrar uploads a corrected file."""
    reason = reason.strip()
    if not reason:
        raise ServiceError("a reason is required")
    _move(issuer, batch_id, actor=actor, institution_code=institution_code,
          expected=BatchStatus.SUBMITTED, to=BatchStatus.REJECTED, action="batch.reject",
          detail={"reason": reason})


def approve_submitted(issuer: Issuer, batch_id: int, *, actor: Actor,
                      institution_code: str) -> None:
    """The director approves a submitted batch they did not upload."""
    with issuer.uow() as uow:
        batch = find_batch(uow.session, batch_id, institution_code)
        if batch.status is not BatchStatus.SUBMITTED:
            raise ServiceError(f"batch {batch_id} is {batch.status.value}, not submitted")
        if batch.created_by == actor.name:
            raise FourEyes(batch_id)
    approve_batch(issuer, batch_id, actor=actor, institution_code=institution_code)


def preview_pdf(issuer: Issuer, batch_id: int, enrolment_id: int, *,
                institution_code: str) -> tuple[str, bytes]:
    """(transcript ID it will get, unsigned PDF marked PREVIEW) for one student of a batch.

    Nothing is stored or allocated: no status index, no signature, no credential.
    """
    with issuer.uow() as uow:
        s = uow.session
        batch = find_batch(s, batch_id, institution_code)
        enrolment = s.get(EnrolmentRow, enrolment_id)
        if enrolment is None or enrolment.batch_id != batch.id:
            raise ServiceError(f"no student {enrolment_id} in batch {batch_id}")
        institution = batch.institution
        record = repo.load_student_record(s, enrolment)
        if not record.signatories:
            record = dataclasses.replace(record, signatories=signatories_for(institution))
        transcript_id = transcript_id_for(institution.code, enrolment)
        transcript = build_record(
            record, repo.to_institution(institution), transcript_id=transcript_id,
            version=1, status_index=0, issued_at=issuer.clock(), national_id_salt="preview",
        )
    pdf = render_transcript(transcript, PREVIEW_QR, PREVIEW_CODE)
    return transcript_id, mark_preview(pdf)
