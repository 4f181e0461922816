"""The VC 2.0 export: each transcript version as a signed Open Badges 3.0 credential
(``{pdf path without .pdf}.vc.json`` beside its PDF), and what verifiers need to check
it: the issuer's DID document (``.well-known/did.json``) and the status lists as
``BitstringStatusListCredential``s (``status/<code>/<purpose>.vc.json``).

Everything is signed with the institution's P-256 credential key, the one that signs
the QR credential and the JWS status lists (``ecdsa-rdfc-2019``,
`verifier.core.data_integrity`). Format and mapping: docs/interop.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric import ec

from issuer.adapters.publish import STATUS_DIR, write_json
from issuer.core.record_json import to_dict
from verifier.core import data_integrity, did_web, open_badge, status_credential, status_vc
from verifier.core.credential import kid_for
from verifier.core.jsonld import BKT_V1, CONTEXT_FILES, CONTEXTS_DIR

if TYPE_CHECKING:
    from cryptography import x509

    from issuer.adapters.pki import InstitutionKeys
    from issuer.core.records import TranscriptRecord

DID_PATH = Path(".well-known/did.json")
CONTEXT_PATH = Path("ns/transcript/v1.jsonld")
"""Where our context (`verifier.core.jsonld.BKT_V1`) is published."""
SUFFIX = ".vc.json"


def vc_path_for(pdf_path: str) -> str:
    """The credential's path beside the PDF's (``1001/T-v1-7.pdf`` -> ``...-7.vc.json``)."""
    return pdf_path.removesuffix(".pdf") + SUFFIX


def method_for(keys: InstitutionKeys, base_url: str) -> str:
    return did_web.method_id(did_web.did_for(base_url), keys.code, keys.kid)


def transcript_credential(record: TranscriptRecord, record_digest: str,
                          keys: InstitutionKeys, base_url: str) -> dict[str, Any]:
    """The signed credential of one transcript version (proof dated its issue time)."""
    did = did_web.did_for(base_url)
    unsigned = open_badge.credential(
        to_dict(record), did=did, record_digest=record_digest,
        status=status_vc.entries(base_url, keys.code, record.status_index))
    return data_integrity.add_proof(unsigned, keys.credential_key,
                                    method_for(keys, base_url), record.issued_at)


def to_bytes(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def did_document(base_url: str,
                 entries: Iterable[tuple[str, x509.Certificate, bool]]) -> dict[str, Any]:
    """The DID document of every (institution code, credential certificate, compromised)
    given; a compromised key is listed but asserts nothing (`verifier.core.did_web`)."""
    methods = []
    for code, cert, compromised in entries:
        public_key = cert.public_key()
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
        methods.append(did_web.Method(code, kid_for(public_key), public_key,
                                      asserts=not compromised))
    return did_web.document(did_web.did_for(base_url), methods)


def write_did_document(published_dir: Path, base_url: str,
                       entries: Iterable[tuple[str, x509.Certificate, bool]]) -> Path:
    """``.well-known/did.json`` (and our JSON-LD context beside it, for third parties)."""
    context = Path(published_dir) / CONTEXT_PATH
    context.parent.mkdir(parents=True, exist_ok=True)
    tmp = context.with_suffix(".tmp")
    tmp.write_bytes((CONTEXTS_DIR / CONTEXT_FILES[BKT_V1]).read_bytes())
    tmp.replace(context)
    return write_json(Path(published_dir) / DID_PATH, did_document(base_url, entries))


def status_list_credentials(keys: InstitutionKeys, revoked: Iterable[int],
                            superseded: Iterable[int], now: datetime, *, sequence: int,
                            base_url: str) -> dict[str, dict[str, Any]]:
    """``{purpose: signed BitstringStatusListCredential}`` for revocation and refresh."""
    did = did_web.did_for(base_url)
    method = method_for(keys, base_url)
    out = {}
    for purpose, indexes in ((status_credential.REVOCATION, revoked),
                             (status_credential.SUPERSESSION, superseded)):
        status = status_credential.build(keys.code, purpose, indexes, now, sequence=sequence)
        unsigned = status_vc.credential(status, did=did, base_url=base_url)
        out[purpose] = data_integrity.add_proof(unsigned, keys.credential_key, method,
                                                status.valid_from)
    return out


def status_vc_path(published_dir: Path, code: str, purpose: str) -> Path:
    return Path(published_dir) / STATUS_DIR / code / f"{purpose}{SUFFIX}"


def write_status_list_credentials(published_dir: Path, keys: InstitutionKeys,
                                  revoked: Iterable[int], superseded: Iterable[int],
                                  now: datetime, *, sequence: int,
                                  base_url: str) -> list[Path]:
    documents = status_list_credentials(keys, revoked, superseded, now, sequence=sequence,
                                        base_url=base_url)
    return [write_json(status_vc_path(published_dir, keys.code, purpose), document)
            for purpose, document in documents.items()]
