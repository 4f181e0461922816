"""An institution's signed directory: its Thai and English names and its programmes'.

The QR credential carries codes (institution ``i``, programme ``p``) to stay small; a
person comparing it with the paper needs names. Each institution publishes, next to its
status lists, one compact ES256 JWS signed by its own credential key::

    header  {"alg": "ES256", "kid": <credential key kid>, "typ": "bkt-directory"}
    payload {"type": "bkt-directory", "institution": "1001", "issued": "2026-04-02T03:00:00Z",
             "name_th": "...", "name_en": "...",
             "programmes": {"M6-SCI": {"name_th": "...", "name_en": "..."}, ...}}

A verifier accepts it only from a trusted key of that institution, valid when the
directory was issued, exactly as a status list (`verifier.core.status_credential`).
A programme's names are the latest the institution issued under its code.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jws

from verifier.core import jws_header
from verifier.core.status_credential import INSTITUTION_CODE, StatusKey

ALG = "ES256"
TYP = "bkt-directory"
PURPOSE = "directory"  # published as ``<status base>/<code>/directory.jws``
MAX_TOKEN = 1024 * 1024
MAX_NAME = 300  # characters of one name


class DirectoryError(ValueError):
    """Any reason a directory is not acceptable. One type, so no case is forgotten."""


@dataclass(frozen=True)
class Names:
    name_th: str
    name_en: str


@dataclass(frozen=True)
class Directory:
    """What one institution states about itself and its programmes, signed."""

    institution: str
    name_th: str
    name_en: str
    issued: datetime
    programmes: Mapping[str, Names] = field(default_factory=dict)

    def to_payload(self) -> dict[str, Any]:
        return {
            "type": TYP,
            "institution": self.institution,
            "issued": self.issued.astimezone(UTC).isoformat(timespec="seconds")
                          .replace("+00:00", "Z"),
            "name_th": self.name_th,
            "name_en": self.name_en,
            "programmes": {code: {"name_th": n.name_th, "name_en": n.name_en}
                           for code, n in sorted(self.programmes.items())},
        }

    @classmethod
    def from_payload(cls, payload: Any) -> Directory:
        try:
            if payload["type"] != TYP:
                raise ValueError("not a directory")
            issued = datetime.fromisoformat(_name(payload["issued"]).replace("Z", "+00:00"))
            if issued.tzinfo is None:
                raise ValueError("issued without a time zone")
            programmes = payload["programmes"]
            if not isinstance(programmes, dict):
                raise TypeError("programmes is not an object")
            return cls(
                institution=_name(payload["institution"]),
                name_th=_name(payload["name_th"]),
                name_en=_name(payload["name_en"]),
                issued=issued.astimezone(UTC),
                programmes={_name(code): Names(_name(p["name_th"]), _name(p["name_en"]))
                            for code, p in programmes.items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DirectoryError(f"malformed directory: {exc}") from None


def _name(value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_NAME:
        raise TypeError("expected a short string")
    return value


def build(
    institution: str, name_th: str, name_en: str,
    programmes: Mapping[str, tuple[str, str]], now: datetime,
) -> Directory:
    """The directory of `institution`; `programmes` maps a code to its (Thai, English)."""
    if not INSTITUTION_CODE.fullmatch(institution):
        raise ValueError(f"institution code must be alphanumeric: {institution!r}")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return Directory(institution, name_th, name_en, now.replace(microsecond=0),
                     {code: Names(th, en) for code, (th, en) in programmes.items()})


def sign(directory: Directory, private_key: ec.EllipticCurvePrivateKey, kid: str) -> str:
    """The compact JWS of `directory`, signed by the institution's credential key."""
    payload = json.dumps(directory.to_payload(), ensure_ascii=False,
                         separators=(",", ":")).encode()
    header = {"alg": ALG, "kid": kid, "typ": TYP}
    return jws.serialize_compact(header, payload, jws_header.signing_key(private_key),
                                 algorithms=[ALG])


def header_kid(token: str) -> str | None:
    """The `kid` of a token's header, unverified (to look the key up), or None."""
    try:
        kid = jws_header.parse(token.strip(), DirectoryError, "directory").get("kid")
    except (DirectoryError, AttributeError):
        return None
    return kid if isinstance(kid, str) else None


def verify(token: str, resolve_key: Callable[[str], StatusKey | None],
           institution: str) -> Directory:
    """Check a signed directory; return it or raise DirectoryError.

    ES256 by a trusted key of `institution` itself, valid when the directory was issued.
    """
    token = token.strip() if isinstance(token, str) else ""
    if len(token) > MAX_TOKEN or token.count(".") != 2:
        raise DirectoryError("directory is not a compact JWS")
    kid = jws_header.key_id(token, alg=ALG, typ=TYP, error=DirectoryError, what="directory")
    key = resolve_key(kid)
    if key is None:
        raise DirectoryError("directory key is unknown or not trusted")
    if key.institution != institution:
        raise DirectoryError("directory signed by another institution's key")
    payload = jws_header.signed_payload(token, key.public_key, error=DirectoryError,
                                        what="directory")
    directory = Directory.from_payload(payload)
    if directory.institution != institution:
        raise DirectoryError("directory is for another institution")
    if not key.valid_at(directory.issued):
        raise DirectoryError("directory key was not valid when the directory was issued")
    return directory
