"""``POST /api/v1/verify``: a PDF, a picture of the QR, or the credential itself.

- ``multipart/form-data`` with field ``file`` (a PDF), ``image`` (a photo or
  screenshot of the QR) or ``credential`` (text); a urlencoded ``credential`` too;
- ``application/json`` ``{"credential": "<compact JWS or the QR's URL>"}``;
- ``application/pdf`` with the PDF as the body.

200 with the verdict (`verifier.core.verdict.Verdict.to_json`) whenever the input could
be judged; otherwise a 4xx ``{"error", "message_en", "message_th"}``.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from verifier.app import ratelimit
from verifier.app.errors import problem
from verifier.pdf import NotATranscript
from verifier.qr_image import QrImageError, decode_qr
from verifier.verification import Verifier

log = logging.getLogger(__name__)
bp = Blueprint("api", __name__, url_prefix="/api/v1")

PDF_ERRORS = (  # NotATranscript message -> (code, HTTP status)
    ("encrypted", "encrypted_pdf", 422),
    ("no signature", "unsigned_pdf", 422),
    ("too large", "too_large", 413),
    ("not a pdf", "not_pdf", 415),
)
MAX_CREDENTIAL = 8192


def _verifier() -> Verifier | None:
    return current_app.extensions.get("bkt_verifier")


bp.before_request(ratelimit.check)


@bp.post("/verify")
def verify() -> Response | tuple[Response, int]:
    verifier = _verifier()
    if verifier is None:
        return problem(503, "not_configured", "The verifier has no pinned root certificate",
                       "ระบบตรวจสอบยังไม่ได้กำหนดใบรับรองหลัก")
    mimetype = request.mimetype
    if mimetype == "application/json":
        return _credential_json(verifier)
    if mimetype == "application/pdf":
        return _pdf(verifier, request.get_data(cache=False))
    if mimetype == "application/x-www-form-urlencoded":
        credential = request.form.get("credential")
        if credential is not None:
            return _credential(verifier, credential)
        return problem(400, "missing_credential", "Expected a form field 'credential'",
                       "ต้องระบุข้อมูลรับรอง (credential)")
    if mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is not None:
            return _pdf(verifier, upload.read())
        image = request.files.get("image")
        if image is not None:
            return _image(verifier, image.read())
        credential = request.form.get("credential")
        if credential is not None:
            return _credential(verifier, credential)
        return problem(400, "missing_input", "Send a field 'file' (PDF), 'image' or 'credential'",
                       "กรุณาส่งไฟล์ PDF รูปภาพคิวอาร์โค้ด หรือข้อมูลรับรอง")
    return problem(415, "unsupported_media_type",
                   "Send JSON {\"credential\": ...}, multipart/form-data or application/pdf",
                   "รูปแบบข้อมูลไม่รองรับ")


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
    return _credential(verifier, body["credential"])


def _credential(verifier: Verifier, text: str) -> Response:
    if len(text) > MAX_CREDENTIAL:
        return problem(413, "credential_too_long", "The credential is too long",
                       "ข้อมูลรับรองยาวเกินกำหนด")
    return jsonify(verifier.credential(text).to_json())


def _image(verifier: Verifier, data: bytes) -> Response:
    try:
        text = decode_qr(data)
    except QrImageError as exc:
        status = 503 if exc.code == "qr_decoder_unavailable" else 422
        if exc.code == "not_image":
            status = 415
        return problem(status, exc.code, exc.message_en, exc.message_th)
    return _credential(verifier, text)


def _pdf(verifier: Verifier, data: bytes) -> Response:
    if not data.lstrip()[:5].startswith(b"%PDF-"):
        return problem(415, "not_pdf", "The file is not a PDF", "ไฟล์ไม่ใช่ไฟล์ PDF")
    try:
        verdict = verifier.pdf(data)
    except NotATranscript as exc:
        en, _, th = str(exc).partition(" / ")
        code, status = next(((c, s) for key, c, s in PDF_ERRORS if key in en.lower()),
                            ("unreadable_pdf", 422))
        return problem(status, code, en, th or en)
    except Exception as exc:  # a parser crash on a hostile PDF: cannot be judged, not a 500
        log.warning("PDF could not be processed: %s", type(exc).__name__)
        return _unreadable()
    return jsonify(verdict.to_json())


def _unreadable() -> Response:
    return problem(422, "unreadable_pdf", "The PDF could not be read",
                   "อ่านไฟล์ PDF ไม่ได้")
