"""The QR credential: a compact ES256 JWS over a short-keyed JSON payload.

QR content is ``{verifier base URL}/v#{compact JWS}``. Header:
``{"alg":"ES256","kid":<11-char prefix of the RFC 7638 thumbprint>,"typ":"bkt"}``.
Payload keys are one letter to keep the QR at version 17 or below (DESIGN.md).

The student's names: ``m`` holds the Thai and the English name (given and family,
no title) as ``"<Thai>\n<English>"`` in TIS-620, base64url. Thai costs one byte a
character there instead of UTF-8's three, so both names together take fewer bytes of
the QR than the Thai name alone did as ``n`` (UTF-8 JSON text), which credentials
issued before carry and which a name outside TIS-620 still uses (with ``e`` for the
English name). `shorten` bounds each name, so the payload is bounded whatever the
name's length.
"""

from __future__ import annotations

import base64
import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jws
from joserfc.jwk import ECKey

from verifier.core import compact, jws_header
from verifier.core.canonical import b64url, b64url_decode

ALG = "ES256"
TYP = "bkt"
KID_BYTES = 8  # like the EU digital COVID certificate's kid: a short thumbprint prefix
QR_PATH = "/v#"
NAMES_CODEC = "tis_620"  # ASCII plus the Thai block, one byte a character
MAX_NAME_TH = 32  # characters of the Thai name in the QR (longer ones are shortened)
MAX_NAME_EN = 32  # characters of the English name in the QR (bound: docs/qr.md)
SHORTENED = "..."  # ends a name shortened to fit the QR (ASCII: TIS-620 has no "…")


class CredentialError(ValueError):
    """Any reason a credential is not acceptable. One type, so no case is forgotten."""


