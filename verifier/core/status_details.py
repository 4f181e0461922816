"""Signed status details: when and why a transcript version stopped being current, and
which version replaces it.

The two status lists say only *that* a version is revoked or superseded. Beside them
each institution publishes ``status/<code>/details.jws``, signed by the same credential
key, header ``{"alg":"ES256","kid":<kid>,"typ":"bkt-status-details"}``, payload::

    {"type": "BktStatusDetails", "issuer": "urn:bkt:institution:1001", "sequence": 42,
     "validFrom": "2026-04-05T03:00:00Z", "validUntil": "2026-05-05T03:00:00Z",
     "ttl": 30000,
     "entries": {"10": {"state": "revoked", "date": "2026-04-02",
                        "reason": "incorrect_data"},
                 "11": {"state": "superseded", "date": "2026-04-05",
                        "newer": {"version": 2, "date": "2026-04-05"}}}}

keyed by status index (the credential's ``s``), with the same ``sequence`` as the lists
of that publication. It holds no personal data: indexes, states, dates (Bangkok), a
reason *code* from `REASONS` (the registrar's own words stay in the issuer's database
and audit log) and version numbers. A verifier fetches it only for a credential whose
bit is set, and the lists stay the authority: details only explain them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from verifier.core import status_credential as sc
from verifier.core.status_credential import StatusKey, StatusListError

TYP = "bkt-status-details"
TYPE = "BktStatusDetails"
PURPOSE = "details"
"""Its name beside the lists' purposes: ``status/<code>/details.jws``."""
REVOKED = "revoked"
SUPERSEDED = "superseded"
STATES = (REVOKED, SUPERSEDED)

UNSPECIFIED = "unspecified"
REASONS: dict[str, tuple[str, str]] = {
    "issued_in_error": ("ออกเอกสารโดยผิดพลาด", "issued in error"),
    "incorrect_data": ("ข้อมูลในเอกสารไม่ถูกต้อง", "the data on it is incorrect"),
    "award_withdrawn": ("สถานศึกษาเพิกถอนผลการสำเร็จการศึกษา",
                        "the institution withdrew the qualification"),
    UNSPECIFIED: ("สถานศึกษาไม่ได้เปิดเผยเหตุผล โปรดสอบถามสถานศึกษา",
                  "no reason published; ask the institution"),
}
"""Why a version was revoked, as published (code -> Thai, English). Codes, not free
text, so that nothing personal can reach the public document."""


def reason_text(code: str | None) -> tuple[str, str]:
    """The Thai and English text of a reason code; an unknown code reads as unspecified."""
    return REASONS.get(code or UNSPECIFIED, REASONS[UNSPECIFIED])


@dataclass(frozen=True)
class StatusDetail:
    """What is published about one status index."""

    index: int
    state: str
    """`REVOKED` or `SUPERSEDED`."""
    date: date | None = None
    """When it was revoked or superseded (the Bangkok date)."""
    reason: str | None = None
    """A code of `REASONS`, for a revocation."""
    newer_version: int | None = None
    """The transcript's latest version, when it is newer than this one."""
    newer_date: date | None = None
    """When that version was issued."""

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"state": self.state}
        if self.date is not None:
            entry["date"] = self.date.isoformat()
        if self.reason is not None:
            entry["reason"] = self.reason
        if self.newer_version is not None:
            entry["newer"] = {"version": self.newer_version}
            if self.newer_date is not None:
                entry["newer"]["date"] = self.newer_date.isoformat()
        return entry

    @classmethod
    def from_json(cls, index: int, entry: Any) -> StatusDetail:
        if not isinstance(entry, dict) or entry.get("state") not in STATES:
            raise ValueError("entry without a known state")
        newer = entry.get("newer")
        if newer is not None and not isinstance(newer, dict):
            raise ValueError("newer is not an object")
        newer = newer or {}
        version = newer.get("version")
        if version is not None and (type(version) is not int or version < 1):
            raise ValueError("newer version is not a positive number")
        reason = entry.get("reason")
        if reason is not None and not isinstance(reason, str):
            raise ValueError("reason is not a code")
        return cls(index, entry["state"], _date(entry.get("date")), reason, version,
                   _date(newer.get("date")))


