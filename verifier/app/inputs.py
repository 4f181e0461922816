"""What the API and the page share: judge a credential, a picture or a PDF.

Each returns the verdict with its `summary` scope, or raises `Refused` (an HTTP status,
a code and the Thai and English reasons) when the input cannot be judged at all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from verifier.core.verdict import Verdict
from verifier.display import CREDENTIAL, PDF, SD_JWT, VC
from verifier.pdf import NotATranscript
from verifier.qr_image import PhotoLimits, QrImageError, decode_qr
from verifier.sd_jwt_checks import looks_like_sd_jwt
from verifier.vc_export import NotAnExport, is_json
from verifier.verification import Verifier

log = logging.getLogger(__name__)

MAX_CREDENTIAL = 8192
MAX_SD_JWT = 128 * 1024  # a school transcript with every course disclosed is ~33 KiB
PDF_ERRORS = (  # NotATranscript message -> (code, HTTP status)
    ("encrypted", "encrypted_pdf", 422),
    ("no signature", "unsigned_pdf", 422),
    ("too large", "too_large", 413),
    ("not a pdf", "not_pdf", 415),
)
IMAGE_STATUS = {"qr_decoder_unavailable": 503, "busy": 503, "not_image": 415,
                "image_too_large": 413}
RETRY_BUSY = 3  # seconds: Retry-After when every decoding slot is taken


class Refused(Exception):
    """The input cannot be judged: HTTP `status`, error `code`, reasons in both languages."""

    def __init__(self, status: int, code: str, message_en: str, message_th: str,
                 retry_after: int | None = None) -> None:
        super().__init__(message_en)
        self.status = status
        self.code = code
        self.message_en = message_en
        self.message_th = message_th
        self.retry_after = retry_after


@dataclass(frozen=True)
class Judged:
    verdict: Verdict
    scope: str  # display.CREDENTIAL or display.PDF: what the verdict is about


def credential(verifier: Verifier, text: str) -> Judged:
    """A QR credential (or its URL), or an SD-JWT VC presentation (or its ``/sd#`` link)."""
    if looks_like_sd_jwt(text):
        if len(text) > MAX_SD_JWT:
            raise Refused(413, "credential_too_long", "The SD-JWT VC is too long",
                          "ข้อมูลรับรองยาวเกินกำหนด")
        return Judged(verifier.sd_jwt(text), SD_JWT)
    if len(text) > MAX_CREDENTIAL:
        raise Refused(413, "credential_too_long", "The credential is too long",
                      "ข้อมูลรับรองยาวเกินกำหนด")
    return Judged(verifier.credential(text), CREDENTIAL)


def image(verifier: Verifier, data: bytes) -> Judged:
    """A photo or screenshot: its QR code read in a bounded child process."""
    limits: PhotoLimits = current_app.extensions.get("bkt_photo_limits") or PhotoLimits()
    try:
        text = decode_qr(data, limits)
    except QrImageError as exc:
        raise Refused(IMAGE_STATUS.get(exc.code, 422), exc.code, exc.message_en,
                      exc.message_th, RETRY_BUSY if exc.code == "busy" else None) from None
    return credential(verifier, text)


def pdf(verifier: Verifier, data: bytes, moment: datetime | None = None) -> Judged:
    """A PDF's verdict; `moment`: its long-term validity as of then (default now)."""
    if not data.lstrip()[:5].startswith(b"%PDF-"):
        raise Refused(415, "not_pdf", "The file is not a PDF", "ไฟล์ไม่ใช่ไฟล์ PDF")
    try:
        verdict = verifier.pdf(data, moment=moment)
    except NotATranscript as exc:
        en, _, th = str(exc).partition(" / ")
        code, status = next(((c, s) for key, c, s in PDF_ERRORS if key in en.lower()),
                            ("unreadable_pdf", 422))
        raise Refused(status, code, en, th or en) from None
    except Exception as exc:  # a parser crash on a hostile PDF: cannot be judged, not a 500
        log.warning("PDF could not be processed: %s", type(exc).__name__)
        raise Refused(422, "unreadable_pdf", "The PDF could not be read",
                      "อ่านไฟล์ PDF ไม่ได้") from None
    return Judged(verdict, PDF)


def vc(verifier: Verifier, data: bytes) -> Judged:
    """A transcript's W3C VC 2.0 export (``.vc.json``)."""
    try:
        return Judged(verifier.vc(data), VC)
    except NotAnExport as exc:
        raise Refused(415, "not_vc", f"Not a transcript's digital credential: {exc}",
                      "ไม่ใช่ข้อมูลรับรองดิจิทัลของเอกสารผลการเรียน") from None


def upload(verifier: Verifier, data: bytes) -> Judged:
    """A file from the page: a PDF by its header, a digital credential (JSON), anything
    else as a picture."""
    if data.lstrip()[:5].startswith(b"%PDF-"):
        return pdf(verifier, data)
    if is_json(data):
        return vc(verifier, data)
    return image(verifier, data)
