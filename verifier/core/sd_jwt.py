"""SD-JWT (RFC 9901): selective disclosure over an ES256 JWT, issued and verified.

An SD-JWT is ``<issuer JWT>~<disclosure>~...~<disclosure>~[<KB-JWT>]``. A disclosure is
the base64url of the JSON array ``[salt, name, value]`` (an object property) or
``[salt, value]`` (an array element); the issuer's payload holds only its SHA-256
digest, in an object's ``_sd`` list or as an array element ``{"...": digest}``. A holder
presents a subset of the disclosures; the verifier recomputes their digests.

`verify` follows RFC 9901 section 7: every disclosure must be referenced exactly once by
a digest in the signed payload (or inside another disclosure presented), a property
disclosure only from an ``_sd`` list and an element disclosure only from an array, no
digest may appear twice, no disclosed name may overwrite a claim. Every failure is one
`SdJwtError`. The issuer side (`Builder`, `sign`) makes salts of 128 bits from
`secrets` unless a test gives its own.

No library: joserfc signs and checks the JWT (as for the QR credential); the rest is
hashing and JSON. The maintained Python SD-JWT package (``sd-jwt``, 2024) follows a
draft older than RFC 9901, needs a second JOSE library (jwcrypto) and a private key it
can export, which an HSM key is not (docs/interop.md).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jws
from joserfc.jwk import ECKey

from verifier.core import jws_header
from verifier.core.canonical import b64url, b64url_decode

ALG = "ES256"
SD_ALG = "sha-256"
SEPARATOR = "~"
KB_TYP = "kb+jwt"
MAX_LENGTH = 256 * 1024  # characters; a school record with every course is ~33 KiB
MAX_DEPTH = 16
SALT_BYTES = 16  # 128 bits, RFC 9901 section 9.3


class SdJwtError(ValueError):
    """Any reason an SD-JWT is not acceptable: one type, so no case is forgotten."""


def new_salt() -> str:
    return b64url(secrets.token_bytes(SALT_BYTES))


def disclosure_digest(disclosure: str) -> str:
    """base64url SHA-256 of the disclosure's ASCII text, as the payload references it."""
    return b64url(hashlib.sha256(disclosure.encode("ascii")).digest())


def encode_disclosure(item: list[Any]) -> str:
    return b64url(json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode())


# --- issuing ----------------------------------------------------------------------------


@dataclass
class Builder:
    """Collects the disclosures of one SD-JWT while its payload is built."""

    salt: Callable[[], str] = new_salt
    disclosures: list[str] = field(default_factory=list)

    def claim(self, obj: dict[str, Any], name: str, value: Any) -> str:
        """Make ``obj[name] = value`` selectively disclosable; returns the disclosure."""
        if name in ("_sd", "...") or name in obj:
            raise ValueError(f"claim name {name!r} not allowed here")
        disclosure = encode_disclosure([self.salt(), name, value])
        obj.setdefault("_sd", []).append(disclosure_digest(disclosure))
        obj["_sd"].sort()  # sorted: the order of the digests says nothing of the claims'
        self.disclosures.append(disclosure)
        return disclosure

    def element(self, value: Any) -> dict[str, str]:
        """An array element disclosable on its own: put the result in the array."""
        disclosure = encode_disclosure([self.salt(), value])
        self.disclosures.append(disclosure)
        return {"...": disclosure_digest(disclosure)}


def sign(payload: dict[str, Any], disclosures: list[str], private_key: ec.EllipticCurvePrivateKey,
         kid: str, typ: str) -> str:
    """The SD-JWT with every disclosure: ``<JWT>~d1~...~dn~``. The key signs through
    ``key.sign(data, ECDSA(SHA-256))`` only (an HSM key object works)."""
    body = json.dumps({"_sd_alg": SD_ALG, **payload}, ensure_ascii=False,
                      separators=(",", ":")).encode()
    header = {"alg": ALG, "kid": kid, "typ": typ}
    token = jws.serialize_compact(header, body, jws_header.signing_key(private_key),
                                  algorithms=[ALG])
    return SEPARATOR.join([token, *disclosures, ""])


def present(sd_jwt: str, keep: Callable[[str], bool]) -> str:
    """A presentation of `sd_jwt` with only the disclosures `keep` accepts (no KB-JWT)."""
    parts = split(sd_jwt)
    return SEPARATOR.join([parts.jwt, *(d for d in parts.disclosures if keep(d)), ""])


# --- reading ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Parts:
    jwt: str
    disclosures: tuple[str, ...]
    kb_jwt: str | None


