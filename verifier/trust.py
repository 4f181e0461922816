"""Trust: pinned BMA root certificates and the credential keys they vouch for.

Keys come from the issuer's JWKS (`/.well-known/jwks.json`), each with an `x5c`
chain; a key is accepted only if its chain leads to a pinned root. A key must
have been valid when the credential was issued: later expiry does not matter.

Each key also carries its generation's life (``issuer/adapters/publish.py``):
``bkt_not_before`` and ``bkt_retired_at`` bound its period of use (with `CLOCK_SKEW`
either side, for signatures in flight during a rotation), so a retired key keeps
vouching for what it signed while in use; ``bkt_compromised_at`` voids what it signed
from then on, and leaves what it claims to have signed before unproven unless a trusted
timestamp proves the time, since whoever holds the key can back-date its own dates;
``bkt_pdf_x5t#S256`` names the same generation's PDF-signing certificate, so a PDF's
signer is judged by the same rule (`compromise_check`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError

from verifier.core.canonical import b64url
from verifier.core.credential import kid_for
from verifier.core.verdict import Check, Status

CLOCK_SKEW = timedelta(minutes=5)
"""Tolerance at either end of a key's period of use (clock differences; a record
prepared just before a rotation and signed just after it)."""


class TrustError(ValueError):
    """A key or chain that cannot be trusted."""


def institution_of(cert: x509.Certificate) -> str:
    """The institution code a certificate was issued to (subject serialNumber, else OU)."""
    for oid in (x509.NameOID.SERIAL_NUMBER, x509.NameOID.ORGANIZATIONAL_UNIT_NAME):
        attrs = cert.subject.get_attributes_for_oid(oid)
        if attrs:
            return str(attrs[0].value)
    return ""


@dataclass(frozen=True)
class TrustedKey:
    kid: str
    public_key: ec.EllipticCurvePublicKey
    institution: str
    not_before: datetime
    not_after: datetime
    """The certificate chain's common validity."""
    in_use_from: datetime | None = None
    """Start of the key's period of use (``bkt_not_before``); None: its certificate's."""
    retired_at: datetime | None = None
    """End of its period of use (``bkt_retired_at``); None while it signs."""
    compromised_at: datetime | None = None
    """From when the issuer reports its keys in other hands (``bkt_compromised_at``)."""
    pdf_sha256: str | None = None
    """base64url SHA-256 of its generation's PDF-signing certificate."""

    def in_use_at(self, moment: datetime) -> bool:
        """Its certificates were valid and the key in its period of use at `moment`."""
        if not self.not_before <= moment <= self.not_after:
            return False
        if self.in_use_from is not None and moment < self.in_use_from - CLOCK_SKEW:
            return False
        return self.retired_at is None or moment <= self.retired_at + CLOCK_SKEW

    def valid_at(self, moment: datetime) -> bool:
        """Something this key signed and dated `moment` itself can be taken at its word:
        in use then, and never reported compromised (whoever holds a compromised key
        can date anything)."""
        return self.compromised_at is None and self.in_use_at(moment)


def as_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))


