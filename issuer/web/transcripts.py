"""Issued transcripts of the signed-in person's institution: search, versions, PDFs,
revoke, and requests for a corrected or reissued version (through
`issuer.services.lifecycle`, which audits; a request is signed once approved)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _

from issuer.adapters import queries
from issuer.adapters.orm import TranscriptRow
from issuer.core.lifecycle import STAFF, AccountRole, TranscriptStatus
from issuer.services.context import ServiceError
from issuer.services.graduates import VersionNote, create_claim_link, version_notes
from issuer.services.importing import BatchRejected
from issuer.services.lifecycle import request_new_version, revoke
from issuer.web.auth import actor, institution_code, roles
from issuer.web.extensions import issuer, reading
from issuer.web.graduates import public_url
from issuer.web.labels import said
from verifier.core.status_details import REASONS, UNSPECIFIED

bp = Blueprint("transcripts", __name__)
PAGE = 50


def _versions(transcript_id: str) -> list[TranscriptRow]:
    return _noted_versions(transcript_id)[0]


def _noted_versions(transcript_id: str) -> tuple[list[TranscriptRow], dict[int, VersionNote]]:
    """Every version, newest first, and what the versions table notes beside each."""
    with reading() as session:
        rows = queries.versions_of(session, transcript_id, institution_code())
        notes = version_notes(rows)
    if not rows:
        abort(404)
    return rows, notes


@bp.get("/transcripts")
@roles(*STAFF)
def index() -> Any:
    query = request.args.get("q", "")[:100]
    status_arg = request.args.get("status", "")
    status = TranscriptStatus(status_arg) if status_arg in TranscriptStatus._value2member_map_ \
        else None
    page = max(1, request.args.get("page", 1, type=int) or 1)
    with reading() as session:
        rows = queries.search_transcripts(session, institution_code(), query=query,
                                          status=status, limit=PAGE + 1,
                                          offset=(page - 1) * PAGE)
    return render_template("issuer/transcripts.html", rows=rows[:PAGE], more=len(rows) > PAGE,
                           query=query, status=status_arg, page=page,
                           statuses=list(TranscriptStatus))


@bp.get("/transcripts/<transcript_id>")
@roles(*STAFF)
def detail(transcript_id: str) -> Any:
    versions, notes = _noted_versions(transcript_id)
    with reading() as session:
        pending = queries.pending_requests(session, transcript_id)
    return render_template("issuer/transcript.html", versions=versions, current=versions[0],
                           notes=notes,
                           pending=pending, reasons=REASONS, unspecified=UNSPECIFIED)


@bp.get("/transcripts/<transcript_id>/v<int:version>.pdf")
@roles(*STAFF)
def pdf(transcript_id: str, version: int) -> Any:
    row = next((v for v in _versions(transcript_id) if v.version == version), None)
    if row is None or not row.pdf_path:
        abort(404)
    path = Path(issuer().settings.output_dir) / row.pdf_path
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="application/pdf", as_attachment=True,
                     download_name=f"{transcript_id}-v{version}.pdf")


@bp.post("/transcripts/<transcript_id>/revoke")
@roles(AccountRole.REGISTRAR)
def revoke_(transcript_id: str) -> Any:
    _versions(transcript_id)
    try:
        version = revoke(issuer(), transcript_id, reason=request.form.get("reason", ""),
                         actor=actor(),
                         reason_code=request.form.get("reason_code", UNSPECIFIED))
    except ServiceError as e:
        flash(_("Not done: %(reason)s", reason=said(e)), "error")
    else:
        flash(_("Version %(v)s was revoked.", v=version), "ok")
    return redirect(url_for("transcripts.detail", transcript_id=transcript_id))


@bp.post("/transcripts/<transcript_id>/reissue")
@roles(AccountRole.REGISTRAR)
def reissue_(transcript_id: str) -> Any:
    """Ask for a new version (corrected from a file, or the stored data again): a request
    the director approves before anything is signed."""
    versions = _versions(transcript_id)
    file = request.files.get("file")
    corrected = None
    if file is not None and file.filename:
        corrected = (Path(file.filename).name[-200:], file.read())
    try:
        batch_id = request_new_version(
            issuer(), transcript_id, reason=request.form.get("reason", ""), actor=actor(),
            corrected=corrected, confirm_warnings=request.form.get("confirm_warnings") == "1")
    except BatchRejected as e:
        return render_template("issuer/batch_errors.html", filename=corrected[0] if corrected
                               else "", errors=e.errors, current=versions[0]), 422
    except ServiceError as e:
        flash(_("Not done: %(reason)s", reason=said(e)), "error")
        return redirect(url_for("transcripts.detail", transcript_id=transcript_id))
    flash(_("Request %(id)s was sent to the director; the new version is issued once "
            "approved.", id=batch_id), "ok")
    return redirect(url_for("batches.detail", batch_id=batch_id))


@bp.post("/transcripts/<transcript_id>/claim-link")
@roles(AccountRole.REGISTRAR)
def claim_link(transcript_id: str) -> Any:
    """A new claim link for the graduate (the previous one stops working), shown once."""
    versions = _versions(transcript_id)
    link = create_claim_link(issuer(), transcript_id, actor=actor(),
                             institution_code=institution_code())
    return render_template("issuer/claim_link.html", current=versions[0],
                           url=public_url("graduates.claim", token=link.token),
                           expires_at=link.expires_at)
