"""Signature wrapping attacks (SWA, Mladenov et al. 2019): the signed bytes are kept but
moved, or the unsigned gap of the byte range is used to smuggle content in.

pyHanko checks the digest over the /ByteRange, and its coverage check catches a gap that
is larger than the /Contents string. It does not mind data hidden in the zero padding of
/Contents, and (0.38) it trusts a /Contents redefined by a later update when the file
length matches: the verifier checks the gap itself (``pdf_signature``) and which revision
the signed bytes end with (``pdf_unmodified``).
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pikepdf

from issuer.adapters.pki import Authority
from issuer.pipeline import IssuedDocument
from tests.attacks import forge
from tests.attacks.conftest import assert_caught, forged_text, judge, needs_pdfsig
from tests.pdfcheck import pdfsig_report
from verifier.core.verdict import Result
from verifier.trust import TrustStore


def _smuggled_content(doc: IssuedDocument) -> tuple[int, bytes, int]:
    """The page content object redefined with the forged grade, wrapped as a string value
    of the signature dictionary so that the dictionary still parses around it:
    (object number, the text to insert, offset of the object in that text)."""
    old, new = forged_text(doc)
    number, data = forge.content_object(doc.pdf, forge.page_of(doc.pdf, old))
    text = forge.stream_object(number, data.replace(old, new), ascii_hex=True)
    head = b" /Junk ("
    return number, head + text + b") ", len(head)


def _page_text(pdf: bytes, needle: bytes) -> bool:
    """Whether the latest revision's pages draw `needle` (what a viewer shows)."""
    with pikepdf.open(BytesIO(pdf)) as doc:
        return any(needle in page.obj.Contents.read_bytes() for page in doc.pages)


def test_relocated_second_part_with_rewritten_byterange(
    genuine: IssuedDocument, trust: TrustStore
) -> None:
    """The classic SWA: forged objects inserted after the signature value, the second
    signed part moved behind them and the /ByteRange rewritten to point there; a new xref
    makes the forged page content live. The /ByteRange is itself signed (pyHanko writes
    it after /Contents), so the digest no longer matches."""
    number, text, inner = _smuggled_content(genuine)
    moved, at = forge.relocate(genuine.pdf, text, rewrite_byterange=True)
    forged = forge.xref_only_update(moved, {number: at + inner}, trailer_from=genuine.pdf,
                                    prev=forge.startxref_of(genuine.pdf) + len(text))
    assert _page_text(forged, forged_text(genuine)[1])
    findings = assert_caught(forged, trust, "pdf_signature")
    assert "digest" in next(c.message_en for c in findings.checks if c.id == "pdf_signature")


def test_relocated_second_part_with_original_byterange(
    genuine: IssuedDocument, trust: TrustStore
) -> None:
    """The same with the /ByteRange left alone: its second range now points into the
    inserted objects."""
    number, text, inner = _smuggled_content(genuine)
    moved, at = forge.relocate(genuine.pdf, text, rewrite_byterange=False)
    forged = forge.xref_only_update(moved, {number: at + inner}, trailer_from=genuine.pdf,
                                    prev=forge.startxref_of(genuine.pdf) + len(text))
    assert_caught(forged, trust, "pdf_signature")


def test_second_byterange_key_in_the_gap(genuine: IssuedDocument, trust: TrustStore) -> None:
    """A /ByteRange pointing at the relocated second part injected into the signature
    dictionary ahead of the signed one. pyHanko's lenient parser (strict=False, as the
    verifier runs it) keeps the first of the duplicate keys, so it hashes exactly the
    signed bytes and the digest is valid; its coverage check then finds the gap wider
    than /Contents (UNCLEAR). The verifier's gap check names it in ``pdf_signature``."""
    lay = forge.layout(genuine.pdf)
    width = 64
    key = b" /ByteRange [0 %d %d %d]" % (lay.len1, lay.start2 + width, lay.len2)
    moved, _ = forge.relocate(genuine.pdf, key.ljust(width), rewrite_byterange=False)
    # a new trailer so that the shifted file parses (it re-declares the catalog in place)
    catalog = int(forge.trailer_of(genuine.pdf).raw_get("/Root").idnum)
    forged = forge.xref_only_update(
        moved, {catalog: forge.object_offset(genuine.pdf[:lay.len1], catalog)},
        trailer_from=genuine.pdf, prev=forge.startxref_of(genuine.pdf) + width)
    assert_caught(forged, trust, "pdf_signature")


