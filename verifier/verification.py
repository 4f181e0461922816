"""One verdict for a QR credential or a PDF: the checks of `pdf.py`, trust and status.

The `Verifier` asks its `TrustSource` for keys and status lists and adds checks that
say how current they are:

- ``credential_issued_at``: fail when the credential claims an issue time further in the
  future than the clock skew allows (`verifier.core.freshness`);
- ``issuer_keys``: pass when the JWKS is fresh, warn when served from cache (issuer
  unreachable) or from the offline trust bundle, indeterminate when there is none;
- ``not_revoked`` / ``latest_version`` (`verifier.status_checks`): the credential's index
  in the institution's "revocation" / "refresh" list -- fail when set, with the date,
  reason and newer version from the signed status details; pass only from a list the
  issuer confirmed recently (warn from an offline trust file within its allowed age);
  indeterminate, with the reason, when no current list can be had (so the verdict is
  INDETERMINATE, never VALID).

A credential whose key is unknown while the JWKS itself is unavailable cannot be judged:
its ``credential_signature`` check is indeterminate rather than failed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from verifier import vc_export
from verifier.core.credential import Claims
from verifier.core.freshness import ISSUED_AT, issue_time_check
from verifier.core.sd_jwt_vc import Presented
from verifier.core.verdict import Check, Status, Verdict, decide
from verifier.directory import Directories
from verifier.display import VC, signed_data
from verifier.pdf import check_credential, check_pdf
from verifier.sd_jwt_checks import check_sd_jwt, presented_data
from verifier.sources import Freshness, KeysView, TrustSource
from verifier.status_checks import status_checks
from verifier.trust import TrustedKey, TrustStore

CREDENTIAL_CHECKS = ("credential_signature", "credential_issuer_trusted", "credential_institution",
                     ISSUED_AT)


class _Recording(Mapping[str, TrustedKey]):
    """The trusted keys by kid, remembering the kids asked for and not found."""

    def __init__(self, keys: Mapping[str, TrustedKey]) -> None:
        self._keys = keys
        self.missed: list[str] = []

    def __getitem__(self, kid: str) -> TrustedKey:
        try:
            return self._keys[kid]
        except KeyError:
            self.missed.append(kid)
            raise

    def get(self, kid: str, default: Any = None) -> Any:  # type: ignore[override]
        if kid in self._keys:
            return self._keys[kid]
        self.missed.append(kid)
        return default

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


def _recording(view: KeysView) -> tuple[TrustStore, _Recording]:
    keys = _Recording(view.store.keys)
    return TrustStore(view.store.roots, keys, view.store.pdf_keys), keys


@dataclass(frozen=True)
class _Outcome:
    claims: Claims | Presented | None  # Presented: an SD-JWT VC's
    checks: list[Check]
    record: bytes | None


class Verifier:
    """Verifies credentials and PDFs against one trust source (thread-safe); with
    `directories`, a QR credential's institution and programme are shown by name."""

    def __init__(self, source: TrustSource, directories: Directories | None = None) -> None:
        self.source = source
        self.directories = directories

    # --- the two paths ------------------------------------------------------------------

    def credential(self, text: str) -> Verdict:
        """The verdict on a credential (``BKT1:<digits>`` or a compact JWS) or a QR URL
        (``…/V#BKT1:<digits>``, ``…/v#<JWS>``)."""

        def run(store: TrustStore) -> _Outcome:
            claims, checks = check_credential(text, store)
            return _Outcome(claims, checks, None)

        return self._judge(run)

    def sd_jwt(self, text: str) -> Verdict:
        """The verdict on an SD-JWT VC presentation (``<JWT>~<disclosure>~...~``, or the
        verifier's ``…/sd#<presentation>`` link): its data shows only what was disclosed
        and says what was withheld."""

        def run(store: TrustStore) -> _Outcome:
            presented, checks = check_sd_jwt(text, store)
            return _Outcome(presented, checks, None)

        return self._judge(run)

    def vc(self, data: bytes | str) -> Verdict:
        """The verdict on a VC 2.0 export (``.vc.json``, `verifier.vc_export`); NotAnExport
        if it is not one at all."""
        document = vc_export.parse(data)  # refuse what is not a credential before any check

        def run(store: TrustStore) -> _Outcome:
            return _Outcome(*vc_export.check_vc(document, store))

        return self._judge(run, source=VC)

    def pdf(self, data: bytes, *, moment: datetime | None = None) -> Verdict:
        """The verdict on a PDF; NotATranscript if it cannot be judged at all. `moment`:
        judge its signature's long-term validity as of then (default now)."""

        def run(store: TrustStore) -> _Outcome:
            findings = check_pdf(data, store, moment=moment)
            return _Outcome(findings.claims, list(findings.checks), findings.record)

        return self._judge(run)

    def _judge(self, run: Callable[[TrustStore], _Outcome], *, source: str | None = None
               ) -> Verdict:
        """`run` the checks with the trusted keys, then handle a key that was not found.

        An unknown kid makes us fetch the JWKS again (at most every `retry_after`); still
        unknown while no JWKS can be had at all, the signature is indeterminate; listed
        by the issuer under a chain we do not trust, the credential is UNTRUSTED.
        """
        view = self.source.keys()
        store, keys = _recording(view)
        outcome = run(store)
        if keys.missed and view.freshness is not Freshness.UNAVAILABLE:
            fresher = self.source.keys(unknown_kid=keys.missed[0])
            if fresher.store.keys is not view.store.keys:
                view = fresher
                store, keys = _recording(view)
                outcome = run(store)
        checks = outcome.checks
        if keys.missed and view.freshness is Freshness.UNAVAILABLE:
            checks = [_keys_unavailable() if c.id == "credential_signature" else c
                      for c in checks]
        elif keys.missed and any(kid in view.untrusted for kid in keys.missed):
            outcome = run(_untrusted_store(view))
            checks = _distrust(outcome.checks)
        record = None
        if outcome.record is not None and any(
            c.id == "record_digest" and c.status is Status.PASS for c in checks
        ):
            try:
                parsed = json.loads(outcome.record)
                record = parsed if isinstance(parsed, dict) else None
            except (ValueError, UnicodeDecodeError):
                record = None
        return self._finish(view, outcome.claims, checks, record=record, source=source)

    # --- shared -------------------------------------------------------------------------

    def _finish(
        self, view: KeysView, claims: Claims | Presented | None, checks: list[Check],
        *, record: dict[str, Any] | None, source: str | None = None,
    ) -> Verdict:
        if claims is not None:
            checks = [*checks, issue_time_check(claims.issued_at, self.source.now(),
                                                self.source.settings.freshness)]
        checks = [*checks, _keys_check(view)]
        credential_ok = claims is not None and all(
            c.status is Status.PASS for c in checks if c.id in CREDENTIAL_CHECKS)
        if claims is None or not credential_ok:
            checks += [_skipped("not_revoked"), _skipped("latest_version")]
            return decide(checks)
        status, status_data = status_checks(self.source, claims)
        checks += status
        name = next((n for kid, n in view.names.items()
                     if (k := view.store.key(kid)) and k.institution == claims.institution),
                    None)
        if isinstance(claims, Presented):
            return decide(checks, presented_data(claims, institution_name_en=name)
                          | status_data)
        directory = (self.directories.get(claims.institution)
                     if self.directories is not None and record is None else None)
        return decide(checks, signed_data(claims, institution_name_en=name, record=record,
                                          directory=directory, source=source) | status_data)


