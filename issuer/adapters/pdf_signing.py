"""PAdES certification signature of a transcript PDF, with pyHanko.

B-B by default (B-T when a timestamper is given). The institution's RSA-3072 key signs;
pyHanko and asn1crypto build the CMS. DocMDP is FILL_FORMS (P=2): the document is
certified and locked against content changes and annotations (a sticky note or free-text
annotation over a grade is exactly the forgery to stop), while further signatures,
document timestamps and DSS updates (B-LT/B-LTA later) stay possible. NO_CHANGES (P=1)
would forbid even those; ANNOTATE (P=3) would allow overlays.

Speed (DESIGN.md, pyHanko pitfalls): the key is parsed once and kept as a
`cryptography` object, the signature container size is computed once so pyHanko signs
once per document, nothing is fetched or validated while signing, and
asyncio.run() per call is replaced by one persistent event loop per thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from io import BytesIO
from typing import Any, TypeVar

from asn1crypto import algos, cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, Signer
from pyhanko.sign.timestamps import TimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from issuer.adapters.pki import InstitutionKeys

FIELD_NAME = "TranscriptSignature"
DOCMDP = MDPPerm.FILL_FORMS
MD_ALGORITHM = "sha256"
RSA_SIGNATURE_BYTES = 384  # RSA-3072
CMS_OVERHEAD = 1536  # DER bytes for the SignedData structure and signed attributes
TIMESTAMP_ALLOWANCE = 12_288  # DER bytes for a signature timestamp token with its TSA chain

T = TypeVar("T")


def _asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


class _RsaSigner(Signer):
    """A pyHanko Signer over an already-loaded RSA key (PKCS#1 v1.5, SHA-256).

    pyHanko's SimpleSigner re-parses its key from DER on every signature; this one
    keeps the `cryptography` key object.
    """

    def __init__(self, keys: InstitutionKeys) -> None:
        if not isinstance(keys.pdf_key, rsa.RSAPrivateKey):
            raise TypeError("the PDF-signing key must be RSA (ECDSA bumps the PDF to 2.0)")
        self._key = keys.pdf_key
        super().__init__(
            signing_cert=_asn1_cert(keys.pdf_cert),
            cert_registry=SimpleCertificateStore.from_certs([_asn1_cert(c) for c in keys.chain]),
            signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"}),
            embed_roots=False,  # verifiers pin the root; the CMS carries the issuing CA
        )

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        if digest_algorithm != MD_ALGORITHM:
            raise ValueError(f"unsupported digest {digest_algorithm}")
        if dry_run:
            return bytes(RSA_SIGNATURE_BYTES)
        return self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    async def async_sign_prescribed_attributes(
        self,
        digest_algorithm: str,
        signed_attrs: cms.CMSAttributes,
        cms_version: str = "v1",
        dry_run: bool = False,
        timestamper: TimeStamper | None = None,
        encap_content_info: Any = None,
    ) -> cms.ContentInfo:
        """pyHanko's documented entry point, given the signed attributes re-read from DER.

        asn1crypto re-encodes a freshly built structure on every ``dump()`` (it stays
        "mutated"), and pyHanko dumps the signed attributes to sign them and again inside
        the SignerInfo; a parsed copy dumps from cache. Same bytes, ~1.5 ms less CPU per
        PDF. The signature must stay pyHanko's (tests/unit/test_dependencies.py).
        """
        return await super().async_sign_prescribed_attributes(
            digest_algorithm,
            cms.CMSAttributes.load(signed_attrs.dump()),
            cms_version=cms_version,
            dry_run=dry_run,
            timestamper=timestamper,
            encap_content_info=encap_content_info,
        )


_local = threading.local()


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` on this thread's persistent event loop (asyncio.run() makes a new
    loop, with its selector and self-pipe, on every call)."""
    loop = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = _local.loop = asyncio.new_event_loop()
    return loop.run_until_complete(coro)


class TranscriptSigner:
    """Certify transcript PDFs for one institution. Reusable and cheap per document."""

    def __init__(
        self,
        keys: InstitutionKeys,
        *,
        reason: str = "Official transcript issued by the institution",
        location: str = "Bangkok",
        timestamper: TimeStamper | None = None,
    ) -> None:
        self.keys = keys
        signer = _RsaSigner(keys)
        meta = PdfSignatureMetadata(
            field_name=FIELD_NAME,
            md_algorithm=MD_ALGORITHM,
            reason=reason,
            location=location,
            certify=True,
            docmdp_permissions=DOCMDP,
            subfilter=SigSeedSubFilter.PADES,
        )
        self._pdf_signer = PdfSigner(meta, signer=signer, timestamper=timestamper)
        certs = [signer.signing_cert, *(_asn1_cert(c) for c in keys.chain[:-1])]
        der = sum(len(c.dump()) for c in certs) + RSA_SIGNATURE_BYTES + CMS_OVERHEAD
        if timestamper is not None:
            der += TIMESTAMP_ALLOWANCE
        self._bytes_reserved = 2 * der  # hex string in the PDF

    def sign(self, pdf: bytes) -> bytes:
        """Return `pdf` with an incremental update holding the certification signature.

        Not for use inside a running event loop (use `async_sign` there).
        """
        return _run(self.async_sign(pdf))

    async def async_sign(self, pdf: bytes) -> bytes:
        """`sign` for callers already in asyncio (e.g. with a network timestamper)."""
        output = BytesIO()
        await self._pdf_signer.async_sign_pdf(
            IncrementalPdfFileWriter(BytesIO(pdf)),
            bytes_reserved=self._bytes_reserved,
            output=output,
        )
        return output.getvalue()
