"""Fixtures for the attack tests: the trusted PKI, genuine transcripts, a rogue PKI.

Everything is session-scoped (RSA-3072 keys and signed PDFs are the slow part); attacks
derive new bytes from these and never mutate them.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterable
from datetime import UTC, datetime
from io import BytesIO

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko_certvalidator.registry import SimpleCertificateStore

from issuer.adapters.pdf_signing import TranscriptSigner
from issuer.adapters.pki import (
    Authority,
    InstitutionKeys,
    generate_authority,
    issue_institution_keys,
)
from issuer.adapters.publish import jwks_document
from issuer.core.records import TranscriptRecord
from issuer.pipeline import IssuedDocument, Producer
from tests.conftest import PKI_NOW
from tests.factories import TRAINING, school_record, vocational_record
from tests.pdfcheck import asn1_cert, asn1_key
from verifier.core.verdict import Result, Status, Verdict, decide
from verifier.pdf import PdfFindings, check_pdf
from verifier.trust import TrustStore

VERIFIER_URL = "https://verify.bangkok.go.th"
ISSUED_AT = datetime(2026, 7, 1, 3, 0, tzinfo=UTC)  # while the test keys are valid

needs_pdfsig = pytest.mark.skipif(
    shutil.which("pdfsig") is None or shutil.which("certutil") is None,
    reason="poppler-utils / libnss3-tools not installed (make system-deps)",
)


def school(**overrides: object) -> TranscriptRecord:
    return school_record(issued_at=ISSUED_AT, **overrides)


def vocational(**overrides: object) -> TranscriptRecord:
    """The vocational factory's record, issued by the "2001" test keys."""
    return vocational_record(
        issued_at=ISSUED_AT, institution=dataclasses.replace(TRAINING, code="2001"),
        transcript_id="2001-2569-000045", **overrides)


def forged_text(doc: IssuedDocument) -> tuple[bytes, bytes]:
    """(text drawn on the genuine page, the fraudster's version): the GPA for a school
    transcript, the course hours for a vocational certificate."""
    gpa = doc.record.summary.gpa
    if gpa is not None:
        new = "3.90" if format(gpa, "f") != "3.90" else "3.80"
        return f"({gpa}) Tj".encode(), f"({new}) Tj".encode()
    return b"(200 hours, cohort 2/2568) Tj", b"(900 hours, cohort 2/2568) Tj"


def jwks_for(keys: Iterable[InstitutionKeys]) -> dict:
    return jwks_document([(k.credential_cert, k.chain) for k in keys])


# --- verdicts ---------------------------------------------------------------------------


def failed(findings: PdfFindings | list | tuple) -> set[str]:
    checks = findings.checks if isinstance(findings, PdfFindings) else findings
    return {c.id for c in checks if c.status is Status.FAIL}


def judge(pdf: bytes, trust: TrustStore) -> tuple[Verdict, PdfFindings]:
    findings = check_pdf(pdf, trust)
    return decide(findings.checks), findings


def assert_caught(pdf: bytes, trust: TrustStore, *check_ids: str) -> PdfFindings:
    """The forgery is not VALID and each of `check_ids` failed; return the findings."""
    verdict, findings = judge(pdf, trust)
    if os.environ.get("BKT_SHOW_ATTACKS"):  # pytest -s: what each attack gets
        print("\n  ->", verdict.result.value,
              [(c.id, c.message_en) for c in findings.checks if c.status is not Status.PASS])
    assert verdict.result is not Result.VALID
    assert set(check_ids) <= failed(findings), [
        (c.id, c.status.value, c.message_en) for c in findings.checks]
    return findings


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def trust(authority: Authority, school_keys: InstitutionKeys,
          vocational_keys: InstitutionKeys) -> TrustStore:
    """The verifier's view: the BMA root pinned, both institutions' keys from the JWKS."""
    return TrustStore.from_jwks(jwks_for([school_keys, vocational_keys]),
                                [authority.root_cert])


@pytest.fixture(scope="session")
def school_doc(school_keys: InstitutionKeys) -> IssuedDocument:
    return Producer(school_keys, VERIFIER_URL).produce(school())


@pytest.fixture(scope="session")
def vocational_doc(vocational_keys: InstitutionKeys) -> IssuedDocument:
    return Producer(vocational_keys, VERIFIER_URL).produce(vocational())


@pytest.fixture(scope="session", params=["school", "vocational"])
def genuine(request: pytest.FixtureRequest) -> IssuedDocument:
    """Each institution type's genuine transcript in turn."""
    return request.getfixturevalue(f"{request.param}_doc")


@pytest.fixture(scope="session")
def rogue_authority() -> Authority:
    """A look-alike "BMA Root CA" that no verifier pins."""
    return generate_authority(PKI_NOW)


@pytest.fixture(scope="session")
def rogue_school_keys(rogue_authority: Authority) -> InstitutionKeys:
    """Keys claiming to be school 1001, issued under the rogue root."""
    return issue_institution_keys(rogue_authority, "1001", "Wat Sutthiwararam School", PKI_NOW)


@pytest.fixture(scope="session")
def rogue_keys_of(rogue_authority: Authority,
                  rogue_school_keys: InstitutionKeys) -> dict[str, InstitutionKeys]:
    """Look-alike keys for each institution under the rogue root, by institution code."""
    return {"1001": rogue_school_keys, "2001": issue_institution_keys(
        rogue_authority, "2001", "BMA Vocational Training Centre", PKI_NOW)}


# --- other signers ------------------------------------------------------------------------


def approval_sign(pdf: bytes, keys: InstitutionKeys, field: str = "Approval") -> bytes:
    """Add an ordinary (approval) signature with `keys`' PDF-signing key, incrementally."""
    signer = signers.SimpleSigner(
        signing_cert=asn1_cert(keys.pdf_cert),
        signing_key=asn1_key(keys.pdf_key),
        cert_registry=SimpleCertificateStore.from_certs([asn1_cert(c) for c in keys.chain]),
    )
    meta = signers.PdfSignatureMetadata(field_name=field, md_algorithm="sha256",
                                        subfilter=SigSeedSubFilter.PADES)
    out = signers.PdfSigner(meta, signer=signer).sign_pdf(
        IncrementalPdfFileWriter(BytesIO(pdf), strict=False), in_place=False)
    return out.getvalue()


def unsigned_of(doc: IssuedDocument) -> bytes:
    """The document as it was handed to the signer (the signature is one appended
    revision: everything up to the first %%EOF)."""
    return doc.pdf[: doc.pdf.index(b"%%EOF") + len(b"%%EOF\n")]


@pytest.fixture(scope="session")
def signer_of(school_keys: InstitutionKeys,
              vocational_keys: InstitutionKeys) -> dict[str, TranscriptSigner]:
    """The genuine PDF signer of each institution, by institution code."""
    return {k.code: TranscriptSigner(k) for k in (school_keys, vocational_keys)}
