"""The issuer's own offline check of a PDF (or of a transcript's VC 2.0 export): the
verifier's checks plus its database status.

The status comes from the database, so it is always current; its checks say what a
verifier is told (date, public reason, newer version: `verifier.status_checks`) and,
for the operator, the reason the registrar recorded. A credential dated in the future
beyond the clock skew is INVALID, as on the verifier.
"""

from __future__ import annotations

import json
from datetime import datetime

from issuer.adapters.pki import PkiError, load_root
from issuer.config import BANGKOK
from issuer.core.lifecycle import TranscriptStatus
from issuer.services.context import Issuer, ServiceError, refused
from issuer.services.publishing import JWKS_PATH, publish
from verifier.core.credential import Claims
from verifier.core.freshness import FreshnessPolicy, issue_time_check
from verifier.core.status_details import REVOKED, SUPERSEDED, StatusDetail
from verifier.core.verdict import REVOCATION, Check, Status, Verdict, decide
from verifier.pdf import NotATranscript, check_pdf
from verifier.status_checks import latest, revoked_check, superseded
from verifier.trust import TrustStore
from verifier.vc_export import NotAnExport, check_vc, parse


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
        newest = uow.transcripts.latest(claims.transcript_id)
        revoked = row.status is TranscriptStatus.REVOKED
        newer = newest is not None and newest.version > row.version
        detail = StatusDetail(
            row.status_index, REVOKED if revoked else SUPERSEDED,
            row.status_changed_at.astimezone(BANGKOK).date(),
            (row.status_reason_code or "unspecified") if revoked else None,
            newest.version if newer and newest else None,
            newest.issued_at.astimezone(BANGKOK).date() if newer and newest else None)
        return [
            revoked_check(detail, row.status_reason) if revoked
            else Check(REVOCATION, Status.PASS, "ยังไม่ถูกเพิกถอน", "Not revoked"),
            superseded(detail, row.version) if newer or row.status is (
                TranscriptStatus.SUPERSEDED) else latest(revoked),
        ]


def verify_pdf(issuer: Issuer, data: bytes, *, moment: datetime | None = None) -> Verdict:
    """The verdict on a PDF with this issuer's keys and status; `moment`: its signature's
    long-term validity as of then (default now)."""
    try:
        findings = check_pdf(data, trust_store(issuer), moment=moment)
    except NotATranscript as e:
        raise refused(e) from None
    checks = list(findings.checks)
    if findings.claims is not None:
        checks.append(issue_time_check(findings.claims.issued_at, issuer.clock(),
                                       FreshnessPolicy()))
        checks += status_checks(issuer, findings.claims)
    return decide(checks)


def verify_vc(issuer: Issuer, data: bytes) -> Verdict:
    """The verdict on a VC 2.0 export (``.vc.json``) with this issuer's keys and status."""
    try:
        document = parse(data)
    except NotAnExport as e:
        raise refused(e) from None
    claims, checks, _record = check_vc(document, trust_store(issuer))
    if claims is not None and all(c.status is Status.PASS for c in checks):
        checks.append(issue_time_check(claims.issued_at, issuer.clock(), FreshnessPolicy()))
        checks += status_checks(issuer, claims)
    return decide(checks)
