"""Other people's signatures: a second signature added to a genuine transcript, and the
whole transcript re-signed with another key.

A second (approval) signature is something DocMDP FILL_FORMS permits, so pyHanko's
difference analysis calls it FORM_FILLING and ``docmdp_ok``; the verifier allows only
DSS/timestamp updates (``pdf_unmodified``) and one institution signature
(``single_signature``). A transcript re-signed by a key under another root keeps a
genuine record and credential: ``pdf_signer_trusted`` fails (UNTRUSTED); if the record
was changed too, ``record_digest`` fails (INVALID).
"""

from __future__ import annotations

import json
from dataclasses import replace
from io import BytesIO
from pathlib import Path

from pyhanko.pdf_utils.reader import PdfFileReader

from issuer.adapters.credential_signing import sign_credential
from issuer.adapters.pdf_signing import TranscriptSigner
from issuer.adapters.pki import Authority, InstitutionKeys
from issuer.adapters.render import attach_files
from issuer.pipeline import IssuedDocument, claims_for
from tests.attacks import forge
from tests.attacks.conftest import (
    approval_sign,
    assert_caught,
    failed,
    forged_text,
    judge,
    needs_pdfsig,
    unsigned_of,
)
from tests.pdfcheck import pdfsig_report
from verifier.core.canonical import digest
from verifier.core.verdict import Result
from verifier.trust import TrustStore

# --- a second signature ---------------------------------------------------------------------


def test_second_signature_by_an_untrusted_key(
    genuine: IssuedDocument, trust: TrustStore, rogue_school_keys: InstitutionKeys
) -> None:
    """An approval signature by a look-alike "1001" key under a rogue root."""
    forged = approval_sign(genuine.pdf, rogue_school_keys)
    assert len(PdfFileReader(BytesIO(forged)).embedded_signatures) == 2
    assert_caught(forged, trust, "single_signature", "pdf_unmodified")


def test_second_signature_by_another_trusted_institution(
    school_doc: IssuedDocument, trust: TrustStore, vocational_keys: InstitutionKeys
) -> None:
    """An approval signature by the vocational centre's genuine, trusted key."""
    forged = approval_sign(school_doc.pdf, vocational_keys)
    assert_caught(forged, trust, "single_signature", "pdf_unmodified")


def test_second_signature_pyhanko_does_not_list(
    school_doc: IssuedDocument, trust: TrustStore, rogue_school_keys: InstitutionKeys
) -> None:
    """A second signature whose /SubFilter pyHanko does not know: pyHanko skips it
    silently (embedded_signatures lists one), the verifier counts signature fields."""
    signed = approval_sign(school_doc.pdf, rogue_school_keys)
    forged = forge.rename_key(signed, b"/ETSI.CAdES.detached", b"/adbe.x509.rsa_sha1 ")
    assert len(PdfFileReader(BytesIO(forged), strict=False).embedded_signatures) == 1
    assert_caught(forged, trust, "single_signature", "pdf_unmodified")


@needs_pdfsig
def test_what_pdfsig_says_about_a_second_signature(
    school_doc: IssuedDocument, authority: Authority, tmp_path: Path,
    rogue_school_keys: InstitutionKeys
) -> None:
    """pdfsig lists both signatures as "Valid" (the first one "Not total document
    signed"); only the certificate line of the second says something is wrong."""
    report = pdfsig_report(approval_sign(school_doc.pdf, rogue_school_keys),
                           authority.root_cert, tmp_path)
    first, second = report.split("Signature #2")
    assert "Signature is Valid" in first and "Not total document signed" in first
    assert "Signature is Valid" in second
    assert "Certificate is Trusted" not in second


# --- the whole transcript re-signed -----------------------------------------------------------


def test_resigned_by_an_untrusted_root(
    genuine: IssuedDocument, trust: TrustStore, rogue_keys_of: dict[str, InstitutionKeys]
) -> None:
    """The document as issued (record and credential attached), certified again by a
    look-alike key of the same institution under a rogue root: the embedded data are
    genuine, the PDF signer is not trusted."""
    rogue = rogue_keys_of[genuine.record.institution.code]
    forged = TranscriptSigner(rogue).sign(unsigned_of(genuine))
    verdict, findings = judge(forged, trust)
    assert verdict.result is Result.UNTRUSTED
    assert failed(findings) == {"pdf_signer_trusted"}
    assert findings.record == genuine.record_json


def test_resigned_by_an_untrusted_root_with_a_new_grade(
    genuine: IssuedDocument, trust: TrustStore, rogue_keys_of: dict[str, InstitutionKeys]
) -> None:
    """The same, with the grade changed on the page (the record and credential kept):
    still UNTRUSTED, and the verifier shows the signed (genuine) grade to compare."""
    old, new = forged_text(genuine)
    page = forge.page_of(genuine.pdf, old)
    unsigned = forge.change_page_text(unsigned_of(genuine), old, new)
    forged = TranscriptSigner(rogue_keys_of[genuine.record.institution.code]).sign(unsigned)
    assert new in forge.content_object(forged, page)[1]
    verdict, findings = judge(forged, trust)
    assert verdict.result is Result.UNTRUSTED
    assert_caught(forged, trust, "pdf_signer_trusted")
    assert findings.claims is not None and findings.claims.gpa == (
        None if genuine.record.summary.gpa is None else format(genuine.record.summary.gpa, "f"))


def test_resigned_with_a_changed_record(
    school_doc: IssuedDocument, trust: TrustStore, rogue_school_keys: InstitutionKeys
) -> None:
    """Record changed (GPA in transcript.json), original credential kept, re-signed by
    the rogue key: the record no longer matches the credential's digest."""
    record = json.loads(school_doc.record_json)
    record["summary"]["gpa"] = "3.90"
    fake = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
    unsigned = attach_files(forge.without_attachments(unsigned_of(school_doc)), fake,
                            school_doc.credential)
    forged = TranscriptSigner(rogue_school_keys).sign(unsigned)
    verdict, _ = judge(forged, trust)
    assert verdict.result is Result.INVALID
    assert_caught(forged, trust, "record_digest", "pdf_signer_trusted")


def test_resigned_with_a_rogue_credential(
    school_doc: IssuedDocument, trust: TrustStore, rogue_school_keys: InstitutionKeys
) -> None:
    """Record and credential both made anew, with the rogue "1001" keys: the credential's
    key is not in the trusted JWKS."""
    record = json.loads(school_doc.record_json)
    record["summary"]["gpa"] = "3.90"
    fake = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
    claims = claims_for(school_doc.record, school_doc.record_digest)
    token = sign_credential(replace(claims, gpa="3.90", record_digest=digest(fake)),
                            rogue_school_keys)
    unsigned = attach_files(forge.without_attachments(unsigned_of(school_doc)), fake, token)
    forged = TranscriptSigner(rogue_school_keys).sign(unsigned)
    verdict, _ = judge(forged, trust)
    assert verdict.result is Result.INVALID
    assert_caught(forged, trust, "credential_signature", "pdf_signer_trusted")


def test_resigned_by_another_trusted_institution(
    school_doc: IssuedDocument, trust: TrustStore, vocational_keys: InstitutionKeys
) -> None:
    """The school's transcript (record and credential genuine) certified by the
    vocational centre's trusted key: the PDF and the credential come from different
    institutions."""
    forged = TranscriptSigner(vocational_keys).sign(unsigned_of(school_doc))
    verdict, _ = judge(forged, trust)
    assert verdict.result is Result.INVALID
    assert_caught(forged, trust, "same_institution")
