"""Between import and approval: preview, compare, confirm warnings, submit, withdraw,
reject.

The approval itself is `issuer.services.approval.approve`; every step checks the rules of
`issuer.core.lifecycle` (which state, which role, which institution) and is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from issuer.adapters.render import render_transcript
from issuer.adapters.render.preview import PREVIEW_CODE, PREVIEW_QR, mark_preview
from issuer.adapters.repositories import Changed, ImageChanged
from issuer.core.batch import load_warnings
from issuer.core.lifecycle import BatchAction, ItemKind, check_confirm_warnings
from issuer.core.snapshot import Change, diff
from issuer.services.approval import decide, facts
from issuer.services.context import (
    Actor,
    Issuer,
    ServiceError,
    given_reason,
    refused,
    rules,
    signed_in,
)
from issuer.services.issuing import transcript_record
from issuer.services.snapshots import stored


def _decide(issuer: Issuer, batch_id: int, action: BatchAction, *, actor: Actor,
            reason: str = "") -> None:
    who = signed_in(actor)
    with issuer.uow() as uow:
        batch, to = decide(uow, batch_id, action, who)
        now = issuer.clock()
        try:
            uow.batches.move(batch, to, now=now, by=who.username, reason=reason)
        except Changed as e:
            raise refused(e) from None
        uow.audit.append(
            actor=actor.name, action=f"batch.{action.value}", source=actor.source, now=now,
            institution=batch.institution, subject=f"batch:{batch.id}",
            detail={"reason": reason} if reason else None)
        uow.commit()


def confirm_warnings(issuer: Issuer, batch_id: int, *, actor: Actor) -> int:
    """The registrar, having checked the import's warnings (e.g. a prefix against the
    sex), confirms them so the batch may be submitted; audited. How many were confirmed."""
    who = signed_in(actor)
    with issuer.uow() as uow:
        batch = uow.batches.get(batch_id, who.institution_code)
        if batch is None:
            raise ServiceError("no batch %(batch)s", batch=batch_id)
        with rules():
            check_confirm_warnings(facts(batch), who)
        warnings = load_warnings(batch.warnings)
        now = issuer.clock()
        try:
            uow.batches.confirm_warnings(batch, by=who.username, now=now)
        except Changed as e:
            raise refused(e) from None
        uow.audit.append(
            actor=actor.name, action="batch.confirm_warnings", source=actor.source, now=now,
            institution=batch.institution, subject=f"batch:{batch.id}",
            detail={"warnings": [f"{w.row}:{w.column}" for w in warnings]})
        uow.commit()
        return len(warnings)


def submit_batch(issuer: Issuer, batch_id: int, *, actor: Actor) -> None:
    """The registrar, having previewed, asks the director to approve."""
    _decide(issuer, batch_id, BatchAction.SUBMIT, actor=actor)


def withdraw_batch(issuer: Issuer, batch_id: int, *, reason: str, actor: Actor) -> None:
    """The registrar takes back a batch not yet approved (its students are free again)."""
    _decide(issuer, batch_id, BatchAction.WITHDRAW, actor=actor, reason=given_reason(reason))


def reject_batch(issuer: Issuer, batch_id: int, *, reason: str, actor: Actor) -> None:
    """The director sends a submitted batch back; the registrar uploads a corrected file."""
    _decide(issuer, batch_id, BatchAction.REJECT, actor=actor, reason=given_reason(reason))


@dataclass(frozen=True)
class Comparison:
    """A correction or reissue of one student: what is issued now, what it will be."""

    transcript_id: str
    kind: ItemKind
    old_version: int
    changes: tuple[Change, ...]


def compare(issuer: Issuer, batch_id: int, record_id: int, *, institution_code: str
            ) -> Comparison:
    """The differences a batch record makes to the version it supersedes."""
    with issuer.uow() as uow:
        batch = uow.batches.get(batch_id, institution_code)
        rows = uow.batches.records(batch, [record_id]) if batch else []
        if not rows or rows[0].supersedes_version is None:
            raise ServiceError("no correction %(record)s in batch %(batch)s", record=record_id,
                               batch=batch_id)
        row = rows[0]
        old = uow.transcripts.get(row.transcript_id, row.supersedes_version)
        if old is None:
            raise ServiceError("%(transcript)s v%(version)s is not issued",
                               transcript=row.transcript_id, version=row.supersedes_version)
        return Comparison(row.transcript_id, row.kind, old.version,
                          diff(stored(old.batch_record), stored(row)))


def photo_digests(issuer: Issuer, batch_id: int, record_ids: list[int], *,
                  institution_code: str) -> dict[int, str]:
    """record id -> the digest of the photo its snapshot names, for those that name one."""
    with issuer.uow() as uow:
        batch = uow.batches.get(batch_id, institution_code)
        rows = uow.batches.records(batch, record_ids) if batch and record_ids else []
        found = {row.id: stored(row).record.student.photo_sha256 for row in rows}
    return {rid: sha for rid, sha in found.items() if sha}


def student_photo(issuer: Issuer, batch_id: int, record_id: int, *, institution_code: str
                  ) -> bytes | None:
    """The photo a batch record's snapshot names (the normalised JPEG), for the review
    page; None when it names none. Only a batch of `institution_code` is looked in."""
    with issuer.uow() as uow:
        batch = uow.batches.get(batch_id, institution_code)
        rows = uow.batches.records(batch, [record_id]) if batch else []
        if not rows:
            raise ServiceError("no student %(record)s in batch %(batch)s",
                               record=record_id, batch=batch_id)
        sha = stored(rows[0]).record.student.photo_sha256
        if not sha:
            return None
        try:
            return uow.images.checked([sha])[sha]
        except ImageChanged as e:
            raise ServiceError("batch %(batch)s: %(problem)s", batch=batch_id,
                               problem=str(e)) from None


def preview_pdf(issuer: Issuer, batch_id: int, record_id: int, *,
                institution_code: str) -> tuple[str, bytes]:
    """(transcript ID, unsigned PDF marked PREVIEW) of one record of a batch, exactly as
    it will be issued but for the signature, the QR and the issue time.

    Nothing is stored or allocated: no status index, no signature, no credential.
    """
    with issuer.uow() as uow:
        batch = uow.batches.get(batch_id, institution_code)
        rows = uow.batches.records(batch, [record_id]) if batch else []
        if not rows:
            raise ServiceError("no student %(record)s in batch %(batch)s", record=record_id,
                               batch=batch_id)
        record = transcript_record(rows[0], status_index=0, now=issuer.clock())
        try:
            images = uow.images.checked([record.record.student.photo_sha256,
                                         record.institution.emblem_sha256])
        except ImageChanged as e:
            raise ServiceError("batch %(batch)s: %(problem)s", batch=batch_id,
                               problem=str(e)) from None
    pdf = render_transcript(record, PREVIEW_QR, PREVIEW_CODE, images)
    return record.transcript_id, mark_preview(pdf)
