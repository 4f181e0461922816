"""The transcript as an SD-JWT VC (draft-ietf-oauth-sd-jwt-vc): which claims, how
disclosable, and what a verified presentation shows (docs/interop.md).

Always visible (in the signed payload): ``iss`` (``urn:bkt:institution:<code>``), ``iat``,
``vct``, ``transcript_id``, ``version``, ``institution`` (code and names) and ``status``
(``{"status_list": {"idx", "uri"}}``: the index is the QR credential's, in the
institution's W3C Bitstring Status Lists and in its IETF Token Status List at ``uri``).
Each disclosable on its own: ``name`` (Thai and English, with title),
``programme``, ``graduation_date``, ``gpa`` (school: the GPAX, null when no numeric grade
counts), each element of ``terms`` (school: a term's credits and GPA) and of ``courses``
(school) or ``modules`` (vocational). The arrays themselves are visible, so their length
(how many courses) is not hidden: the verifier says how many were withheld.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from verifier.core import sd_jwt
from verifier.core.canonical import b64url_decode

TYP = "dc+sd-jwt"  # draft-ietf-oauth-sd-jwt-vc since -06; `@sd-jwt/sd-jwt-vc` writes it
TYPES = frozenset({TYP, "vc+sd-jwt"})  # the earlier drafts' type, accepted on input
VCT_BASE = "https://transcripts.bangkok.go.th/vct/transcript"
VCT = {"school": f"{VCT_BASE}/school/v1", "vocational": f"{VCT_BASE}/vocational/v1"}
ISS_PREFIX = "urn:bkt:institution:"
VISIBLE = frozenset({"iss", "iat", "vct", "transcript_id", "version", "institution",
                     "status", "cnf", "exp", "nbf"})
STATUS_PATH = "/status/{code}/token-status.jwt"
FIELDS = {  # the disclosable properties of each kind, in the order they are shown
    "school": ("name", "programme", "graduation_date", "gpa"),
    "vocational": ("name", "programme", "graduation_date"),
}
ELEMENTS = {"school": ("terms", "courses"), "vocational": ("modules",)}
TERM_KEYS = ("year", "semester", "credits_attempted", "credits_earned", "hours", "gpa")


def _full_name(student: dict[str, Any], lang: str) -> str:
    return " ".join(p for p in (student.get(f"prefix_{lang}"), student.get(f"first_name_{lang}"),
                                student.get(f"last_name_{lang}")) if p)


def status_uri(public_url: str, code: str) -> str:
    """Where the issuer serves an institution's Token Status List."""
    return public_url.rstrip("/") + STATUS_PATH.format(code=code)


def issue_claims(record: dict[str, Any], *, status_uri: str,
                 salt: Callable[[], str] = sd_jwt.new_salt) -> tuple[dict[str, Any], list[str]]:
    """The payload (without ``_sd_alg``) and every disclosure of the SD-JWT VC for a
    transcript record (the dict `transcript.json` holds)."""
    inst = record["institution"]
    kind = inst["kind"]
    student = record["student"]
    b = sd_jwt.Builder(salt)
    payload: dict[str, Any] = {
        "iss": ISS_PREFIX + inst["code"],
        "iat": _epoch(record["issued_at"]),
        "vct": VCT[kind],
        "transcript_id": record["transcript_id"],
        "version": record["version"],
        "institution": {"code": inst["code"], "name_th": inst["name_th"],
                        "name_en": inst["name_en"]},
        "status": {"status_list": {"idx": record["status_index"], "uri": status_uri}},
    }
    prog = record["programme"]
    values = {
        "name": {"th": _full_name(student, "th"), "en": _full_name(student, "en")},
        "programme": {"code": prog["code"], "name_th": prog["name_th"],
                      "name_en": prog["name_en"]},
        "graduation_date": record.get("graduation_date"),
        "gpa": record.get("summary", {}).get("gpa"),
    }
    for name in FIELDS[kind]:
        b.claim(payload, name, values[name])
    if kind == "school":
        payload["terms"] = [b.element({k: t[k] for k in TERM_KEYS})
                            for t in record["summary"]["terms"]]
        payload["courses"] = [b.element(c) for c in record["courses"]]
    else:
        payload["modules"] = [b.element(m) for m in record["modules"]]
    return payload, b.disclosures


