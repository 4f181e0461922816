"""PAdES certification of transcript PDFs, checked by pyHanko and by poppler's pdfsig."""

from __future__ import annotations

import asyncio
import shutil
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pikepdf
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers import PdfTimeStamper
from pyhanko.sign.validation import read_certification_data
from pyhanko.sign.validation.status import SignatureCoverageLevel

from issuer.adapters.pdf_signing import FIELD_NAME, TranscriptSigner
from issuer.adapters.pki import Authority, InstitutionKeys, generate_authority
from tests.conftest import PKI_NOW
from tests.pdfcheck import (
    XMP_PDFA3,
    make_tsa,
    pdf_version,
    pdfsig_report,
    pyhanko_validate,
    sample_pdf,
)

needs_pdfsig = pytest.mark.skipif(
    shutil.which("pdfsig") is None or shutil.which("certutil") is None,
    reason="poppler-utils / libnss3-tools not installed (make system-deps)",
)


@pytest.fixture(scope="module")
def unsigned() -> bytes:
    return sample_pdf()


@pytest.fixture(scope="module")
def signer(school_keys: InstitutionKeys) -> TranscriptSigner:
    return TranscriptSigner(school_keys)


@pytest.fixture(scope="module")
def signed(signer: TranscriptSigner, unsigned: bytes) -> bytes:
    return signer.sign(unsigned)


def root_of(keys: InstitutionKeys) -> x509.Certificate:
    return keys.chain[-1]


def flip(pdf: bytes, offset: int) -> bytes:
    data = bytearray(pdf)
    data[offset] ^= 0x01
    return bytes(data)


# --- pyHanko ----------------------------------------------------------------------------


def test_pyhanko_intact_valid_trusted(signed: bytes, school_keys: InstitutionKeys) -> None:
    status = pyhanko_validate(signed, root_of(school_keys))
    assert status.intact and status.valid and status.trusted
    assert status.bottom_line
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.modification_level == ModificationLevel.NONE
    assert status.docmdp_ok
    assert status.md_algorithm == "sha256"
    assert status.pkcs7_signature_mechanism in ("sha256_rsa", "rsassa_pkcs1v15")
    assert status.signing_cert.dump() == school_keys.pdf_cert.public_bytes(
        serialization.Encoding.DER
    )


def test_certification_with_fill_forms(signed: bytes) -> None:
    reader = PdfFileReader(BytesIO(signed))
    certification = read_certification_data(reader)
    assert certification is not None
    assert certification.permission == MDPPerm.FILL_FORMS
    (sig,) = reader.embedded_signatures
    assert sig.field_name == FIELD_NAME
    assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert sig.sig_object["/Location"] == "Bangkok"
    assert sig.docmdp_level == MDPPerm.FILL_FORMS


def test_signing_certificate_embedded_without_root(
    signed: bytes, school_keys: InstitutionKeys
) -> None:
    (sig,) = PdfFileReader(BytesIO(signed)).embedded_signatures
    subjects = {c.subject.human_friendly for c in sig.other_embedded_certs}
    assert any("Issuing CA" in s for s in subjects)
    assert not any("Root CA" in s for s in subjects)  # verifiers pin the root


def test_byte_flipped_in_signed_range_breaks_integrity(
    signed: bytes, school_keys: InstitutionKeys
) -> None:
    assert signed[9:10] == b"%"  # the binary comment line after the header
    status = pyhanko_validate(flip(signed, 11), root_of(school_keys))
    assert not status.intact and not status.bottom_line  # digest mismatch


def test_untrusted_root(signed: bytes) -> None:
    stranger = generate_authority(PKI_NOW)
    status = pyhanko_validate(signed, stranger.root_cert)
    assert status.intact and status.valid
    assert not status.trusted and not status.bottom_line


