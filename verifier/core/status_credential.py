"""Signed status lists: a W3C Bitstring Status List credential as a compact ES256 JWS.

Each institution publishes two lists, both indexed by the QR credential's status index
(claim ``s``), both signed by the institution's own credential key:

- ``statusPurpose: "revocation"`` -- a set bit means the transcript version is revoked;
- ``statusPurpose: "refresh"`` -- a set bit means it was superseded: a corrected version
  exists. (W3C defines "refresh" as "an updated credential is available"; unlike
  "suspension" it is not meant to be cleared again.)

Header ``{"alg":"ES256","kid":<credential key kid>,"typ":"bkt-status"}``. Payload, the
W3C ``BitstringStatusListCredential`` data model::

    {"@context": ["https://www.w3.org/ns/credentials/v2"],
     "type": ["VerifiableCredential", "BitstringStatusListCredential"],
     "id": "urn:bkt:status:1001:revocation",
     "issuer": "urn:bkt:institution:1001",
     "sequence": 42,
     "validFrom": "2026-04-02T03:00:00Z", "validUntil": "2026-05-02T03:00:00Z",
     "credentialSubject": {"id": "urn:bkt:status:1001:revocation#list",
                           "type": "BitstringStatusList", "statusPurpose": "revocation",
                           "encodedList": "uH4sI...", "ttl": 30000}}

``ttl`` is in milliseconds, as W3C defines it (the Python side speaks seconds). A
verifier re-fetches a list after its ttl and must not use it after ``validUntil``: the
issuer re-signs its lists every few hours and on every revocation or reissue.

``sequence`` (an addition to the W3C model) numbers the institution's publications: it
grows with every one and is never reused (`issuer.services.publishing`), so a verifier
that has seen number N refuses any list numbered below N -- a copy replayed by a cache,
a mirror or an attacker (`verifier.sources`). How old a list may be, and how far in the
future its ``validFrom`` may lie, is the verifier's policy (`verifier.core.freshness`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jws

from verifier.core import jws_header
from verifier.core import status_list as sl
from verifier.core.canonical import b64url_decode
from verifier.core.status_list import StatusListError

ALG = "ES256"
TYP = "bkt-status"
REVOCATION = "revocation"
SUPERSESSION = "refresh"
PURPOSES = (REVOCATION, SUPERSESSION)
CONTEXT = "https://www.w3.org/ns/credentials/v2"
TYPES = ["VerifiableCredential", "BitstringStatusListCredential"]
DEFAULT_TTL = timedelta(seconds=30)
DEFAULT_VALIDITY = timedelta(days=30)
MAX_TOKEN = 6 * 1024 * 1024
INSTITUTION_CODE = re.compile(r"[A-Za-z0-9]{1,32}")

__all__ = ["StatusList", "StatusListError", "build", "sign", "verify"]


class StatusKey(Protocol):
    """What the verifier knows of a trusted key (``verifier.trust.TrustedKey`` is one)."""

    public_key: ec.EllipticCurvePublicKey
    institution: str

    def valid_at(self, moment: datetime) -> bool: ...


@dataclass(frozen=True)
class StatusList:
    """One signed list: whose, for what, the bits, and how long it may be used."""

    institution: str
    purpose: str
    bits: bytes
    valid_from: datetime
    valid_until: datetime
    ttl_seconds: int
    sequence: int = 0
    """The publication's number: grows with every list of this institution, never reused."""

    def is_set(self, index: int) -> bool:
        """The bit at `index`; StatusListError if the index lies outside the list."""
        return sl.get_bit(self.bits, index)

    def expired(self, moment: datetime) -> bool:
        return moment > self.valid_until

    def to_payload(self) -> dict[str, Any]:
        list_id = f"urn:bkt:status:{self.institution}:{self.purpose}"
        return {
            "@context": [CONTEXT],
            "type": list(TYPES),
            "id": list_id,
            "issuer": f"urn:bkt:institution:{self.institution}",
            "sequence": self.sequence,
            "validFrom": iso_time(self.valid_from),
            "validUntil": iso_time(self.valid_until),
            "credentialSubject": {
                "id": list_id + "#list",
                "type": "BitstringStatusList",
                "statusPurpose": self.purpose,
                "encodedList": sl.encode(self.bits),
                "ttl": self.ttl_seconds * 1000,
            },
        }

    @classmethod
    def from_payload(cls, payload: Any) -> StatusList:
        try:
            subject = payload["credentialSubject"]
            if payload["type"] != TYPES or subject["type"] != "BitstringStatusList":
                raise ValueError("not a BitstringStatusListCredential")
            issuer = as_text(payload["issuer"])
            if not issuer.startswith("urn:bkt:institution:"):
                raise ValueError("issuer is not an institution")
            ttl = subject["ttl"]
            if type(ttl) is not int or ttl < 0:
                raise ValueError("ttl is not a number of milliseconds")
            sequence = payload.get("sequence")
            if type(sequence) is not int or not 0 < sequence < 2**63:
                raise ValueError("no sequence number (a list from before they were numbered)")
            result = cls(
                institution=issuer.removeprefix("urn:bkt:institution:"),
                purpose=as_text(subject["statusPurpose"]),
                bits=sl.decode(subject["encodedList"]),
                valid_from=parse_time(payload["validFrom"]),
                valid_until=parse_time(payload["validUntil"]),
                ttl_seconds=ttl // 1000,
                sequence=sequence,
            )
        except StatusListError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StatusListError(f"malformed status list: {exc}") from None
        if result.purpose not in PURPOSES or not INSTITUTION_CODE.fullmatch(result.institution):
            raise StatusListError("malformed status list: purpose or institution")
        if result.valid_until < result.valid_from:
            raise StatusListError("malformed status list: validUntil before validFrom")
        return result


