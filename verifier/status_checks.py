"""The status checks of a verdict, ``not_revoked`` and ``latest_version``: the
institution's signed lists, explained by its signed status details.

- A set bit fails its check however old the list (revocation and supersession are
  final). REVOKED says when and why; SUPERSEDED -- and a revoked version that has a
  newer one -- which version replaces it, from when, and how to obtain it.
- A clear bit passes only on status the issuer confirmed within the freshness policy
  (`verifier.core.freshness`); from an offline trust file within its allowed age it
  passes with a warning; otherwise the check is indeterminate and says why, so the
  verdict is never VALID.

The message builders (`revoked`, `superseded`, `latest`) are shared with the issuer's
own check (``transcripts verify``), which reads the same facts from its database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from verifier.core import freshness
from verifier.core.status_credential import REVOCATION, SUPERSESSION, StatusListError
from verifier.core.status_details import StatusDetail, reason_text
from verifier.core.verdict import REVOCATION as REVOKED_CHECK
from verifier.core.verdict import SUPERSESSION as LATEST_CHECK
from verifier.core.verdict import Check, Status
from verifier.display import date_en, date_th
from verifier.sources import REFUSED, UNREACHABLE, UNUSABLE, Freshness, StatusView, TrustSource


class StatusRef(Protocol):
    """What locates a credential's status: a QR credential's `Claims`, an SD-JWT VC's
    `verifier.core.sd_jwt_vc.Presented`."""

    @property
    def institution(self) -> str: ...
    @property
    def status_index(self) -> int: ...
    @property
    def version(self) -> int: ...


def status_checks(source: TrustSource, claims: StatusRef
                  ) -> tuple[list[Check], dict[str, Any]]:
    """The two checks for a credential whose signature passed, and what the verdict's
    data says of its status (``{"status": {...}}`` when the issuer published details)."""
    institution, index = claims.institution, claims.status_index
    source.sync(institution)
    now = source.now()
    policy = source.settings.freshness
    revocation = source.status(institution, REVOCATION)
    supersession = source.status(institution, SUPERSESSION)
    revoked, superseded = _bit(revocation, index), _bit(supersession, index)
    detail = None
    if revoked or superseded:
        numbers = [v.status.sequence for v in (revocation, supersession) if v.status]
        details = source.details(institution, at_least=max(numbers)).status
        detail = details.get(index) if details is not None else None
    checks = [
        revoked_check(detail) if revoked else _clear(REVOKED_CHECK, revocation, revoked, now,
                                                     policy),
        _latest(supersession, superseded, detail, claims.version, bool(revoked), now, policy),
    ]
    return checks, ({"status": status_data(detail)} if detail is not None else {})


def status_data(detail: StatusDetail) -> dict[str, Any]:
    """The published details of one status index, for the JSON verdict."""
    data: dict[str, Any] = {"state": detail.state,
                            "date": detail.date.isoformat() if detail.date else None}
    if detail.state == "revoked":
        th, en = reason_text(detail.reason)
        data |= {"reason": detail.reason, "reason_th": th, "reason_en": en}
    data |= {"newer_version": detail.newer_version,
             "newer_date": detail.newer_date.isoformat() if detail.newer_date else None}
    return data


# --- messages (also used by the issuer's own check) --------------------------------------


def revoked_check(detail: StatusDetail | None, recorded: str | None = None) -> Check:
    """``not_revoked`` failed: when and why, as published; `recorded` (the issuer's own
    check only) adds the registrar's words from the database."""
    th, en = "เอกสารฉบับนี้ถูกเพิกถอนแล้ว", "This transcript has been revoked"
    if detail is None:
        return Check(REVOKED_CHECK, Status.FAIL,
                     f"{th} (ดึงวันที่และเหตุผลจากผู้ออกเอกสารไม่ได้ โปรดสอบถามสถานศึกษา)",
                     f"{en} (its date and reason could not be had from the issuer: ask the "
                     "institution)")
    if detail.date is not None:
        th, en = f"{th} เมื่อ {date_th(detail.date)}", f"{en} on {date_en(detail.date)}"
    reason_th, reason_en = reason_text(detail.reason)
    th, en = f"{th} เหตุผล: {reason_th}", f"{en}: {reason_en}"
    if recorded:
        th, en = f"{th} (บันทึกไว้ว่า: {recorded})", f"{en} (recorded reason: {recorded})"
    return Check(REVOKED_CHECK, Status.FAIL, th, en)


