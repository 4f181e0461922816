"""Documents the issuer publishes for verifiers: the JWKS of credential keys.

Until the issuer's web service exists these are written as files under
``var/published/.well-known/``; verifiers read them from that path or a URL.
Retired keys stay published forever, so old transcripts keep verifying.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from joserfc.jwk import ECKey

from verifier.core.credential import ALG, kid_for


def jwk_for(credential_cert: x509.Certificate, chain: Iterable[x509.Certificate]) -> dict[str, Any]:
    """A public JWK with its x5c chain (leaf first, root excluded: verifiers pin it)."""
    public_key = credential_cert.public_key()
    jwk = ECKey.import_key(public_key).as_dict(private=False)  # type: ignore[arg-type]
    certs = [credential_cert, *(c for c in chain if c.subject != c.issuer)]
    return jwk | {
        "kid": kid_for(public_key),  # type: ignore[arg-type]
        "use": "sig",
        "alg": ALG,
        "x5c": [base64.b64encode(c.public_bytes(Encoding.DER)).decode() for c in certs],
    }


def jwks_document(entries: Iterable[tuple[x509.Certificate, Iterable[x509.Certificate]]]) -> dict:
    """``{"keys": [...]}`` for every (credential certificate, chain) given."""
    return {"keys": [jwk_for(cert, chain) for cert, chain in entries]}


def write_json(path: Path, document: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)
    return path
