"""An uploaded batch file while a background job reads it, and what came of it: a live
row count, then the batch, or every error (summarised, paginated, as a CSV)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from issuer.adapters.orm import UploadState
from issuer.core.lifecycle import STAFF
from issuer.services.context import ServiceError
from issuer.services.uploads import UploadView, all_errors, upload_errors, upload_view
from issuer.web.auth import institution_code, roles
from issuer.web.csvexport import csv_response
from issuer.web.extensions import issuer
from issuer.web.labels import label

bp = Blueprint("uploads", __name__)
PAGE = 100


def _view(upload_id: int) -> UploadView:
    """The signed-in person's institution's upload, or 404."""
    try:
        return upload_view(issuer(), upload_id, institution_code=institution_code())
    except ServiceError:
        abort(404)


@bp.get("/uploads/<int:upload_id>")
@roles(*STAFF)
def detail(upload_id: int) -> Any:
    view = _view(upload_id)
    if view.state is UploadState.IMPORTED and view.batch_id:
        flash(_("The file was read: the batch is below. Preview it, then submit it for "
                "approval."), "ok")
        return redirect(url_for("batches.detail", batch_id=view.batch_id))
    if view.state is UploadState.DUPLICATE and view.batch_id:
        flash(_("This file was already uploaded as batch %(id)s.", id=view.batch_id), "info")
        return redirect(url_for("batches.detail", batch_id=view.batch_id))
    page = max(1, request.args.get("page", 1, type=int) or 1)
    groups, errors = [], []
    if view.state is UploadState.REJECTED:
        groups, errors = upload_errors(issuer(), upload_id, institution_code=institution_code(),
                                       offset=(page - 1) * PAGE, limit=PAGE)
    return render_template("issuer/upload_status.html", upload=view, groups=groups,
                           errors=errors, page=page,
                           pages=max(1, -(-view.error_count // PAGE)))


@bp.get("/uploads/<int:upload_id>/progress.json")
@roles(*STAFF)
def progress(upload_id: int) -> Any:
    view = _view(upload_id)
    return jsonify({"upload": upload_id, "state": view.state.value,
                    "status_label": label(view.state), "rows_read": view.rows_read,
                    "running": view.running, "error": view.job_error,
                    "finished": not view.running})


@bp.get("/uploads/<int:upload_id>/errors.csv")
@roles(*STAFF)
def errors_csv(upload_id: int) -> Any:
    view = _view(upload_id)
    if view.state is not UploadState.REJECTED:
        abort(404)
    rows = ([e.row or "", e.column, e.value, e.reason_th, e.reason_en]
            for e in all_errors(issuer(), upload_id, institution_code=institution_code()))
    return csv_response(f"upload-{upload_id}-errors.csv",
                        [_("Row"), _("Column"), _("Value"), _("Reason (Thai)"),
                         _("Reason (English)")], rows)
