"""BMA administrators: institutions, accounts, the signing-key listing, the audit log."""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Iterator
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _

from issuer.adapters.images import MAX_EMBLEM_BYTES
from issuer.core.lifecycle import AccountRole
from issuer.services import accounts, admin
from issuer.services import audit as audit_service
from issuer.services.context import ServiceError
from issuer.web.auth import actor, roles, user
from issuer.web.csvexport import csv_response
from issuer.web.extensions import issuer
from issuer.web.labels import said

bp = Blueprint("admin", __name__, url_prefix="/admin")
ADMIN = AccountRole.ADMIN
AUDIT_PAGE = 100


@bp.get("/")
@roles(ADMIN)
def index() -> Any:
    return render_template("issuer/admin/index.html",
                           institutions=admin.institutions(issuer()),
                           accounts=accounts.list_accounts(issuer()))


@bp.get("/institutions")
@roles(ADMIN)
def institutions() -> Any:
    return render_template("issuer/admin/institutions.html",
                           institutions=admin.institutions(issuer()))


@bp.post("/institutions")
@roles(ADMIN)
def create_institution() -> Any:
    f = request.form
    try:
        code = admin.create_institution(
            issuer(), code=f.get("code", ""), kind=f.get("kind", ""),
            name_th=f.get("name_th", ""), name_en=f.get("name_en", ""),
            address={k: f.get(k, "") for k in admin.ADDRESS_FIELDS},
            registrar=(f.get("registrar_th", ""), f.get("registrar_en", "")),
            director=(f.get("director_th", ""), f.get("director_en", "")), actor=actor(),
        )
    except ServiceError as e:
        flash(_("Not done: %(reason)s", reason=said(e)), "error")
    else:
        flash(_("Institution %(code)s created. Create its signing keys next.", code=code), "ok")
    return redirect(url_for("admin.institutions"))


@bp.post("/institutions/<code>/emblem")
@roles(ADMIN)
def set_emblem(code: str) -> Any:
    """A new emblem (PNG or JPEG) for an institution: batches imported from now on print
    it; batches already imported keep the one their approval covers."""
    file = request.files.get("emblem")
    data = file.read(MAX_EMBLEM_BYTES + 1) if file is not None and file.filename else b""
    try:
        if not data:
            raise ServiceError("choose a PNG or JPEG file")
        admin.set_emblem(issuer(), code, data, actor=actor())
    except ServiceError as e:
        flash(_("Not done: %(reason)s", reason=str(e)), "error")
    else:
        flash(_("Emblem of %(code)s set: batches imported from now on print it.", code=code),
              "ok")
    return redirect(url_for("admin.institutions"))


@bp.get("/institutions/<code>/emblem.png")
@roles(ADMIN)
def emblem(code: str) -> Any:
    try:
        png = admin.emblem(issuer(), code)
    except ServiceError:
        png = None
    if png is None:
        abort(404)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, max-age=60",
                                                          "X-Content-Type-Options": "nosniff"})


@bp.get("/accounts")
@roles(ADMIN)
def accounts_page() -> Any:
    return render_template("issuer/admin/accounts.html",
                           accounts=accounts.list_accounts(issuer()),
                           institutions=admin.institutions(issuer()),
                           roles=list(AccountRole))


@bp.post("/accounts")
@roles(ADMIN)
def create_account() -> Any:
    f = request.form
    role = f.get("role", "")
    password = accounts.generate_password()
    try:
        info = accounts.create_account(
            issuer(), username=f.get("username", ""), password=password, role=role,
            institution_code=None if role == ADMIN.value else (f.get("institution") or None),
            email=f.get("email", ""), display_name=f.get("display_name", ""), actor=actor(),
        )
    except (ServiceError, ValueError) as e:
        flash(_("Not done: %(reason)s", reason=said(e)), "error")
        return redirect(url_for("admin.accounts_page"))
    return render_template("issuer/admin/password.html", account=info, password=password)