def test_payload_hidden_in_the_gap_and_referenced_by_an_update(
    genuine: IssuedDocument, trust: TrustStore
) -> None:
    """The signature value shrunk to its DER, an overlay content stream written into the
    freed padding (inside a string of the signature dictionary, so the signed bytes and
    the digest are unchanged) and made live by a later update whose xref points into the
    gap. pyHanko: digest valid, coverage UNCLEAR."""
    old, _ = forged_text(genuine)
    page = forge.page_of(genuine.pdf, old)
    overlay = forge.overlay_ops("3.90")
    updated = forge.add_page_content(genuine.pdf, page, overlay)
    # the overlay object pyHanko wrote in the update, and its xref entry
    body_at = updated.rindex(b" 0 obj", 0, updated.index(overlay, len(genuine.pdf)))
    body_at = updated.rindex(b"\n", 0, body_at) + 1
    body = updated[body_at:updated.index(b"endobj", body_at) + len(b"endobj")]
    assert overlay in body and b"\\" not in body
    stuffed, payload_at = forge.stuff_gap(genuine.pdf, body)
    entry = b"%010d 00000 n" % body_at
    assert updated.count(entry) == 1
    forged = stuffed + updated[len(genuine.pdf):].replace(entry, b"%010d 00000 n" % payload_at)
    assert len(forged) == len(updated)
    findings = assert_caught(forged, trust, "pdf_signature", "pdf_unmodified")
    assert "gap" in next(c.message_en for c in findings.checks if c.id == "pdf_signature")


def test_data_hidden_in_the_signature_padding(
    genuine: IssuedDocument, trust: TrustStore
) -> None:
    """The zero padding after the DER signature replaced by other hex digits: the
    signature still verifies (pyHanko and pdfsig say valid), but the file carries
    unsigned data the verifier refuses to vouch for."""
    start, end = forge.layout(genuine.pdf).gap
    der = forge.der_hex(genuine.pdf)
    hidden = b"<" + der + (b"DEADBEEF" * 4000)[: end - start - 2 - len(der)] + b">"
    forged = forge.with_contents(genuine.pdf, hidden)
    findings = assert_caught(forged, trust, "pdf_signature")
    assert "padding" in next(c.message_en for c in findings.checks if c.id == "pdf_signature")


def test_signature_dictionary_overridden_with_padded_contents(
    genuine: IssuedDocument, trust: TrustStore
) -> None:
    """Content changed by an update, then a second update redefining the signature
    dictionary with /Contents = DER + filler, sized so that the file length equals
    len1 + len2 + 2 * len(/Contents) + 2. pyHanko 0.38 then reports the signature as
    covering the ENTIRE FILE and skips the difference analysis (intact, valid, trusted,
    docmdp_ok: bottom line True), and it reads the attachments from the attacker's
    revision. pdfsig: "Signature is Valid", "Not total document signed".
    Found while writing these tests; the verifier catches it twice: the gap no longer
    holds the /Contents it validates, and the signed bytes end with a revision that is not
    the one holding the signature dictionary."""
    old, new = forged_text(genuine)
    modified = forge.change_page_text(genuine.pdf, old, new)
    forged = forge.override_signature(genuine.pdf, modified)
    assert _page_text(forged, new)
    findings = assert_caught(forged, trust, "pdf_signature", "pdf_unmodified")
    messages = {c.id: c.message_en for c in findings.checks}
    assert "replaced after signing" in messages["pdf_unmodified"]


@needs_pdfsig
def test_what_pdfsig_says_about_the_override(
    school_doc: IssuedDocument, authority: Authority, tmp_path: Path
) -> None:
    old, new = forged_text(school_doc)
    forged = forge.override_signature(school_doc.pdf,
                                      forge.change_page_text(school_doc.pdf, old, new))
    report = pdfsig_report(forged, authority.root_cert, tmp_path)
    assert "Signature is Valid" in report and "Not total document signed" in report


def test_genuine_signature_is_standard(genuine: IssuedDocument, trust: TrustStore) -> None:
    """Control for the gap checks: the issuer's own signatures pass them."""
    verdict, findings = judge(genuine.pdf, trust)
    assert verdict.result is Result.VALID, findings.checks
