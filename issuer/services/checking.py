"""The issuer's own offline check of a PDF: the verifier's checks plus its database status."""

from __future__ import annotations

import json

from issuer.adapters.pki import PkiError, load_root
from issuer.core.lifecycle import TranscriptStatus
from issuer.services.context import Issuer, ServiceError
from issuer.services.publishing import JWKS_PATH, publish
from verifier.core.credential import Claims
from verifier.core.verdict import REVOCATION, SUPERSESSION, Check, Status, Verdict, decide
from verifier.pdf import NotATranscript, check_pdf
from verifier.trust import TrustStore


def trust_store(issuer: Issuer) -> TrustStore:
    """Trust as a verifier has it: the pinned root and the published JWKS."""
    path = issuer.settings.published_dir / JWKS_PATH
    if not path.exists():
        publish(issuer)
    try:
        root = load_root(issuer.settings.keys_dir)
    except PkiError:
        raise ServiceError("no trusted root: run `transcripts keys create` first") from None
    jwks = json.loads(path.read_text(encoding="utf-8"))
    return TrustStore.from_jwks(jwks, [root])


def status_checks(issuer: Issuer, claims: Claims) -> list[Check]:
    """Revocation and supersession as this issuer's database records them."""
    with issuer.uow() as uow:
        row = uow.transcripts.get(claims.transcript_id, claims.version)
        if row is None or row.institution.code != claims.institution:
            return [Check(REVOCATION, Status.INDETERMINATE, "ไม่พบระเบียนนี้ในฐานข้อมูลของผู้ออก",
                          "This transcript is not in the issuer's database")]
        revoked = row.status is TranscriptStatus.REVOKED
        superseded = row.status is TranscriptStatus.SUPERSEDED
        return [
            Check(REVOCATION, Status.FAIL if revoked else Status.PASS,
                  f"ถูกเพิกถอนแล้ว: {row.status_reason}" if revoked else "ยังไม่ถูกเพิกถอน",
                  f"Revoked: {row.status_reason}" if revoked else "Not revoked"),
            Check(SUPERSESSION, Status.FAIL if superseded else Status.PASS,
                  "มีฉบับแก้ไขที่ใหม่กว่า" if superseded else "เป็นฉบับล่าสุด",
                  "A newer, corrected version exists" if superseded
                  else "This is the latest version"),
        ]


def verify_pdf(issuer: Issuer, data: bytes) -> Verdict:
    try:
        findings = check_pdf(data, trust_store(issuer))
    except NotATranscript as e:
        raise ServiceError(str(e)) from None
    checks = list(findings.checks)
    if findings.claims is not None:
        checks += status_checks(issuer, findings.claims)
    return decide(checks)
