"""Universal signature forgery (USF, Mladenov et al. 2019): the signature dictionary's
/Contents or /ByteRange missing, empty, zeroed or malformed, in the hope that a validator
skips what it cannot read and reports nothing wrong.

Every variant is made in place with the same length, so the file still parses and the
verifier finds the signature field: each must come out INVALID with ``pdf_signature``
failed (not "unreadable", not a crash). pyHanko raises on most of them (the verifier
turns that into the failed check); pdfsig reports "Signature is Invalid"/"Unknown", or
a digest mismatch, or does not list the signature.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from issuer.adapters.pki import Authority, InstitutionKeys
from issuer.pipeline import IssuedDocument, Producer
from tests.attacks import forge
from tests.attacks.conftest import VERIFIER_URL, assert_caught, judge, needs_pdfsig, school
from tests.pdfcheck import pdfsig_report
from verifier.core.verdict import Result
from verifier.trust import TrustStore

Forgery = Callable[[bytes], bytes]


def _gap(pdf: bytes, text: bytes) -> bytes:
    """The unsigned gap (``<hex>``) replaced by `text`, space-padded to its length."""
    start, end = forge.layout(pdf).gap
    return forge.with_contents(pdf, text.ljust(end - start))


def _hex_width(pdf: bytes) -> int:
    start, end = forge.layout(pdf).gap
    return end - start - 2


def _byterange(make: Callable[[forge.Layout], bytes]) -> Forgery:
    return lambda pdf: forge.with_byterange(pdf, make(forge.layout(pdf)))


CONTENTS: dict[str, Forgery] = {
    "missing": lambda pdf: forge.rename_key(pdf, b"/Contents", b"/Contentz"),
    "empty": lambda pdf: _gap(pdf, b"<>"),
    "zeroed": lambda pdf: _gap(pdf, b"<" + b"0" * _hex_width(pdf) + b">"),
    "null": lambda pdf: _gap(pdf, b"null"),
    "not hex": lambda pdf: _gap(pdf, b"<" + b"zz" * (_hex_width(pdf) // 2) + b">"),
    "literal string": lambda pdf: _gap(pdf, b"(" + b"A" * _hex_width(pdf) + b")"),
    "number": lambda pdf: _gap(pdf, b"0"),
    "truncated DER": lambda pdf: _gap(pdf, b"<" + forge.der_hex(pdf)[:400] + b">"),
    "DER length lies": lambda pdf: _gap(pdf, b"<3082FFFF" + forge.der_hex(pdf)[8:] + b">"),
    "not CMS": lambda pdf: _gap(pdf, b"<300602010102012A>"),  # SEQUENCE of two INTEGERs
    "one bit flipped": lambda pdf: _gap(pdf, b"<" + _flip_last(forge.der_hex(pdf)) + b">"),
}

BYTERANGE: dict[str, Forgery] = {
    "missing": lambda pdf: forge.rename_key(pdf, b"/ByteRange", b"/ByteRangz"),
    "null": _byterange(lambda lay: b"null"),
    "empty array": _byterange(lambda lay: b"[]"),
    "three numbers": _byterange(lambda lay: b"[0 %d %d]" % (lay.len1, lay.start2)),
    "six numbers": _byterange(lambda lay: b"[0 %d %d %d 0 0]" % (lay.len1, lay.start2,
                                                                lay.len2)),
    "negative": _byterange(lambda lay: b"[0 %d -%d %d]" % (lay.len1, lay.start2, lay.len2)),
    "real numbers": _byterange(lambda lay: b"[0 %d.0 %d %d]" % (lay.len1, lay.start2,
                                                               lay.len2)),
    "strings": _byterange(lambda lay: b"[(0) (%d) (%d) (%d)]" % (lay.len1, lay.start2,
                                                                lay.len2)),
    "dictionary": _byterange(lambda lay: b"<< /A 1 >>"),
    "indirect": _byterange(lambda lay: b"1 0 R"),
    "not from 0": _byterange(lambda lay: b"[10 %d %d %d]" % (lay.len1 - 10, lay.start2,
                                                            lay.len2)),
    "past the end": _byterange(lambda lay: b"[0 %d %d %d]" % (lay.len1, lay.start2,
                                                             lay.len2 + 4096)),
    "not covering the end": _byterange(lambda lay: b"[0 %d %d %d]" % (lay.len1, lay.start2,
                                                                     lay.len2 - 200)),
    "gap widened": _byterange(lambda lay: b"[0 %d %d %d]" % (lay.len1 - 100, lay.start2,
                                                            lay.len2)),
    "only the first part": _byterange(lambda lay: b"[0 %d %d 0]" % (lay.len1, lay.start2)),
    "overlapping": _byterange(lambda lay: b"[0 %d 0 %d]" % (lay.len1, lay.end)),
}


def _flip_last(der_hex: bytes) -> bytes:
    """The DER with one bit of the RSA signature value (its last byte) flipped."""
    last = int(der_hex[-2:], 16) ^ 0x01
    return der_hex[:-2] + b"%02X" % last


@pytest.mark.parametrize("name", list(CONTENTS))
def test_contents_forged(name: str, genuine: IssuedDocument, trust: TrustStore) -> None:
    assert_caught(CONTENTS[name](genuine.pdf), trust, "pdf_signature")


@pytest.mark.parametrize("name", list(BYTERANGE))
def test_byterange_forged(name: str, genuine: IssuedDocument, trust: TrustStore) -> None:
    assert_caught(BYTERANGE[name](genuine.pdf), trust, "pdf_signature")


def test_signature_transplanted_from_another_transcript(
    school_doc: IssuedDocument, school_keys: InstitutionKeys, trust: TrustStore
) -> None:
    """The CMS of another genuine transcript (same key, same reserved size) pasted into
    this one: the certificate chain is trusted, the digest is not this document's."""
    donor = Producer(school_keys, VERIFIER_URL).produce(
        school(transcript_id="1001-2569-000124", seed=8))
    start, end = forge.layout(donor.pdf).gap
    forged = forge.with_contents(school_doc.pdf, donor.pdf[start:end])
    findings = assert_caught(forged, trust, "pdf_signature")
    assert "digest" in next(c.message_en for c in findings.checks if c.id == "pdf_signature")


def test_forged_signature_never_valid_even_if_trust_passes(
    genuine: IssuedDocument, trust: TrustStore
) -> None:
    """The zeroed /Contents is INVALID, not UNTRUSTED: a failed signature makes the result
    INVALID whatever else passed (DESIGN.md)."""
    verdict, _ = judge(CONTENTS["zeroed"](genuine.pdf), trust)
    assert verdict.result is Result.INVALID


@needs_pdfsig
def test_what_pdfsig_says(school_doc: IssuedDocument, authority: Authority,
                          tmp_path: Path) -> None:
    """pdfsig never calls these signatures valid."""
    for forgery in (CONTENTS["zeroed"], CONTENTS["one bit flipped"],
                    BYTERANGE["not covering the end"]):
        report = pdfsig_report(forgery(school_doc.pdf), authority.root_cert, tmp_path)
        assert "Signature is Valid" not in report, report
