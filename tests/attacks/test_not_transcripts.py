"""Things that are not (or no longer) our transcripts: `check_pdf` either raises
NotATranscript (nothing can be judged: not a PDF, encrypted, no signature, unreadable) or
returns failing checks. It never lets another exception out and never says VALID.
"""

from __future__ import annotations

import random
from io import BytesIO

import pikepdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from issuer.adapters.pdf_signing import TranscriptSigner
from issuer.adapters.pki import InstitutionKeys
from issuer.pipeline import IssuedDocument
from tests.attacks import forge
from tests.attacks.conftest import assert_caught, judge, unsigned_of
from tests.pdfcheck import sample_pdf
from verifier.core.verdict import Result
from verifier.pdf import MAX_PDF_BYTES, NotATranscript, check_pdf
from verifier.trust import TrustStore


@pytest.fixture(scope="module")
def foreign_pdf() -> bytes:
    """A realistic PDF that is not a transcript of ours (no attachments)."""
    return sample_pdf(pages=1, noise_bytes=3000)


def test_signed_pdf_that_is_not_a_transcript(
    foreign_pdf: bytes, school_keys: InstitutionKeys, trust: TrustStore
) -> None:
    """Certified by the school's genuine key, but carrying no record or credential."""
    signed = TranscriptSigner(school_keys).sign(foreign_pdf)
    findings = assert_caught(signed, trust, "record_present")
    assert findings.claims is None and findings.record is None


def test_foreign_pdf_signed_by_a_rogue_key(
    foreign_pdf: bytes, rogue_school_keys: InstitutionKeys, trust: TrustStore
) -> None:
    signed = TranscriptSigner(rogue_school_keys).sign(foreign_pdf)
    assert_caught(signed, trust, "pdf_signer_trusted", "record_present")


def test_unsigned_pdf(foreign_pdf: bytes, trust: TrustStore) -> None:
    with pytest.raises(NotATranscript, match="no signature"):
        check_pdf(foreign_pdf, trust)


def test_unsigned_transcript(genuine: IssuedDocument, trust: TrustStore) -> None:
    """The transcript as rendered, with its record and credential, before signing."""
    with pytest.raises(NotATranscript, match="no signature"):
        check_pdf(unsigned_of(genuine), trust)


@pytest.mark.parametrize("user", ["", "secret"])
def test_encrypted_pdf(user: str, school_doc: IssuedDocument, trust: TrustStore) -> None:
    out = BytesIO()
    with pikepdf.open(BytesIO(school_doc.pdf)) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(owner="owner", user=user, R=6))
    with pytest.raises(NotATranscript, match="encrypted"):
        check_pdf(out.getvalue(), trust)


@pytest.mark.parametrize("data", [
    b"", b" ", b"%PDF", b"%PDF-1.7", b"%PDF-1.7\n%%EOF\n", b"GIF89a\x01\x00",
    b"\x89PNG\r\n\x1a\n" + bytes(100), b"%PDF-1.7\n" + bytes(5000),
    b"%PDF-1.7\n" + random.Random(1).randbytes(20000),
    b"%PDF-1.7\nxref\n0 1\n0000000000 65535 f \ntrailer\n<< /Root 1 0 R >>\nstartxref\n9\n%%EOF\n",
    b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 1 0 R >>\nendobj\ntrailer\n<< /Root 1 0 R"
    b" >>\n%%EOF\n",
], ids=lambda d: repr(d[:12]))
def test_garbage(data: bytes, trust: TrustStore) -> None:
    with pytest.raises(NotATranscript):
        check_pdf(data, trust)


def test_too_large(trust: TrustStore) -> None:
    with pytest.raises(NotATranscript, match="too large"):
        check_pdf(b"%PDF-1.7\n" + bytes(MAX_PDF_BYTES), trust)


@pytest.mark.parametrize("keep", [100, 2000, 0.5, 0.95, -30, -7, -1])
def test_truncated(keep: float, genuine: IssuedDocument, trust: TrustStore) -> None:
    """Cut anywhere: unreadable, unsigned, or a broken signature; never VALID."""
    size = len(genuine.pdf)
    cut = int(size * keep) if isinstance(keep, float) else (keep if keep > 0 else size + keep)
    try:
        verdict, findings = judge(genuine.pdf[:cut], trust)
    except NotATranscript:
        return
    assert verdict.result is not Result.VALID
    assert {"pdf_signature", "pdf_unmodified"} & {
        c.id for c in findings.checks if c.status.value == "fail"}


# --- mutation fuzzing -------------------------------------------------------------------------


def _same_signature_value(original: bytes, mutated: bytes) -> bool:
    """A case change of a hex digit in the /Contents gap encodes the same bytes."""
    if len(original) != len(mutated):
        return False
    start, end = forge.layout(original).gap
    if original[:start] != mutated[:start] or original[end:] != mutated[end:]:
        return False
    try:
        return bytes.fromhex(mutated[start + 1:end - 1].decode()) == bytes.fromhex(
            original[start + 1:end - 1].decode())
    except ValueError:
        return False


@st.composite
def mutations(draw: st.DrawFn, size: int) -> tuple[str, int, bytes]:
    kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "append",
                                 "copy"]))
    at = draw(st.integers(0, size - 1))
    data = draw(st.binary(min_size=4, max_size=64))
    return kind, at, data


def _mutate(pdf: bytes, kind: str, at: int, data: bytes) -> bytes:
    if kind == "flip":
        return pdf[:at] + bytes([pdf[at] ^ (1 << (data[0] % 8))]) + pdf[at + 1:]
    if kind == "set":
        return pdf[:at] + data[:1] + pdf[at + 1:]
    if kind == "insert":
        return pdf[:at] + data + pdf[at:]
    if kind == "delete":
        return pdf[:at] + pdf[at + len(data):]
    if kind == "truncate":
        return pdf[:at]
    if kind == "copy":  # a chunk of the file itself (an object, an xref line) elsewhere
        source = int.from_bytes(data[:4], "big") % len(pdf)
        return pdf[:at] + pdf[source:source + 16 * len(data)] + pdf[at:]
    return pdf + data


FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])


@FUZZ
@given(data=st.data())
def test_no_mutation_is_valid_and_none_crashes(
    data: st.DataObject, school_doc: IssuedDocument, trust: TrustStore
) -> None:
    """Any changed, inserted, deleted, copied or appended bytes (bar whitespace at the end, and
    the case of a hex digit in the unsigned gap) makes the transcript not VALID; no
    mutation raises anything but NotATranscript."""
    pdf = school_doc.pdf
    kind, at, extra = data.draw(mutations(len(pdf)))
    mutated = _mutate(pdf, kind, at, extra)
    harmless = (mutated == pdf or _same_signature_value(pdf, mutated)
                or (mutated.startswith(pdf) and not mutated[len(pdf):].strip(b" \t\r\n\f\0")))
    try:
        verdict, _ = judge(mutated, trust)
    except NotATranscript:
        return
    if not harmless:
        assert verdict.result is not Result.VALID, (kind, at, extra)