def _account_action(account_id: int) -> Any:
    if accounts.load_account(issuer(), account_id) is None:
        abort(404)
    action = request.form.get("action", "")
    if action not in ("reset_password", "reset_totp", "disable", "enable"):
        abort(400)
    if account_id == user().info.id and action in ("disable", "reset_password", "reset_totp"):
        flash(_("Ask another administrator to do this to your own account."), "error")
        return redirect(url_for("admin.accounts_page"))
    try:
        if action == "reset_password":
            info, password = accounts.reset_password(issuer(), account_id, actor=actor())
            return render_template("issuer/admin/password.html", account=info,
                                   password=password)
        if action == "reset_totp":  # asks for the administrator's own password
            accounts.reset_totp(issuer(), account_id, actor=actor(),
                                password=request.form.get("current", "")[:1024])
        else:
            accounts.set_active(issuer(), account_id, action == "enable", actor=actor())
    except ServiceError as e:
        flash(_("Not done: %(reason)s", reason=said(e)), "error")
        return redirect(url_for("admin.accounts_page"))
    flash(_("Done."), "ok")
    return redirect(url_for("admin.accounts_page"))


@bp.post("/accounts/<int:account_id>")
@roles(ADMIN)
def account_action(account_id: int) -> Any:
    return _account_action(account_id)


@bp.get("/keys")
@roles(ADMIN)
def keys() -> Any:
    return render_template("issuer/admin/keys.html", keys=admin.signing_keys(issuer()))


def _audit_filters() -> dict[str, Any]:
    return {
        "institution_code": request.args.get("institution", "")[:32] or None,
        "subject": request.args.get("subject", "")[:100] or None,
        "after_id": max(0, request.args.get("after", 0, type=int) or 0),
    }


@bp.get("/audit")
@roles(ADMIN)
def audit() -> Any:
    filters = _audit_filters()
    lines = admin.audit_log(issuer(), limit=AUDIT_PAGE + 1, **filters)
    return render_template("issuer/admin/audit.html", lines=lines[:AUDIT_PAGE],
                           more=len(lines) > AUDIT_PAGE, filters=filters,
                           institutions=admin.institutions(issuer()),
                           chain=audit_service.check_audit_chain(issuer()))


@bp.get("/audit/export.<fmt>")
@roles(ADMIN)
def audit_export(fmt: str) -> Any:
    """The whole log with its hashes, as JSON lines or CSV: anyone can recompute the chain
    from the file alone (`issuer.services.audit.verify_export`)."""
    if fmt not in audit_service.FORMATS:
        abort(404)
    # streamed from disk, however long the log is; send_file closes it
    spool = tempfile.TemporaryFile("w+b")  # noqa: SIM115
    text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
    audit_service.export_audit(issuer(), text, fmt)
    text.flush()
    text.detach()
    spool.seek(0)
    mimetype = "application/jsonl" if fmt == "jsonl" else "text/csv"
    return send_file(spool, mimetype=mimetype, as_attachment=True,
                     download_name=f"audit-log.{fmt}")


@bp.get("/audit.csv")
@roles(ADMIN)
def audit_csv() -> Any:
    filters = _audit_filters()
    the_issuer = issuer()

    def rows() -> Iterator[list[object]]:
        after = filters["after_id"]
        while True:
            page = admin.audit_log(the_issuer, institution_code=filters["institution_code"],
                                   subject=filters["subject"], after_id=after, limit=1000)
            for e in page:
                yield [e.id, e.at.isoformat(), e.actor, e.action, e.institution or "",
                       e.subject or "", e.source,
                       json.dumps(e.detail, ensure_ascii=False, sort_keys=True)]
            if len(page) < 1000:
                return
            after = page[-1].id

    return csv_response("audit.csv", ["id", "at", "actor", "action", "institution",
                                      "subject", "source", "detail"], rows(), bom=False)