def _date(value: Any) -> date | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("date is not a string")
    return date.fromisoformat(value)


@dataclass(frozen=True)
class StatusDetails:
    """One institution's signed details, by status index."""

    institution: str
    valid_from: datetime
    valid_until: datetime
    ttl_seconds: int
    sequence: int
    entries: Mapping[int, StatusDetail] = field(default_factory=dict)

    def get(self, index: int) -> StatusDetail | None:
        return self.entries.get(index)

    def expired(self, moment: datetime) -> bool:
        return moment > self.valid_until

    def to_payload(self) -> dict[str, Any]:
        return {
            "type": TYPE,
            "issuer": f"urn:bkt:institution:{self.institution}",
            "sequence": self.sequence,
            "validFrom": sc.iso_time(self.valid_from),
            "validUntil": sc.iso_time(self.valid_until),
            "ttl": self.ttl_seconds * 1000,
            "entries": {str(i): self.entries[i].to_json() for i in sorted(self.entries)},
        }

    @classmethod
    def from_payload(cls, payload: Any) -> StatusDetails:
        try:
            if payload["type"] != TYPE:
                raise ValueError("not status details")
            issuer = sc.as_text(payload["issuer"])
            if not issuer.startswith("urn:bkt:institution:"):
                raise ValueError("issuer is not an institution")
            ttl, sequence = payload["ttl"], payload["sequence"]
            if type(ttl) is not int or ttl < 0:
                raise ValueError("ttl is not a number of milliseconds")
            if type(sequence) is not int or not 0 < sequence < 2**63:
                raise ValueError("no sequence number")
            raw = payload["entries"]
            if not isinstance(raw, dict):
                raise ValueError("entries is not an object")
            entries = {}
            for key, value in raw.items():
                if not (isinstance(key, str) and key.isascii() and key.isdigit()
                        and len(key) <= 12):
                    raise ValueError("an entry's key is not a status index")
                entries[int(key)] = StatusDetail.from_json(int(key), value)
            result = cls(issuer.removeprefix("urn:bkt:institution:"),
                         sc.parse_time(payload["validFrom"]),
                         sc.parse_time(payload["validUntil"]), ttl // 1000, sequence, entries)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StatusListError(f"malformed status details: {exc}") from None
        if not sc.INSTITUTION_CODE.fullmatch(result.institution):
            raise StatusListError("malformed status details: institution")
        if result.valid_until < result.valid_from:
            raise StatusListError("malformed status details: validUntil before validFrom")
        return result


def build(
    institution: str,
    details: Iterable[StatusDetail],
    now: datetime,
    *,
    sequence: int,
    ttl: timedelta = sc.DEFAULT_TTL,
    validity: timedelta = sc.DEFAULT_VALIDITY,
) -> StatusDetails:
    """The details of `institution`, valid from `now` for `validity`."""
    if not sc.INSTITUTION_CODE.fullmatch(institution):
        raise ValueError(f"institution code must be alphanumeric: {institution!r}")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not 0 < sequence < 2**63:
        raise ValueError("a sequence number is positive")
    entries = {}
    for detail in details:
        if detail.state not in STATES or detail.index < 0:
            raise ValueError(f"not a status detail: {detail!r}")
        entries[detail.index] = detail
    now = now.replace(microsecond=0)
    return StatusDetails(institution, now, now + validity, int(ttl.total_seconds()), sequence,
                         entries)


def sign(details: StatusDetails, private_key: ec.EllipticCurvePrivateKey, kid: str) -> str:
    """The compact JWS of `details`, signed by the institution's credential key."""
    return sc.sign_payload(details.to_payload(), private_key, kid, typ=TYP)


def verify(
    token: str, resolve_key: Callable[[str], StatusKey | None], institution: str
) -> StatusDetails:
    """Check signed details like a status list (`status_credential.verify`); return them
    or raise StatusListError."""
    key, payload = sc.verify_signed(token, resolve_key, institution, typ=TYP,
                                    what="status details")
    details = StatusDetails.from_payload(payload)
    if details.institution != institution:
        raise StatusListError("status details are for another institution")
    if not key.valid_at(details.valid_from):
        raise StatusListError("status details key was not valid when they were issued")
    return details
