"""Graduates and employers: no account, only links (`issuer.services.graduates`).

- ``/c/<token>``: the graduate's claim link, sent by the school. Every version of the
  transcript with its status and PDF; share links for employers (expiry, optional PIN,
  revocable) with each one's access log.
- ``/c/<token>/sd``: share selected fields (`issuer.services.selective_sharing`): a
  presentation of the SD-JWT VC with only the disclosures the graduate ticked, as a link
  to the verifier (``/sd#…``: the fragment reaches no server) or as a ``.sd-jwt`` file.
- ``/s/<token>``: a share link as an employer opens it: the current version, its status
  and its PDF, after the PIN if the graduate set one.

Tokens are 256-bit and stored hashed; the service answers unknown, expired and revoked
links alike, counts PIN attempts and locks the link; this layer adds a per-address limit.
Pages carry ``Referrer-Policy: no-referrer`` so a link never leaks to another site.
Links are built on the configured public base URL (`public_url`), so a forged Host
header cannot send a graduate's link elsewhere.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _

from issuer.services import graduates, selective_sharing
from issuer.services.context import ServiceError
from issuer.web.extensions import issuer, limiter
from issuer.web.labels import said

bp = Blueprint("graduates", __name__)
LINK_LIMIT = "60 per minute;600 per hour"
SHARE_DAYS = (1, 7, 30, 90, 365)


@bp.after_request
def _no_referrer(response: Response) -> Response:
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def public_url(endpoint: str, **values: Any) -> str:
    """The address of `endpoint` for someone outside: the configured public base URL
    (``BKT_PUBLIC_BASE_URL``) and the path, never the request's Host header."""
    base = current_app.config["BKT_WEB"].public_base_url.rstrip("/")
    return base + url_for(endpoint, **values)


def _ip() -> str:
    return request.remote_addr or "-"


def _invalid() -> Any:
    return render_template("issuer/link_invalid.html"), 404


def _pdf(view: graduates.TranscriptView, version: graduates.VersionView) -> Any:
    if version.pdf_file is None or not version.pdf_file.is_file():
        abort(404)
    return send_file(version.pdf_file, mimetype="application/pdf", as_attachment=True,
                     download_name=f"{view.transcript_id}-v{version.version}.pdf")


def _version(view: graduates.TranscriptView, number: int) -> graduates.VersionView:
    """Version `number` of the claimed transcript; 404 if it has none."""
    found = next((v for v in view.versions if v.version == number), None)
    if found is None:
        abort(404)
    return found


def _claim_page(token: str, view: graduates.TranscriptView, *, new_share: Any = None,
                error: str = "", status: int = 200, selection: Any = None,
                sd_error: str = "", chosen: frozenset[str] | None = None) -> Any:
    shares = graduates.list_shares(issuer(), token)
    shareable = selective_sharing.shareable(view)
    choices = (selective_sharing.choices(shareable, chosen or selective_sharing.DEFAULT_CHOSEN)
               if shareable is not None else None)
    return render_template("issuer/claim.html", token=token, view=view, shares=shares,
                           new_share=new_share, error=error, days=SHARE_DAYS,
                           choices=choices, selection=selection, sd_error=sd_error), status


@bp.get("/c/<token>")
@limiter.limit(LINK_LIMIT)
def claim(token: str) -> Any:
    try:
        view = graduates.claim(issuer(), token, ip=_ip())
    except graduates.LinkError:
        return _invalid()
    return _claim_page(token, view)


@bp.get("/c/<token>/v<int:version>.vc.json")
@limiter.limit(LINK_LIMIT)
def claim_vc(token: str, version: int) -> Any:
    """The version's W3C VC 2.0 (Open Badges 3.0) export, for a wallet (docs/interop.md)."""
    try:
        view = graduates.claim(issuer(), token, ip=_ip())
    except graduates.LinkError:
        return _invalid()
    vc = _version(view, version).vc_file
    if vc is None:
        abort(404)
    return send_file(vc, mimetype="application/vc+ld+json", as_attachment=True,
                     download_name=f"{view.transcript_id}-v{version}.vc.json")