def superseded(detail: StatusDetail | None, version: int) -> Check:
    """``latest_version`` failed: which version replaces this one and how to get it."""
    newer = detail.newer_version if detail is not None else None
    if newer is None or newer <= version:
        return Check(LATEST_CHECK, Status.FAIL,
                     "มีเอกสารฉบับแก้ไขที่ใหม่กว่าฉบับนี้ โปรดขอฉบับล่าสุดจากสถานศึกษาหรือผู้สำเร็จการศึกษา",
                     "A newer, corrected version of this transcript exists: ask the school "
                     "or the graduate for the latest version")
    assert detail is not None
    th, en = f"ฉบับที่ {newer}", f"Version {newer}"
    if detail.newer_date is not None:
        th += f" ซึ่งออกเมื่อ {date_th(detail.newer_date)}"
        en += f", issued on {date_en(detail.newer_date)},"
    return Check(LATEST_CHECK, Status.FAIL,
                 f"{th} แทนที่ฉบับนี้แล้ว โปรดขอฉบับที่ {newer} จากสถานศึกษาหรือผู้สำเร็จการศึกษา",
                 f"{en} replaces this one: ask the school or the graduate for version "
                 f"{newer}")


def latest(revoked: bool) -> Check:
    """``latest_version`` passed; a revoked version is no one's "latest version"."""
    if revoked:
        return Check(LATEST_CHECK, Status.PASS, "ยังไม่มีการออกฉบับที่ใหม่กว่าฉบับที่ถูกเพิกถอนนี้",
                     "No newer version has been issued since this one was revoked")
    return Check(LATEST_CHECK, Status.PASS, "เป็นฉบับล่าสุด", "This is the latest version")


NOT_REVOKED = ("เอกสารไม่ถูกเพิกถอน", "The transcript is not revoked")
UNCONFIRMED = {
    REVOKED_CHECK: ("ยืนยันไม่ได้ว่าเอกสารไม่ถูกเพิกถอน",
                    "Cannot confirm that the transcript is not revoked"),
    LATEST_CHECK: ("ยืนยันไม่ได้ว่าเป็นฉบับล่าสุด", "Cannot confirm that this is the latest version"),
}


# --- from the lists -----------------------------------------------------------------------

CAUSES_TH = {
    UNREACHABLE: "ติดต่อผู้ออกเอกสารไม่ได้",
    REFUSED: "ปฏิเสธข้อมูลสถานะที่ได้รับ เพราะเก่ากว่าฉบับที่เคยได้รับหรือลงวันที่ในอนาคต",
    UNUSABLE: "ข้อมูลสถานะที่ได้รับใช้ไม่ได้",
}


def _cause(view: StatusView) -> tuple[str, str]:
    """Why the last attempt to get or confirm the list failed, in Thai and English."""
    if view.error is None:
        return freshness.UNREACHABLE
    return CAUSES_TH.get(view.error_kind or UNUSABLE, CAUSES_TH[UNUSABLE]), view.error



def _bit(view: StatusView, index: int) -> bool | None:
    if view.status is None:
        return None
    try:
        return view.status.is_set(index)
    except StatusListError:
        return None


def _latest(view: StatusView, bit: bool | None, detail: StatusDetail | None, version: int,
            revoked: bool, now: datetime, policy: freshness.FreshnessPolicy) -> Check:
    if bit or (detail is not None and (detail.newer_version or 0) > version):
        return superseded(detail, version)
    if bit is None or not revoked:
        return _clear(LATEST_CHECK, view, bit, now, policy)
    return _clear(LATEST_CHECK, view, bit, now, policy, passed=latest(True))


def _clear(cid: str, view: StatusView, bit: bool | None, now: datetime,
           policy: freshness.FreshnessPolicy, passed: Check | None = None) -> Check:
    """A clear bit: pass only when the list is current."""
    if bit is None:
        reason = view.error or "status list unavailable"
        return Check(cid, Status.INDETERMINATE, "ไม่สามารถตรวจสอบสถานะของเอกสารได้",
                     f"The status cannot be checked: {reason}")
    passed = passed or (Check(cid, Status.PASS, *NOT_REVOKED) if cid == REVOKED_CHECK
                        else latest(False))
    status = view.status
    offline = view.freshness is Freshness.OFFLINE
    problem = freshness.status_problem(status.valid_from, status.valid_until,
                                       confirmed_at=view.as_of, offline=offline, now=now,
                                       policy=policy, cause=_cause(view))
    if problem is not None:
        what = UNCONFIRMED[cid]
        return Check(cid, Status.INDETERMINATE, f"{what[0]}: {problem[0]}",
                     f"{what[1]}: {problem[1]}")
    if offline:
        signed = freshness.when(status.valid_from)
        return Check(cid, Status.WARN,
                     f"{passed.message_th} (ข้อมูลสถานะจากไฟล์ความเชื่อถือแบบออฟไลน์ ลงนามเมื่อ {signed})",
                     f"{passed.message_en} (status from the offline trust file, signed at "
                     f"{signed})")
    return passed
