"""The protected header of a compact JWS, read before any key is looked up or any
signature computed.

Both documents the verifier checks -- the QR credential and a status list -- carry
exactly ``{"alg", "kid", "typ"}``. Anything else (``crit``, ``b64``, ``jwk``, ``jku``,
``x5c``, ``x5u``...) would ask joserfc to act on what the token says about itself, and
odd values make it raise TypeError rather than a JOSE error (``"crit": null``); a deeply
nested header makes ``json`` raise RecursionError. So the header is parsed and checked
here first, and every failure is raised as the caller's own error type: each module
answers with one exception, whatever was wrong.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jws
from joserfc.jwk import ECKey

from verifier.core.canonical import b64url_decode

PARAMETERS = frozenset({"alg", "kid", "typ"})


def parse(token: str, error: type[Exception], what: str) -> dict[str, Any]:
    """The header of `token` as a dict, unverified; ``error("malformed <what> header")``."""
    try:
        header = json.loads(b64url_decode(token.split(".", 1)[0]))
    except (ValueError, UnicodeDecodeError, RecursionError, AttributeError, TypeError):
        raise error(f"malformed {what} header") from None
    if not isinstance(header, dict):
        raise error(f"malformed {what} header")
    return header


def key_id(token: str, *, alg: str, typ: str, error: type[Exception], what: str) -> str:
    """The ``kid`` of a header that is exactly ``alg``/``kid``/``typ`` with the given
    algorithm and type; otherwise `error` saying which rule failed (``what`` names the
    document in the message: "credential", "status list")."""
    header = parse(token, error, what)
    if header.get("alg") != alg or header.get("typ") != typ:
        raise error(f"{what} algorithm or type not accepted")
    if set(header) != PARAMETERS:
        raise error(f"{what} header has unexpected parameters")
    kid = header["kid"]
    if not isinstance(kid, str) or not kid:
        raise error(f"{what} has no key id")
    return kid


def signed_payload(token: str, public_key: object, *, error: type[Exception],
                   what: str) -> Any:
    """The JSON payload of the compact ES256 JWS `token`, its signature checked with
    `public_key`, which must be a P-256 key (None: not found); otherwise `error` saying
    "<what> key is unknown or not trusted" or "<what> signature is not valid"."""
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(
            public_key.curve, ec.SECP256R1):
        raise error(f"{what} key is unknown or not trusted")
    try:
        signed = jws.deserialize_compact(token, ECKey.import_key(public_key),
                                         algorithms=["ES256"])
        return json.loads(signed.payload)
    except Exception:  # joserfc raises more than JoseError on odd input; one answer for all
        raise error(f"{what} signature is not valid") from None


def signing_key(private_key: ec.EllipticCurvePrivateKey) -> ECKey:
    """joserfc's key to sign with `private_key`, described by its public JWK: joserfc then
    never asks for the private numbers, which a key in an HSM cannot give."""
    return ECKey(private_key, ECKey.import_key(private_key.public_key()).as_dict())
