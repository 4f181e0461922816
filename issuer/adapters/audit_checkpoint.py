"""Signed checkpoints of the audit chain's head, published beside the status lists.

A checkpoint is a compact JWS (ES256) by the audit signing key (`issuer.adapters.pki`,
``keys/audit.crt``: extendedKeyUsage `AUDIT_SIGNING`, under the Issuing CA), header
``{"alg": "ES256", "typ": "bkt-audit-checkpoint", "x5c": [leaf, issuing CA]}`` (root
left out: whoever checks pins it), payload (canonical JSON)::

    {"at": "2026-12-02T09:30:00Z", "events": 11, "head_hash": "<hex>", "head_id": 11,
     "legacy_head_id": 0, "seq": 4}

``seq`` grows by one per checkpoint and never goes back; ``head_id``/``head_hash`` are
the newest event then (0 and 64 zeros for an empty log), ``events`` how many events
the log held up to it, ``legacy_head_id`` the last pre-keyed event (0: none).

Files under the published directory (served at the same paths)::

    audit/checkpoint.jws            the latest
    audit/checkpoints/<seq>.jws     every one, never overwritten

A database writer has neither the signing key nor these files, and operators keep the
copies they fetch: a log cut short or rewritten below a checkpoint no longer matches it.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jws
from joserfc.jwk import ECKey
from joserfc.jws import JWSRegistry

from issuer.adapters.pki import AUDIT_SIGNING, AuditSigner
from issuer.adapters.publish import file_lock, x5c
from verifier.core import jws_header
from verifier.core.canonical import canonical_json
from verifier.trust import TrustError, validate_chain

ALG = "ES256"
TYP = "bkt-audit-checkpoint"
HEADER = frozenset({"alg", "typ", "x5c"})
LATEST = Path("audit/checkpoint.jws")
HISTORY = Path("audit/checkpoints")
MAX_TOKEN = 64 * 1024
_HEX64 = re.compile(r"[0-9a-f]{64}")
_FIELDS = ("seq", "head_id", "head_hash", "events", "legacy_head_id", "at")


def _registry() -> JWSRegistry:
    registry = JWSRegistry(algorithms=[ALG])
    registry.max_header_length = 16 * 1024  # the x5c chain (joserfc's default is 512 bytes)
    return registry


class CheckpointError(ValueError):
    """A checkpoint that cannot be trusted or read. One type for every reason."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    head_id: int
    head_hash: str
    events: int
    legacy_head_id: int
    at: datetime

    def to_payload(self) -> dict[str, Any]:
        return {
            "seq": self.seq, "head_id": self.head_id, "head_hash": self.head_hash,
            "events": self.events, "legacy_head_id": self.legacy_head_id,
            "at": self.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    @classmethod
    def from_payload(cls, payload: Any) -> Checkpoint:
        if not isinstance(payload, dict) or set(payload) != set(_FIELDS):
            raise CheckpointError("checkpoint payload has unexpected fields")
        numbers = [payload[k] for k in ("seq", "head_id", "events", "legacy_head_id")]
        if any(type(v) is not int or v < 0 for v in numbers):
            raise CheckpointError("checkpoint payload: numbers must be non-negative integers")
        if not isinstance(payload["head_hash"], str) or not _HEX64.fullmatch(
                payload["head_hash"]):
            raise CheckpointError("checkpoint payload: head_hash is not 64 hex digits")
        try:
            at = datetime.strptime(payload["at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except (TypeError, ValueError):
            raise CheckpointError("checkpoint payload: bad time") from None
        return cls(payload["seq"], payload["head_id"], payload["head_hash"],
                   payload["events"], payload["legacy_head_id"], at)


def sign(checkpoint: Checkpoint, signer: AuditSigner) -> str:
    """The compact JWS of `checkpoint` by the audit signing key, its chain in ``x5c``."""
    header = {"alg": ALG, "typ": TYP, "x5c": x5c([signer.cert, *signer.chain])}
    return jws.serialize_compact(header, canonical_json(checkpoint.to_payload()),
                                 ECKey.import_key(signer.key), algorithms=[ALG])


def verify(token: str, roots: Iterable[x509.Certificate]) -> Checkpoint:
    """Check a checkpoint: header exactly ``alg``/``typ``/``x5c``; its leaf certificate
    for `AUDIT_SIGNING`, chaining to one of `roots` when the checkpoint was made; the
    signature. Return it, or raise CheckpointError."""
    token = token.strip() if isinstance(token, str) else ""
    if len(token) > MAX_TOKEN or token.count(".") != 2:
        raise CheckpointError("checkpoint is not a compact JWS")
    header = jws_header.parse(token, CheckpointError, "checkpoint")
    if header.get("alg") != ALG or header.get("typ") != TYP or set(header) != HEADER:
        raise CheckpointError("checkpoint header not accepted")
    chain = _certificates(header["x5c"])
    leaf = chain[0]
    public_key = leaf.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(
            public_key.curve, ec.SECP256R1):
        raise CheckpointError("checkpoint key is not ECDSA P-256")
    try:
        usage = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usage = []
    if AUDIT_SIGNING not in usage:
        raise CheckpointError("checkpoint signed by a key not meant for the audit log")
    try:
        compact = jws.deserialize_compact(token, ECKey.import_key(public_key),
                                          registry=_registry())
        checkpoint = Checkpoint.from_payload(json.loads(compact.payload))
    except CheckpointError:
        raise
    except Exception:  # joserfc raises more than JoseError on odd input; one answer for all
        raise CheckpointError("checkpoint signature is not valid") from None
    try:
        validate_chain(leaf, chain[1:], list(roots), checkpoint.at, {"digital_signature"})
    except TrustError as e:
        raise CheckpointError(f"checkpoint signer not trusted: {e}") from None
    return checkpoint


def _certificates(value: Any) -> list[x509.Certificate]:
    if not isinstance(value, list) or not 1 <= len(value) <= 4:
        raise CheckpointError("checkpoint x5c must be a list of 1-4 certificates")
    try:
        return [x509.load_der_x509_certificate(base64.b64decode(c, validate=True))
                for c in value]
    except (TypeError, ValueError):
        raise CheckpointError("checkpoint x5c holds something else than certificates") \
            from None


# --- files ---------------------------------------------------------------------------------


def latest_path(published_dir: Path) -> Path:
    return Path(published_dir) / LATEST


def history_path(published_dir: Path, seq: int) -> Path:
    return Path(published_dir) / HISTORY / f"{seq}.jws"


def read_latest(published_dir: Path) -> str | None:
    """The latest published checkpoint's token, or None if there is none yet."""
    try:
        return latest_path(published_dir).read_text("ascii").strip()
    except FileNotFoundError:
        return None


def lock(published_dir: Path) -> AbstractContextManager[None]:
    """One checkpoint writer at a time on this machine (held from reading the latest to
    writing the next)."""
    return file_lock(Path(published_dir) / LATEST.parent / ".lock")


def write(published_dir: Path, checkpoint: Checkpoint, token: str) -> Path:
    """Publish `token`: its history file first (refusing to overwrite one), then the
    latest (atomically); the latest's path."""
    history = history_path(published_dir, checkpoint.seq)
    history.parent.mkdir(parents=True, exist_ok=True)
    with history.open("x", encoding="ascii") as f:  # a seq is published once
        f.write(token + "\n")
    latest = latest_path(published_dir)
    tmp = latest.with_suffix(".tmp")
    tmp.write_text(token + "\n", encoding="ascii")
    tmp.replace(latest)
    return latest
