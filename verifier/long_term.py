"""Long-term validity of a transcript's PAdES signature, judged offline at any moment.

Three checks (docs/long-term-validity.md):

- ``pades_level``: the level the file has, B-B, B-T (a signature timestamp), B-LT (then
  validation data in the DSS) or B-LTA (then a document timestamp over it);
- ``signing_time``: the time the signature timestamp proves, or the signer's own word;
- ``long_term_validity``: the signature validates at `moment` (now, or a date given with
  ``--at``) from what the file embeds, nothing fetched, trusting only the pinned roots.

A B-LTA file goes through pyHanko's PAdES-LTA validation (ETSI EN 319 102-1 5.6.3): the
document timestamps prove that the signature and its OCSP responses and CRLs existed
when the certificates were valid, so the signature outlives them. The last document
timestamp's own certificate is taken as not revoked at `moment` (its status is what a
later `transcripts archive refresh` would add; a TSA compromise is the BMA's to announce,
as for the root it pins). Below B-LTA nothing in the file proves when its validation data
existed, so the signature holds only while its certificates are all valid: after that,
INDETERMINATE, never VALID. pyHanko also fails any signature once an intermediate CA of
its chain has expired, so the issuing CA's life bounds every level's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp as x509_ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESPassed
from pyhanko.sign.diff_analysis import DiffPolicy
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.generic_cms import extract_tst_data_iter
from pyhanko.sign.validation.policy_decl import (
    LocalKnowledge,
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import (
    CertRevTrustPolicy,
    NonRevokedStatusAssertion,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)
from pyhanko_certvalidator.registry import SimpleTrustManager

from verifier.core.verdict import Check, Status

B_B, B_T, B_LT, B_LTA = "B-B", "B-T", "B-LT", "B-LTA"

# Revocation data is checked wherever the file has it (a revoked certificate is never
# waved through); its absence is judged by the level, above, not as a failure here.
_DECLARED = RevocationCheckingRule.CHECK_IF_DECLARED_SOFT
_REVOCATION = CertRevTrustPolicy(RevocationCheckingPolicy(_DECLARED, _DECLARED))
_REVOKED = frozenset({AdESIndeterminate.REVOKED_NO_POE, AdESIndeterminate.REVOKED_CA_NO_POE,
                      AdESFailure.REVOKED})

for _name in ("pyhanko.sign.validation.ades", "pyhanko.sign.validation.generic_cms"):
    logging.getLogger(_name).setLevel(logging.ERROR)  # their findings come back as data


@dataclass(frozen=True)
class _Outcome:
    ades_subindic: Any


def _crypto(cert: asn1_x509.Certificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(cert.dump())


def _at(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class Evidence:
    """What the file holds for the long term."""

    level: str
    signature_timestamp: bool
    validation_data: bool
    document_timestamps: int
    """Document timestamps after the signature."""


def evidence(reader: PdfFileReader, sig: Any) -> Evidence:
    """The PAdES level of `sig` and what makes it."""
    try:
        stamped = next(extract_tst_data_iter(sig.signer_info, signed=False), None) is not None
    except (ValueError, KeyError, TypeError):
        stamped = False
    try:
        dss = DocumentSecurityStore.read_dss(reader)
        data = bool(dss.ocsps or dss.crls)
    except Exception:  # no DSS, or one pyHanko cannot read: no validation data
        data = False
    try:
        later = [t for t in reader.embedded_timestamp_signatures
                 if t.signed_revision > sig.signed_revision]
    except Exception:  # an unreadable timestamp field: none
        later = []
    if not stamped:
        level = B_B
    elif not data:
        level = B_T
    else:
        level = B_LTA if later else B_LT
    return Evidence(level, stamped, data, len(later))


_LEVEL_TEXT = {
    B_B: ("ไม่มีการประทับเวลา ลายมือชื่อใช้ได้เพียงเท่าที่ใบรับรองยังไม่หมดอายุ",
          "no timestamp: the signature holds only while its certificate is valid"),
    B_T: ("มีการประทับเวลาที่ลายมือชื่อ แต่ไม่มีข้อมูลสถานะใบรับรองฝังไว้",
          "a signature timestamp, without embedded certificate status data"),
    B_LT: ("มีการประทับเวลาและข้อมูลสถานะใบรับรอง (OCSP/CRL) ฝังไว้ แต่ไม่มีการประทับเวลาเอกสาร",
           "a signature timestamp and embedded OCSP/CRL data, but no document timestamp"),
    B_LTA: ("มีการประทับเวลา ข้อมูลสถานะใบรับรอง และการประทับเวลาเอกสารสำหรับการตรวจสอบระยะยาว",
            "a signature timestamp, embedded OCSP/CRL data and a document timestamp "
            "for long-term validation"),
}


def level_check(found: Evidence) -> Check:
    """``pades_level``: informative (pass); what it means is `validity_check`'s."""
    th, en = _LEVEL_TEXT[found.level]
    return Check("pades_level", Status.PASS, f"ระดับ PAdES {found.level}: {th}",
                 f"PAdES level {found.level}: {en}")


