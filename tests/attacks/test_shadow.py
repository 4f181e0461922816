"""Shadow attacks (Mainka et al. 2020): hide, replace, hide-and-replace.

The shadow document is prepared before it is certified (see `shadow.py`) and signed by
the institution's genuine key; the later update only removes a cover, redefines a font,
or points the xref or trailer at objects that were signed all along. Nothing new is drawn
by the update, which is why viewers that whitelist "harmless" updates miss them.

pyHanko's difference analysis compares every object of the new revision with the
certified one: each changed object here (a form XObject, a font, a content stream, the
catalog) is outside what DocMDP FILL_FORMS permits, so ``pdf_unmodified`` fails.
pdfsig: "Signature is Valid." and "Not total document signed", as for any update.
"""

from __future__ import annotations

import shutil
import subprocess
from io import BytesIO
from pathlib import Path

import pikepdf
import pytest

from issuer.adapters.pdf_signing import TranscriptSigner
from issuer.adapters.pki import Authority
from issuer.pipeline import IssuedDocument
from tests.attacks import forge, shadow
from tests.attacks.conftest import (
    assert_caught,
    forged_text,
    judge,
    needs_pdfsig,
    unsigned_of,
)
from tests.pdfcheck import pdfsig_report
from verifier.core.verdict import Result
from verifier.trust import TrustStore

needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                     reason="poppler-utils not installed")


def _visible_text(pdf: bytes, tmp_path: Path) -> str:
    """What poppler extracts from the latest revision (what a viewer shows)."""
    path = tmp_path / "shown.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def _values(doc: IssuedDocument) -> tuple[str, str]:
    """The genuine and the forged value as drawn text (e.g. "3.20", "3.90")."""
    old, new = forged_text(doc)
    return (old.split(b")")[0].lstrip(b"(").decode().split()[0],
            new.split(b")")[0].lstrip(b"(").decode().split()[0])


def _sign(doc: IssuedDocument, prepared: bytes, signer_of: dict[str, TranscriptSigner]) -> bytes:
    return signer_of[doc.record.institution.code].sign(prepared)


def _signed_shadow_is_valid(signed: bytes, trust: TrustStore) -> None:
    """Control: the shadow document itself is a genuinely certified, VALID transcript."""
    verdict, findings = judge(signed, trust)
    assert verdict.result is Result.VALID, findings.checks


def test_hide(genuine: IssuedDocument, trust: TrustStore,
              signer_of: dict[str, TranscriptSigner]) -> None:
    """The forged value lies under a form XObject showing the genuine one; the update
    replaces that cover with an empty form of the same object number."""
    old, _ = forged_text(genuine)
    page = forge.page_of(genuine.pdf, old)
    real, fake = _values(genuine)
    signed = _sign(genuine, shadow.prepare_hide(unsigned_of(genuine), page, real, fake),
                   signer_of)
    _signed_shadow_is_valid(signed, trust)
    forged = shadow.reveal_hide(signed, page)
    with pikepdf.open(BytesIO(forged)) as pdf:
        assert pdf.pages[page].Resources.XObject[shadow.COVER].read_bytes() == b""
    assert_caught(forged, trust, "pdf_unmodified")


@needs_pdftotext
def test_replace_font(genuine: IssuedDocument, trust: TrustStore, tmp_path: Path,
                      signer_of: dict[str, TranscriptSigner]) -> None:
    """The genuine value is drawn in a font of the document's own; the update redefines
    that font's encoding so that "2" draws a nine: 3.20 reads 3.90, 200 hours 900."""
    old, _ = forged_text(genuine)
    page = forge.page_of(genuine.pdf, old)
    real, fake = _values(genuine)
    signed = _sign(genuine, shadow.prepare_replace(unsigned_of(genuine), page, real),
                   signer_of)
    _signed_shadow_is_valid(signed, trust)
    forged = shadow.reveal_replace(signed, page, "2", "nine")
    assert fake in _visible_text(forged, tmp_path)
    assert fake not in _visible_text(signed, tmp_path)
    assert_caught(forged, trust, "pdf_unmodified")


def test_hide_and_replace_by_xref_pointer(
    genuine: IssuedDocument, trust: TrustStore, signer_of: dict[str, TranscriptSigner]
) -> None:
    """A forged copy of the page's content stream sits, dead, inside the signed bytes;
    the update is an xref section alone that points the content object at it."""
    old, new = forged_text(genuine)
    page = forge.page_of(genuine.pdf, old)
    number, data = forge.content_object(genuine.pdf, page)
    prepared, offset = shadow.prepare_dead_object(unsigned_of(genuine), number,
                                                  data.replace(old, new))
    signed = _sign(genuine, prepared, signer_of)
    _signed_shadow_is_valid(signed, trust)
    forged = shadow.reveal_pointer(signed, number, offset)
    assert forge.content_object(forged, page)[1] == data.replace(old, new)
    assert_caught(forged, trust, "pdf_unmodified")


def test_hide_and_replace_by_shadow_catalog(
    genuine: IssuedDocument, trust: TrustStore, signer_of: dict[str, TranscriptSigner]
) -> None:
    """A whole second catalog and page tree, signed along with the real one; the update
    is a trailer naming it /Root."""
    old, new = forged_text(genuine)
    page = forge.page_of(genuine.pdf, old)
    signed = _sign(genuine, shadow.prepare_shadow_catalog(unsigned_of(genuine), page,
                                                          old, new), signer_of)
    _signed_shadow_is_valid(signed, trust)
    forged = shadow.reveal_shadow_catalog(signed)
    assert forge.content_object(forged, page)[1].count(new) == 1
    assert_caught(forged, trust, "pdf_unmodified")


@needs_pdfsig
def test_what_pdfsig_says_about_a_shadow_update(
    school_doc: IssuedDocument, authority: Authority, tmp_path: Path,
    signer_of: dict[str, TranscriptSigner]
) -> None:
    old, new = forged_text(school_doc)
    page = forge.page_of(school_doc.pdf, old)
    number, data = forge.content_object(school_doc.pdf, page)
    prepared, offset = shadow.prepare_dead_object(unsigned_of(school_doc), number,
                                                  data.replace(old, new))
    forged = shadow.reveal_pointer(_sign(school_doc, prepared, signer_of), number, offset)
    report = pdfsig_report(forged, authority.root_cert, tmp_path)
    assert "Signature is Valid" in report and "Not total document signed" in report
