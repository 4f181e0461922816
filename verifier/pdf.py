"""PDF checks: PAdES signature, coverage, trust, embedded record and QR credential.

Everything read from the document (attachments included) is read from the
revision the signature covers, so content added by a later incremental update
is never believed; pyHanko's difference analysis judges such updates.

pyHanko's own coverage verdict is not taken on trust (docs/attacks.md): it reads
the signature dictionary from the *latest* revision and calls a signature
"entire file" when the file length matches that dictionary's /Contents length, so
an update that overrides the signature object with a padded /Contents passes as
unmodified. The structure is therefore checked here from the bytes: a standard
/ByteRange whose gap holds exactly the /Contents hex string (zero padding only), the
signed bytes ending at the end of the revision that holds the signature dictionary,
and nothing after them but complete revisions that pyHanko's difference analysis
accepts as DSS or document-timestamp updates.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from typing import Any

from asn1crypto import parser as asn1_parser
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.metadata import model as xmp_model
from pyhanko.pdf_utils.metadata.xmp_xml import parse_xmp
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import (
    CatalogModificationRule,
    DiffResult,
    DocInfoRule,
    DSSCompareRule,
    FormUpdatingRule,
    GenericFieldModificationRule,
    MetadataUpdateRule,
    ModificationLevel,
    ObjectStreamRule,
    SigFieldCreationRule,
    SigFieldModificationRule,
    StandardDiffPolicy,
    XrefStreamRule,
)
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from verifier import printed_qr
from verifier.core.canonical import b64url
from verifier.core.credential import Claims, CredentialError, verify
from verifier.core.verdict import Check, Status
from verifier.long_term import long_term_checks
from verifier.trust import (
    TrustStore,
    as_asn1,
    institution_of,
    key_checks,
    pdf_key_checks,
)

RECORD_NAME = "transcript.json"
CREDENTIAL_NAME = "credential.jws"
MAX_PDF_BYTES = 10 * 1024 * 1024

Reason = tuple[str, str]  # (Thai, English): why a check failed, appended to its message

MALFORMED = ("อ่านลายมือชื่อไม่ได้", "the signature cannot be read")
BAD_BYTERANGE = ("ช่วงข้อมูลที่ลงนาม (ByteRange) ไม่ถูกต้อง", "the signed byte range is malformed")
CONTENTS_MISPLACED = ("ค่าลายมือชื่อไม่ได้อยู่ในช่องว่างของช่วงที่ลงนาม",
                      "the signature value is not the one in the gap of the signed byte range")
PADDING_USED = ("มีข้อมูลแฝงอยู่ในส่วนเติมของลายมือชื่อ", "data is hidden in the signature's padding")
NOT_VALIDATED = ("ตรวจสอบลายมือชื่อไม่ได้", "the signature could not be validated")
DIGEST = ("ค่าแฮชหรือลายมือชื่อไม่ตรงกับเนื้อหา", "the digest or signature does not match the content")
NOT_A_REVISION = ("ส่วนที่ลงนามไม่ได้สิ้นสุดที่ท้ายฉบับปรับปรุงของเอกสาร",
                  "the signed bytes do not end at a revision of the document")
SIGNATURE_REPLACED = ("พจนานุกรมลายมือชื่อถูกแทนที่หลังการลงนาม",
                      "the signature dictionary was replaced after signing")
APPENDED = ("มีข้อมูลต่อท้ายส่วนที่ลงนามโดยไม่ใช่ฉบับปรับปรุงที่สมบูรณ์",
            "data was appended after the signed revision outside a complete update")
UNREADABLE_TAIL = ("ข้อมูลที่ต่อท้ายส่วนที่ลงนามทำให้อ่านไฟล์ไม่ได้",
                   "data appended after the signed revision makes the file unreadable")
LATER_CHANGES = ("ฉบับปรับปรุงภายหลังแก้ไขเนื้อหาของเอกสาร",
                 "a later revision changes the document's content")
METADATA_CHANGED = ("ข้อมูลกำกับเอกสาร (เช่น ชื่อเรื่อง) ถูกแก้ไขหลังการลงนาม",
                    "the document's metadata (title, author...) was changed after signing")

# What a DSS or timestamp update may change in the metadata: the dates and the producer.
MUTABLE_INFO = frozenset({"/ModDate", "/Producer"})
MUTABLE_XMP = frozenset({
    xmp_model.XMP_MODDATE, xmp_model.PDF_PRODUCER,
    xmp_model.ExpandedName(ns=xmp_model.NS["xmp"], local_name="MetadataDate"),
})

# pyHanko's default policy, but the catalog may not change /Version or /MarkInfo and the
# form may not change /DA, /DR, /Q or /NeedAppearances (pyHanko lets both pass as
# LTA updates); only /Fields may grow, for a document timestamp's field.
_LTA = ModificationLevel.LTA_UPDATES
DIFF_POLICY = StandardDiffPolicy(
    global_rules=[
        CatalogModificationRule(
            ignored_keys=frozenset({"/AcroForm", "/DSS", "/Extensions", "/Metadata"})),
        DocInfoRule().as_qualified(_LTA),  # narrowed by _metadata_kept
        XrefStreamRule().as_qualified(_LTA),
        ObjectStreamRule().as_qualified(_LTA),
        DSSCompareRule().as_qualified(_LTA),
        MetadataUpdateRule().as_qualified(_LTA),  # narrowed by _metadata_kept
    ],
    form_rule=FormUpdatingRule(
        field_rules=[SigFieldCreationRule(), SigFieldModificationRule(),
                     GenericFieldModificationRule()],
        ignored_acroform_keys=frozenset({"/Fields"}),
    ),
)

_WHITESPACE = b" \t\r\n\f\x00"
_EOF_AT_END = re.compile(rb"startxref\s+(\d+)\s*%%EOF\s*\Z")
_RAW_BYTERANGE = re.compile(rb"/ByteRange\s*\[\s*0\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")


class NotATranscript(ValueError):
    """The upload cannot be judged at all (not a PDF, encrypted, no signature)."""


class _Unreadable(NotATranscript):
    """The parser gave up on the file (perhaps a signed document with junk appended)."""


@dataclass(frozen=True)
class PdfFindings:
    checks: tuple[Check, ...]
    claims: Claims | None
    record: bytes | None


def _check(cid: str, ok: bool | None, th: str, en: str, reason: Reason | None = None) -> Check:
    status = Status.PASS if ok else (Status.INDETERMINATE if ok is None else Status.FAIL)
    if reason is not None and not ok:
        th, en = f"{th}: {reason[0]}", f"{en}: {reason[1]}"
    return Check(cid, status, th, en)


def open_pdf(data: bytes) -> PdfFileReader:
    if len(data) > MAX_PDF_BYTES:
        raise NotATranscript("file too large / ไฟล์มีขนาดใหญ่เกินกำหนด")
    if not data.lstrip()[:5].startswith(b"%PDF-"):
        raise NotATranscript("not a PDF file / ไม่ใช่ไฟล์ PDF")
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        encrypted = reader.encrypted
    except Exception as exc:  # hostile input: pyHanko raises many types, none may escape
        raise _Unreadable(f"unreadable PDF / อ่านไฟล์ PDF ไม่ได้: {exc}") from None
    if encrypted:
        raise NotATranscript("encrypted PDF / ไฟล์ PDF ถูกเข้ารหัส")
    return reader


def embedded_files(reader: PdfFileReader, revision: int) -> dict[str, bytes]:
    """Embedded files by name, as they stood in `revision`."""
    files: dict[str, bytes] = {}
    try:
        names = reader.get_historical_resolver(revision).root["/Names"]["/EmbeddedFiles"]["/Names"]
        count = len(names)
    except Exception:  # absent or malformed name tree: no files
        return files
    for i in range(0, count - 1, 2):
        try:
            spec = names[i + 1].get_object()
            files[str(names[i])] = spec["/EF"]["/F"].get_object().data
        except Exception:  # one unreadable entry does not hide the others
            continue
    return files


def check_pdf(data: bytes, trust: TrustStore, *, moment: datetime | None = None
              ) -> PdfFindings:
    """Run every PDF check; raise NotATranscript only if nothing can be judged.

    `moment`: judge the signature's long-term validity as of then (`verifier.long_term`;
    default now); the other checks concern the time of signing and do not move."""
    try:
        reader = open_pdf(data)
    except _Unreadable:
        # A signed document followed by bytes the parser chokes on: judge what was
        # signed, and say that the file was tampered with after signing.
        prefix = _signed_prefix(data)
        if prefix is None:
            raise
        findings = _findings(open_pdf(prefix), prefix, trust, moment)
        checks = tuple(
            _check("pdf_unmodified", False, "เอกสารถูกแก้ไขหลังจากลงนาม",
                   "The document was modified after signing", UNREADABLE_TAIL)
            if c.id == "pdf_unmodified" else c
            for c in findings.checks
        )
        return PdfFindings(checks, findings.claims, findings.record)
    return _findings(reader, data, trust, moment)


def _findings(reader: PdfFileReader, data: bytes, trust: TrustStore,
              moment: datetime | None) -> PdfFindings:
    try:
        return _judge(reader, data, trust, moment)
    except NotATranscript:
        raise
    except Exception as exc:  # a parser crash deep in a hostile file: cannot be judged
        raise _Unreadable(f"unreadable PDF / อ่านไฟล์ PDF ไม่ได้: {type(exc).__name__}") from None


def _judge(reader: PdfFileReader, data: bytes, trust: TrustStore,
           moment: datetime | None) -> PdfFindings:
    signed = _signed_fields(reader)
    if not signed:
        raise NotATranscript("the PDF has no signature / ไฟล์ PDF ไม่มีลายมือชื่ออิเล็กทรอนิกส์")
    try:
        signatures = reader.embedded_signatures
    except Exception:  # /Contents or /ByteRange missing, empty, zeroed, not CMS...
        signatures = []
    if not signatures:  # a signature field pyHanko cannot read (or ignores)
        return PdfFindings((_signature_check(False, MALFORMED),), None, None)
    first = signatures[0]
    checks: list[Check] = []
    single = signed == 1
    checks.append(_check(
        "single_signature", single,
        "มีลายมือชื่อของสถาบันเพียงรายการเดียว" if single else "มีลายมือชื่ออื่นเพิ่มเข้ามาภายหลัง",
        "Only the institution's signature is present" if single
        else "Another signature was added after issuance",
    ))
    span = _span(first, reader, data)
    status = _validate(first, trust)
    cryptographic = status is not None and status.intact and status.valid
    if status is None:
        signature_problem = span.signature_problem or NOT_VALIDATED
    else:
        signature_problem = span.signature_problem if cryptographic else DIGEST
    checks.append(_signature_check(signature_problem is None, signature_problem))
    coverage_problem = span.coverage_problem
    if coverage_problem is None and span.later_revisions:
        if not _later_revisions_allowed(status):
            coverage_problem = LATER_CHANGES
        elif not _metadata_kept(reader, span.revision):
            coverage_problem = METADATA_CHANGED
    unmodified = signature_problem is None and coverage_problem is None
    checks.append(_check(
        "pdf_unmodified", unmodified,
        "ลายมือชื่อครอบคลุมทั้งเอกสาร" if unmodified else "เอกสารถูกแก้ไขหลังจากลงนาม",
        "The signature covers the whole document" if unmodified
        else "The document was modified after signing",
        coverage_problem or signature_problem,
    ))
    checks.append(_signer_check(status if cryptographic else None))
    proven = _timestamp(status) if cryptographic else None
    if cryptographic and status.trusted:  # its generation's life (verifier.trust)
        checks.extend(pdf_key_checks(trust, _crypto(status.signing_cert),
                                     status.signer_reported_dt, proven))
        chain = list(status.validation_path.iter_certs(include_root=True))
        checks.extend(long_term_checks(first, reader, [as_asn1(r) for r in trust.roots],
                                       chain, proven, moment, DIFF_POLICY))
    else:
        checks.append(Check("long_term_validity", Status.SKIPPED,
                            "ไม่ได้ตรวจความถูกต้องระยะยาว เพราะลายมือชื่อไม่ผ่านการตรวจสอบ",
                            "Long-term validity not checked: the signature did not verify"))
    revision = span.revision if span.revision is not None else first.signed_revision
    files = embedded_files(reader, revision)
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
        claims, credential_checks = check_credential(token.decode("ascii", "replace"), trust,
                                                     signed_by=proven)
        checks.extend(credential_checks)
    if claims is not None and record is not None:
        same = b64url(hashlib.sha256(record).digest()) == claims.record_digest
        checks.append(_check(
            "record_digest", same,
            "ข้อมูลระเบียนตรงกับคิวอาร์โค้ด" if same else "ข้อมูลระเบียนไม่ตรงกับคิวอาร์โค้ด",
            "The embedded record matches the QR credential" if same
            else "The embedded record does not match the QR credential",
        ))
        signer_institution = _signer_institution(first)
        same_inst = signer_institution == claims.institution
        checks.append(_check(
            "same_institution", same_inst,
            "ผู้ลงนามเอกสารและคิวอาร์โค้ดเป็นสถาบันเดียวกัน" if same_inst
            else "ผู้ลงนามเอกสารและคิวอาร์โค้ดเป็นคนละสถาบัน",
            "The PDF and the QR credential come from the same institution" if same_inst
            else "The PDF and the QR credential come from different institutions",
        ))
    if token is not None:  # the page a reader prints carries the same credential
        proven = cryptographic and unmodified and bool(status.trusted)
        checks.append(printed_qr.check(data, token.decode("ascii", "replace")) if proven
                      else printed_qr.skipped())
    return PdfFindings(tuple(checks), claims, record)


def _signature_check(ok: bool, reason: Reason | None) -> Check:
    return _check(
        "pdf_signature", ok,
        "ลายมือชื่ออิเล็กทรอนิกส์ถูกต้อง เอกสารไม่ถูกแก้ไขหลังลงนาม" if ok
        else "ลายมือชื่ออิเล็กทรอนิกส์ไม่ถูกต้อง",
        "The PAdES signature is intact" if ok else "The PAdES signature is broken",
        reason,
    )


def _signer_check(status: Any) -> Check:
    if status is None:  # no validation, or a broken signature: its certificate proves nothing
        return Check("pdf_signer_trusted", Status.SKIPPED,
                     "ไม่ได้ตรวจผู้ลงนาม เพราะลายมือชื่อไม่ถูกต้อง",
                     "The signer was not checked: the signature is not valid")
    trusted = bool(status.trusted)
    return _check(
        "pdf_signer_trusted", trusted,
        "ผู้ลงนามได้รับการรับรองจากกรุงเทพมหานคร" if trusted
        else "ผู้ลงนามไม่ได้รับการรับรองจากกรุงเทพมหานคร",
        "The signer chains to the BMA root" if trusted
        else "The signer does not chain to the BMA root",
    )


def check_credential(token: str, trust: TrustStore, *, signed_by: datetime | None = None
                     ) -> tuple[Claims | None, list[Check]]:
    """Verify the QR credential against the trusted keys.

    Checks: ``credential_signature`` (ES256 by a key the trust store holds),
    ``credential_issuer_trusted`` (that key was valid and in its period of use when the
    credential was issued), ``credential_institution`` (the key belongs to the
    institution the claims name: a trusted key of one institution cannot vouch for
    another's transcripts) and, for a key reported compromised only,
    ``credential_key_not_compromised`` (`verifier.trust.compromise_check`; `signed_by`:
    a trusted timestamp's time by which the credential existed, from the PDF around it).
    """
    try:
        kid, claims = verify(token, lambda k: (key.public_key if (key := trust.key(k)) else None))
    except CredentialError as exc:
        return None, [Check("credential_signature", Status.FAIL,
                            "ข้อมูลรับรองในคิวอาร์โค้ดไม่ถูกต้อง", f"QR credential rejected: {exc}")]
    key = trust.keys[kid]
    checks = [Check("credential_signature", Status.PASS,
                    "ลายมือชื่อของคิวอาร์โค้ดถูกต้อง", "The QR credential's signature is valid")]
    return claims, checks + key_checks(key, claims.issued_at, claims.institution,
                                       signed_by=signed_by)


# --- the signature's structure, checked from the bytes ------------------------------------


@dataclass(frozen=True)
class _Span:
    """What the signature's byte range covers, established independently of pyHanko."""

    signature_problem: Reason | None  # the /ByteRange or /Contents is not standard
    coverage_problem: Reason | None  # the signed bytes are not a revision plus clean updates
    revision: int | None  # the revision the signed bytes end with
    later_revisions: int  # complete revisions after it


def _signed_fields(reader: PdfFileReader) -> int:
    """Filled signature fields, document timestamps excepted."""
    try:
        fields = list(enumerate_sig_fields(reader, filled_status=True))
    except Exception:  # a malformed form: judged as having no readable signature
        return 0
    count = 0
    for _name, value, _field in fields:
        try:
            kind = value.get_object().get("/Type")
        except Exception:
            kind = None
        count += kind != "/DocTimeStamp"
    return count


def _byte_range(sig: Any, size: int) -> tuple[int, int, int] | None:
    """``(len1, start2, len2)`` of a standard ``[0 len1 start2 len2]`` inside the file."""
    try:
        values = list(sig.byte_range)
    except TypeError:
        return None
    if len(values) != 4 or not all(type(v) is not bool and isinstance(v, int) for v in values):
        return None
    start, len1, start2, len2 = (int(v) for v in values)
    if start != 0 or len1 <= 0 or start2 <= len1 or len2 < 0 or start2 + len2 > size:
        return None
    return len1, start2, len2


def _gap_problem(gap: bytes, contents: bytes) -> Reason | None:
    """The gap must be exactly ``<hex of /Contents>`` and /Contents one DER value + zeros."""
    if gap.lower() != b"<" + contents.hex().encode("ascii") + b">":
        return CONTENTS_MISPLACED
    try:
        _, _, _, header, body, trailer = asn1_parser.parse(contents)
    except (ValueError, TypeError):
        return MALFORMED
    if contents[len(header) + len(body) + len(trailer):].strip(b"\x00"):
        return PADDING_USED
    return None


def _span(sig: Any, reader: PdfFileReader, data: bytes) -> _Span:
    byte_range = _byte_range(sig, len(data))
    if byte_range is None:
        return _Span(BAD_BYTERANGE, BAD_BYTERANGE, None, 0)
    len1, start2, len2 = byte_range
    signature_problem = _gap_problem(data[len1:start2], sig.pkcs7_content)
    end = start2 + len2
    found = _EOF_AT_END.search(data, max(0, end - 1024), end)
    xrefs = reader.xrefs
    closing = [r for r in range(xrefs.total_revisions)
               if found and xrefs.get_startxref_for_revision(r) == int(found.group(1))]
    if len(closing) != 1 or any(xrefs.get_xref_container_info(r).end_location > end
                                for r in range(closing[0] + 1)):
        return _Span(signature_problem, NOT_A_REVISION, None, 0)
    revision = closing[0]
    if revision != sig.signed_revision:
        return _Span(signature_problem, SIGNATURE_REPLACED, revision, 0)
    later = xrefs.total_revisions - 1 - revision
    tail = data[end:]
    rest = tail[tail.rfind(b"%%EOF") + 5:] if later else tail
    if tail.count(b"%%EOF") != later or rest.strip(_WHITESPACE):
        return _Span(signature_problem, APPENDED, revision, later)
    return _Span(signature_problem, None, revision, later)


def _later_revisions_allowed(status: Any) -> bool:
    """Revisions after the signed one only add validation data (DSS, document timestamps)."""
    return (
        status is not None
        and status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
        and isinstance(status.diff_result, DiffResult)
        and status.diff_result.modification_level <= ModificationLevel.LTA_UPDATES
        and bool(status.docmdp_ok)
    )


def _metadata_kept(reader: PdfFileReader, revision: int | None) -> bool:
    """pyHanko lets any update rewrite /Info and the XMP (at its LTA level); a transcript's
    title names the student, so only dates and producer may change after signing."""
    if revision is None:
        return False
    try:
        then = reader.get_historical_resolver(revision)
        return _info(then) == _info(reader) and _xmp(then) == _xmp(reader)
    except Exception:  # unreadable metadata in either revision: not kept
        return False


def _info(resolver: Any) -> dict[str, str]:
    try:  # the trailer's references resolve in the latest revision: go through `resolver`
        ref = resolver.trailer_view.raw_get("/Info")
    except KeyError:
        return {}
    info = resolver.get_object(generic.Reference(ref.idnum, ref.generation, pdf=resolver))
    return {str(k): str(v.get_object()) for k, v in info.items() if k not in MUTABLE_INFO}


def _xmp(resolver: Any) -> dict[Any, Any] | None:
    stream = resolver.root.get("/Metadata")
    if stream is None:
        return None
    roots = parse_xmp(BytesIO(stream.get_object().data))
    return {k: v for root in roots for k, v in root if k not in MUTABLE_XMP}


def _signed_prefix(data: bytes) -> bytes | None:
    """The bytes the last /ByteRange in the raw file covers, if shorter than the file."""
    for match in reversed(list(_RAW_BYTERANGE.finditer(data))):
        end = int(match.group(2)) + int(match.group(3))
        if int(match.group(1)) < int(match.group(2)) and 0 < end < len(data):
            return data[:end]
    return None


def _validate(sig: Any, trust: TrustStore) -> Any:
    try:
        context = ValidationContext(
            trust_roots=[as_asn1(r) for r in trust.roots],
            allow_fetching=False,
            moment=sig.self_reported_timestamp,  # valid at issuance stays good after expiry
            revocation_mode="soft-fail",
        )
        return asyncio.run(async_validate_pdf_signature(sig, context, diff_policy=DIFF_POLICY))
    except Exception:  # malformed CMS, byte range outside the file...: not validated
        return None


def _timestamp(status: Any) -> datetime | None:
    """The time of the signature's timestamp token, if one is there and trusted."""
    token = getattr(status, "timestamp_validity", None)
    return token.timestamp if token is not None and token.trusted else None


def _signer_institution(sig: Any) -> str | None:
    try:
        return institution_of(_crypto(sig.signer_cert))
    except Exception:  # no or unparseable signer certificate
        return None


def _crypto(cert: asn1_x509.Certificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(cert.dump())
