"""Keeping a B-LTA transcript verifiable: fresh validation data and a new document timestamp.

A B-LTA document holds while its last document timestamp's certificate is valid (and its
chain). Before that ends, `refresh` adds, in one incremental update after the existing
ones, the current OCSP responses and CRLs for every certificate the document relies on
(the signer's chain, the signature timestamp's, the last document timestamp's), then a
new document timestamp over everything, from a TSA whose certificate lives longer. The
certification signature's DocMDP (FILL_FORMS) allows exactly these updates, and the
verifier's difference rules accept them (`verifier.pdf.DIFF_POLICY`). The certificates'
status is recorded as the responders give it, revoked included: that is the point.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from io import BytesIO
from typing import Any

from cryptography import x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.general import extract_certificate_info
from pyhanko.sign.signers import PdfTimeStamper
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.generic_cms import extract_tst_data_iter
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError

from issuer.adapters.pdf_signing import DOC_TIMESTAMP_FIELD, MD_ALGORITHM, _asn1_cert, _run


class ArchiveError(ValueError):
    """The document cannot be refreshed (not a signed transcript)."""


def _relied_on(reader: PdfFileReader) -> list[Any]:
    """The CMS SignedData of every signature and timestamp the document relies on now: its
    signatures with their signature timestamps, and its last document timestamp."""
    signatures = reader.embedded_regular_signatures
    if not signatures:
        raise ArchiveError("the document has no signature")
    found = []
    for sig in signatures:
        found.append(sig.signed_data)
        found.extend(extract_tst_data_iter(sig.signer_info, signed=False))
    stamps = reader.embedded_timestamp_signatures
    if stamps:
        found.append(stamps[-1].signed_data)
    return found


async def _collect(signed_data: Any, context: ValidationContext) -> list[Any]:
    """Fetch the status of `signed_data`'s signer chain into `context`; its certificates."""
    info = extract_certificate_info(signed_data)
    validator = CertificateValidator(info.signer_cert, intermediate_certs=info.other_certs,
                                     validation_context=context)
    with suppress(PathBuildingError, PathValidationError):  # revoked, expired: the
        await validator.async_validate_usage(set())  # responses say so, and go in the DSS
    return [info.signer_cert, *info.other_certs]


async def async_refresh(pdf: bytes, root: x509.Certificate, timestamper: TimeStamper) -> bytes:
    """`pdf` with current validation data and a new document timestamp (see module)."""
    try:
        reader = PdfFileReader(BytesIO(pdf))
        relied = _relied_on(reader)
        count = len(reader.embedded_timestamp_signatures)
    except ArchiveError:
        raise
    except Exception as exc:  # not a PDF pyHanko can read
        raise ArchiveError(f"unreadable PDF: {type(exc).__name__}") from None
    context = ValidationContext(trust_roots=[_asn1_cert(root)], allow_fetching=True,
                                revocation_mode="soft-fail")
    try:
        certs: dict[bytes, Any] = {}
        for signed_data in relied:
            for cert in await _collect(signed_data, context):
                certs[cert.sha256] = cert
        writer = IncrementalPdfFileWriter(BytesIO(pdf))
        DocumentSecurityStore.supply_dss_in_writer(
            writer, None, certs=list(certs.values()), ocsps=list(context.ocsps),
            crls=list(context.crls), embed_roots=False)
        output = BytesIO()
        await PdfTimeStamper(timestamper, field_name=f"{DOC_TIMESTAMP_FIELD}{count + 1}"
                             ).async_timestamp_pdf(writer, MD_ALGORITHM, output=output)
        return output.getvalue()
    finally:
        await context.aclose()


def last_timestamp_expiry(pdf: bytes) -> datetime | None:
    """When the last document timestamp's certificate ends (what bounds how long a B-LTA
    document holds), or None without a document timestamp."""
    try:
        stamps = PdfFileReader(BytesIO(pdf)).embedded_timestamp_signatures
    except Exception as exc:  # not a PDF pyHanko can read
        raise ArchiveError(f"unreadable PDF: {type(exc).__name__}") from None
    if not stamps:
        return None
    return stamps[-1].signer_cert.not_valid_after


def tsa_certificate_expiry(timestamper: TimeStamper) -> datetime:
    """When the certificate of the TSA behind `timestamper` ends (one request)."""
    token = _run(timestamper.async_dummy_response(MD_ALGORITHM))
    return extract_certificate_info(token["content"]).signer_cert.not_valid_after


def refresh(pdf: bytes, root: x509.Certificate, timestamper: TimeStamper) -> bytes:
    """`async_refresh`, from synchronous code (this thread's event loop)."""
    return _run(async_refresh(pdf, root, timestamper))
