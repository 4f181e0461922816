"""Incremental saving attacks (ISA, Mladenov et al. 2019): content added after signing.

With a proper update (new objects, xref section, trailer written by pyHanko's
IncrementalPdfFileWriter) the signature still verifies over the bytes it covers; what
catches the forgery is pyHanko's difference analysis of the new revision against the
certified one (DocMDP FILL_FORMS, and the verifier allows only DSS/timestamp updates):
``pdf_unmodified``. Without an xref (raw bytes after %%EOF) there is no new revision for
the difference analysis to look at, so the verifier accounts for every byte after the
signed revision itself.

poppler's pdfsig on the same files: "Signature is Valid." plus "Not total document
signed" -- it reports the coverage gap but judges the signature valid, and does not say
whether the update is harmless (DESIGN.md).
"""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path

import pikepdf
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.signers import PdfTimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore

from issuer.adapters.pki import Authority, InstitutionKeys
from issuer.pipeline import IssuedDocument
from tests.attacks import forge
from tests.attacks.conftest import (
    assert_caught,
    failed,
    forged_text,
    judge,
    needs_pdfsig,
)
from tests.pdfcheck import make_tsa, pdfsig_report, pyhanko_validate
from verifier.core.verdict import Result
from verifier.pdf import embedded_files
from verifier.trust import TrustStore, as_asn1

# --- the control: what must stay VALID -----------------------------------------------------


def test_genuine_transcripts_are_valid(genuine: IssuedDocument, trust: TrustStore) -> None:
    verdict, findings = judge(genuine.pdf, trust)
    assert verdict.result is Result.VALID, findings.checks
    assert findings.record == genuine.record_json


def test_document_timestamp_added_later_stays_valid(
    genuine: IssuedDocument, trust: TrustStore, authority: Authority
) -> None:
    """B-LTA: a later revision holding only a document timestamp is a permitted addition."""
    out = PdfTimeStamper(make_tsa(authority)).timestamp_pdf(
        IncrementalPdfFileWriter(BytesIO(genuine.pdf)), "sha256")
    verdict, findings = judge(out.getvalue(), trust)
    assert verdict.result is Result.VALID, findings.checks


def test_dss_and_document_timestamp_stay_valid(
    school_doc: IssuedDocument, trust: TrustStore, authority: Authority,
    school_keys: InstitutionKeys,
) -> None:
    """B-LT then B-LTA: a DSS revision (the chain's certificates), then a timestamp."""
    writer = IncrementalPdfFileWriter(BytesIO(school_doc.pdf))
    DocumentSecurityStore.supply_dss_in_writer(
        writer, None, certs=[as_asn1(c) for c in (school_keys.pdf_cert, *school_keys.chain)])
    out = BytesIO()
    writer.write(out)
    stamped = PdfTimeStamper(make_tsa(authority)).timestamp_pdf(
        IncrementalPdfFileWriter(BytesIO(out.getvalue())), "sha256")
    assert PdfFileReader(BytesIO(stamped.getvalue())).xrefs.total_revisions == 4
    verdict, findings = judge(stamped.getvalue(), trust)
    assert verdict.result is Result.VALID, findings.checks


# --- with a new xref section ----------------------------------------------------------------


def test_new_page_content(genuine: IssuedDocument, trust: TrustStore) -> None:
    """A content stream appended to the page: a white box and a new grade drawn on top."""
    old, _ = forged_text(genuine)
    forged = forge.add_page_content(genuine.pdf, forge.page_of(genuine.pdf, old),
                                    forge.overlay_ops("4.00"))
    assert PdfFileReader(BytesIO(forged)).xrefs.total_revisions == 3
    assert_caught(forged, trust, "pdf_unmodified")


def test_changed_text_object(genuine: IssuedDocument, trust: TrustStore) -> None:
    """The page's content stream rewritten under the same object number: GPA 3.20 becomes
    3.90 (school), 200 hours become 900 (vocational)."""
    old, new = forged_text(genuine)
    forged = forge.change_page_text(genuine.pdf, old, new)
    assert_caught(forged, trust, "pdf_unmodified")


