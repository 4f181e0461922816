"""Sign the QR credential (ES256 compact JWS) with the institution's credential key."""

from __future__ import annotations

from issuer.adapters.pki import InstitutionKeys
from verifier.core.credential import Claims, sign


def sign_credential(claims: Claims, keys: InstitutionKeys) -> str:
    """The compact JWS of `claims`, ``kid`` taken from the credential certificate."""
    if claims.institution != keys.code:
        raise ValueError(
            f"claims name institution {claims.institution!r}, keys belong to {keys.code!r}"
        )
    return sign(claims, keys.credential_key, keys.kid)
