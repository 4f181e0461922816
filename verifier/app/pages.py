"""The page the QR opens (``/v``), the OpenAPI document and a health check.

The page is static: its script reads the credential from ``location.hash`` (the
fragment never reaches a server, so it is never logged) and posts it to the JSON API.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template

from verifier.app.openapi import document

bp = Blueprint("pages", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/verifier")


@bp.get("/")
def index() -> Response:
    return redirect("/v", code=302)  # type: ignore[return-value]


@bp.get("/v")
def verify_page() -> str:
    return render_template("verifier/v.html")


@bp.get("/api/v1/openapi.json")
def openapi() -> Response:
    response = jsonify(document())
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/healthz")
def health() -> Response | tuple[Response, int]:
    verifier = current_app.extensions.get("bkt_verifier")
    if verifier is None:
        return jsonify({"status": "not_configured"}), 503
    keys = verifier.source.keys()
    return jsonify({"status": "ok", "keys": keys.freshness.value,
                    "key_count": len(keys.store.keys)})