def test_replaced_record_attachment(genuine: IssuedDocument, trust: TrustStore) -> None:
    """transcript.json replaced by a record with a better GPA; the verifier still reads the
    record the signature covers, and names the modification."""
    record = json.loads(genuine.record_json)
    record["forged"] = True
    fake = json.dumps(record, ensure_ascii=False).encode()
    forged = forge.replace_attachment(genuine.pdf, "transcript.json", fake)
    latest = PdfFileReader(BytesIO(forged))
    assert embedded_files(latest, latest.xrefs.total_revisions - 1)["transcript.json"] == fake
    findings = assert_caught(forged, trust, "pdf_unmodified")
    assert findings.record == genuine.record_json


def test_replaced_credential_attachment(
    school_doc: IssuedDocument, vocational_doc: IssuedDocument, trust: TrustStore
) -> None:
    """credential.jws replaced by another genuine credential (another transcript's)."""
    forged = forge.replace_attachment(school_doc.pdf, "credential.jws",
                                      vocational_doc.credential.encode())
    findings = assert_caught(forged, trust, "pdf_unmodified")
    assert findings.claims is not None and findings.claims.institution == "1001"


def test_new_annotation(genuine: IssuedDocument, trust: TrustStore) -> None:
    """A FreeText annotation over the grade: forbidden by DocMDP FILL_FORMS."""
    old, _ = forged_text(genuine)
    forged = forge.add_annotation(genuine.pdf, forge.page_of(genuine.pdf, old), "4.00")
    assert_caught(forged, trust, "pdf_unmodified")


def test_sneaky_signature_field(genuine: IssuedDocument, trust: TrustStore) -> None:
    """SSA (Mainka et al. 2021, "Attacks on certified PDFs"): an unsigned signature
    field whose appearance draws a new grade over the page. Adding signature fields is
    what DocMDP FILL_FORMS permits in principle; pyHanko 0.38 still calls this one OTHER
    (a field added after a certification, not an approval, signature)."""
    old, _ = forged_text(genuine)
    forged = forge.add_sneaky_signature_field(genuine.pdf, forge.page_of(genuine.pdf, old),
                                              "4.00")
    findings = assert_caught(forged, trust, "pdf_unmodified")
    assert "single_signature" not in failed(findings)  # the field is not signed


def test_document_information_rewritten(genuine: IssuedDocument, trust: TrustStore,
                                        authority: Authority) -> None:
    """The /Info title (the window title a viewer shows, with the student's name)
    replaced. pyHanko whitelists any /Info update at its LTA level (modification level
    LTA_UPDATES, docmdp_ok, bottom line True): it got through until the verifier compared
    the metadata itself (only dates and producer may change after signing)."""
    forged = forge.rewrite_info(genuine.pdf, "Transcript of Somchai Jaidee")
    status = pyhanko_validate(forged, authority.root_cert)
    assert status.modification_level == ModificationLevel.LTA_UPDATES
    findings = assert_caught(forged, trust, "pdf_unmodified")
    assert "metadata" in next(c.message_en for c in findings.checks if c.id == "pdf_unmodified")


def test_xmp_metadata_rewritten(school_doc: IssuedDocument, trust: TrustStore,
                                authority: Authority) -> None:
    """The XMP dc:title rewritten to another student's name: pyHanko only checks that
    the new XMP is well-formed XML (LTA_UPDATES again)."""
    name = school_doc.record.record.student.name
    forged = forge.rewrite_xmp(school_doc.pdf, name.full_name_en.encode(),
                               b"Somchai Jaidee")
    status = pyhanko_validate(forged, authority.root_cert)
    assert status.modification_level == ModificationLevel.LTA_UPDATES
    assert_caught(forged, trust, "pdf_unmodified")


