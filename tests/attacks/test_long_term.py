"""Long-term evidence that is not what it seems: a transcript signed without a timestamp
(B-B) dressed up afterwards to outlive its certificate.

The verifier's `long_term_validity` (verifier.long_term) believes only timestamps that
chain to the pinned root, and only a signature timestamp inside the signature proves when
it was made; a document timestamp or DSS added later by anyone proves nothing earlier.
"""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.signers import PdfTimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore

from issuer.adapters.pki import Authority, InstitutionKeys
from issuer.pipeline import IssuedDocument
from tests.pdfcheck import make_tsa
from verifier.core.verdict import Result, Status, decide
from verifier.pdf import check_pdf
from verifier.trust import TrustStore, as_asn1

AFTER_EXPIRY = datetime(2030, 1, 1, tzinfo=UTC)  # tests/conftest.py's keys end mid-2029


def dressed_up(pdf: bytes, keys: InstitutionKeys, tsa_authority: Authority) -> bytes:
    """`pdf` plus a DSS revision (its chain) and a document timestamp by `tsa_authority`."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    DocumentSecurityStore.supply_dss_in_writer(
        writer, None, certs=[as_asn1(c) for c in (keys.pdf_cert, *keys.chain)])
    out = BytesIO()
    writer.write(out)
    return PdfTimeStamper(make_tsa(tsa_authority)).timestamp_pdf(
        IncrementalPdfFileWriter(BytesIO(out.getvalue())), "sha256").getvalue()


def after_expiry(pdf: bytes, trust: TrustStore) -> tuple[Result, dict[str, Status]]:
    findings = check_pdf(pdf, trust, moment=AFTER_EXPIRY)
    return decide(findings.checks).result, {c.id: c.status for c in findings.checks}


def test_a_b_b_transcript_is_not_valid_after_its_certificate_expired(
        school_doc: IssuedDocument, trust: TrustStore) -> None:
    result, found = after_expiry(school_doc.pdf, trust)
    assert result is Result.INDETERMINATE
    assert found["long_term_validity"] is Status.INDETERMINATE
    assert found["pdf_signature"] is Status.PASS  # intact, just no longer provable


def test_an_untrusted_document_timestamp_rescues_nothing(
        school_doc: IssuedDocument, trust: TrustStore, school_keys: InstitutionKeys,
        rogue_authority: Authority) -> None:
    forged = dressed_up(school_doc.pdf, school_keys, rogue_authority)
    result, found = after_expiry(forged, trust)
    assert result is not Result.VALID
    assert found["long_term_validity"] is not Status.PASS
    assert found["signing_time"] is Status.WARN  # still only the signer's word


def test_a_trusted_document_timestamp_added_later_does_not_make_it_b_lta(
        school_doc: IssuedDocument, trust: TrustStore, school_keys: InstitutionKeys,
        authority: Authority) -> None:
    """Anyone can ask the BMA's public TSA for a timestamp today: it proves nothing about
    when the signature was made, and a B-B signature stays B-B."""
    stamped = dressed_up(school_doc.pdf, school_keys, authority)
    findings = check_pdf(stamped, trust)
    assert decide(findings.checks).result is Result.VALID  # a permitted update...
    level = next(c.message_en for c in findings.checks if c.id == "pades_level")
    assert level.startswith("PAdES level B-B")  # ...that adds no evidence
    result, found = after_expiry(stamped, trust)
    assert result is Result.INDETERMINATE
    assert found["long_term_validity"] is Status.INDETERMINATE
