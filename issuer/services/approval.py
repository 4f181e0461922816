"""The one approval of a batch, and its check before anything is signed.

Approving freezes the batch: the approval holds a digest over its records (each
record's snapshot digest, transcript ID, kind and the version it supersedes) and a MAC
under the integrity key over who requested, who approved, when, and that digest.
Issuing recomputes both and signs nothing unless they match, so neither a later import,
nor a registrar, nor a database writer without the integrity key can put data no
approver saw into a signed transcript. Approval queues the issuance job in the same
transaction.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

from issuer.adapters import integrity
from issuer.adapters.audit_chain import timestamp
from issuer.adapters.orm import BatchRecordRow, BatchRow
from issuer.adapters.repositories import Changed, UnitOfWork
from issuer.core.batch import load_warnings
from issuer.core.lifecycle import BatchAction, BatchFacts, BatchStatus, Principal, next_status
from issuer.services.context import Actor, Issuer, ServiceError, refused, rules, signed_in
from verifier.core.canonical import canonical_json, digest

PURPOSE = "batch-approval"
log = logging.getLogger(__name__)


def facts(batch: BatchRow) -> BatchFacts:
    return BatchFacts(batch.id, batch.institution.code, batch.status, batch.created_by,
                      warnings=len(load_warnings(batch.warnings)),
                      warnings_confirmed=batch.warnings_confirmed_at is not None)


def manifest_digest(records: Sequence[BatchRecordRow]) -> str:
    """Hex SHA-256 over what each record will issue, in file order."""
    lines = [[r.id, r.transcript_id, r.kind.value, r.supersedes_version, r.record_digest]
             for r in records]
    return hashlib.sha256(canonical_json(lines)).hexdigest()


def approval_message(batch: BatchRow) -> bytes:
    """What the approval MAC covers."""
    if batch.approved_at is None:
        raise ServiceError("batch %(batch)s carries no approval", batch=batch.id)
    return canonical_json({
        "batch": batch.id, "institution": batch.institution.code, "kind": batch.kind.value,
        "requested_by": batch.created_by, "approved_by": batch.approved_by,
        "approved_at": timestamp(batch.approved_at), "manifest": batch.manifest_digest,
    })


def _intact(records: Sequence[BatchRecordRow]) -> None:
    for r in records:
        if digest(r.record_json) != r.record_digest:
            raise ServiceError("batch %(batch)s: record %(record)s does not match its digest "
                               "(changed in the database); nothing done",
                               batch=r.batch_id, record=r.position + 1)


def decide(uow: UnitOfWork, batch_id: int, action: BatchAction, who: Principal
           ) -> tuple[BatchRow, BatchStatus]:
    """The batch `who` acts on and the status `action` moves it to by the lifecycle's rules;
    ServiceError if it is not theirs to see or the rules say no."""
    batch = uow.batches.get(batch_id, who.institution_code)
    if batch is None:
        raise ServiceError("no batch %(batch)s", batch=batch_id)
    with rules():
        return batch, next_status(facts(batch), action, who)


def approve(issuer: Issuer, batch_id: int, *, actor: Actor) -> int:
    """The approver approves a submitted batch they did not request; the issuance job is
    queued in the same transaction. Returns the job's id."""
    from issuer.jobs.api import add_issue_job, dispatch

    who = signed_in(actor)
    with issuer.uow() as uow:
        batch, _ = decide(uow, batch_id, BatchAction.APPROVE, who)
        records = uow.batches.records(batch)
        _intact(records)
        now = issuer.clock()
        try:
            uow.batches.approve(batch, by=who.username, now=now,
                                manifest_digest=manifest_digest(records))
        except Changed as e:
            raise refused(e) from None
        batch.approval_mac = integrity.mac(uow.integrity_key(PURPOSE), approval_message(batch))
        uow.audit.append(
            actor=actor.name, action="batch.approve", source=actor.source, now=now,
            institution=batch.institution, subject=f"batch:{batch.id}",
            detail={"records": len(records), "manifest": batch.manifest_digest})
        job_id = add_issue_job(uow, batch, actor, now=now, total=len(records))
        uow.commit()
    try:
        dispatch(issuer, job_id)
    except ServiceError as e:  # the job row says so; the batch page offers to start it again
        log.warning("batch %s approved, but %s", batch_id, e)
    return job_id


def approved_digests(uow: UnitOfWork, batch: BatchRow, records: Sequence[BatchRecordRow]
                     ) -> dict[int, str]:
    """Record id -> the snapshot digest the approver approved; ServiceError (and nothing
    signed) unless the approval's MAC verifies, it names another person than the
    requester, and the records are exactly those approved."""
    if not integrity.mac_ok(uow.integrity_key(PURPOSE), approval_message(batch),
                            batch.approval_mac):
        raise ServiceError("batch %(batch)s: its approval does not verify (changed in the "
                           "database, or made without this service's key); nothing signed",
                           batch=batch.id)
    if batch.approved_by == batch.created_by:
        raise ServiceError("batch %(batch)s: approved by its requester; nothing signed",
                           batch=batch.id)
    if manifest_digest(records) != batch.manifest_digest:
        raise ServiceError("batch %(batch)s: its records are not those approved; nothing signed",
                           batch=batch.id)
    _intact(records)
    return {r.id: r.record_digest for r in records}
