"""``did:web`` for the issuer's public base URL, and its DID document.

``http://127.0.0.1:8000`` is ``did:web:127.0.0.1%3A8000`` (the port's colon
percent-encoded); a base URL with a path (``https://host/bkt``) is ``did:web:host:bkt``,
whose document lives at ``{base}/did.json`` rather than ``/.well-known/did.json``.
The document lists every institution's credential keys, current and retired, as
Multikey verification methods ``{did}#{code}-{kid}`` (stable per key generation: the
kid is the key's RFC 7638 thumbprint prefix), each an ``assertionMethod`` unless it was
reported compromised: a DID document cannot say "valid for what it signed before a
date", and a VC has no trusted timestamp to prove that date, so a compromised key stays
listed but asserts nothing (its credentials fail for third parties; fail closed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from cryptography.hazmat.primitives.asymmetric import ec

from verifier.core import multikey

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"


def did_for(base_url: str) -> str:
    """The did:web of a base URL (scheme and query dropped, port kept as ``%3A``)."""
    parts = urlsplit(base_url.strip())
    if not parts.hostname:
        raise ValueError(f"not an absolute URL: {base_url!r}")
    host = parts.hostname + (f"%3A{parts.port}" if parts.port else "")
    path = [quote(p, safe="") for p in parts.path.split("/") if p]
    return ":".join(["did:web", host, *path])


def document_path(base_url: str) -> str:
    """Where the DID document is served, relative to the host's root."""
    path = urlsplit(base_url.strip()).path.strip("/")
    return f"/{path}/did.json" if path else "/.well-known/did.json"


def method_id(did: str, institution: str, kid: str) -> str:
    return f"{did}#{institution}-{kid}"


@dataclass(frozen=True)
class Method:
    """One institution's credential key generation, as the DID document lists it."""

    institution: str
    kid: str
    public_key: ec.EllipticCurvePublicKey
    asserts: bool = True
    """False for a key reported compromised: listed, but not an ``assertionMethod``."""


def document(did: str, methods: Iterable[Method]) -> dict[str, Any]:
    """The DID document: every key a Multikey, an ``assertionMethod`` unless compromised."""
    methods = list(methods)
    entries = [{"id": method_id(did, m.institution, m.kid), "type": "Multikey",
                "controller": did, "publicKeyMultibase": multikey.encode_p256(m.public_key)}
               for m in methods]
    return {"@context": [DID_CONTEXT, MULTIKEY_CONTEXT], "id": did,
            "verificationMethod": entries,
            "assertionMethod": [e["id"] for e, m in zip(entries, methods, strict=True)
                                if m.asserts]}


def find_method(doc: Any, method: str) -> ec.EllipticCurvePublicKey | None:
    """The P-256 key of verification method `method` if `doc` lists it as an
    ``assertionMethod``; None otherwise."""
    if not isinstance(doc, dict) or method not in (doc.get("assertionMethod") or []):
        return None
    for entry in doc.get("verificationMethod") or []:
        if isinstance(entry, dict) and entry.get("id") == method:
            try:
                return multikey.decode_p256(entry.get("publicKeyMultibase"))
            except multikey.MultikeyError:
                return None
    return None
