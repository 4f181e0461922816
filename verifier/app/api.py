"""``POST /api/v1/verify``: a PDF, a picture of the QR, or the credential itself.

- ``multipart/form-data`` with field ``file`` (a PDF), ``image`` (a photo or
  screenshot of the QR) or ``credential`` (text); a urlencoded ``credential`` too;
- ``application/json`` ``{"credential": "<BKT1:… or compact JWS, or the QR's URL>"}``;
- ``application/pdf`` with the PDF as the body;
- ``application/vc`` (or ``application/vc+ld+json``) with a transcript's W3C VC 2.0
  export (``.vc.json``, docs/interop.md) as the body; a ``file`` upload of one too.

``?at=<ISO 8601 time>`` judges a PDF's long-term validity as of that time (past or
future, `verifier.long_term`) instead of now.

200 with the verdict (`verifier.core.verdict.Verdict.to_json`) and its ``summary`` (what
it proves: a credential, or a PDF file; `verifier.display.summary`) whenever the input
could be judged; otherwise a 4xx ``{"error", "message_en", "message_th"}`` (503 with
Retry-After while every picture-decoding slot is busy).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from verifier.app import inputs, ratelimit
from verifier.app.errors import problem
from verifier.display import summary
from verifier.vc_export import is_json
from verifier.verification import Verifier

bp = Blueprint("api", __name__, url_prefix="/api/v1")
VC_TYPES = ("application/vc", "application/vc+ld+json")


def _verifier() -> Verifier | None:
    return current_app.extensions.get("bkt_verifier")


bp.before_request(ratelimit.check)


@bp.post("/verify")
def verify() -> Response | tuple[Response, int]:
    verifier = _verifier()
    if verifier is None:
        return problem(503, "not_configured", "The verifier has no pinned root certificate",
                       "ระบบตรวจสอบยังไม่ได้กำหนดใบรับรองหลัก")
    at = request.args.get("at")
    moment = _moment(at) if at is not None else None
    if at is not None and moment is None:
        return problem(400, "bad_at", "'at' must be an ISO 8601 time with its zone, e.g. "
                       "2040-01-01T00:00Z", "พารามิเตอร์ at ต้องเป็นเวลาแบบ ISO 8601 พร้อมเขตเวลา")
    pdf = partial(inputs.pdf, moment=moment)
    mimetype = request.mimetype
    if mimetype == "application/json":
        return _credential_json(verifier)
    if mimetype == "application/pdf":
        return _answer(pdf, verifier, request.get_data(cache=False))
    if mimetype in VC_TYPES:
        return _answer(inputs.vc, verifier, request.get_data(cache=False))
    if mimetype == "application/x-www-form-urlencoded":
        credential = request.form.get("credential")
        if credential is not None:
            return _answer(inputs.credential, verifier, credential)
        return problem(400, "missing_credential", "Expected a form field 'credential'",
                       "ต้องระบุข้อมูลรับรอง (credential)")
    if mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is not None:
            data = upload.read()
            return _answer(inputs.vc if is_json(data) else pdf, verifier, data)
        image = request.files.get("image")
        if image is not None:
            return _answer(inputs.image, verifier, image.read())
        credential = request.form.get("credential")
        if credential is not None:
            return _answer(inputs.credential, verifier, credential)
        return problem(400, "missing_input", "Send a field 'file' (PDF), 'image' or 'credential'",
                       "กรุณาส่งไฟล์ PDF รูปภาพคิวอาร์โค้ด หรือข้อมูลรับรอง")
    return problem(415, "unsupported_media_type",
                   "Send JSON {\"credential\": ...}, multipart/form-data, application/pdf "
                   "or application/vc",
                   "รูปแบบข้อมูลไม่รองรับ")


def _moment(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _credential_json(verifier: Verifier) -> Response:
    try:
        body: Any = request.get_json(silent=True)
    except RecursionError:  # absurdly deep nesting; json raises this, not ValueError
        body = None
    if body is None:
        return problem(400, "bad_json", "The body is not valid JSON", "ข้อมูล JSON ไม่ถูกต้อง")
    if not isinstance(body, dict) or not isinstance(body.get("credential"), str):
        return problem(400, "missing_credential",
                       "Expected {\"credential\": \"<compact JWS or the QR's URL>\"}",
                       "ต้องระบุข้อมูลรับรอง (credential) เป็นข้อความ")
    return _answer(inputs.credential, verifier, body["credential"])


def _answer(judge: Callable[[Verifier, Any], inputs.Judged], verifier: Verifier,
            given: Any) -> Response:
    """The verdict with its summary (what it proves), or the error if not judged."""
    try:
        judged = judge(verifier, given)
    except inputs.Refused as exc:
        response = problem(exc.status, exc.code, exc.message_en, exc.message_th)
        if exc.retry_after is not None:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    body = judged.verdict.to_json()
    body["summary"] = summary(judged.verdict, judged.scope)
    return jsonify(body)