def split(text: str) -> Parts:
    """The issuer JWT, the disclosures and the KB-JWT of a (presented) SD-JWT."""
    text = text.strip()
    if len(text) > MAX_LENGTH:
        raise SdJwtError("SD-JWT too long")
    pieces = text.split(SEPARATOR)
    if len(pieces) < 2:
        raise SdJwtError("not an SD-JWT: no '~' after the issuer's JWT")
    jwt, *disclosures, last = pieces
    if jwt.count(".") != 2 or any(not d for d in disclosures):
        raise SdJwtError("not an SD-JWT: malformed parts")
    if last and last.count(".") != 2:
        raise SdJwtError("not an SD-JWT: the part after the last '~' is not a KB-JWT")
    return Parts(jwt, tuple(disclosures), last or None)


@dataclass(frozen=True)
class Disclosure:
    digest: str
    salt: str
    name: str | None  # None: an array element
    value: Any


def decode_disclosure(text: str) -> Disclosure:
    try:
        item = json.loads(b64url_decode(text))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise SdJwtError("malformed disclosure") from None
    if not isinstance(item, list) or len(item) not in (2, 3) or not isinstance(item[0], str):
        raise SdJwtError("malformed disclosure")
    if len(item) == 2:
        return Disclosure(disclosure_digest(text), item[0], None, item[1])
    if not isinstance(item[1], str) or item[1] in ("_sd", "..."):
        raise SdJwtError("malformed disclosure: claim name not allowed")
    return Disclosure(disclosure_digest(text), item[0], item[1], item[2])


@dataclass(frozen=True)
class Verified:
    """What a verified SD-JWT states: the processed claims (only what was disclosed) and
    how many digests were not disclosed at each place (``""``: the top level;
    ``"courses"``: elements of that array; ``"a.b"``: properties of a nested object)."""

    kid: str
    typ: str
    claims: dict[str, Any]
    withheld: dict[str, int]
    disclosed: int
    key_binding: dict[str, Any] | None  # the KB-JWT's payload, when one was presented


def header(text: str) -> dict[str, Any]:
    """The issuer JWT's header, unverified: to find the key by ``kid``."""
    return jws_header.parse(split(text).jwt, SdJwtError, "SD-JWT")


def verify(text: str, resolve_key: Callable[[str], ec.EllipticCurvePublicKey | None], *,
           types: frozenset[str], visible: frozenset[str] = frozenset(),
           nonce: str | None = None) -> Verified:
    """Check the issuer's signature (ES256, header exactly ``alg``/``kid``/``typ`` with
    ``typ`` in `types`), every disclosure, and a KB-JWT when presented (required when
    `nonce` is given). `visible`: top-level claims that no disclosure may carry (they
    must be in the signed payload itself)."""
    parts = split(text)
    head = jws_header.parse(parts.jwt, SdJwtError, "SD-JWT")
    typ = head.get("typ")
    if typ not in types:
        raise SdJwtError("SD-JWT type not accepted")
    kid = jws_header.key_id(parts.jwt, alg=ALG, typ=typ, error=SdJwtError, what="SD-JWT")
    payload = _signed_payload(parts.jwt, resolve_key(kid))
    if payload.get("_sd_alg", SD_ALG) != SD_ALG:
        raise SdJwtError("SD-JWT digest algorithm not accepted")
    disclosures: dict[str, Disclosure] = {}
    for text_d in parts.disclosures:
        d = decode_disclosure(text_d)
        if d.digest in disclosures:
            raise SdJwtError("a disclosure is presented twice")
        disclosures[d.digest] = d
    unpacker = _Unpacker(disclosures, visible | {"_sd_alg", "cnf"})
    body = {k: v for k, v in payload.items() if k != "_sd_alg"}
    claims = unpacker.object(body, "", 0)
    unused = set(disclosures) - unpacker.used
    if unused:
        raise SdJwtError("a disclosure is not referenced by the signed payload")
    kb = None
    if parts.kb_jwt is not None or nonce is not None:
        kb = _key_binding(parts, payload, nonce)
    return Verified(kid, typ, claims, dict(unpacker.withheld), len(disclosures), kb)


def _signed_payload(jwt: str, public_key: ec.EllipticCurvePublicKey | None) -> dict[str, Any]:
    payload = jws_header.signed_payload(jwt, public_key, error=SdJwtError, what="SD-JWT")
    if not isinstance(payload, dict):
        raise SdJwtError("SD-JWT payload is not an object")
    return payload


