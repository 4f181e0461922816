"""Sign the QR credential with the institution's credential key.

New credentials are compact (COSE_Sign1 in digits, `verifier.core.compact`); the verifier
still accepts the compact JWS credentials issued before (`sign_credential_jws`).
"""

from __future__ import annotations

import json

from issuer.adapters.pki import InstitutionKeys
from verifier.core import sd_jwt_vc
from verifier.core.credential import Claims, sign, sign_compact


def sign_credential(claims: Claims, keys: InstitutionKeys) -> str:
    """The compact credential (``BKT1:<digits>``) of `claims`, ``kid`` of the credential
    certificate."""
    _check_institution(claims, keys)
    return sign_compact(claims, keys.credential_key, keys.kid)


def sign_credential_jws(claims: Claims, keys: InstitutionKeys) -> str:
    """The compact JWS of `claims` (the format issued before ``BKT1``)."""
    _check_institution(claims, keys)
    return sign(claims, keys.credential_key, keys.kid)


def _check_institution(claims: Claims, keys: InstitutionKeys) -> None:
    if claims.institution != keys.code:
        raise ValueError(
            f"claims name institution {claims.institution!r}, keys belong to {keys.code!r}"
        )


def sd_jwt_path_for(pdf_path: str) -> str:
    """Where the SD-JWT VC with every disclosure is written: beside its PDF (``1001/T-v1-7.pdf``
    -> ``...-7.sd-jwt``), with the same 0600 protection."""
    return pdf_path.removesuffix(".pdf") + ".sd-jwt"


def sign_sd_jwt(record_json: bytes, keys: InstitutionKeys, public_url: str) -> str:
    """The SD-JWT VC of a record (`transcript.json`) with every disclosure, signed by the
    credential key under the JWKS's ``kid`` (`verifier.core.sd_jwt_vc`); its status in the
    Token Status List the issuer serves under `public_url`."""
    record = json.loads(record_json)
    code = record["institution"]["code"]
    if code != keys.code:
        raise ValueError(f"record names institution {code!r}, keys belong to {keys.code!r}")
    return sd_jwt_vc.sign(record, keys.credential_key, keys.kid,
                          status_uri=sd_jwt_vc.status_uri(public_url, code))
