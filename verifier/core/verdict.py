"""The verdict: every check with its outcome, and one overall result (DESIGN.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    INDETERMINATE = "indeterminate"
    SKIPPED = "skipped"


class Result(StrEnum):
    VALID = "VALID"
    INVALID = "INVALID"
    REVOKED = "REVOKED"
    SUPERSEDED = "SUPERSEDED"
    UNTRUSTED = "UNTRUSTED"
    INDETERMINATE = "INDETERMINATE"


@dataclass(frozen=True)
class Check:
    id: str
    status: Status
    message_th: str
    message_en: str


# Check ids whose failure is not INVALID; every other failed check is. A PDF certified by
# one trusted institution around another's credential ("same_institution") is a forgery
# by an insider, so INVALID, not merely UNTRUSTED.
TRUST_CHECKS = frozenset({"pdf_signer_trusted", "credential_issuer_trusted"})
REVOCATION = "not_revoked"
SUPERSESSION = "latest_version"


@dataclass(frozen=True)
class Verdict:
    result: Result
    checks: tuple[Check, ...]
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "result": self.result.value,
            "checks": [  # by hand: dataclasses.asdict deep-copies, a third of the API's time
                {"id": c.id, "status": c.status.value, "message_th": c.message_th,
                 "message_en": c.message_en}
                for c in self.checks
            ],
            "data": self.data,
        }


def decide(checks: list[Check] | tuple[Check, ...], data: dict[str, Any] | None = None) -> Verdict:
    """Combine checks into one result.

    Any failed check other than trust or status makes INVALID whatever else passed;
    then an untrusted signer UNTRUSTED; then revocation, then supersession; an
    indeterminate check (e.g. status unavailable) never yields VALID.
    """
    failed = {c.id for c in checks if c.status is Status.FAIL}
    if not checks or failed - TRUST_CHECKS - {REVOCATION, SUPERSESSION}:
        result = Result.INVALID
    elif failed & TRUST_CHECKS:
        result = Result.UNTRUSTED
    elif REVOCATION in failed:
        result = Result.REVOKED
    elif SUPERSESSION in failed:
        result = Result.SUPERSEDED
    elif any(c.status is Status.INDETERMINATE for c in checks):
        result = Result.INDETERMINATE
    else:
        result = Result.VALID
    return Verdict(result, tuple(checks), data or {})
