"""PDF checks: PAdES signature, coverage, trust, embedded record and QR credential.

Everything read from the document (attachments included) is read from the
revision the signature covers, so content added by a later incremental update
is never believed; pyHanko's difference analysis judges such updates.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from verifier.core.canonical import b64url
from verifier.core.credential import Claims, CredentialError, verify
from verifier.core.verdict import Check, Status
from verifier.trust import TrustStore, as_asn1, institution_of

RECORD_NAME = "transcript.json"
CREDENTIAL_NAME = "credential.jws"
MAX_PDF_BYTES = 10 * 1024 * 1024


class NotATranscript(ValueError):
    """The upload cannot be judged at all (not a PDF, encrypted, no signature)."""


@dataclass(frozen=True)
class PdfFindings:
    checks: tuple[Check, ...]
    claims: Claims | None
    record: bytes | None


def _check(cid: str, ok: bool | None, th: str, en: str) -> Check:
    status = Status.PASS if ok else (Status.INDETERMINATE if ok is None else Status.FAIL)
    return Check(cid, status, th, en)


def open_pdf(data: bytes) -> PdfFileReader:
    if len(data) > MAX_PDF_BYTES:
        raise NotATranscript("file too large / ไฟล์มีขนาดใหญ่เกินกำหนด")
    if not data.lstrip()[:5].startswith(b"%PDF-"):
        raise NotATranscript("not a PDF file / ไม่ใช่ไฟล์ PDF")
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise NotATranscript(f"unreadable PDF / อ่านไฟล์ PDF ไม่ได้: {exc}") from None
    if reader.encrypted:
        raise NotATranscript("encrypted PDF / ไฟล์ PDF ถูกเข้ารหัส")
    return reader


def embedded_files(reader: PdfFileReader, revision: int) -> dict[str, bytes]:
    """Embedded files by name, as they stood in `revision`."""
    root = reader.get_historical_resolver(revision).root
    files: dict[str, bytes] = {}
    try:
        names = root["/Names"]["/EmbeddedFiles"]["/Names"]
    except KeyError:
        return files
    for i in range(0, len(names) - 1, 2):
        try:
            spec = names[i + 1].get_object()
            files[str(names[i])] = spec["/EF"]["/F"].get_object().data
        except (KeyError, AttributeError, PdfError):
            continue
    return files


def check_pdf(data: bytes, trust: TrustStore) -> PdfFindings:
    """Run every PDF check; raise NotATranscript only if nothing can be judged."""
    reader = open_pdf(data)
    try:
        signatures = reader.embedded_signatures
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise NotATranscript(f"malformed signature / ลายมือชื่อเสียหาย: {exc}") from None
    if not signatures:
        raise NotATranscript("the PDF has no signature / ไฟล์ PDF ไม่มีลายมือชื่ออิเล็กทรอนิกส์")
    first = signatures[0]
    checks: list[Check] = []
    extra = [s for s in signatures[1:] if s.sig_object_type != "/DocTimeStamp"]
    checks.append(_check(
        "single_signature", not extra,
        "มีลายมือชื่อของสถาบันเพียงรายการเดียว" if not extra else "มีลายมือชื่ออื่นเพิ่มเข้ามาภายหลัง",
        "Only the institution's signature is present" if not extra
        else "Another signature was added after issuance",
    ))
    status = _validate(first, trust, data)
    intact = status is not None and status.intact and status.valid
    checks.append(_check(
        "pdf_signature", intact,
        "ลายมือชื่ออิเล็กทรอนิกส์ถูกต้อง เอกสารไม่ถูกแก้ไขหลังลงนาม" if intact
        else "ลายมือชื่ออิเล็กทรอนิกส์ไม่ถูกต้อง",
        "The PAdES signature is intact" if intact else "The PAdES signature is broken",
    ))
    unmodified = status is not None and _unmodified(status)
    checks.append(_check(
        "pdf_unmodified", unmodified,
        "ลายมือชื่อครอบคลุมทั้งเอกสาร" if unmodified else "เอกสารถูกแก้ไขหลังจากลงนาม",
        "The signature covers the whole document" if unmodified
        else "The document was modified after signing",
    ))
    trusted = status is not None and status.trusted
    signer = first.signer_cert
    checks.append(_check(
        "pdf_signer_trusted", trusted,
        "ผู้ลงนามได้รับการรับรองจากกรุงเทพมหานคร" if trusted
        else "ผู้ลงนามไม่ได้รับการรับรองจากกรุงเทพมหานคร",
        "The signer chains to the BMA root" if trusted
        else "The signer does not chain to the BMA root",
    ))
    files = embedded_files(reader, first.signed_revision)
    record, token = files.get(RECORD_NAME), files.get(CREDENTIAL_NAME)
    present = record is not None and token is not None
    checks.append(_check(
        "record_present", present,
        "พบข้อมูลระเบียนและข้อมูลรับรองที่ฝังในเอกสาร" if present
        else "ไม่พบข้อมูลระเบียนที่ฝังในเอกสาร",
        "The embedded record and credential are present" if present
        else "The embedded record or credential is missing",
    ))
    claims = None
    if token is not None:
        claims, credential_checks = check_credential(token.decode("ascii", "replace"), trust)
        checks.extend(credential_checks)
    if claims is not None and record is not None:
        same = b64url(hashlib.sha256(record).digest()) == claims.record_digest
        checks.append(_check(
            "record_digest", same,
            "ข้อมูลระเบียนตรงกับคิวอาร์โค้ด" if same else "ข้อมูลระเบียนไม่ตรงกับคิวอาร์โค้ด",
            "The embedded record matches the QR credential" if same
            else "The embedded record does not match the QR credential",
        ))
        signer_institution = institution_of(_crypto(signer))
        same_inst = signer_institution == claims.institution
        checks.append(_check(
            "same_institution", same_inst,
            "ผู้ลงนามเอกสารและคิวอาร์โค้ดเป็นสถาบันเดียวกัน" if same_inst
            else "ผู้ลงนามเอกสารและคิวอาร์โค้ดเป็นคนละสถาบัน",
            "The PDF and the QR credential come from the same institution" if same_inst
            else "The PDF and the QR credential come from different institutions",
        ))
    return PdfFindings(tuple(checks), claims, record)


def check_credential(token: str, trust: TrustStore) -> tuple[Claims | None, list[Check]]:
    """Verify the QR credential against the trusted keys."""
    try:
        kid, claims = verify(token, lambda k: (key.public_key if (key := trust.key(k)) else None))
    except CredentialError as exc:
        return None, [Check("credential_signature", Status.FAIL,
                            "ข้อมูลรับรองในคิวอาร์โค้ดไม่ถูกต้อง", f"QR credential rejected: {exc}")]
    key = trust.keys[kid]
    issued = datetime.fromtimestamp(claims.issued_at, UTC)
    checks = [Check("credential_signature", Status.PASS,
                    "ลายมือชื่อของคิวอาร์โค้ดถูกต้อง", "The QR credential's signature is valid")]
    ok = key.valid_at(issued) and key.institution == claims.institution
    checks.append(_check(
        "credential_issuer_trusted", ok,
        "กุญแจของสถาบันได้รับการรับรองและใช้ได้ในวันที่ออกเอกสาร" if ok
        else "กุญแจไม่ได้รับการรับรองสำหรับสถาบันนี้ในวันที่ออกเอกสาร",
        "The institution's key was trusted and valid at issuance" if ok
        else "The key was not valid for this institution at issuance",
    ))
    return claims, checks


def _validate(sig: Any, trust: TrustStore, data: bytes) -> Any:
    signing_time = sig.self_reported_timestamp
    context = ValidationContext(
        trust_roots=[as_asn1(r) for r in trust.roots],
        allow_fetching=False,
        moment=signing_time,  # a key valid at issuance stays good after it expires
        revocation_mode="soft-fail",
    )
    try:
        return asyncio.run(async_validate_pdf_signature(sig, context))
    except (PdfError, ValueError, KeyError, TypeError):
        return None


def _unmodified(status: Any) -> bool:
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return True
    return (
        status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
        and status.modification_level is not None
        and status.modification_level <= ModificationLevel.LTA_UPDATES
        and bool(status.docmdp_ok)
    )


def _crypto(cert: asn1_x509.Certificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(cert.dump())
