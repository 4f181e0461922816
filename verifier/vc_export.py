"""Checking a transcript's W3C VC 2.0 export (``.vc.json``, docs/interop.md) as we check
a QR credential: the same trust (keys from the JWKS, chained to the pinned root), the
same status (the institution's lists, at the record's ``status_index``).

The credential's ``ecdsa-rdfc-2019`` proof names its key as ``{did}#{code}-{kid}``; the
key is looked up by ``kid`` among the trusted keys, never taken from a DID document, and
must belong to institution ``code``, which must be the record's. The embedded record
must match ``transcriptDigest``.

Canonicalisation (RDFC-1.0) is costly and, on a crafted graph of look-alike blank nodes,
exponential; pyld sets no limit. So nothing is canonicalised unless the credential is
exactly what our issuer makes of the record it embeds (`verifier.core.open_badge`,
rebuilt here and compared), with a proof of the expected members only: a document of any
other shape fails before any JSON-LD work. Its checks carry the QR path's ids
(``credential_signature``, ``credential_issuer_trusted``, ``credential_institution``,
``record_digest``), so the verdict reads the same.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from verifier.core import data_integrity, open_badge
from verifier.core.canonical import canonical_json, digest
from verifier.core.credential import Claims
from verifier.core.verdict import Check, Status
from verifier.trust import TrustStore, compromise_check, institution_check, key_in_use_check

MAX_BYTES = 1024 * 1024  # a school record with many courses makes about 120 KB
PROOF_MEMBERS = {"type", "cryptosuite", "created", "verificationMethod", "proofPurpose",
                 "proofValue"}
STATUS_MEMBERS = {"id", "type", "statusPurpose", "statusListIndex", "statusListCredential"}
TYPE = "OpenBadgeCredential"


class NotAnExport(ValueError):
    """Not one of our VC exports at all (not JSON, not an OpenBadgeCredential)."""


def _fail(cid: str, th: str, en: str) -> Check:
    return Check(cid, Status.FAIL, th, en)


def is_json(data: bytes) -> bool:
    """Whether a file is a JSON document (a credential), by its first character."""
    return data.lstrip()[:1] == b"{"


def parse(data: bytes | str) -> dict[str, Any]:
    """The credential as JSON; NotAnExport if it is not an OB credential with a proof."""
    if len(data) > MAX_BYTES:
        raise NotAnExport("too large for a transcript credential")
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise NotAnExport("not JSON") from None
    if not isinstance(document, dict) or TYPE not in (document.get("type") or []):
        raise NotAnExport("not an OpenBadgeCredential")
    return document


def claims_of(record: dict[str, Any], record_digest: str) -> Claims:
    """What the verdict shows, from the embedded record (as a QR credential's claims)."""
    student, summary = record["student"], record["summary"]
    graduation = record.get("graduation_date")
    if type(record["version"]) is not int or type(record["status_index"]) is not int or \
            record["version"] < 1 or record["status_index"] < 0:
        raise ValueError("version or status index is not a number")
    return Claims(
        transcript_id=record["transcript_id"], version=record["version"],
        institution=record["institution"]["code"],
        name=f"{student['first_name_th']} {student['last_name_th']}",
        name_en=f"{student['first_name_en']} {student['last_name_en']}".strip() or None,
        programme=record["programme"]["code"], gpa=summary.get("gpa"),
        graduation_date=date.fromisoformat(graduation) if graduation else None,
        issued_at=int(datetime.fromisoformat(
            record["issued_at"].replace("Z", "+00:00")).timestamp()),
        status_index=record["status_index"], record_digest=record_digest)


def _method(document: dict[str, Any], proof: dict[str, Any]) -> tuple[str, str]:
    """(institution code, kid) of the proof's ``{issuer did}#{code}-{kid}``."""
    issuer = document.get("issuer")
    did = issuer.get("id") if isinstance(issuer, dict) else issuer
    method = proof["verificationMethod"]
    if not isinstance(did, str) or not did.startswith("did:web:") or \
            not method.startswith(did + "#"):
        raise ValueError("the proof's key is not the issuer's")
    code, dash, kid = method.removeprefix(did + "#").partition("-")
    if not dash or not code.isalnum() or not kid:
        raise ValueError("not a transcript key")
    return code, kid


def _as_issued(document: dict[str, Any], proof: dict[str, Any]) -> None:
    """ValueError unless `document` is exactly the credential our issuer makes of its
    embedded record (so it is safe to canonicalise)."""
    if set(proof) != PROOF_MEMBERS or not all(isinstance(v, str) and len(v) < 1000
                                               for v in proof.values()):
        raise ValueError("unexpected proof members")
    status = document.get("credentialStatus")
    if not isinstance(status, list) or len(status) != 2 or not all(
            isinstance(e, dict) and set(e) == STATUS_MEMBERS
            and all(isinstance(v, str) and len(v) < 1000 for v in e.values())
            for e in status):
        raise ValueError("unexpected credentialStatus")
    subject = document.get("credentialSubject")
    issuer = document.get("issuer")
    if not isinstance(subject, dict) or not isinstance(issuer, dict):
        raise ValueError("no credentialSubject or issuer")
    try:
        expected = open_badge.credential(
            subject["transcript"], did=issuer["id"], record_digest=subject["transcriptDigest"],
            status=status)
    except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError):
        raise ValueError("the embedded record is malformed") from None
    if expected != {k: v for k, v in document.items() if k != "proof"}:
        raise ValueError("not a transcript credential as issued")


