"""What BMA administrators do besides accounts: institutions, the key listing, the audit log."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from issuer.adapters import images, keystore
from issuer.adapters.pki import PkiError
from issuer.core.key_lifecycle import Generation
from issuer.core.records import Institution, InstitutionKind, starts_like_formula
from issuer.core.refusal import Both, Phrase
from issuer.services.accounts import require_admin
from issuer.services.context import Actor, Issuer, ServiceError
from verifier.core.credential import kid_for

_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")


@dataclass(frozen=True)
class InstitutionInfo:
    code: str
    kind: str
    name_th: str
    name_en: str
    district_en: str
    registrar_name_th: str
    director_name_th: str
    emblem_sha256: str = ""


def institutions(issuer: Issuer) -> list[InstitutionInfo]:
    with issuer.uow() as uow:
        return [
            InstitutionInfo(r.code, r.kind.value, r.name_th, r.name_en, r.district_en,
                            r.registrar_name_th, r.director_name_th, r.emblem_sha256 or "")
            for r in uow.institutions.every()
        ]


ADDRESS_FIELDS = ("district_th", "district_en", "subdistrict_th", "subdistrict_en",
                  "province_th", "province_en", "affiliation_th", "affiliation_en")
"""An institution's optional place and affiliation, as `Institution` names them (a blank
province or affiliation keeps the BMA default)."""
def set_emblem(issuer: Issuer, code: str, data: bytes, *, actor: Actor) -> str:
    """Give institution `code` the emblem image `data` (JPEG or PNG, read and normalised
    by a bounded child, `issuer.adapters.images`); its digest. Batches imported from now
    on print it (their snapshots name it); batches already imported keep what they
    were approved with."""
    try:
        png = images.read_emblem(data)
    except images.ImageRefused as e:
        raise ServiceError("emblem refused: %(reason)s", reason=Both(e.th, e.en)) from None
    with issuer.uow() as uow:
        require_admin(uow, actor, Phrase("set emblems"))
        row = uow.institutions.get(code)
        if row is None:
            raise ServiceError("no institution with code %(code)r", code=code)
        now = issuer.clock()
        sha = uow.images.put("emblem", png, now=now)
        before, row.emblem_sha256 = row.emblem_sha256, sha
        uow.audit.append(actor=actor.name, action="institution.emblem", source=actor.source,
                         now=now, institution=row, subject=code,
                         detail={"emblem_sha256": sha, "previous": before})
        uow.commit()
    return sha


def emblem(issuer: Issuer, code: str) -> bytes | None:
    """Institution `code`'s current emblem (normalised PNG), or None."""
    with issuer.uow() as uow:
        row = uow.institutions.get(code)
        if row is None or not row.emblem_sha256:
            return None
        return uow.images.checked([row.emblem_sha256])[row.emblem_sha256]


def create_institution(
    issuer: Issuer, *, code: str, kind: str, name_th: str, name_en: str, actor: Actor,
    address: Mapping[str, str] | None = None, registrar: tuple[str, str] = ("", ""),
    director: tuple[str, str] = ("", ""),
) -> str:
    """Create a school or vocational centre (its keys come from `transcripts keys create`)."""
    code = code.strip()
    if not _CODE.fullmatch(code):
        raise ServiceError("an institution code is 1-32 letters, digits, '-' or '_'")
    if not name_th.strip() or not name_en.strip():
        raise ServiceError("the Thai and English names are required")
    place = {k: v.strip() for k, v in (address or {}).items() if k in ADDRESS_FIELDS
             and v.strip()}
    if any(starts_like_formula(t) for t in (name_th.strip(), name_en.strip(), *place.values())):
        raise ServiceError("a name must not start with = + - or @")
    try:
        institution = Institution(code=code, kind=InstitutionKind(kind), name_th=name_th.strip(),
                                  name_en=name_en.strip(), **place)
    except ValueError:
        raise ServiceError("unknown kind %(kind)r", kind=kind) from None
    with issuer.uow() as uow:
        require_admin(uow, actor, Phrase("create institutions"))
        if uow.institutions.get(code) is not None:
            raise ServiceError("institution %(code)s exists", code=code)
        now = issuer.clock()
        row = uow.institutions.get_or_create(institution, now=now, registrar=registrar,
                                             director=director)
        uow.audit.append(actor=actor.name, action="institution.create", source=actor.source,
                         now=now, institution=row, subject=code,
                         detail={"name_en": row.name_en})
        uow.commit()
    return code


@dataclass(frozen=True)
class KeyInfo:
    institution: str
    purpose: str  # "credential" (QR, ECDSA P-256) or "pdf" (PAdES, RSA)
    subject: str
    not_before: datetime | None
    not_after: datetime | None
    key_id: str  # the JWKS kid for credential keys, a SHA-256 prefix of the certificate else
    problem: str = ""
    generation: Generation | None = None
    """Its generation (`issuer.core.key_lifecycle`): state, period of use, compromise."""