def signing_time_check(proven: datetime | None, claimed: datetime | None) -> Check:
    """``signing_time``: pass with a trusted timestamp's time; else warn (the signer's
    own word, which whoever holds the key can back-date)."""
    if proven is not None:
        return Check("signing_time", Status.PASS,
                     f"เวลาที่ลงนามยืนยันด้วยการประทับเวลาที่เชื่อถือได้: {_at(proven)}",
                     f"Signing time proven by a trusted timestamp: {_at(proven)}")
    said_th = f"ผู้ลงนามระบุเวลา {_at(claimed)} เอง" if claimed else "ไม่ระบุเวลาที่ลงนาม"
    said_en = f"the signer states {_at(claimed)} itself" if claimed else "no time stated"
    return Check("signing_time", Status.WARN,
                 f"ไม่มีการประทับเวลาที่ยืนยันเวลาที่ลงนาม ({said_th})",
                 f"No trusted timestamp proves the signing time ({said_en})")


def _spec(roots: Sequence[asn1_x509.Certificate], diff_policy: DiffPolicy | None,
          reader: PdfFileReader, moment: datetime) -> PdfSignatureValidationSpec:
    last = reader.embedded_timestamp_signatures[-1]
    knowledge = LocalKnowledge(
        known_certs=list(roots),  # CRLs signed by a root must find their issuer
        nonrevoked_assertions=[NonRevokedStatusAssertion(last.signer_cert.sha256, at=moment)],
    )
    return PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=CertValidationPolicySpec(
                trust_manager=SimpleTrustManager.build(list(roots)),
                revinfo_policy=_REVOCATION),
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY),
            local_knowledge=knowledge,
        ),
        diff_policy=diff_policy,
    )


def lta_result(sig: Any, reader: PdfFileReader, roots: Sequence[asn1_x509.Certificate],
               moment: datetime, diff_policy: DiffPolicy | None) -> Any:
    """pyHanko's PAdES-LTA validation of `sig` at `moment`, offline."""
    timing = ValidationTimingInfo(validation_time=moment, best_signature_time=moment,
                                  point_in_time_validation=True)
    spec = _spec(roots, diff_policy, reader, moment)
    return asyncio.run(ades_lta_validation(sig, spec, timing_info=timing))


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except (ValueError, TypeError, InvalidSignature):
        return False


def _signed_by(response: x509_ocsp.OCSPResponse, key: Any) -> bool:
    algorithm = response.signature_hash_algorithm
    try:
        if isinstance(key, ec.EllipticCurvePublicKey) and algorithm is not None:
            key.verify(response.signature, response.tbs_response_bytes, ec.ECDSA(algorithm))
        elif isinstance(key, rsa.RSAPublicKey) and algorithm is not None:
            key.verify(response.signature, response.tbs_response_bytes, padding.PKCS1v15(),
                       algorithm)
        else:
            return False
        return True
    except InvalidSignature:
        return False


def revoked_in_dss(reader: PdfFileReader, signer: x509.Certificate,
                   issuer: x509.Certificate) -> datetime | None:
    """The earliest revocation of `signer` that the file's DSS holds from its own CA (an
    OCSP response signed by the CA or its delegated responder, or the CA's CRL).

    pyHanko's validation, given both the "good" answer of the signing day and a later
    "revoked" one, reports the revocation only on some runs (the responses' order); this
    reads them all, so a revocation is never missed. A revocation is always bad news:
    an attacker gains nothing by adding one."""
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except Exception:  # no DSS, or one pyHanko cannot read
        return None
    found: list[datetime] = []
    for ref in dss.ocsps:
        try:
            response = x509_ocsp.load_der_ocsp_response(ref.get_object().data)
            if (response.response_status is not x509_ocsp.OCSPResponseStatus.SUCCESSFUL
                    or response.serial_number != signer.serial_number
                    or response.certificate_status is not x509_ocsp.OCSPCertStatus.REVOKED):
                continue
            responder = next((c for c in response.certificates if _issued_by(c, issuer)
                              and _may_sign_ocsp(c)), issuer)
            if _signed_by(response, responder.public_key()) and response.revocation_time_utc:
                found.append(response.revocation_time_utc)
        except Exception:
            continue
    for ref in dss.crls:
        try:
            crl = x509.load_der_x509_crl(ref.get_object().data)
            entry = crl.get_revoked_certificate_by_serial_number(signer.serial_number)
            if (entry is not None and crl.issuer == issuer.subject
                    and crl.is_signature_valid(issuer.public_key())):  # type: ignore[arg-type]
                found.append(entry.revocation_date_utc)
        except Exception:
            continue
    return min(found, default=None)


def _may_sign_ocsp(cert: x509.Certificate) -> bool:
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False
    return ExtendedKeyUsageOID.OCSP_SIGNING in eku