@dataclass(frozen=True)
class Claims:
    """What the QR credential states, as a person reads it on the verifier page."""

    transcript_id: str
    version: int
    institution: str  # institution code
    name: str  # student's full name in Thai
    programme: str  # programme code
    gpa: str | None  # cumulative GPA "3.45"; None for a vocational certificate
    graduation_date: date | None
    issued_at: int  # seconds since the epoch
    status_index: int  # index in the institution's status list
    record_digest: str  # base64url SHA-256 of the canonical record
    name_en: str | None = None  # English given and family name (absent before 2027)

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "t": self.transcript_id,
            "v": self.version,
            "i": self.institution,
            **_names_payload(self.name, self.name_en),
            "p": self.programme,
            "iat": self.issued_at,
            "s": self.status_index,
            "h": self.record_digest,
        }
        if self.gpa is not None:
            payload["g"] = self.gpa
        if self.graduation_date is not None:
            payload["d"] = int(self.graduation_date.strftime("%Y%m%d"))
        return payload

    @classmethod
    def from_payload(cls, payload: Any) -> Claims:
        try:
            d = payload.get("d")
            name, name_en = _names(payload)
            claims = cls(
                transcript_id=_typed(payload["t"], str),
                version=_typed(payload["v"], int),
                institution=_typed(payload["i"], str),
                name=name,
                name_en=name_en,
                programme=_typed(payload["p"], str),
                gpa=None if payload.get("g") is None else _typed(payload["g"], str),
                graduation_date=None
                if d is None
                else date(_typed(d, int) // 10000, d // 100 % 100, d % 100),
                issued_at=_typed(payload["iat"], int),
                status_index=_typed(payload["s"], int),
                record_digest=_typed(payload["h"], str),
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise CredentialError(f"malformed credential payload: {exc}") from None
        if claims.version < 1 or claims.status_index < 0:
            raise CredentialError("malformed credential payload: negative number")
        return claims


def shorten(name: str, limit: int) -> str:
    """`name` as the QR carries it: at most `limit` characters, control characters
    turned into spaces; a longer name is cut (not inside a Thai character's vowel and
    tone marks) and ends with ``...``."""
    name = " ".join("".join(" " if unicodedata.category(c)[0] == "C" else c
                            for c in name).split())
    if len(name) <= limit:
        return name
    cut = len(name[: limit - len(SHORTENED)])
    while cut > 0 and unicodedata.category(name[cut]) == "Mn":
        cut -= 1  # a mark belongs to the letter before it: cut before that letter
    return name[:cut].rstrip() + SHORTENED


def _names_payload(name: str, name_en: str | None) -> dict[str, str]:
    if not name_en:
        return {"n": name}
    try:
        packed = f"{name}\n{name_en}".encode(NAMES_CODEC)
    except UnicodeEncodeError:  # a character TIS-620 lacks: UTF-8 text, as before
        return {"n": name, "e": name_en}
    return {"m": b64url(packed)}


def _names(payload: Any) -> tuple[str, str | None]:
    """(Thai, English) from ``m``, or ``n`` and the optional ``e``; never both forms."""
    if "m" in payload:
        if "n" in payload or "e" in payload:
            raise ValueError("names given twice")
        thai, newline, english = b64url_decode(_typed(payload["m"], str)).decode(
            NAMES_CODEC).partition("\n")
        if not newline or "\n" in english:
            raise ValueError("names are not Thai and English")
        return thai, english or None
    english = payload.get("e")
    return _typed(payload["n"], str), None if english is None else _typed(english, str)


def _typed(value: Any, kind: type) -> Any:
    if type(value) is not kind:  # bool is not int here
        raise TypeError(f"expected {kind.__name__}")
    return value


def kid_for(public_key: ec.EllipticCurvePublicKey) -> str:
    """Key id: the first 8 bytes of the RFC 7638 JWK thumbprint, base64url (11 chars)."""
    thumbprint = b64url_decode(ECKey.import_key(public_key).thumbprint())
    return b64url(thumbprint[:KID_BYTES])


def sign(claims: Claims, private_key: ec.EllipticCurvePrivateKey, kid: str) -> str:
    """Return the compact JWS of `claims` signed with the institution's credential key."""
    payload = json.dumps(claims.to_payload(), ensure_ascii=False, separators=(",", ":"))
    header = {"alg": ALG, "kid": kid, "typ": TYP}
    return jws.serialize_compact(
        header, payload.encode("utf-8"), jws_header.signing_key(private_key), algorithms=[ALG]
    )


def sign_compact(claims: Claims, private_key: ec.EllipticCurvePrivateKey, kid: str) -> str:
    """The compact credential (``BKT1:<digits>``, `verifier.core.compact`) of `claims`.

    Same claims as the JWS payload, in CBOR with the integer keys of `COMPACT_KEYS`; the
    names (``m``) and the record digest (``h``) as raw bytes instead of base64url text.
    """
    payload = claims.to_payload()
    for key in ("m", "h"):
        if key in payload:
            payload[key] = b64url_decode(payload[key])
    if "e" in payload and all(c in _TIS620 for c in payload["n"]):
        # An English name outside TIS-620 (é, ’): the Thai name stays one byte a character.
        payload["m"] = [payload.pop("n").encode(NAMES_CODEC), payload.pop("e")]
    return compact.sign({COMPACT_KEYS[k]: v for k, v in payload.items()}, private_key,
                        b64url_decode(kid))


COMPACT_KEYS = {"t": 1, "v": 2, "i": 3, "n": 4, "e": 5, "m": 6, "p": 7, "g": 8, "d": 9,
                "iat": 10, "s": 11, "h": 12}  # JSON claim -> CBOR key of the compact form
_COMPACT_NAMES = {v: k for k, v in COMPACT_KEYS.items()}
_TIS620 = frozenset(bytes(range(256)).decode(NAMES_CODEC, errors="ignore"))


def _verify_compact(
    token: str, resolve_key: Callable[[str], ec.EllipticCurvePublicKey | None]
) -> tuple[str, Claims]:
    try:
        kid, payload = compact.open_signed(token, lambda k: resolve_key(b64url(k)))
    except ValueError as exc:
        raise CredentialError(str(exc)) from None
    if not isinstance(payload, dict) or not set(payload) <= set(_COMPACT_NAMES):
        raise CredentialError("malformed credential payload: not a map of known claims")
    payload = {_COMPACT_NAMES[k]: v for k, v in payload.items()}
    names = payload.get("m")
    if isinstance(names, list) and len(names) == 2 and isinstance(names[0], bytes):
        try:
            payload["n"] = names[0].decode(NAMES_CODEC)
        except UnicodeDecodeError:
            raise CredentialError("malformed credential payload: Thai name") from None
        payload["e"] = names[1]
        del payload["m"]
    for key in ("m", "h"):
        if isinstance(payload.get(key), bytes):
            payload[key] = b64url(payload[key])
    return b64url(kid), Claims.from_payload(payload)


def unverified_header(token: str) -> dict[str, Any]:
    """The protected header, parsed but not trusted: only to find the key by `kid`.
    For a compact credential: ``{"alg": "ES256", "kid": <base64url kid>}``."""
    if compact.is_compact(token.strip()):
        try:
            return {"alg": ALG, "kid": b64url(compact.kid(token))}
        except ValueError as exc:
            raise CredentialError(str(exc)) from None
    return jws_header.parse(token, CredentialError, "credential")


def verify(
    token: str, resolve_key: Callable[[str], ec.EllipticCurvePublicKey | None]
) -> tuple[str, Claims]:
    """Check a compact JWS; return ``(kid, claims)`` or raise CredentialError.

    Only ES256 with a P-256 key found by `resolve_key(kid)` is accepted: `alg: none`,
    HMAC and every other algorithm are refused before any signature is computed. The
    header must be exactly ``alg``, ``kid`` and ``typ``: no ``jwk``/``x5c``/``jku`` key
    offered by the token itself, no ``crit`` or ``b64`` changing how it is processed.
    """
    token = extract_token(token)
    if compact.is_compact(token):
        return _verify_compact(token, resolve_key)
    kid = jws_header.key_id(token, alg=ALG, typ=TYP, error=CredentialError, what="credential")
    payload = jws_header.signed_payload(token, resolve_key(kid), error=CredentialError,
                                        what="credential")
    return kid, Claims.from_payload(payload)


def extract_token(text: str) -> str:
    """Accept a credential (compact JWS or ``BKT1:<digits>``) or the QR's URL
    (``…/v#<JWS>``, ``…/V#BKT1:<digits>``) and return the credential."""
    text = text.strip()
    if "#" in text:
        text = text.rsplit("#", 1)[1]
    if compact.is_compact(text):
        if len(text) > 4096:
            raise CredentialError("credential too long")
        return compact.PREFIX + text[len(compact.PREFIX):]
    if text.count(".") != 2 or len(text) > 4096:
        raise CredentialError("not a compact JWS")
    return text


def verification_code(record_digest: str) -> str:
    """The short code printed under the QR (and shown by the verifier, to compare with the
    paper): the record digest's first 40 bits in base32, ``ABCD-EFGH``."""
    code = base64.b32encode(b64url_decode(record_digest)[:5]).decode("ascii")
    return f"{code[:4]}-{code[4:]}"


def qr_url(verifier_base_url: str, token: str) -> str:
    """The QR's content: the verifier page with the credential in the fragment.

    For a compact credential the scheme, host and page are upper case (``HTTPS://HOST/V#``),
    which a QR code holds in alphanumeric mode; both are case-insensitive, and the verifier
    serves ``/V`` as ``/v``.
    """
    base = verifier_base_url.rstrip("/")
    if not compact.is_compact(token):
        return base + QR_PATH + token
    scheme, sep, rest = base.partition("://")
    host, slash, path = rest.partition("/")
    return (scheme.upper() + sep + host.upper() + slash + path
            + QR_PATH.upper() + token) if sep else base + QR_PATH.upper() + token