def _key_info(code: str, purpose: str, path: Path, generation: Generation | None = None
              ) -> KeyInfo:
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except FileNotFoundError:
        return KeyInfo(code, purpose, "", None, None, "", "missing", generation)
    except ValueError as e:
        return KeyInfo(code, purpose, "", None, None, "", f"unreadable: {e}", generation)
    public_key = cert.public_key()
    if purpose == "credential" and isinstance(public_key, ec.EllipticCurvePublicKey):
        key_id = kid_for(public_key)
    else:
        key_id = hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()[:16]
    return KeyInfo(code, purpose, cert.subject.rfc4514_string(), cert.not_valid_before_utc,
                   cert.not_valid_after_utc, key_id, generation=generation)


def signing_keys(issuer: Issuer) -> list[KeyInfo]:
    """Every institution's certificates, newest generation first, as found in the key
    store (public parts only)."""
    keys_dir = Path(issuer.settings.keys_dir)
    found = []
    for info in institutions(issuer):
        try:
            generations = keystore.read_history(keys_dir, info.code).generations
        except PkiError as e:
            found.append(KeyInfo(info.code, "credential", "", None, None, "", str(e)))
            continue
        if not generations:
            found += [KeyInfo(info.code, p, "", None, None, "", "missing")
                      for p in ("credential", "pdf")]
        for g in reversed(generations):
            folder = keystore.generation_dir(keys_dir, info.code, g.number)
            found += [_key_info(info.code, p, folder / f"{p}.crt", g)
                      for p in ("credential", "pdf")]
    return found


@dataclass(frozen=True)
class AuditLine:
    id: int
    at: datetime
    actor: str
    action: str
    institution: str | None
    subject: str | None
    detail: dict[str, Any]
    source: str


def audit_log(issuer: Issuer, *, institution_code: str | None = None, subject: str | None = None,
              after_id: int = 0, limit: int = 100) -> list[AuditLine]:
    """Audit events in order, optionally for one institution or subject; page with `after_id`."""
    with issuer.uow() as uow:
        institution = None
        if institution_code:
            institution = uow.institutions.get(institution_code)
            if institution is None:
                return []
        codes = {r.id: r.code for r in uow.institutions.every()}
        return [
            AuditLine(e.id, e.at, e.actor, e.action, codes.get(e.institution_id or -1),
                      e.subject, dict(e.detail or {}), e.source)
            for e in uow.audit.events(institution=institution, subject=subject or None,
                                      after_id=after_id, limit=limit)
        ]


def _institution(entry: dict[str, Any]) -> tuple[Institution, tuple[str, str], tuple[str, str]]:
    try:
        fields = {k: v for k, v in entry.items()
                  if k not in ("registrar", "director", "emblem")}
        fields["kind"] = InstitutionKind(fields["kind"])
        institution = Institution(**fields)
        people = [entry.get(role, {}) for role in ("registrar", "director")]
        registrar, director = ((p.get("name_th", ""), p.get("name_en", "")) for p in people)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        code = entry.get("code", "?")
        raise ServiceError("institution entry %(code)r is invalid: %(problem)s", code=code,
                           problem=str(e)) from None
    for name in (institution.name_th, institution.name_en, *registrar, *director):
        if starts_like_formula(name.strip()):
            raise ServiceError("institution entry %(code)r: the name %(name)r must not start "
                               "with = + - or @", code=institution.code, name=name)
    return institution, registrar, director


def _emblem_file(folder: Path, entry: dict[str, Any]) -> bytes:
    """The normalised emblem an institutions-file entry names (relative to the file)."""
    picture = folder / str(entry["emblem"])
    try:
        return images.read_emblem(picture.read_bytes())
    except OSError as e:
        raise ServiceError("institution %(code)r: cannot read its emblem %(picture)s: "
                           "%(problem)s", code=entry.get("code"), picture=str(picture),
                           problem=e.strerror) from None
    except images.ImageRefused as e:
        raise ServiceError("institution %(code)r: emblem %(picture)s refused: %(reason)s",
                           code=entry.get("code"), picture=str(picture),
                           reason=Both(e.th, e.en)) from None


def load_institutions(issuer: Issuer, path: Path, *, actor: Actor) -> list[str]:
    """Create the institutions listed in a JSON file (see examples/institutions.json).

    An entry's ``emblem`` names an image file (JPEG or PNG), relative to the JSON file,
    given to the institution as `set_emblem` does. Existing institutions are left as they
    are. Returns the codes created.
    """
    try:
        entries = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ServiceError("cannot read %(path)s: %(problem)s", path=str(path),
                           problem=str(e)) from None
    if not isinstance(entries, list):
        raise ServiceError("%(path)s must hold a JSON list of institutions", path=str(path))
    created = []
    emblems = {str(e.get("code")): _emblem_file(Path(path).parent, e) for e in entries
               if isinstance(e, dict) and e.get("emblem")}
    with issuer.uow() as uow:
        require_admin(uow, actor, Phrase("load institutions"))
        now = issuer.clock()
        for entry in entries:
            institution, registrar, director = _institution(entry)
            if uow.institutions.get(institution.code) is not None:
                continue
            row = uow.institutions.get_or_create(
                institution, now=now, registrar=registrar, director=director
            )
            if institution.code in emblems:
                row.emblem_sha256 = uow.images.put("emblem", emblems[institution.code],
                                                   now=now)
            uow.audit.append(
                actor=actor.name, action="institution.create", source=actor.source,
                now=now, institution=row, subject=row.code,
                detail={"name_en": row.name_en, "emblem_sha256": row.emblem_sha256},
            )
            created.append(row.code)
        uow.commit()
    return created