def as_text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def iso_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_time(text: Any) -> datetime:
    moment = datetime.fromisoformat(as_text(text).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("date-time without a time zone")
    return moment.astimezone(UTC)


def build(
    institution: str,
    purpose: str,
    indexes: Iterable[int],
    now: datetime,
    *,
    sequence: int,
    ttl: timedelta = DEFAULT_TTL,
    validity: timedelta = DEFAULT_VALIDITY,
) -> StatusList:
    """A list with the bits at `indexes` set, valid from `now` for `validity`, numbered
    `sequence` (see the module's docstring)."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown status purpose {purpose!r}")
    if not INSTITUTION_CODE.fullmatch(institution):
        raise ValueError(f"institution code must be alphanumeric: {institution!r}")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not 0 < sequence < 2**63:
        raise ValueError("a sequence number is positive")
    indexes = sorted(set(indexes))
    if indexes and indexes[0] < 0:
        raise ValueError("status indexes are not negative")
    bits = sl.new_bitstring((indexes[-1] + 1) if indexes else 0)
    for index in indexes:
        sl.set_bit(bits, index)
    now = now.replace(microsecond=0)
    return StatusList(institution, purpose, bytes(bits), now, now + validity,
                      int(ttl.total_seconds()), sequence)


def sign(status: StatusList, private_key: ec.EllipticCurvePrivateKey, kid: str) -> str:
    """The compact JWS of `status`, signed by the institution's credential key."""
    return sign_payload(status.to_payload(), private_key, kid, typ=TYP)


def sign_payload(payload: dict[str, Any], private_key: ec.EllipticCurvePrivateKey, kid: str,
                 *, typ: str) -> str:
    """A compact ES256 JWS of the JSON `payload` with header ``{alg, kid, typ}``."""
    data = json.dumps(payload, separators=(",", ":")).encode()
    header = {"alg": ALG, "kid": kid, "typ": typ}
    return jws.serialize_compact(header, data, jws_header.signing_key(private_key),
                                 algorithms=[ALG])


def header_kid(token: str) -> str | None:
    """The `kid` of a token's header, unverified (to look the key up), or None."""
    try:
        kid = jws_header.parse(token.strip(), StatusListError, "status list").get("kid")
    except (StatusListError, AttributeError):
        return None
    return kid if isinstance(kid, str) else None


def verify(
    token: str,
    resolve_key: Callable[[str], StatusKey | None],
    institution: str,
    purpose: str,
) -> StatusList:
    """Check a signed list; return it or raise StatusListError.

    It must be ES256 by a trusted key of `institution` itself, valid when the list was
    issued, and be that institution's `purpose` list. Expiry (``validUntil``) and age are
    left to the caller, which tells an expired or stale list from a forged one.
    """
    key, payload = verify_signed(token, resolve_key, institution, typ=TYP, what="status list")
    status = StatusList.from_payload(payload)
    if status.institution != institution or status.purpose != purpose:
        raise StatusListError("status list is for another institution or purpose")
    if not key.valid_at(status.valid_from):
        raise StatusListError("status list key was not valid when the list was issued")
    return status


def verify_signed(
    token: str,
    resolve_key: Callable[[str], StatusKey | None],
    institution: str,
    *,
    typ: str,
    what: str,
) -> tuple[StatusKey, Any]:
    """The key and JSON payload of a compact ES256 JWS of type `typ` signed by a trusted
    key of `institution`; StatusListError otherwise (status lists and status details)."""
    token = token.strip() if isinstance(token, str) else ""
    if len(token) > MAX_TOKEN or token.count(".") != 2:
        raise StatusListError(f"{what} is not a compact JWS")
    kid = jws_header.key_id(token, alg=ALG, typ=typ, error=StatusListError, what=what)
    key = resolve_key(kid)
    if key is None:
        raise StatusListError(f"{what} key is unknown or not trusted")
    if key.institution != institution:
        raise StatusListError(f"{what} signed by another institution's key")
    payload = jws_header.signed_payload(token, key.public_key, error=StatusListError,
                                        what=what)
    return key, payload


def sequence_of(token: str) -> int:
    """The ``sequence`` of a signed status document, read WITHOUT checking the signature
    (0 if there is none): only for the issuer, to number its next publication above
    whatever is already published."""
    try:
        payload = json.loads(b64url_decode(token.strip().split(".")[1]))
        sequence = payload.get("sequence") if isinstance(payload, dict) else None
    except (ValueError, IndexError, UnicodeDecodeError, RecursionError, AttributeError):
        return 0
    return sequence if type(sequence) is int and sequence > 0 else 0