def validity_check(found: Evidence, moment: datetime, *, lta: Any = None,
                   chain_expiry: datetime | None = None, now: bool = True,
                   revoked: datetime | None = None, proven: datetime | None = None) -> Check:
    """``long_term_validity`` at `moment`: from `lta` (a B-LTA file's `lta_result`) with
    `revoked` (the signer's revocation the file holds, `revoked_in_dss`) against `proven`
    (the signature timestamp's time), or for lower levels from `chain_expiry` (the
    earliest notAfter of the signer's chain)."""
    when_th = "ณ ขณะนี้" if now else f"ณ วันที่ {_at(moment)}"
    when_en = "now" if now else f"as of {_at(moment)}"
    if lta is not None:
        indication = lta.ades_subindic
        if revoked is not None and (proven is None or revoked <= proven):
            return Check("long_term_validity", Status.FAIL,
                         f"ใบรับรองของผู้ลงนามถูกเพิกถอนเมื่อ {_at(revoked)} "
                         "ซึ่งไม่มีหลักฐานว่าลงนามก่อนหน้านั้น",
                         f"The signer's certificate was revoked on {_at(revoked)}, and "
                         "nothing proves the signature was made before that")
        if indication is AdESPassed.OK:
            th = f"ลายมือชื่อตรวจสอบได้{when_th} จากข้อมูลที่ฝังในเอกสาร (ไม่ต้องออนไลน์)"
            en = f"The signature validates {when_en} from what the document embeds (offline)"
            if revoked is not None:
                th += f" ใบรับรองถูกเพิกถอนเมื่อ {_at(revoked)} หลังเวลาที่ลงนามที่พิสูจน์ได้"
                en += (f"; its certificate was revoked on {_at(revoked)}, after the proven "
                       "signing time")
            return Check("long_term_validity", Status.PASS, th, en)
        reason = getattr(indication, "name", str(indication))
        if indication in _REVOKED:
            return Check("long_term_validity", Status.FAIL,
                         f"ใบรับรองของผู้ลงนามถูกเพิกถอนก่อนเวลาที่ลงนามที่พิสูจน์ได้ ({reason})",
                         "The signer's certificate was revoked before the proven signing "
                         f"time ({reason})")
        if isinstance(indication, AdESFailure):
            return Check("long_term_validity", Status.FAIL,
                         f"ลายมือชื่อไม่ผ่านการตรวจสอบระยะยาว{when_th} ({reason})",
                         f"The signature fails long-term validation {when_en} ({reason})")
        return Check("long_term_validity", Status.INDETERMINATE,
                     f"ตรวจสอบลายมือชื่อระยะยาว{when_th}ไม่ได้จากข้อมูลที่ฝังในเอกสาร ({reason})",
                     f"The signature cannot be validated {when_en} from what the document "
                     f"embeds ({reason})")
    if chain_expiry is not None and moment <= chain_expiry:
        return Check("long_term_validity", Status.PASS,
                     f"ใบรับรองของผู้ลงนามยังไม่หมดอายุ{when_th} (หมดอายุ {_at(chain_expiry)}) "
                     f"แต่เอกสารระดับ {found.level} ไม่มีหลักฐานสำหรับการตรวจสอบหลังจากนั้น",
                     f"The signer's certificates are valid {when_en} (until "
                     f"{_at(chain_expiry)}); a {found.level} document holds no evidence "
                     "to validate it after that")
    expired = _at(chain_expiry) if chain_expiry else "?"
    return Check("long_term_validity", Status.INDETERMINATE,
                 f"ใบรับรองของผู้ลงนามหมดอายุเมื่อ {expired} และเอกสารระดับ {found.level} "
                 "ไม่มีการประทับเวลาเอกสารพร้อมข้อมูลสถานะใบรับรองที่พิสูจน์ว่าลงนามขณะใบรับรองยังใช้ได้ "
                 "โปรดขอฉบับที่ออกใหม่จากสถาบัน",
                 f"The signer's certificate expired on {expired}, and a {found.level} "
                 "document holds no document timestamp with certificate status data to prove "
                 "it was signed while the certificate was valid: ask the institution for a "
                 "newly issued copy")


def long_term_checks(sig: Any, reader: PdfFileReader, roots: Sequence[asn1_x509.Certificate],
                     chain: Sequence[asn1_x509.Certificate], proven: datetime | None,
                     moment: datetime | None, diff_policy: DiffPolicy | None) -> list[Check]:
    """The three checks for a signature that is intact and trusted; `chain` its
    validation path (root first), `moment` None for now."""
    found = evidence(reader, sig)
    when = moment or datetime.now(UTC)
    checks = [level_check(found), signing_time_check(proven, sig.self_reported_timestamp)]
    if found.level == B_LTA:
        try:
            result = lta_result(sig, reader, roots, when, diff_policy)
        except Exception:  # pyHanko gave up on the file: nothing proven
            result = _Outcome(AdESIndeterminate.GENERIC)
        signer = _crypto(sig.signer_cert)
        issuer = next((_crypto(c) for c in chain if c.subject == sig.signer_cert.issuer), None)
        revoked = None if issuer is None else revoked_in_dss(reader, signer, issuer)
        checks.append(validity_check(found, when, lta=result, now=moment is None,
                                     revoked=revoked, proven=proven))
    else:
        expiry = min((c.not_valid_after for c in chain), default=None)
        checks.append(validity_check(found, when, chain_expiry=expiry, now=moment is None))
    return checks


