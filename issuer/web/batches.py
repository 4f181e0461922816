"""The batch flow: upload -> every error listed -> preview -> submit -> approve -> issue
-> download. Registrars and approvers see only their own institution's batches; any
other batch is "not found"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from issuer.adapters import queries
from issuer.adapters.orm import BatchRow
from issuer.adapters.vc_export import vc_path_for
from issuer.core.batch import load_warnings
from issuer.core.lifecycle import (
    STAFF,
    AccountRole,
    BatchAction,
    BatchStatus,
    LifecycleError,
    may_issue,
    next_status,
)
from issuer.services.approval import approve as approve_batch
from issuer.services.approval import facts
from issuer.services.context import ServiceError
from issuer.services.graduates import create_claim_links
from issuer.services.review import (
    compare,
    confirm_warnings,
    photo_digests,
    preview_pdf,
    reject_batch,
    student_photo,
    submit_batch,
    withdraw_batch,
)
from issuer.services.uploads import receive
from issuer.web.auth import actor, institution_code, roles, user
from issuer.web.csvexport import csv_response
from issuer.web.extensions import issuer, reading
from issuer.web.graduates import public_url
from issuer.web.jobs import IssueJobs
from issuer.web.labels import label, said
from issuer.web.zipstream import zip_stream

bp = Blueprint("batches", __name__)
ALLOWED_SUFFIXES = (".csv", ".xlsx")
PAGE = 100


def jobs() -> IssueJobs:
    return current_app.extensions["bkt_jobs"]


def _batch(batch_id: int) -> BatchRow:
    """The signed-in person's institution's batch, or 404 (never 403: no existence leak)."""
    with reading() as session:
        batch = queries.batch_of(session, batch_id, institution_code())
    if batch is None:
        abort(404)
    return batch


def _failed(e: ServiceError, batch_id: int) -> Any:
    flash(_("Not done: %(reason)s", reason=said(e)), "error")
    return redirect(url_for("batches.detail", batch_id=batch_id))


@bp.get("/batches")
@roles(*STAFF)
def index() -> Any:
    code = institution_code()
    with reading() as session:
        waiting = queries.batches_of(session, code, statuses=[BatchStatus.SUBMITTED])
        recent = queries.batches_of(session, code, limit=100)
    return render_template("issuer/batches.html", waiting=waiting, recent=recent)


@bp.route("/batches/upload", methods=["GET", "POST"])
@roles(AccountRole.REGISTRAR)
def upload() -> Any:
    if request.method == "GET":
        return render_template("issuer/upload.html")
    if not current_app.extensions["bkt_upload_limits"].hit(user().username):
        abort(429)  # per account, every worker and every sign-in of it counted together
    file = request.files.get("file")
    if file is None or not file.filename:
        flash(_("Choose a CSV or XLSX file."), "error")
        return render_template("issuer/upload.html"), 400
    filename = Path(file.filename).name[-200:]
    if not filename.lower().endswith(ALLOWED_SUFFIXES):
        flash(_("Only CSV and XLSX files can be uploaded."), "error")
        return render_template("issuer/upload.html"), 400
    zipped = request.files.get("photos")
    photos = zipped.read() if zipped is not None and zipped.filename else None
    try:
        upload_id, job_id = receive(issuer(), institution_code(), filename, file.read(),
                                    actor=actor(), photos=photos)
    except ServiceError as e:
        flash(_("Not done: %(reason)s", reason=said(e)), "error")
        return render_template("issuer/upload.html"), 400
    jobs().queued(job_id)
    return redirect(url_for("uploads.detail", upload_id=upload_id))


def _progress(batch_id: int) -> dict[str, Any]:
    with reading() as session:
        batch = queries.batch_of(session, batch_id, institution_code())
        if batch is None:
            abort(404)
        total = queries.count_students(session, batch)
        issued = queries.count_issued(session, batch)
    state = jobs().state(batch_id)
    running = bool(state and state.running)
    return {
        "batch": batch_id,
        "status": batch.status.value,
        "status_label": label(batch.status),
        "total": total,
        "issued": issued,
        "done": min(total, issued),
        "running": running,
        "error": state.error if state else None,
        # The job ends after the batch is marked issued (it then publishes the status
        # lists): finished only once both are true, so the page never shows a half state.
        "finished": batch.status is BatchStatus.ISSUED and not running,
    }


def _allowed(batch: BatchRow) -> set[str]:
    """The actions the signed-in person may take on `batch` now (the lifecycle's rules)."""
    u = user()
    who = actor().principal
    allowed = set()
    for action in BatchAction:
        try:
            next_status(facts(batch), action, who)
        except LifecycleError:
            continue
        allowed.add(action.value)
    if u.role is AccountRole.APPROVER and batch.status is BatchStatus.SUBMITTED \
            and "approve" not in allowed:
        allowed.add("own")  # the approver requested it: someone else must approve
    return allowed


@bp.get("/batches/<int:batch_id>")
@roles(*STAFF)
def detail(batch_id: int) -> Any:
    page = max(1, request.args.get("page", 1, type=int) or 1)
    batch = _batch(batch_id)
    with reading() as session:
        students = queries.students_of_batch(session, batch, limit=PAGE,
                                             offset=(page - 1) * PAGE)
    changes = {
        st.record_id: compare(issuer(), batch_id, st.record_id,
                              institution_code=institution_code())
        for st in students if st.supersedes_version is not None
    }
    progress = _progress(batch_id)
    photos = photo_digests(issuer(), batch_id, [st.record_id for st in students],
                           institution_code=institution_code())
    return render_template(
        "issuer/batch.html", batch=batch, students=students, changes=changes, photos=photos,
        progress=progress, page=page, pages=max(1, -(-progress["total"] // PAGE)),
        allowed=_allowed(batch), warnings=load_warnings(batch.warnings),
    )


@bp.get("/batches/<int:batch_id>/progress.json")
@roles(*STAFF)
def progress(batch_id: int) -> Any:
    return jsonify(_progress(batch_id))


@bp.get("/batches/<int:batch_id>/students/<int:record_id>/preview.pdf")
@roles(*STAFF)
def preview(batch_id: int, record_id: int) -> Any:
    _batch(batch_id)
    try:
        transcript_id, pdf = preview_pdf(issuer(), batch_id, record_id,
                                         institution_code=institution_code())
    except ServiceError:
        abort(404)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="PREVIEW-{transcript_id}.pdf"'})


@bp.get("/batches/<int:batch_id>/students/<int:record_id>/photo.jpg")
@roles(*STAFF)
def photo(batch_id: int, record_id: int) -> Any:
    """The photo a student's snapshot names, as it will be printed: only to staff of the
    batch's institution (`_batch` and the service both look in that institution only)."""
    _batch(batch_id)
    try:
        jpeg = student_photo(issuer(), batch_id, record_id,
                             institution_code=institution_code())
    except ServiceError:
        abort(404)
    if jpeg is None:
        abort(404)
    return Response(jpeg, mimetype="image/jpeg", headers={
        "Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"})


@bp.get("/batches/<int:batch_id>/previews.zip")
@roles(*STAFF)
def previews_zip(batch_id: int) -> Any:
    batch = _batch(batch_id)
    the_issuer, code = issuer(), institution_code()
    with reading() as session:
        lines = queries.students_of_batch(session, batch, limit=1_000_000)

    def member(line: queries.StudentLine) -> tuple[str, Any]:
        def load() -> bytes:
            return preview_pdf(the_issuer, batch_id, line.record_id, institution_code=code)[1]
        return f"PREVIEW-{line.transcript_id}.pdf", load

    return Response(zip_stream(member(line) for line in lines),
                    mimetype="application/zip", headers={
                        "Content-Disposition":
                            f'attachment; filename="batch-{batch_id}-previews.zip"'})


@bp.post("/batches/<int:batch_id>/confirm-warnings")
@roles(AccountRole.REGISTRAR)
def confirm(batch_id: int) -> Any:
    _batch(batch_id)
    try:
        confirm_warnings(issuer(), batch_id, actor=actor())
    except ServiceError as e:
        return _failed(e, batch_id)
    flash(_("Warnings confirmed. The batch can now be submitted."), "ok")
    return redirect(url_for("batches.detail", batch_id=batch_id))


@bp.post("/batches/<int:batch_id>/submit")
@roles(AccountRole.REGISTRAR)
def submit(batch_id: int) -> Any:
    _batch(batch_id)
    try:
        submit_batch(issuer(), batch_id, actor=actor())
    except ServiceError as e:
        return _failed(e, batch_id)
    flash(_("Submitted. The director can now approve the batch."), "ok")
    return redirect(url_for("batches.detail", batch_id=batch_id))


@bp.post("/batches/<int:batch_id>/withdraw")
@roles(AccountRole.REGISTRAR)
def withdraw(batch_id: int) -> Any:
    _batch(batch_id)
    try:
        withdraw_batch(issuer(), batch_id, reason=request.form.get("reason", "")[:500],
                       actor=actor())
    except ServiceError as e:
        return _failed(e, batch_id)
    flash(_("The batch was withdrawn; nothing of it will be issued."), "ok")
    return redirect(url_for("batches.detail", batch_id=batch_id))


@bp.post("/batches/<int:batch_id>/approve")
@roles(AccountRole.APPROVER)
def approve(batch_id: int) -> Any:
    _batch(batch_id)
    try:
        approve_batch(issuer(), batch_id, actor=actor())
    except ServiceError as e:
        return _failed(e, batch_id)
    try:
        jobs().start(batch_id, actor=actor(), institution_code=institution_code())
    except ServiceError as e:  # e.g. the job queue is unreachable: approved, start it later
        return _failed(e, batch_id)
    flash(_("Approved. Issuing has started."), "ok")
    return redirect(url_for("batches.detail", batch_id=batch_id))


@bp.post("/batches/<int:batch_id>/reject")
@roles(AccountRole.APPROVER)
def reject(batch_id: int) -> Any:
    _batch(batch_id)
    try:
        reject_batch(issuer(), batch_id, reason=request.form.get("reason", "")[:500],
                     actor=actor())
    except ServiceError as e:
        return _failed(e, batch_id)
    flash(_("The batch was sent back to the registrar."), "ok")
    return redirect(url_for("batches.detail", batch_id=batch_id))


@bp.post("/batches/<int:batch_id>/issue")
@roles(*STAFF)
def issue(batch_id: int) -> Any:
    """Start issuing an approved batch, or resume one interrupted (e.g. by a restart)."""
    batch = _batch(batch_id)
    if not may_issue(batch.status):
        flash(_("Only an approved batch can be issued."), "error")
        return redirect(url_for("batches.detail", batch_id=batch_id))
    try:
        jobs().start(batch_id, actor=actor(), institution_code=institution_code())
    except ServiceError as e:
        return _failed(e, batch_id)
    flash(_("Issuing has started."), "ok")
    return redirect(url_for("batches.detail", batch_id=batch_id))


@bp.get("/batches/<int:batch_id>/transcripts.zip")
@roles(*STAFF)
def transcripts_zip(batch_id: int) -> Any:
    """The batch's current PDFs, each with its W3C VC 2.0 export: a superseded version
    has a newer one (in a later batch) and a revoked one is no longer valid, so neither
    is handed out again from here (each transcript's page still has every version)."""
    batch = _batch(batch_id)
    with reading() as session:
        pdfs = queries.batch_pdfs(session, batch, current_only=True)
    if not pdfs:
        abort(404)
    out = issuer().settings.output_dir

    def members(transcript_id: str, version: int, path: str) -> Iterator[tuple[str, Any]]:
        """The PDF and, when it was made, its W3C VC 2.0 export (docs/interop.md)."""
        yield f"{transcript_id}-v{version}.pdf", (out / path).read_bytes
        vc = out / vc_path_for(path)
        if vc.is_file():
            yield f"{transcript_id}-v{version}.vc.json", vc.read_bytes

    return Response(zip_stream(m for pdf in pdfs for m in members(*pdf)),
                    mimetype="application/zip",
                    headers={"Content-Disposition":
                             f'attachment; filename="batch-{batch_id}-transcripts.zip"'})


@bp.post("/batches/<int:batch_id>/claim-links.csv")
@roles(AccountRole.REGISTRAR)
def claim_links(batch_id: int) -> Any:
    """New claim links for every graduate of the batch, as a CSV for a mail merge (earlier
    links of these transcripts stop working)."""
    batch = _batch(batch_id)
    try:
        made = create_claim_links(issuer(), batch_id, actor=actor(),
                                  institution_code=institution_code())
    except ServiceError as e:
        return _failed(e, batch_id)
    with reading() as session:
        names = {line.transcript_id: line for line in
                 queries.students_of_batch(session, batch, limit=1_000_000)}
    rows = []
    for transcript_id, link in made:
        line = names.get(transcript_id)
        rows.append([transcript_id, line.student_id if line else "",
                     line.name_th if line else "", line.name_en if line else "",
                     public_url("graduates.claim", token=link.token),
                     link.expires_at.isoformat()])
    return csv_response(f"batch-{batch_id}-claim-links.csv",
                        [_("Transcript ID"), _("Student ID"), _("Name (Thai)"),
                         _("Name (English)"), _("Claim link"), _("Link expires")], rows)