class _Unpacker:
    """RFC 9901 section 7.1 step 3: replace digests by the disclosed values, recursively."""

    def __init__(self, disclosures: dict[str, Disclosure], visible: frozenset[str]) -> None:
        self.disclosures = disclosures
        self.visible = visible
        self.used: set[str] = set()
        self.seen: set[str] = set()
        self.withheld: dict[str, int] = {}

    def _digest(self, value: Any) -> str:
        if not isinstance(value, str):
            raise SdJwtError("malformed digest in the signed payload")
        if value in self.seen:
            raise SdJwtError("a digest appears twice in the SD-JWT")
        self.seen.add(value)
        return value

    def value(self, value: Any, path: str, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise SdJwtError("SD-JWT nested too deeply")
        if isinstance(value, dict):
            return self.object(value, path, depth + 1)
        if isinstance(value, list):
            return self.array(value, path, depth + 1)
        return value

    def object(self, obj: dict[str, Any], path: str, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in obj.items():
            if name == "_sd" or name == "...":
                continue
            out[name] = self.value(value, _join(path, name), depth)
        digests = obj.get("_sd", [])
        if not isinstance(digests, list):
            raise SdJwtError("malformed _sd in the signed payload")
        hidden = 0
        for digest in digests:
            d = self.disclosures.get(self._digest(digest))
            if d is None:
                hidden += 1
                continue
            if d.name is None:
                raise SdJwtError("an array element's disclosure is referenced as a property")
            if d.name in out or (not path and d.name in self.visible):
                raise SdJwtError("a disclosure overwrites a claim")
            self.used.add(d.digest)
            out[d.name] = self.value(d.value, _join(path, d.name), depth)
        if hidden:
            self.withheld[path] = self.withheld.get(path, 0) + hidden
        return out

    def array(self, items: list[Any], path: str, depth: int) -> list[Any]:
        out: list[Any] = []
        hidden = 0
        for item in items:
            if isinstance(item, dict) and "..." in item:
                if len(item) != 1:
                    raise SdJwtError("an array element digest has other members")
                d = self.disclosures.get(self._digest(item["..."]))
                if d is None:
                    hidden += 1
                    continue
                if d.name is not None:
                    raise SdJwtError("a property's disclosure is referenced as an array element")
                self.used.add(d.digest)
                out.append(self.value(d.value, path, depth))
            else:
                out.append(self.value(item, path, depth))
        if hidden:
            self.withheld[path] = self.withheld.get(path, 0) + hidden
        return out


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def sd_hash(parts: Parts) -> str:
    """The KB-JWT's ``sd_hash``: SHA-256 over the presentation up to the last ``~``."""
    presented = SEPARATOR.join([parts.jwt, *parts.disclosures, ""])
    return b64url(hashlib.sha256(presented.encode("ascii")).digest())


def _key_binding(parts: Parts, payload: dict[str, Any], nonce: str | None) -> dict[str, Any]:
    """RFC 9901 section 7.3: the KB-JWT is signed by the key in ``cnf.jwk`` and binds
    this very presentation (``sd_hash``) and, when the verifier gave one, its nonce."""
    if parts.kb_jwt is None:
        raise SdJwtError("no key binding JWT presented")
    cnf = payload.get("cnf")
    jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
    if not isinstance(jwk, dict):
        raise SdJwtError("key binding JWT presented, but the SD-JWT names no holder key")
    try:
        holder = ECKey.import_key(jwk)
    except Exception:
        raise SdJwtError("the holder key is not an EC key") from None
    head = jws_header.parse(parts.kb_jwt, SdJwtError, "key binding JWT")
    if head.get("alg") != ALG or head.get("typ") != KB_TYP or set(head) != {"alg", "typ"}:
        raise SdJwtError("key binding JWT header not accepted")
    try:
        signed = jws.deserialize_compact(parts.kb_jwt, holder, algorithms=[ALG])
        kb = json.loads(signed.payload)
    except Exception:
        raise SdJwtError("key binding JWT signature is not valid") from None
    if not isinstance(kb, dict) or not isinstance(kb.get("iat"), int):
        raise SdJwtError("key binding JWT has no issue time")
    if kb.get("sd_hash") != sd_hash(parts):
        raise SdJwtError("key binding JWT does not bind this presentation")
    if nonce is not None and kb.get("nonce") != nonce:
        raise SdJwtError("key binding JWT nonce does not match")
    return kb


def bind(presentation: str, holder_key: ec.EllipticCurvePrivateKey, *, aud: str, nonce: str,
         iat: int) -> str:
    """Append a KB-JWT signed by the holder's key (a wallet does this; tests too)."""
    parts = split(presentation)
    if parts.kb_jwt is not None:
        raise ValueError("already bound")
    body = json.dumps({"iat": iat, "aud": aud, "nonce": nonce, "sd_hash": sd_hash(parts)},
                      separators=(",", ":")).encode()
    kb = jws.serialize_compact({"alg": ALG, "typ": KB_TYP}, body,
                               jws_header.signing_key(holder_key), algorithms=[ALG])
    return presentation + kb