def _untrusted_store(view: KeysView) -> TrustStore:
    return TrustStore(view.store.roots, view.untrusted)


def _distrust(checks: Iterable[Check]) -> list[Check]:
    """Checks made with a key whose chain failed: its issuer is not trusted, whatever else."""
    return [
        Check("credential_issuer_trusted", Status.FAIL,
              "กุญแจของคิวอาร์โค้ดไม่ได้รับการรับรองจากใบรับรองหลักของกรุงเทพมหานคร",
              "The QR credential's key does not chain to the pinned BMA root")
        if c.id == "credential_issuer_trusted" else c
        for c in checks
    ]


KEYS_CURRENT = Check("issuer_keys", Status.PASS, "รายการกุญแจของผู้ออกเอกสารเป็นปัจจุบัน",
                     "The issuer's key list is current")


def _keys_check(view: KeysView) -> Check:
    if view.freshness is Freshness.FRESH:
        return KEYS_CURRENT
    when = view.as_of.strftime("%Y-%m-%d %H:%M UTC") if view.as_of else ""
    if view.freshness is Freshness.CACHED:
        return Check("issuer_keys", Status.WARN,
                     f"ติดต่อผู้ออกเอกสารไม่ได้ ใช้รายการกุญแจที่บันทึกไว้เมื่อ {when}",
                     f"The issuer is unreachable; using its key list cached at {when}")
    if view.freshness is Freshness.OFFLINE:
        return Check("issuer_keys", Status.WARN,
                     f"ใช้รายการกุญแจจากไฟล์ความเชื่อถือแบบออฟไลน์ ลงวันที่ {when}",
                     f"Using the issuer's key list from the offline trust file of {when}")
    return Check("issuer_keys", Status.INDETERMINATE,
                 "ไม่สามารถดึงรายการกุญแจของผู้ออกเอกสารได้", "The issuer's key list is unavailable")


def _keys_unavailable() -> Check:
    return Check("credential_signature", Status.INDETERMINATE,
                 "ตรวจลายมือชื่อของคิวอาร์โค้ดไม่ได้ เพราะไม่มีรายการกุญแจของผู้ออกเอกสาร",
                 "The QR credential cannot be checked: the issuer's keys are unavailable")


def _skipped(cid: str) -> Check:
    if cid == "not_revoked":
        return Check(cid, Status.SKIPPED, "ไม่ได้ตรวจการเพิกถอน เพราะข้อมูลรับรองไม่ผ่านการตรวจสอบ",
                     "Revocation not checked: the credential did not verify")
    return Check(cid, Status.SKIPPED, "ไม่ได้ตรวจว่าเป็นฉบับล่าสุด เพราะข้อมูลรับรองไม่ผ่านการตรวจสอบ",
                 "Latest version not checked: the credential did not verify")
