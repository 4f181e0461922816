"""What verifiers read, served from `Settings.published_dir` with cache headers:
``/.well-known/jwks.json``, ``/status/<code>/<purpose>.jws`` (purpose ``revocation``,
``refresh`` or ``details``), ``/status/<code>/token-status.jwt`` (the IETF Token Status
List of SD-JWT VCs), for the VC 2.0 export ``/.well-known/did.json``,
``/status/<code>/<purpose>.vc.json`` and ``/ns/transcript/v1.jsonld``, ``/trust.json``
and the JSON Schemas of ``transcript.json`` (``/schema/transcript/<kind>/v<n>.json``,
from the package, so they answer before the first publication); and
what auditors fetch and keep: the audit log's signed checkpoints,
``/audit/checkpoint.jws`` (the latest) and ``/audit/checkpoints/<seq>.jws``.

The files are rewritten by `issuer.services.publishing.publish` (after keys change,
and on every issuance, revocation and reissue); a reverse proxy may serve the same
tree directly. No sign-in: these documents are public.

Every answer carries an ETag and Last-Modified and answers a matching If-None-Match or
If-Modified-Since with 304. Status documents are ``no-cache``: a cache on the way must
ask again each time (cheaply, by those validators), so a revocation reaches verifiers
as soon as they re-check (every 30 s), never held back by a proxy.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, send_from_directory
from werkzeug.security import safe_join

from issuer.adapters.publish import SCHEMA_DIR, schema_files
from issuer.web.extensions import issuer, limiter
from verifier.core.jsonld import BKT_V1, CONTEXT_FILES, CONTEXTS_DIR
from verifier.core.token_status_list import MEDIA_TYPE

bp = Blueprint("published", __name__)

JWKS_MAX_AGE = 3600  # keys change rarely; a new key is published before it signs anything
STATUS_CACHE = "public, no-cache"  # revalidate every time: a revocation is not held back
BUNDLE_MAX_AGE = 300  # the offline bundle, for download
CHECKPOINT_MAX_AGE = 60  # the latest checkpoint moves with the log
HISTORY_MAX_AGE = 365 * 24 * 3600  # a numbered checkpoint never changes; nor a schema version
_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")
STATUS_FILES = {  # name under status/<code>/ -> media type
    "revocation.jws": "application/vc+jwt",  # W3C status lists as JWS (our verifier)
    "refresh.jws": "application/vc+jwt",
    "details.jws": "application/jose",  # date, reason code, newer version per set bit
    "revocation.vc.json": "application/vc+ld+json",  # the same, for the VC 2.0 export
    "refresh.vc.json": "application/vc+ld+json",
    "token-status.jwt": MEDIA_TYPE,  # the IETF Token Status List of SD-JWT VCs
}


def _send(path: str, mimetype: str, max_age: int | None, *, immutable: bool = False) -> Any:
    """The file, conditionally (ETag, Last-Modified, 304); `max_age` None: no-cache, and
    the ETag is the content's hash (two publications in the same clock tick, of the same
    size, must not look alike)."""
    directory = issuer().settings.published_dir
    etag: bool | str = True
    if max_age is None:
        full = safe_join(str(directory), path)
        try:
            etag = hashlib.sha256(Path(full).read_bytes()).hexdigest()[:32] if full else True
        except OSError:
            abort(404)
    response = send_from_directory(directory, path, mimetype=mimetype, max_age=max_age,
                                   conditional=True, etag=etag)
    response.headers["Cache-Control"] = STATUS_CACHE if max_age is None else (
        f"public, max-age={max_age}" + (", immutable" if immutable else ""))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _send_packaged(source: Path, mimetype: str) -> Any:
    """A file of the package itself (a schema version, our JSON-LD context): it never
    changes, so it answers before the first publication and is cached for good."""
    response = send_from_directory(source.parent, source.name, mimetype=mimetype,
                                   max_age=HISTORY_MAX_AGE, conditional=True)
    response.headers["Cache-Control"] = f"public, max-age={HISTORY_MAX_AGE}, immutable"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/.well-known/jwks.json")
@limiter.exempt
def jwks() -> Any:
    return _send(".well-known/jwks.json", "application/jwk-set+json", JWKS_MAX_AGE)


@bp.get("/status/<code>/<name>")
@limiter.exempt
def status_list(code: str, name: str) -> Any:
    """One of an institution's status documents (`STATUS_FILES`): the same bits for
    every kind of verifier, re-signed on every publication."""
    mimetype = STATUS_FILES.get(name)
    if not _CODE.fullmatch(code) or mimetype is None:
        abort(404)
    return _send(f"status/{code}/{name}", mimetype, None)


@bp.get("/.well-known/did.json")
@limiter.exempt
def did_document() -> Any:
    """The did:web document of the VC 2.0 export's issuer (`issuer.adapters.vc_export`)."""
    return _send(".well-known/did.json", "application/did+json", JWKS_MAX_AGE)


@bp.get("/ns/transcript/v1.jsonld")
@limiter.exempt
def jsonld_context() -> Any:
    """Our JSON-LD context (from the package: it never changes)."""
    return _send_packaged(CONTEXTS_DIR / CONTEXT_FILES[BKT_V1], "application/ld+json")


@bp.get("/trust.json")
@limiter.exempt
def trust_bundle() -> Any:
    return _send("trust.json", "application/json", BUNDLE_MAX_AGE)


@bp.get("/audit/checkpoint.jws")
@limiter.exempt
def audit_checkpoint() -> Any:
    return _send("audit/checkpoint.jws", "application/jose", CHECKPOINT_MAX_AGE)


@bp.get("/audit/checkpoints/<int:seq>.jws")
@limiter.exempt
def audit_checkpoint_seq(seq: int) -> Any:
    return _send(f"audit/checkpoints/{seq}.jws", "application/jose", HISTORY_MAX_AGE,
                 immutable=True)


@bp.get("/schema/transcript/<kind>/v<int:version>.json")
@limiter.exempt
def record_schema(kind: str, version: int) -> Any:
    """A published version of the record's JSON Schema (its ``$id`` is this URL)."""
    source = schema_files().get(SCHEMA_DIR / kind / f"v{version}.json")
    if source is None:
        abort(404)
    return _send_packaged(source, "application/schema+json")
