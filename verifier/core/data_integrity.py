"""Data Integrity proofs with the ``ecdsa-rdfc-2019`` cryptosuite (P-256).

As the W3C spec defines it: the proof options (the proof without ``proofValue``, with
the document's ``@context``) and the document without its proof are each canonicalised
with RDFC-1.0 and hashed with SHA-256; the signature is ECDSA P-256 / SHA-256 over
``proofHash || documentHash``, in IEEE P1363 form (``r || s``, 64 bytes), written as
multibase base58btc (``z...``).

The private key is only ever used through ``key.sign(data, ec.ECDSA(hashes.SHA256()))``,
so a PKCS#11 token key (`issuer.adapters.hsm`) signs as well as a file key.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from verifier.core import jsonld, multikey

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "ecdsa-rdfc-2019"
PURPOSE = "assertionMethod"


class ProofError(ValueError):
    """The proof is missing, malformed or does not verify. One type for every case."""


def _time(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("proof time must be timezone-aware")
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def hash_data(document: dict[str, Any], proof_options: dict[str, Any]) -> bytes:
    """``SHA-256(canonical proof options) || SHA-256(canonical document)``."""
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    options = {k: v for k, v in proof_options.items() if k != "proofValue"}
    options["@context"] = document["@context"]
    return (hashlib.sha256(jsonld.canonize(options).encode()).digest()
            + hashlib.sha256(jsonld.canonize(unsecured).encode()).digest())


def add_proof(document: dict[str, Any], key: ec.EllipticCurvePrivateKey,
              verification_method: str, created: datetime) -> dict[str, Any]:
    """`document` with an ``ecdsa-rdfc-2019`` proof by `key`, named by the DID URL
    `verification_method`."""
    proof = {"type": PROOF_TYPE, "cryptosuite": CRYPTOSUITE, "created": _time(created),
             "verificationMethod": verification_method, "proofPurpose": PURPOSE}
    der = key.sign(hash_data(document, proof), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    proof["proofValue"] = multikey.multibase(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    return {**{k: v for k, v in document.items() if k != "proof"}, "proof": proof}


def proof_of(document: Any) -> dict[str, Any]:
    """The document's single ``ecdsa-rdfc-2019`` assertion proof; ProofError otherwise."""
    proof = document.get("proof") if isinstance(document, dict) else None
    if not isinstance(proof, dict):
        raise ProofError("no single proof")
    if (proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE
            or proof.get("proofPurpose") != PURPOSE
            or not isinstance(proof.get("verificationMethod"), str)):
        raise ProofError("not an ecdsa-rdfc-2019 assertion proof")
    return proof


def verify_proof(document: Any, public_key: ec.EllipticCurvePublicKey) -> dict[str, Any]:
    """Check the proof against `public_key` (the caller resolved ``verificationMethod``
    to it and trusts it); return the proof, or raise ProofError."""
    proof = proof_of(document)
    try:
        signature = multikey.from_multibase(proof.get("proofValue"))
        if len(signature) != 64:
            raise ProofError("proofValue is not a P-256 signature")
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                                   int.from_bytes(signature[32:], "big"))
        public_key.verify(der, hash_data(document, proof), ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, multikey.MultikeyError, jsonld.JsonLdError, ValueError,
            TypeError, KeyError) as exc:
        raise ProofError("proof does not verify") from exc
    return proof
