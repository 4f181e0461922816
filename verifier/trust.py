"""Trust: pinned BMA root certificates and the credential keys they vouch for.

Keys come from the issuer's JWKS (`/.well-known/jwks.json`), each with an `x5c`
chain; a key is accepted only if its chain leads to a pinned root. A key must
have been valid when the credential was issued: later expiry does not matter.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError

from verifier.core.credential import kid_for


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

    def valid_at(self, moment: datetime) -> bool:
        return self.not_before <= moment <= self.not_after


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
    return TrustedKey(kid, public_key, institution_of(leaf), not_before, not_after)


@dataclass(frozen=True)
class TrustStore:
    """The keys the verifier accepts credentials from, by kid."""

    roots: tuple[x509.Certificate, ...]
    keys: Mapping[str, TrustedKey]

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
        return cls(roots, keys)

    def key(self, kid: str) -> TrustedKey | None:
        return self.keys.get(kid)