def test_annotation_added_later_violates_docmdp(
    signed: bytes, school_keys: InstitutionKeys
) -> None:
    """A free-text note over a grade, appended as an incremental update."""
    writer = IncrementalPdfFileWriter(BytesIO(signed))
    page_ref, _ = writer.find_page_for_modification(0)
    page = page_ref.get_object()
    note = writer.add_object(
        generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Annot"),
                generic.NameObject("/Subtype"): generic.NameObject("/FreeText"),
                generic.NameObject("/Rect"): generic.ArrayObject(
                    [generic.NumberObject(n) for n in (300, 700, 400, 720)]
                ),
                generic.NameObject("/Contents"): generic.TextStringObject("GPA 4.00"),
                generic.NameObject("/DA"): generic.TextStringObject("/Helv 12 Tf 0 g"),
            }
        )
    )
    annots = page["/Annots"]
    annots.append(note)
    writer.update_container(annots)
    writer.update_container(page)
    out = BytesIO()
    writer.write(out)
    status = pyhanko_validate(out.getvalue(), root_of(school_keys))
    assert status.intact and status.valid  # the signed revision itself is untouched
    assert status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
    assert status.modification_level > ModificationLevel.FORM_FILLING
    assert not status.docmdp_ok and not status.bottom_line


def test_document_timestamp_can_be_added_later(
    signed: bytes, authority: Authority, school_keys: InstitutionKeys
) -> None:
    """FILL_FORMS keeps B-LTA possible: a document timestamp is an allowed addition."""
    out = PdfTimeStamper(make_tsa(authority)).timestamp_pdf(
        IncrementalPdfFileWriter(BytesIO(signed)), "sha256"
    )
    stamped = out.getvalue()
    status = pyhanko_validate(stamped, root_of(school_keys))
    assert status.intact and status.valid and status.trusted
    assert status.modification_level == ModificationLevel.LTA_UPDATES
    assert status.docmdp_ok and status.bottom_line
    assert pdf_version(stamped)[0] == "1.7"


def test_signature_timestamp_b_t(
    unsigned: bytes, authority: Authority, school_keys: InstitutionKeys
) -> None:
    signed = TranscriptSigner(school_keys, timestamper=make_tsa(authority)).sign(unsigned)
    status = pyhanko_validate(signed, root_of(school_keys))
    assert status.bottom_line
    assert status.timestamp_validity is not None
    assert status.timestamp_validity.intact and status.timestamp_validity.trusted


def test_a_certified_pdf_cannot_be_certified_again(signed: bytes, signer: TranscriptSigner) -> None:
    with pytest.raises(SigningError, match=r"filled already|[Cc]ertification"):
        signer.sign(signed)


def test_signer_is_reusable_and_institution_specific(
    unsigned: bytes,
    signer: TranscriptSigner,
    school_keys: InstitutionKeys,
    vocational_keys: InstitutionKeys,
) -> None:
    for _ in range(2):
        assert pyhanko_validate(signer.sign(unsigned), root_of(school_keys)).bottom_line
    other = TranscriptSigner(vocational_keys).sign(unsigned)
    status = pyhanko_validate(other, root_of(vocational_keys))
    assert status.bottom_line
    assert "2001" in status.signing_cert.subject.human_friendly


def test_threads_share_one_signer(
    unsigned: bytes, signer: TranscriptSigner, school_keys: InstitutionKeys
) -> None:
    """A local worker pool may sign from several threads (one event loop each)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(signer.sign, [unsigned] * 8))
    for pdf in results:
        assert pyhanko_validate(pdf, root_of(school_keys)).bottom_line


def test_async_sign(
    unsigned: bytes, signer: TranscriptSigner, school_keys: InstitutionKeys
) -> None:
    signed = asyncio.run(signer.async_sign(unsigned))
    assert pyhanko_validate(signed, root_of(school_keys)).bottom_line


# --- the PDF itself ---------------------------------------------------------------------


def test_pdf_version_stays_17(unsigned: bytes, signed: bytes) -> None:
    assert pdf_version(unsigned) == ("1.7", None)
    header, catalog = pdf_version(signed)
    assert header == "1.7"
    assert catalog in (None, "1.7")


def test_incremental_update_keeps_original_bytes(unsigned: bytes, signed: bytes) -> None:
    assert signed.startswith(unsigned)


def test_pdfa3_xmp_preserved(unsigned: bytes, signed: bytes) -> None:
    with pikepdf.open(BytesIO(signed)) as pdf:
        meta = pdf.open_metadata()
        for key, value in XMP_PDFA3.items():
            assert meta[key] == value
        assert meta["dc:title"] == "Transcript"


def test_signature_widget_is_pdfa_friendly(signed: bytes) -> None:
    with pikepdf.open(BytesIO(signed)) as pdf:
        (field,) = pdf.Root.AcroForm.Fields
        assert field.FT == "/Sig"
        assert int(field.F) & 4  # Print flag, required by PDF/A
        assert [float(x) for x in field.Rect] == [0, 0, 0, 0]  # invisible


def test_rendered_transcript_with_attachments(school_keys: InstitutionKeys) -> None:
    """The real thing: the renderer's PDF/A-3 with its associated files, signed."""
    render = pytest.importorskip("issuer.adapters.render")
    factories = pytest.importorskip("tests.factories")
    pdf = render.attach_files(
        render.render_transcript(
            factories.school_record(), "http://127.0.0.1:8001/v#a.b.c", "ABCD-EFGH"
        ),
        b'{"schema":1}',
        "a.b.c",
    )
    signed = TranscriptSigner(school_keys).sign(pdf)
    assert pyhanko_validate(signed, root_of(school_keys)).bottom_line
    assert pdf_version(signed)[0] == "1.7"
    with pikepdf.open(BytesIO(signed)) as doc:
        assert set(doc.attachments) == {"transcript.json", "credential.jws"}
        assert doc.open_metadata()["pdfaid:part"] == "3"
    # pikepdf's validator does not check forms, /Perms or files in a signed PDF ("not
    # checked"), but it must find no PDF/A violation in what the signature adds.
    pdfa = pytest.importorskip("pikepdf.pdfa")
    report = pdfa.validate_written(BytesIO(signed), "3b")
    assert report.violations == (), report.summary()


