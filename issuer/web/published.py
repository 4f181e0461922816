"""What verifiers read, served from `Settings.published_dir` with cache headers:
``/.well-known/jwks.json``, ``/status/<code>/<purpose>.jws`` and ``/trust.json``; and
what auditors fetch and keep: the audit log's signed checkpoints,
``/audit/checkpoint.jws`` (the latest) and ``/audit/checkpoints/<seq>.jws``.

The files are rewritten by `issuer.services.publishing.publish` (after keys change,
and on every issuance, revocation and reissue); a reverse proxy may serve the same
tree directly. No sign-in: these documents are public.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, send_from_directory

from issuer.web.extensions import issuer, limiter

bp = Blueprint("published", __name__)

JWKS_MAX_AGE = 3600  # keys change rarely; a new key is published before it signs anything
STATUS_MAX_AGE = 300  # a revocation reaches verifiers within five minutes of caching
CHECKPOINT_MAX_AGE = 60  # the latest checkpoint moves with the log
HISTORY_MAX_AGE = 365 * 24 * 3600  # a numbered checkpoint never changes
_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")
_PURPOSES = ("revocation", "refresh")


def _send(path: str, mimetype: str, max_age: int, *, immutable: bool = False) -> Any:
    directory = issuer().settings.published_dir
    response = send_from_directory(directory, path, mimetype=mimetype, max_age=max_age,
                                   conditional=True, etag=True)
    response.headers["Cache-Control"] = f"public, max-age={max_age}" + (
        ", immutable" if immutable else "")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/.well-known/jwks.json")
@limiter.exempt
def jwks() -> Any:
    return _send(".well-known/jwks.json", "application/jwk-set+json", JWKS_MAX_AGE)


@bp.get("/status/<code>/<purpose>.jws")
@limiter.exempt
def status_list(code: str, purpose: str) -> Any:
    if not _CODE.fullmatch(code) or purpose not in _PURPOSES:
        abort(404)
    return _send(f"status/{code}/{purpose}.jws", "application/vc+jwt", STATUS_MAX_AGE)


@bp.get("/trust.json")
@limiter.exempt
def trust_bundle() -> Any:
    return _send("trust.json", "application/json", STATUS_MAX_AGE)


@bp.get("/audit/checkpoint.jws")
@limiter.exempt
def audit_checkpoint() -> Any:
    return _send("audit/checkpoint.jws", "application/jose", CHECKPOINT_MAX_AGE)


@bp.get("/audit/checkpoints/<int:seq>.jws")
@limiter.exempt
def audit_checkpoint_seq(seq: int) -> Any:
    return _send(f"audit/checkpoints/{seq}.jws", "application/jose", HISTORY_MAX_AGE,
                 immutable=True)