def check_vc(document: dict[str, Any], trust: TrustStore
             ) -> tuple[Claims | None, list[Check], bytes | None]:
    """Claims (None if the credential fails), checks, and the embedded record's canonical
    JSON, for a credential as `parse` returns it."""
    try:
        proof = data_integrity.proof_of(document)
        code, kid = _method(document, proof)
    except (data_integrity.ProofError, ValueError) as exc:
        return None, [_fail("credential_signature", "ข้อมูลรับรองดิจิทัลไม่ถูกต้อง",
                            f"Credential rejected: {exc}")], None
    key = trust.key(kid)
    if key is None:
        return None, [_fail("credential_signature",
                            "ไม่รู้จักกุญแจที่ลงนามข้อมูลรับรองดิจิทัล",
                            "The credential's key is not among the issuer's keys")], None
    try:
        _as_issued(document, proof)
        data_integrity.verify_proof(document, key.public_key)
        subject = document["credentialSubject"]
        record, stated = subject["transcript"], subject["transcriptDigest"]
        record_json = canonical_json(record)
        claims = claims_of(record, stated)
    except (data_integrity.ProofError, KeyError, TypeError, ValueError, AttributeError) as exc:
        return None, [_fail("credential_signature", "ลายมือชื่อของข้อมูลรับรองดิจิทัลไม่ถูกต้อง",
                            f"The credential's signature is not valid: {exc}")], None
    checks = [Check("credential_signature", Status.PASS,
                    "ลายมือชื่อของข้อมูลรับรองดิจิทัลถูกต้อง", "The credential's signature is valid")]
    issued = datetime.fromtimestamp(claims.issued_at, UTC)
    checks.append(key_in_use_check(key, issued))
    if code == claims.institution:
        checks.append(institution_check(key, claims.institution))
    else:  # the verification method names an institution too: it must be the record's
        checks.append(_fail("credential_institution",
                            f"วิธีตรวจสอบระบุสถาบัน {code} ไม่ใช่ {claims.institution}",
                            f"The verification method names institution {code}, the record "
                            f"{claims.institution}"))
    same = digest(record_json) == stated
    checks.append(Check(
        "record_digest", Status.PASS if same else Status.FAIL,
        "ข้อมูลระเบียนตรงกับข้อมูลรับรอง" if same else "ข้อมูลระเบียนไม่ตรงกับข้อมูลรับรอง",
        "The embedded record matches its digest" if same
        else "The embedded record does not match its digest"))
    compromised = compromise_check("credential_key_not_compromised", key, issued, None)
    return claims, checks + ([compromised] if compromised else []), record_json