# --- poppler ----------------------------------------------------------------------------


@needs_pdfsig
def test_pdfsig_valid_and_trusted(
    signed: bytes, school_keys: InstitutionKeys, tmp_path: Path
) -> None:
    report = pdfsig_report(signed, root_of(school_keys), tmp_path)
    assert "Signature is Valid." in report
    assert "Certificate is Trusted." in report
    assert "Total document signed" in report
    assert "ETSI.CAdES.detached" in report
    assert "SHA-256" in report
    assert "Wat Sutthiwararam School PDF signing" in report


@needs_pdfsig
def test_pdfsig_detects_a_flipped_byte(
    signed: bytes, school_keys: InstitutionKeys, tmp_path: Path
) -> None:
    report = pdfsig_report(flip(signed, 11), root_of(school_keys), tmp_path)
    assert "Signature #1" in report  # the signature was found and checked
    assert "Signature is Valid." not in report
    assert "Signature Validation: Digest Mismatch." in report


@needs_pdfsig
def test_pdfsig_untrusted_root(signed: bytes, tmp_path: Path) -> None:
    report = pdfsig_report(signed, generate_authority(PKI_NOW).root_cert, tmp_path)
    assert "Signature is Valid." in report
    assert "Certificate is Trusted." not in report
    assert "Certificate Validation: Certificate issuer is unknown." in report


# --- speed ------------------------------------------------------------------------------


def test_faster_than_stock_pyhanko(
    unsigned: bytes, signer: TranscriptSigner, school_keys: InstitutionKeys, tmp_path: Path
) -> None:
    """DESIGN.md target: at most 0.2x of a straightforward pyHanko integration."""
    passphrase = b"stock"
    files = {
        "key": school_keys.pdf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase),
        ),
        "crt": school_keys.pdf_cert.public_bytes(serialization.Encoding.PEM),
        "ca": b"".join(c.public_bytes(serialization.Encoding.PEM) for c in school_keys.chain),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)

    def stock() -> None:
        simple = signers.SimpleSigner.load(
            str(tmp_path / "key"),
            str(tmp_path / "crt"),
            ca_chain_files=(str(tmp_path / "ca"),),
            key_passphrase=passphrase,
        )
        signers.sign_pdf(
            IncrementalPdfFileWriter(BytesIO(unsigned)),
            signers.PdfSignatureMetadata(field_name="Signature"),
            signer=simple,
        )

    def median_ms(fn: object, n: int) -> float:
        assert callable(fn)
        fn()
        times = []
        for _ in range(n):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return statistics.median(times) * 1000

    ours = median_ms(lambda: signer.sign(unsigned), 15)
    theirs = median_ms(stock, 3)
    assert ours <= 0.2 * theirs, f"ours {ours:.1f} ms, stock {theirs:.1f} ms"


def test_signing_time_is_current(signed: bytes) -> None:
    (sig,) = PdfFileReader(BytesIO(signed)).embedded_signatures
    assert sig.self_reported_timestamp is not None
    assert abs(sig.self_reported_timestamp - datetime.now(UTC)) < timedelta(hours=1)