@bp.get("/c/<token>/v<int:version>.pdf")
@limiter.limit(LINK_LIMIT)
def claim_pdf(token: str, version: int) -> Any:
    try:
        view = graduates.claim(issuer(), token, ip=_ip())
    except graduates.LinkError:
        return _invalid()
    return _pdf(view, _version(view, version))


@bp.post("/c/<token>/shares")
@limiter.limit(LINK_LIMIT)
def create_share(token: str) -> Any:
    try:
        view = graduates.claim(issuer(), token, ip=_ip())
    except graduates.LinkError:
        return _invalid()
    days = request.form.get("days", type=int) or 30
    pin = request.form.get("pin", "").strip() or None
    try:
        link = graduates.create_share(
            issuer(), token, ip=_ip(), label=request.form.get("label", "")[:200],
            expires_in=timedelta(days=days) if days in SHARE_DAYS else None, pin=pin)
    except graduates.LinkError:
        return _invalid()
    except ServiceError as e:
        return _claim_page(token, view, error=said(e), status=400)
    url = public_url("graduates.share", token=link.token)
    return _claim_page(token, view, new_share={"url": url, "expires_at": link.expires_at,
                                                "pin": pin is not None})


@bp.post("/c/<token>/sd")
@limiter.limit(LINK_LIMIT)
def share_selected(token: str) -> Any:
    """The presentation of the fields ticked: a verifier link, or a ``.sd-jwt`` file."""
    try:
        view = graduates.claim(issuer(), token, ip=_ip())
    except graduates.LinkError:
        return _invalid()
    version = selective_sharing.shareable(view)
    if version is None:
        abort(404)
    chosen = set(request.form.getlist("field"))
    try:
        presentation = selective_sharing.present(version, chosen)
    except ServiceError as e:
        return _claim_page(token, view, sd_error=said(e), status=400,
                           chosen=frozenset(chosen))
    if request.form.get("as") == "file":
        response = Response(presentation, mimetype="application/dc+sd-jwt")
        response.headers["Content-Disposition"] = (
            f'attachment; filename="{view.transcript_id}-v{version.version}-selected.sd-jwt"')
        return response
    url = selective_sharing.link(issuer().settings.verifier_url, presentation)
    return _claim_page(token, view, selection={"url": url, "count": len(chosen)},
                       chosen=frozenset(chosen))


@bp.post("/c/<token>/shares/<int:share_id>/revoke")
@limiter.limit(LINK_LIMIT)
def revoke_share(token: str, share_id: int) -> Any:
    try:
        graduates.revoke_share(issuer(), token, share_id, ip=_ip())
        view = graduates.claim(issuer(), token, ip=_ip())
    except graduates.LinkError:
        return _invalid()
    except ServiceError:
        abort(404)
    return _claim_page(token, view)


def _open(token: str) -> tuple[graduates.TranscriptView | None, Any]:
    """The shared transcript, or the page to answer instead (PIN form, invalid, locked)."""
    pin = request.form.get("pin") if request.method == "POST" else None
    try:
        return graduates.open_share(issuer(), token, ip=_ip(), pin=pin,
                                    user_agent=request.headers.get("User-Agent", "")[:200]), None
    except graduates.PinRequired:
        return None, render_template("issuer/share_pin.html", token=token, message="")
    except graduates.WrongPin as e:
        return None, (render_template(
            "issuer/share_pin.html", token=token,
            message=_("Wrong PIN. %(n)s attempts left before the link is locked.",
                      n=e.attempts_left)), 401)
    except graduates.LinkLocked:
        return None, (render_template(
            "issuer/share_pin.html", token=token, locked=True,
            message=_("Too many wrong PINs: this link is locked for now. Try again later.")),
            429)
    except graduates.LinkError:
        return None, _invalid()


@bp.route("/s/<token>", methods=["GET", "POST"])
@limiter.limit(LINK_LIMIT)
def share(token: str) -> Any:
    view, answer = _open(token)
    if view is None:
        return answer
    return render_template("issuer/share.html", token=token, view=view,
                           pin=request.form.get("pin", "") if request.method == "POST" else "")


@bp.route("/s/<token>/transcript.pdf", methods=["GET", "POST"])
@limiter.limit(LINK_LIMIT)
def share_pdf(token: str) -> Any:
    view, answer = _open(token)
    if view is None:
        return answer
    return _pdf(view, view.current)