def test_form_defaults_and_catalog_version_changed(
    genuine: IssuedDocument, trust: TrustStore, authority: Authority
) -> None:
    """Changes pyHanko's default policy passes as LTA updates: the form's /DA and
    /NeedAppearances (viewers regenerate field appearances) and the catalog's /Version.
    The verifier runs pyHanko with a stricter policy (verifier.pdf.DIFF_POLICY)."""
    for forged in (forge.change_form_defaults(genuine.pdf),
                   forge.change_catalog_version(genuine.pdf)):
        assert pyhanko_validate(forged, authority.root_cert).bottom_line
        assert_caught(forged, trust, "pdf_unmodified")


# --- without a new xref section -------------------------------------------------------------


def _redefined_content(doc: IssuedDocument) -> bytes:
    """The text of the page's content object, redefined with the forged grade."""
    old, new = forged_text(doc)
    page = forge.page_of(doc.pdf, old)
    with pikepdf.open(BytesIO(doc.pdf)) as pdf:
        contents = pdf.pages[page].obj.Contents
        number = contents.objgen[0]
        data = contents.read_bytes()
    return forge.stream_object(number, data.replace(old, new))


def test_raw_object_appended(genuine: IssuedDocument, trust: TrustStore) -> None:
    """The page content object redefined after %%EOF, no xref: a reader that rebuilds the
    xref by scanning (as many do when the file ends in junk) shows the forged grade."""
    forged = genuine.pdf + _redefined_content(genuine)
    findings = assert_caught(forged, trust, "pdf_unmodified")
    assert findings.record == genuine.record_json


def test_short_raw_append(genuine: IssuedDocument, trust: TrustStore) -> None:
    """A few bytes after %%EOF, not even an object."""
    assert_caught(genuine.pdf + b"% forged\n(GPA 4.00)\n", trust, "pdf_unmodified")


def test_raw_append_ending_in_eof(genuine: IssuedDocument, trust: TrustStore) -> None:
    """Appended object followed by its own %%EOF and no startxref: the parser gives up on
    the file; the verifier judges the signed prefix and names the appended data."""
    forged = genuine.pdf + _redefined_content(genuine) + b"%%EOF\n"
    assert_caught(forged, trust, "pdf_unmodified")


def test_raw_append_repeating_the_old_startxref(
    genuine: IssuedDocument, trust: TrustStore
) -> None:
    """Appended object, then "startxref <the signed xref> %%EOF": the file parses as the
    signed revision only, yet carries a dead forged object for scanning readers."""
    startxref = forge.startxref_of(genuine.pdf)
    forged = (genuine.pdf + _redefined_content(genuine)
              + b"startxref\n%d\n%%%%EOF\n" % startxref)
    assert_caught(forged, trust, "pdf_unmodified")


def test_trailing_whitespace_is_harmless(genuine: IssuedDocument, trust: TrustStore) -> None:
    """Line ends added by a mail gateway or editor are not an attack."""
    verdict, findings = judge(genuine.pdf + b"\r\n\n", trust)
    assert verdict.result is Result.VALID, findings.checks


# --- what poppler says --------------------------------------------------------------------


@needs_pdfsig
def test_pdfsig_reports_valid_but_partial(
    school_doc: IssuedDocument, trust: TrustStore, authority: Authority, tmp_path: Path
) -> None:
    """pdfsig on an annotated (forged) transcript: the signature is "Valid" and only the
    coverage line tells that something was added; our verifier says INVALID."""
    old, _ = forged_text(school_doc)
    forged = forge.add_annotation(school_doc.pdf, forge.page_of(school_doc.pdf, old), "4.00")
    report = pdfsig_report(forged, authority.root_cert, tmp_path)
    assert "Signature is Valid" in report
    assert "Not total document signed" in report
    genuine = pdfsig_report(school_doc.pdf, authority.root_cert, tmp_path)
    assert "Total document signed" in genuine and "Not total" not in genuine
    assert_caught(forged, trust, "pdf_unmodified")