def _epoch(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def sign(record: dict[str, Any], private_key: ec.EllipticCurvePrivateKey, kid: str, *,
         status_uri: str, salt: Callable[[], str] = sd_jwt.new_salt) -> str:
    """The SD-JWT VC of `record` with every disclosure (``<JWT>~d1~...~dn~``)."""
    payload, disclosures = issue_claims(record, status_uri=status_uri, salt=salt)
    return sd_jwt.sign(payload, disclosures, private_key, kid, TYP)


# --- choosing what to present -------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One disclosure, as the graduate chooses it: ``key`` is ``name``, ``gpa``...,
    ``courses.3`` (the fourth course); ``value`` the disclosed value."""

    key: str
    group: str  # "fields", "terms", "courses", "modules"
    value: Any
    disclosure: str


def fields(full: str) -> list[Field]:
    """Every disclosure of an issued SD-JWT VC, with the field it discloses, in the
    payload's order (not verified: the issuer reads back what it wrote)."""
    parts = sd_jwt.split(full)
    payload = json.loads(b64url_decode(parts.jwt.split(".")[1]))  # checked on verify
    by_digest = {sd_jwt.disclosure_digest(d): d for d in parts.disclosures}
    out: list[Field] = []
    for text in by_digest.values():
        d = sd_jwt.decode_disclosure(text)
        if d.name is not None:
            out.append(Field(d.name, "fields", d.value, text))
    order = {n: i for i, n in enumerate(FIELDS["school"])}
    out.sort(key=lambda f: order.get(f.key, len(order)))
    for group in ("terms", "courses", "modules"):
        for i, item in enumerate(payload.get(group, [])):
            text = by_digest.get(item.get("...")) if isinstance(item, dict) else None
            if text is not None:
                out.append(Field(f"{group}.{i}", group, sd_jwt.decode_disclosure(text).value,
                                 text))
    return out


def presentation(full: str, chosen: set[str]) -> str:
    """`full` with only the disclosures of the `chosen` field keys."""
    keep = {f.disclosure for f in fields(full) if f.key in chosen}
    return sd_jwt.present(full, keep.__contains__)


# --- reading a verified presentation -------------------------------------------------------


class NotATranscript(sd_jwt.SdJwtError):
    """A valid SD-JWT, but not one of our transcripts (unknown ``vct`` or claims)."""


@dataclass(frozen=True)
class Presented:
    """The always-visible claims, what was disclosed, and what was withheld."""

    kind: str
    transcript_id: str
    version: int
    institution: str
    institution_name_th: str | None
    institution_name_en: str | None
    issued_at: int
    status_index: int
    disclosed: dict[str, Any]
    withheld_fields: tuple[str, ...]  # names of the properties not disclosed
    withheld: dict[str, int]  # "terms"/"courses"/"modules": elements not disclosed
    key_binding: dict[str, Any] | None


def read(verified: sd_jwt.Verified) -> Presented:
    claims = verified.claims
    kind = next((k for k, v in VCT.items() if v == claims.get("vct")), None)
    if kind is None:
        raise NotATranscript("not a transcript SD-JWT VC (unknown vct)")
    inst = claims.get("institution")
    try:
        code = _typed(inst["code"], str)
        if claims.get("iss") != ISS_PREFIX + code:
            raise ValueError("iss does not name the institution")
        presented = Presented(
            kind=kind, transcript_id=_typed(claims["transcript_id"], str),
            version=_typed(claims["version"], int), institution=code,
            institution_name_th=inst.get("name_th"), institution_name_en=inst.get("name_en"),
            issued_at=_typed(claims["iat"], int),
            status_index=_typed(claims["status"]["status_list"]["idx"], int),
            disclosed={k: claims[k] for k in FIELDS[kind] if k in claims}
            | {k: claims[k] for k in ELEMENTS[kind] if claims.get(k)},
            withheld_fields=tuple(f for f in FIELDS[kind] if f not in claims),
            withheld={g: verified.withheld.get(g, 0) for g in ELEMENTS[kind]},
            key_binding=verified.key_binding,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise NotATranscript(f"malformed transcript claims: {exc}") from None
    if presented.version < 1 or presented.status_index < 0:
        raise NotATranscript("malformed transcript claims: negative number")
    return presented


def _typed(value: Any, kind: type) -> Any:
    if type(value) is not kind:
        raise TypeError(f"expected {kind.__name__}")
    return value
