"""How current status must be for a verdict to rest on it, and how far ahead of the
verifier's clock a signed date may lie. Pure: every function takes `now`.

The numbers (README, "Freshness of status"):

- a worker uses a status document for `refresh` seconds (30), then checks it with the
  issuer again -- a conditional request, so an unchanged document costs a 304;
- when that check fails the copy stays usable for one more `refresh`: no answer rests
  on status the issuer confirmed longer ago than `unconfirmed_after` (60 s), which is
  the bound on how long a revocation takes to reach every worker;
- a document signed more than `max_age` ago (12 h: the issuer re-signs every 6 h, plus
  6 h of grace) is stale whoever serves it; that is also how long a replayed copy can
  fool a verifier that has never seen a newer one (the residual window);
- a document or credential dated more than `skew` (5 min) ahead of the clock is refused.

Stale or unconfirmed status can still prove a revocation or a newer version (both are
final); it can never prove their absence, so it never yields VALID.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from verifier.core.verdict import Check, Status

Reason = tuple[str, str]
"""Thai and English, appended to a check's message."""

ISSUED_AT = "credential_issued_at"
UNREACHABLE: Reason = ("ติดต่อผู้ออกเอกสารไม่ได้", "the issuer is unreachable")


@dataclass(frozen=True)
class FreshnessPolicy:
    refresh: float = 30.0
    """Seconds a worker uses a status document before checking it with the issuer."""
    max_age: float = 12 * 3600.0
    """Seconds after its signing time (``validFrom``) that a status document is stale."""
    skew: float = 300.0
    """Seconds a signed date may lie ahead of the verifier's clock."""

    @property
    def unconfirmed_after(self) -> float:
        """Seconds after the issuer last confirmed a document that it stops counting as
        current: one failed re-check is tolerated, not two."""
        return 2 * self.refresh


def when(moment: datetime) -> str:
    """``2026-04-02 10:15 UTC``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def span(seconds: float) -> tuple[str, str]:
    """A duration as Thai and English words: ``12 ชั่วโมง`` / ``12 h``."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{int(seconds // 3600)} ชั่วโมง", f"{int(seconds // 3600)} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)} นาที", f"{int(seconds // 60)} min"
    return f"{int(seconds)} วินาที", f"{int(seconds)} s"


def in_future(moment: datetime, now: datetime, policy: FreshnessPolicy) -> bool:
    return moment > now + timedelta(seconds=policy.skew)


def dated_in_future(valid_from: datetime) -> Reason:
    return (f"ข้อมูลสถานะลงวันที่ในอนาคต ({when(valid_from)})",
            f"the status list is dated in the future ({when(valid_from)})")


def document_problem(
    valid_from: datetime, valid_until: datetime, now: datetime, policy: FreshnessPolicy
) -> Reason | None:
    """Why a signed status document cannot show current status whoever served it, or
    None: dated in the future, expired, or older than `max_age`."""
    if in_future(valid_from, now, policy):
        return dated_in_future(valid_from)
    if now > valid_until:
        return (f"ข้อมูลสถานะหมดอายุเมื่อ {when(valid_until)}",
                f"the status list expired at {when(valid_until)}")
    if (now - valid_from).total_seconds() > policy.max_age:
        th, en = span(policy.max_age)
        return (f"ข้อมูลสถานะลงนามเมื่อ {when(valid_from)} เก่ากว่า {th} ที่ยอมรับได้",
                f"the status list was signed at {when(valid_from)}, older than the {en} "
                "allowed")
    return None


def status_problem(
    valid_from: datetime,
    valid_until: datetime,
    *,
    confirmed_at: datetime | None,
    offline: bool,
    now: datetime,
    policy: FreshnessPolicy,
    cause: Reason | None = None,
) -> Reason | None:
    """Why status from this document is not current, or None.

    `confirmed_at`: when the issuer last served (or confirmed unchanged) this document;
    `offline`: the verifier runs from a trust file alone, so only the document's own
    age counts; `cause`: why the last check with the issuer failed (default: the issuer
    is unreachable).
    """
    problem = document_problem(valid_from, valid_until, now, policy)
    if problem is not None or offline:
        return problem
    if confirmed_at is not None and (now - confirmed_at).total_seconds() <= (
        policy.unconfirmed_after
    ):
        return None
    since = when(confirmed_at) if confirmed_at is not None else when(valid_from)
    th, en = cause or UNREACHABLE
    return (f"{th} สถานะได้รับการยืนยันครั้งล่าสุดเมื่อ {since}",
            f"{en}; status last confirmed at {since}")


def issue_time_check(issued_at: int, now: datetime, policy: FreshnessPolicy) -> Check:
    """``credential_issued_at``: a credential claiming to be issued further ahead than the
    clock skew is INVALID (whoever holds a key could date it so)."""
    try:
        issued = datetime.fromtimestamp(issued_at, UTC)
    except (OverflowError, OSError, ValueError):
        issued = None
    if issued is not None and not in_future(issued, now, policy):
        return Check(ISSUED_AT, Status.PASS, "วันที่ออกเอกสารไม่อยู่ในอนาคต",
                     "The credential's issue time is not in the future")
    shown = when(issued) if issued is not None else str(issued_at)
    return Check(ISSUED_AT, Status.FAIL, f"ข้อมูลรับรองระบุวันที่ออกในอนาคต ({shown})",
                 f"The credential claims to be issued in the future ({shown})")