def validate_chain(
    leaf: x509.Certificate,
    intermediates: Iterable[x509.Certificate],
    roots: Iterable[x509.Certificate],
    moment: datetime,
    key_usage: set[str],
) -> None:
    """Raise TrustError unless `leaf` chains to one of `roots` at `moment`."""
    context = ValidationContext(
        trust_roots=[as_asn1(r) for r in roots],
        other_certs=[as_asn1(c) for c in intermediates],
        moment=moment,
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    validator = CertificateValidator(as_asn1(leaf), validation_context=context)
    try:
        asyncio.run(validator.async_validate_usage(key_usage))
    except (PathBuildingError, PathValidationError) as exc:
        raise TrustError(f"certificate chain not trusted: {exc}") from None


def key_from_jwk(jwk: Mapping[str, Any], roots: Iterable[x509.Certificate]) -> TrustedKey:
    """Check one JWKS entry: its x5c chain leads to a pinned root and matches the key."""
    try:
        chain = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in jwk["x5c"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise TrustError(f"JWK without a usable x5c chain: {exc}") from None
    if not chain:
        raise TrustError("JWK without a usable x5c chain")
    leaf = chain[0]
    public_key = leaf.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(
        public_key.curve, ec.SECP256R1
    ):
        raise TrustError("credential key is not ECDSA P-256")
    kid = kid_for(public_key)
    if jwk.get("kid") != kid:
        raise TrustError("JWK kid does not match its certificate's thumbprint")
    not_before = max(c.not_valid_before_utc for c in chain)
    not_after = min(c.not_valid_after_utc for c in chain)
    if not_before > not_after:
        raise TrustError("certificate chain has no common validity period")
    roots = list(roots)
    validate_chain(leaf, chain[1:], roots, not_before + timedelta(seconds=1), {"digital_signature"})
    return TrustedKey(kid, public_key, institution_of(leaf), not_before, not_after,
                      **_lifecycle(jwk))


def _lifecycle(jwk: Mapping[str, Any]) -> dict[str, Any]:
    """The ``bkt_`` members of a JWK; TrustError if one is malformed (the key is then
    not trusted at all: a compromise that cannot be read must not be ignored)."""

    def moment(name: str) -> datetime | None:
        value = jwk.get(name)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise TrustError(f"JWK {name} is not a time: {value!r}") from None
        if parsed.tzinfo is None:
            raise TrustError(f"JWK {name} has no time zone")
        return parsed

    found = {"in_use_from": moment("bkt_not_before"), "retired_at": moment("bkt_retired_at"),
             "compromised_at": moment("bkt_compromised_at")}
    if found["in_use_from"] and found["retired_at"] and found["retired_at"] < found["in_use_from"]:
        raise TrustError("JWK retired before its period of use began")
    pdf = jwk.get("bkt_pdf_x5t#S256")
    if pdf is not None and not isinstance(pdf, str):
        raise TrustError("JWK bkt_pdf_x5t#S256 is not a string")
    return found | {"pdf_sha256": pdf}


def certificate_sha256(cert: x509.Certificate) -> str:
    """base64url SHA-256 of a certificate's DER (as in ``bkt_pdf_x5t#S256``)."""
    return b64url(hashlib.sha256(cert.public_bytes(Encoding.DER)).digest())


@dataclass(frozen=True)
class TrustStore:
    """The keys the verifier accepts credentials from, by kid."""

    roots: tuple[x509.Certificate, ...]
    keys: Mapping[str, TrustedKey]
    pdf_keys: Mapping[str, TrustedKey] = field(default_factory=dict)
    """The credential key of each PDF-signing certificate's generation, by the
    certificate's SHA-256: the PDF signer's life is its generation's."""

    @classmethod
    def from_jwks(
        cls, jwks: Mapping[str, Any], roots: Iterable[x509.Certificate]
    ) -> TrustStore:
        """Keep every key whose chain leads to a pinned root; drop the rest."""
        roots = tuple(roots)
        keys: dict[str, TrustedKey] = {}
        for jwk in jwks.get("keys", []):
            try:
                key = key_from_jwk(jwk, roots)
            except TrustError:
                continue
            keys[key.kid] = key
        pdf_keys = {k.pdf_sha256: k for k in keys.values() if k.pdf_sha256}
        return cls(roots, keys, pdf_keys)

    def key(self, kid: str) -> TrustedKey | None:
        return self.keys.get(kid)

    def pdf_key(self, cert: x509.Certificate) -> TrustedKey | None:
        """The generation of a PDF-signing certificate, if the JWKS names it (and for the
        institution the certificate names)."""
        key = self.pdf_keys.get(certificate_sha256(cert))
        return key if key is not None and key.institution == institution_of(cert) else None


# --- checks: was the key fit to sign when it signed? --------------------------------------


def _at(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def key_in_use_check(key: TrustedKey, issued: datetime | None) -> Check:
    """``credential_issuer_trusted``: the key's certificate valid and the key in its
    period of use when the credential says it was issued (fail: UNTRUSTED)."""
    if issued is not None and key.in_use_at(issued):
        th = "กุญแจของสถาบันได้รับการรับรองและใช้ได้ในวันที่ออกเอกสาร"
        en = "The institution's key was trusted and valid at issuance"
        if key.retired_at is not None:
            th += f" (เลิกใช้กุญแจนี้แล้วเมื่อ {_at(key.retired_at)})"
            en += f" (the key has been retired since {_at(key.retired_at)})"
        return Check("credential_issuer_trusted", Status.PASS, th, en)
    th, en = ("กุญแจไม่ได้รับการรับรองในวันที่ออกเอกสาร",
              "The key was not valid at the credential's issue time")
    if issued is not None and key.not_before <= issued <= key.not_after:
        if key.retired_at is not None and issued > key.retired_at:
            th += f": เลิกใช้กุญแจนี้แล้วเมื่อ {_at(key.retired_at)}"
            en += f": it was retired on {_at(key.retired_at)}"
        elif key.in_use_from is not None:
            th += f": เริ่มใช้กุญแจนี้เมื่อ {_at(key.in_use_from)}"
            en += f": it was put in use on {_at(key.in_use_from)}"
    return Check("credential_issuer_trusted", Status.FAIL, th, en)


def institution_check(key: TrustedKey, named: str) -> Check:
    """``credential_institution``: the key belongs to the institution the credential names
    (a centre's key cannot vouch for a school's transcript; fail: INVALID)."""
    if key.institution == named:
        return Check("credential_institution", Status.PASS,
                     "กุญแจที่ลงนามเป็นของสถาบันที่ระบุในข้อมูลรับรอง",
                     "The credential is signed by the key of the institution it names")
    return Check("credential_institution", Status.FAIL,
                 f"กุญแจที่ลงนามเป็นของสถาบัน {key.institution} ไม่ใช่ {named}",
                 f"The credential names institution {named} but is signed by the key of "
                 f"institution {key.institution}")


def key_checks(key: TrustedKey, issued_at: int, institution: str, *,
               signed_by: datetime | None = None) -> list[Check]:
    """A credential's checks of the key that signed it, once the signature passed:
    ``credential_issuer_trusted`` at the issue time it states (`issued_at`, seconds since
    the epoch), ``credential_institution`` against the `institution` it names and, for a
    key reported compromised only, ``credential_key_not_compromised`` (`signed_by`: a
    trusted timestamp's time by which it existed)."""
    try:
        issued: datetime | None = datetime.fromtimestamp(issued_at, UTC)
    except (OverflowError, OSError, ValueError):  # an issue time no calendar holds
        issued = None
    checks = [key_in_use_check(key, issued), institution_check(key, institution)]
    compromised = compromise_check("credential_key_not_compromised", key, issued, signed_by)
    return checks + ([compromised] if compromised else [])


def compromise_check(cid: str, key: TrustedKey, claimed: datetime | None,
                     proven: datetime | None, *, pdf: bool = False) -> Check | None:
    """For a key reported compromised, `cid` (``credential_key_not_compromised`` or
    ``pdf_key_not_compromised``); None for any other key.

    `claimed` is the signing time the signature states itself (a credential's ``iat``,
    a PDF's signing time), `proven` the time of a trusted timestamp over it, if any.
    Signed at or after the compromise (by either): fail, so INVALID. Before it, proven
    by a timestamp: pass. Before it by its own word only: indeterminate, since the
    key's holder can back-date it."""
    since = key.compromised_at
    if since is None:
        return None
    what_th, what_en = ("เอกสาร PDF", "the PDF") if pdf else ("ข้อมูลรับรอง", "the credential")
    head_th = f"สถาบันแจ้งว่ากุญแจที่ลงนาม{what_th}นี้อาจตกอยู่ในมือผู้อื่นตั้งแต่ {_at(since)}"
    head_en = (f"The institution reported the key that signed {what_en} compromised "
               f"since {_at(since)}")
    if (claimed is not None and claimed >= since) or (proven is not None and proven >= since):
        when = proven if proven is not None and proven >= since else claimed
        assert when is not None
        return Check(cid, Status.FAIL,
                     f"{head_th} และ{what_th}นี้ลงนามเมื่อ {_at(when)} หลังจากนั้น จึงใช้ไม่ได้",
                     f"{head_en}; {what_en} was signed on {_at(when)}, after that, and is void")
    if proven is not None:
        return Check(cid, Status.PASS,
                     f"{head_th} แต่การประทับเวลาที่เชื่อถือได้ยืนยันว่าลงนามก่อนหน้านั้น "
                     f"เมื่อ {_at(proven)}",
                     f"{head_en}, but a trusted timestamp proves it was signed before that, "
                     f"on {_at(proven)}")
    said_th = f"ระบุว่าลงนามเมื่อ {_at(claimed)}" if claimed else "ไม่ระบุเวลาที่ลงนาม"
    said_en = (f"says it was signed on {_at(claimed)}, before that," if claimed
               else "states no signing time,")
    return Check(cid, Status.INDETERMINATE,
                 f"{head_th} {what_th}นี้{said_th} แต่วันที่นั้นยืนยันโดยกุญแจเองเท่านั้น "
                 "ซึ่งผู้ถือกุญแจย้อนวันที่ได้ จึงยืนยันไม่ได้ว่าเป็นของแท้ "
                 "โปรดขอฉบับที่ออกใหม่จากสถาบัน",
                 f"{head_en}. {what_en[0].upper()}{what_en[1:]} {said_en} but only the key itself "
                 "vouches for that date, and whoever holds the key can back-date it: it "
                 "cannot be shown genuine. Ask the institution for a newly issued copy")


def pdf_key_checks(trust: TrustStore, signer: x509.Certificate, claimed: datetime | None,
                   proven: datetime | None) -> list[Check]:
    """The compromise rule for a PDF's signer (`compromise_check`), when the JWKS names
    its generation."""
    key = trust.pdf_key(signer)
    check = None if key is None else compromise_check("pdf_key_not_compromised", key,
                                                      claimed, proven, pdf=True)
    return [] if check is None else [check]
