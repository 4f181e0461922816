"""Every error as a short bilingual answer: JSON under /api, plain text elsewhere.

No stack trace and no echo of the request ever reaches the client; unexpected
exceptions are logged by type only (a request may carry a credential).
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("bad_request", "The request is malformed", "คำขอไม่ถูกต้อง"),
    404: ("not_found", "Not found", "ไม่พบหน้าที่ต้องการ"),
    405: ("method_not_allowed", "Method not allowed", "ไม่รองรับวิธีการเรียกนี้"),
    413: ("too_large", "The upload is too large (10 MB at most)",
          "ไฟล์มีขนาดใหญ่เกินกำหนด (ไม่เกิน 10 MB)"),
    415: ("unsupported_media_type", "Send JSON, multipart/form-data or a PDF",
          "รูปแบบข้อมูลไม่รองรับ"),
    429: ("rate_limited", "Too many requests; try again later",
          "มีคำขอมากเกินไป กรุณาลองใหม่ภายหลัง"),
    500: ("internal_error", "Something went wrong; nothing was verified",
          "เกิดข้อผิดพลาดภายใน ยังไม่ได้ตรวจสอบเอกสาร"),
    503: ("unavailable", "The verifier is not configured", "ระบบตรวจสอบยังไม่พร้อมใช้งาน"),
}


def problem(status: int, code: str, message_en: str, message_th: str) -> Response:
    """A JSON error: ``{"error": code, "message_en": ..., "message_th": ...}``."""
    response = jsonify({"error": code, "message_en": message_en, "message_th": message_th})
    response.status_code = status
    return response


def _answer(status: int) -> Response:
    code, en, th = MESSAGES.get(status, ("error", "Request failed", "คำขอไม่สำเร็จ"))
    if request.path.startswith("/api/"):
        return problem(status, code, en, th)
    return Response(f"{status} {en}\n{th}\n", status=status,
                    mimetype="text/plain", headers={"Content-Language": "en, th"})


def _retry_after(exc: HTTPException) -> int:
    """Seconds until the window of the limit that was hit ends (its length at most)."""
    try:
        window = int(exc.limit.limit.get_expiry())  # type: ignore[attr-defined]
    except (AttributeError, TypeError, ValueError):
        return 60
    return max(1, window)


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        response = _answer(exc.code or 500)
        if exc.code == 429:
            response.headers["Retry-After"] = str(_retry_after(exc))
        if exc.code == 405 and (allowed := exc.get_headers()):
            for name, value in allowed:
                if name.lower() == "allow":
                    response.headers["Allow"] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.path)
        return _answer(500)
