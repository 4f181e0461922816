"""PAdES certification signature of a transcript PDF, with pyHanko, at a chosen level.

`PadesLevel` (docs/long-term-validity.md): **B-B** the signature alone; **B-T** with an
RFC 3161 signature timestamp (the proven signing time); **B-LT** then a DSS revision with
the certificates, OCSP responses and CRLs of the whole chain, the timestamp's too, as
named by the certificates' own CRL distribution point and AIA OCSP extensions; **B-LTA**
then a document timestamp over it all, so the validation data is itself proven to exist
in time and the transcript outlives its certificates. The institution's RSA-3072 key
signs; pyHanko and asn1crypto build the CMS. DocMDP is FILL_FORMS (P=2): the document is
certified and locked against content changes and annotations (a sticky note or free-text
annotation over a grade is exactly the forgery to stop), while further signatures,
document timestamps and DSS updates stay possible. NO_CHANGES (P=1) would forbid even
those; ANNOTATE (P=3) would allow overlays.

Speed (DESIGN.md, pyHanko pitfalls): the key is parsed once and kept as a
`cryptography` object, the signature container size is computed once so pyHanko signs
once per document, asyncio.run() per call is replaced by one persistent event loop per
thread, and for B-LT/B-LTA one `ValidationContext` per signer (a worker's whole job)
fetches each OCSP response and CRL once and reuses it for `REVOCATION_REUSE`, within its
validity: per transcript, only the timestamps are requests.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from enum import StrEnum
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
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.aiohttp_fetchers.util import LazySession
from pyhanko_certvalidator.registry import SimpleCertificateStore

from issuer.adapters.pki import InstitutionKeys

FIELD_NAME = "TranscriptSignature"
DOCMDP = MDPPerm.FILL_FORMS
MD_ALGORITHM = "sha256"
RSA_SIGNATURE_BYTES = 384  # RSA-3072
CMS_OVERHEAD = 1536  # DER bytes for the SignedData structure and signed attributes
TIMESTAMP_ALLOWANCE = 12_288  # DER bytes for a signature timestamp token with its TSA chain
DOC_TIMESTAMP_FIELD = "TranscriptArchiveTimestamp"
REVOCATION_REUSE = 3600.0
"""Seconds a signer reuses the OCSP responses and CRLs it fetched (the project's services
give them a day: `issuer.adapters.responders.OCSP_VALIDITY`)."""
TSA_TIMEOUT = 10


class PadesLevel(StrEnum):
    """PAdES baseline levels (ETSI EN 319 142-1), in increasing order."""

    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"
    B_LTA = "B-LTA"

    @property
    def rank(self) -> int:
        return list(PadesLevel).index(self)

    @classmethod
    def parse(cls, text: str) -> PadesLevel:
        try:
            return cls(text.strip().upper())
        except ValueError:
            raise ValueError(f"unknown PAdES level {text!r} (one of "
                             f"{', '.join(level.value for level in cls)})") from None

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


def http_timestamper(url: str) -> HTTPTimeStamper:
    """An RFC 3161 client for the TSA at `url` (ours: ``{BKT_PKI_URL}/tsa``) keeping one
    HTTP session (pyHanko's default opens one per request, with a new TLS context:
    ~35 ms each). Use it from one thread (its session belongs to that thread's event
    loop, `_run`); `TranscriptSigner.close` closes it."""
    return HTTPTimeStamper(url, timeout=TSA_TIMEOUT, session=LazySession())


def close_timestamper(timestamper: TimeStamper | None) -> None:
    """Close an `http_timestamper`'s session (on this thread's event loop)."""
    session = getattr(timestamper, "_session", None)
    if isinstance(session, LazySession):
        _run(session.close())


def signing_validation_context(keys: InstitutionKeys) -> ValidationContext:
    """What B-LT/B-LTA signing validates with: the keys' own root pinned, fetching on
    (OCSP and CRLs where the certificates point), and a certificate that declares a
    revocation source but gets no answer from it fails the signing (hard-fail): a
    document is never issued B-LT without its revocation data."""
    return ValidationContext(
        trust_roots=[_asn1_cert(keys.chain[-1])],
        other_certs=[_asn1_cert(c) for c in keys.chain[:-1]],
        allow_fetching=True,
        revocation_mode="hard-fail",
    )


def _names_its_status(cert: x509.Certificate) -> bool:
    """The certificate names a CRL distribution point or an OCSP responder."""
    try:
        cert.extensions.get_extension_for_class(x509.CRLDistributionPoints)
        return True
    except x509.ExtensionNotFound:
        pass
    try:
        access = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess)
    except x509.ExtensionNotFound:
        return False
    return any(d.access_method == x509.oid.AuthorityInformationAccessOID.OCSP
               for d in access.value)


def _check_revocation_sources(keys: InstitutionKeys, level: PadesLevel) -> None:
    """B-LT and above embed the status of every certificate of the chain: each must say
    where it is published, or the document would be issued without it and never
    validate in the long term (docs/long-term-validity.md)."""
    silent = [c for c in (keys.pdf_cert, *keys.chain[:-1]) if not _names_its_status(c)]
    if silent:
        names = ", ".join(c.subject.rfc4514_string() for c in silent)
        raise ValueError(
            f"PAdES {level} needs certificates that name their CRL or OCSP service; these do "
            f"not: {names}. They predate BKT_PKI_URL: make the PKI again with it set (a key "
            "ceremony, then transcripts keys create), or sign B-T (BKT_PADES_LEVEL)")


class TranscriptSigner:
    """Certify transcript PDFs for one institution. Reusable and cheap per document."""

    def __init__(
        self,
        keys: InstitutionKeys,
        *,
        reason: str = "Official transcript issued by the institution",
        location: str = "Bangkok",
        level: PadesLevel | None = None,
        timestamper: TimeStamper | None = None,
    ) -> None:
        """`level` defaults to B-T with a `timestamper`, else B-B; B-T and above need
        a timestamper (one TSA gives both the signature and the document timestamps)."""
        if level is None:
            level = PadesLevel.B_T if timestamper is not None else PadesLevel.B_B
        if level.rank >= PadesLevel.B_T.rank and timestamper is None:
            raise ValueError(f"PAdES {level} needs a time-stamping authority (BKT_TSA_URL)")
        if level.rank >= PadesLevel.B_LT.rank:
            _check_revocation_sources(keys, level)
        self.keys = keys
        self.level = level
        self._signer = _RsaSigner(keys)
        self._timestamper = timestamper if level.rank >= PadesLevel.B_T.rank else None
        self._reason, self._location = reason, location
        self._pdf_signer: PdfSigner | None = None
        self._made = 0.0
        certs = [self._signer.signing_cert, *(_asn1_cert(c) for c in keys.chain[:-1])]
        der = sum(len(c.dump()) for c in certs) + RSA_SIGNATURE_BYTES + CMS_OVERHEAD
        if self._timestamper is not None:
            der += TIMESTAMP_ALLOWANCE
        self._bytes_reserved = 2 * der  # hex string in the PDF

    def _current(self) -> PdfSigner:
        """The pyHanko signer; for B-LT/B-LTA remade (with a new validation context, so
        fresh revocation data) every `REVOCATION_REUSE` seconds."""
        now = time.monotonic()
        long_term = self.level.rank >= PadesLevel.B_LT.rank
        if self._pdf_signer is None or (long_term and now - self._made > REVOCATION_REUSE):
            self._release()
            meta = PdfSignatureMetadata(
                field_name=FIELD_NAME,
                md_algorithm=MD_ALGORITHM,
                reason=self._reason,
                location=self._location,
                certify=True,
                docmdp_permissions=DOCMDP,
                subfilter=SigSeedSubFilter.PADES,
                embed_validation_info=long_term,
                use_pades_lta=self.level is PadesLevel.B_LTA,
                timestamp_field_name=DOC_TIMESTAMP_FIELD,
                validation_context=signing_validation_context(self.keys) if long_term else None,
            )
            self._pdf_signer = PdfSigner(meta, signer=self._signer,
                                         timestamper=self._timestamper)
            self._made = now
        return self._pdf_signer

    def _release(self) -> None:
        context = None if self._pdf_signer is None else (
            self._pdf_signer.signature_meta.validation_context)
        if context is not None:
            _run(context.aclose())

    def close(self) -> None:
        """Close the HTTP sessions (validation context, timestamper) of this thread."""
        self._release()
        close_timestamper(self._timestamper)

    def sign(self, pdf: bytes) -> bytes:
        """Return `pdf` with an incremental update holding the certification signature
        (and, by level, the DSS and document timestamp revisions after it).

        Not for use inside a running event loop (use `async_sign` there).
        """
        return _run(self.async_sign(pdf))

    async def async_sign(self, pdf: bytes) -> bytes:
        """`sign` for callers already in asyncio."""
        output = BytesIO()
        await self._current().async_sign_pdf(
            IncrementalPdfFileWriter(BytesIO(pdf)),
            bytes_reserved=self._bytes_reserved,
            output=output,
        )
        return output.getvalue()
