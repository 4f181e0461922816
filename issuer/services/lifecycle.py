"""After issuance: revoke a transcript, or reissue it as a corrected new version."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from issuer.adapters import repositories as repo
from issuer.adapters.batchfile import load_batch
from issuer.adapters.orm import BatchRow, TranscriptRow, TranscriptStatus
from issuer.services.context import Actor, Issuer, ServiceError
from issuer.services.importing import BatchRejected
from issuer.services.issuing import transcript_record
from issuer.services.publishing import publish
from issuer.services.workers import Job, Worker


@dataclass(frozen=True)
class Reissued:
    transcript_id: str
    version: int
    pdf_path: str


def _latest(session: Session, transcript_id: str, institution_code: str | None) -> TranscriptRow:
    row = repo.latest_version(session, transcript_id)
    if row is None or (institution_code and row.institution.code != institution_code):
        raise ServiceError(f"no transcript {transcript_id}" + (
            f" at institution {institution_code}" if institution_code else ""))
    return row


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ServiceError("a reason is required")
    return reason


def revoke(
    issuer: Issuer, transcript_id: str, *, reason: str, actor: Actor,
    institution_code: str | None = None,
) -> int:
    """Revoke the current version of a transcript; returns that version."""
    reason = _reason(reason)
    with issuer.uow() as uow:
        row = _latest(uow.session, transcript_id, institution_code)
        if row.status is not TranscriptStatus.ISSUED:
            raise ServiceError(f"{transcript_id} v{row.version} is already {row.status.value}")
        now = issuer.clock()
        repo.revoke_transcript(uow.session, row, reason=reason, now=now)
        repo.append_audit(
            uow.session, actor=actor.name, action="transcript.revoke", source=actor.source,
            now=now, institution=row.institution, subject=f"{transcript_id} v{row.version}",
            detail={"reason": reason},
        )
        uow.commit()
        version = row.version
        code = row.institution.code
    publish(issuer, [code])
    return version


def reissue(
    issuer: Issuer, transcript_id: str, *, reason: str, actor: Actor,
    corrected: tuple[str, bytes] | None = None, institution_code: str | None = None,
) -> Reissued:
    """Issue a new version of a transcript; the old one becomes superseded.

    `corrected` is an optional batch file ``(filename, data)`` holding the student's
    corrected rows; without it the stored record is reissued as it is (e.g. after a
    signatory or layout change).
    """
    reason = _reason(reason)
    with issuer.uow() as uow:
        s = uow.session
        old = _latest(uow.session, transcript_id, institution_code)
        if old.status is TranscriptStatus.SUPERSEDED:
            raise ServiceError(f"{transcript_id} v{old.version} is superseded")
        institution = old.institution
        enrolment = old.enrolment
        student_record = None
        matches = []
        if corrected is not None:
            filename, data = corrected
            result = load_batch(data, repo.to_institution(institution))
            if not result.ok:
                raise BatchRejected(result.errors)
            matches = [r for r in result.records
                       if r.student.student_id == old.student.student_id
                       and r.programme.code == enrolment.programme.code]
            if len(matches) != 1:
                raise ServiceError(
                    f"{filename} holds no rows for student {old.student.student_id} "
                    f"in programme {enrolment.programme.code}"
                )
        now = issuer.clock()
        if corrected is not None:
            batch = s.get(BatchRow, enrolment.batch_id) if enrolment.batch_id else None
            repo.save_student_record(s, institution, matches[0], batch, now=now)
            student_record = matches[0]
        record = transcript_record(s, institution, enrolment, version=old.version + 1, now=now,
                                   student_record=student_record)
        job = Job(issuer.settings.keys_dir, institution.code, issuer.passphrase(),
                  issuer.settings.verifier_url, issuer.settings.output_dir)
        produced = Worker(job, issuer.keys(institution.code)).produce(record)
        repo.add_transcript(
            s, record, enrolment=enrolment, batch=None, supersedes=old,
            files=repo.IssuedFiles(produced.credential, produced.signing_kid,
                                   produced.pdf_path, produced.pdf_sha256),
        )
        repo.append_audit(
            s, actor=actor.name, action="transcript.reissue", source=actor.source, now=now,
            institution=institution, subject=f"{transcript_id} v{record.version}",
            detail={"reason": reason, "supersedes": old.version,
                    "corrected_file": corrected[0] if corrected else None},
        )
        uow.commit()
    publish(issuer, [institution.code])
    return Reissued(transcript_id, record.version, produced.pdf_path)
