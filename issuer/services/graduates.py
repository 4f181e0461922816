"""Graduates: claim links from the school, share links for employers.

- The school makes a **claim link** per issued transcript (`create_claim_link`, or
  `create_claim_links` for a whole batch) and sends it to the graduate. It opens the
  transcript, every version of it, with its status (`claim`), until it expires; making a
  new one revokes the old and every share link made with it, so each transcript has one
  live link, its graduate's, and whoever held an old one keeps nothing.
- With that link the graduate makes **share links** (`create_share`): each expires,
  may need a PIN, can be revoked (`revoke_share`), and logs every opening, successful
  or not, with time and address; the graduate sees the log (`list_shares`).
- An employer opens a share link (`open_share`) and sees the current version and its
  status (no reasons, no history).

Brute force: tokens carry 256 random bits, only their hashes are stored, and lookups
compare in constant time. A PIN attempt is counted before it is checked (so parallel
guesses count), `LinkPolicy.pin_max_attempts` wrong PINs in a row lock the link for
`pin_lockout`, and `pin_max_failures` in all disable it. Rate limiting per address is
the web layer's job.

Every failure of a link is a `LinkError`. Unknown, expired and revoked links are all
`InvalidLink` with the same message, so a guesser learns nothing; `PinRequired`,
`WrongPin` and `LinkLocked` are only ever raised for a real, live share link.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from issuer.adapters import graduate_links as links
from issuer.adapters.credential_signing import sd_jwt_path_for
from issuer.adapters.orm import ClaimLinkRow, ShareLinkRow, TranscriptRow
from issuer.adapters.repositories import UnitOfWork
from issuer.adapters.vc_export import vc_path_for
from issuer.core.refusal import Phrase
from issuer.services.context import Actor, Issuer, ServiceError


@dataclass(frozen=True)
class LinkPolicy:
    """How long links live and how many wrong PINs they take."""

    claim_ttl: timedelta = timedelta(days=180)
    """How long a claim link works after the school makes it."""
    share_default_ttl: timedelta = timedelta(days=30)
    """A share link's lifetime when the graduate does not choose one."""
    share_max_ttl: timedelta = timedelta(days=365)
    """The longest lifetime a graduate may choose."""
    pin_max_attempts: int = 5
    """Wrong PINs in a row before the link is locked for `pin_lockout`."""
    pin_lockout: timedelta = timedelta(minutes=15)
    """How long a locked share link refuses every PIN."""
    pin_max_failures: int = 20
    """Wrong PINs in all before the share link is disabled for good."""
    max_live_shares: int = 50
    """Live (unexpired, unrevoked) share links one transcript may have."""


DEFAULT_POLICY = LinkPolicy()
_PIN = re.compile(r"[0-9]{4,12}")


class LinkError(ServiceError):
    """A link that cannot be opened (see the subclasses)."""


class InvalidLink(LinkError):
    """Unknown, expired or revoked: the same answer for all three."""

    def __init__(self) -> None:
        super().__init__(Phrase("this link is not valid or has expired"))


class PinRequired(LinkError):
    def __init__(self) -> None:
        super().__init__(Phrase("this link needs its PIN"))


class WrongPin(LinkError):
    def __init__(self, attempts_left: int) -> None:
        super().__init__(Phrase("wrong PIN (%(left)s attempt(s) left before a lockout)"),
                         left=attempts_left)
        self.attempts_left = attempts_left


class LinkLocked(LinkError):
    def __init__(self, until: datetime | None) -> None:
        super().__init__(Phrase("too many wrong PINs: this link is locked for now"))
        self.until = until


# --- what graduates and employers see --------------------------------------------------


@dataclass(frozen=True)
class VersionNote:
    """What a versions table says of a version besides its status, as data (the page words
    it in the reader's language)."""

    superseded_by: int | None  # the version that replaced it
    issue_reason: str  # why this version was requested: a reissue's or correction's reason


def version_notes(rows: Sequence[TranscriptRow]) -> dict[int, VersionNote]:
    """Version number -> its note, for every version of one transcript in `rows`."""
    replaced = {r.supersedes_id: r.version for r in rows if r.supersedes_id is not None}
    return {r.version: VersionNote(replaced.get(r.id), r.batch_record.batch.reason)
            for r in rows}


@dataclass(frozen=True)
class VersionView:
    version: int
    status: str  # issued, revoked, superseded
    status_reason: str  # the registrar's words for a revocation; empty on share links
    note: VersionNote  # empty on share links
    status_changed_at: datetime
    issued_at: datetime
    pdf_path: str | None  # relative to Settings.output_dir
    pdf_file: Path | None  # absolute
    pdf_sha256: str | None

    @property
    def sd_jwt_file(self) -> Path | None:
        """The SD-JWT VC with every disclosure, written beside the PDF at issuance, if
        there is one (not for versions issued before SD-JWT VCs)."""
        return self._beside(sd_jwt_path_for)

    @property
    def vc_file(self) -> Path | None:
        """The version's W3C VC 2.0 export beside its PDF (`issuer.adapters.vc_export`),
        if one was made (not for versions issued before the export, or with it off)."""
        return self._beside(vc_path_for)

    def _beside(self, path_for: Callable[[str], str]) -> Path | None:
        if self.pdf_file is None:
            return None
        path = Path(path_for(str(self.pdf_file)))
        return path if path.is_file() else None


@dataclass(frozen=True)
class TranscriptView:
    transcript_id: str
    institution_code: str
    institution_name_th: str
    institution_name_en: str
    student_name_th: str
    student_name_en: str
    programme_th: str
    programme_en: str
    versions: tuple[VersionView, ...]  # newest first; only the newest on share links

    @property
    def current(self) -> VersionView:
        return self.versions[0]

    @property
    def status(self) -> str:
        return self.current.status


@dataclass(frozen=True)
class NewLink:
    id: int
    token: str  # shown once: only its hash is stored
    expires_at: datetime


@dataclass(frozen=True)
class AccessEntry:
    at: datetime
    ip: str
    outcome: str  # viewed, wrong_pin, locked, expired, revoked
    user_agent: str


@dataclass(frozen=True)
class ShareInfo:
    id: int
    label: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_reason: str
    has_pin: bool
    locked_until: datetime | None
    view_count: int
    last_viewed_at: datetime | None
    accesses: tuple[AccessEntry, ...]  # newest first
    state: str  # live, locked, expired, revoked


def _view(issuer: Issuer, rows: list[TranscriptRow], *, history: bool) -> TranscriptView:
    if not rows:
        raise InvalidLink
    newest = rows[0]
    record = json.loads(newest.record_json)
    student, programme = record.get("student", {}), record.get("programme", {})
    institution = newest.institution

    notes = version_notes(rows) if history else {}

    def version(row: TranscriptRow) -> VersionView:
        return VersionView(
            row.version, row.status.value, row.status_reason if history else "",
            notes.get(row.version, VersionNote(None, "")),
            row.status_changed_at, row.issued_at, row.pdf_path,
            issuer.settings.output_dir / row.pdf_path if row.pdf_path else None,
            row.pdf_sha256,
        )

    def name(lang: str) -> str:
        return " ".join(p for p in (student.get(f"prefix_{lang}", ""),
                                    student.get(f"first_name_{lang}", ""),
                                    student.get(f"last_name_{lang}", "")) if p)

    return TranscriptView(
        newest.transcript_id, institution.code, institution.name_th, institution.name_en,
        name("th"), name("en"), programme.get("name_th", ""), programme.get("name_en", ""),
        tuple(version(r) for r in (rows if history else rows[:1])),
    )


# --- the school: claim links ----------------------------------------------------------


REPLACED = "the claim link was replaced"


def _new_claim_link(uow: UnitOfWork, transcript: TranscriptRow, actor: Actor, now: datetime,
                    policy: LinkPolicy) -> NewLink:
    """A new claim link; the old one stops working, and so do the share links made from
    the transcript's earlier claim links (whoever held the old link made them)."""
    uow.links.revoke_claim_links(transcript.transcript_id, now)
    uow.links.revoke_share_links(transcript.transcript_id, now, REPLACED)
    token, digest = links.new_token()
    row = uow.links.add_claim_link(transcript, token_hash=digest, created_by=actor.name,
                                   now=now, expires_at=now + policy.claim_ttl)
    return NewLink(row.id, token, row.expires_at)


def create_claim_link(issuer: Issuer, transcript_id: str, *, actor: Actor,
                      institution_code: str | None = None,
                      policy: LinkPolicy = DEFAULT_POLICY) -> NewLink:
    """A new claim link for the transcript (the previous one and the share links made
    with it stop working)."""
    with issuer.uow() as uow:
        latest = uow.transcripts.latest(transcript_id, institution_code)
        if latest is None:
            raise ServiceError("no transcript %(transcript)s", transcript=transcript_id)
        now = issuer.clock()
        link = _new_claim_link(uow, latest, actor, now, policy)
        uow.audit.append(actor=actor.name, action="claim_link.create", source=actor.source,
                         now=now, institution=latest.institution, subject=transcript_id,
                         detail={"expires_at": link.expires_at.isoformat()})
        uow.commit()
        return link


def create_claim_links(issuer: Issuer, batch_id: int, *, actor: Actor,
                       institution_code: str | None = None,
                       policy: LinkPolicy = DEFAULT_POLICY) -> list[tuple[str, NewLink]]:
    """A new claim link for every transcript of a batch: ``[(transcript ID, link)]`` for
    the school to send (earlier links of these transcripts stop working)."""
    with issuer.uow() as uow:
        batch = uow.batches.get(batch_id, institution_code)
        if batch is None:
            raise ServiceError("no batch %(batch)s", batch=batch_id)
        now = issuer.clock()
        made = []
        issued = uow.transcripts.latest_of(
            [r.transcript_id for r in uow.batches.records(batch)])
        for transcript_id, latest in issued.items():
            made.append((transcript_id, _new_claim_link(uow, latest, actor, now, policy)))
        if not made:
            raise ServiceError("batch %(batch)s has no issued transcripts yet", batch=batch_id)
        uow.audit.append(actor=actor.name, action="claim_link.create_batch",
                         source=actor.source, now=now, institution=batch.institution,
                         subject=f"batch:{batch_id}", detail={"links": len(made)})
        uow.commit()
        return made


# --- the graduate ---------------------------------------------------------------------------


def _live_claim(uow: UnitOfWork, token: str, now: datetime) -> ClaimLinkRow:
    row = uow.links.find_claim_link(token)
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise InvalidLink
    return row


def claim(issuer: Issuer, token: str, *, ip: str) -> TranscriptView:
    """The graduate's transcript, every version with its status and PDF."""
    with issuer.uow() as uow:
        now = issuer.clock()
        link = _live_claim(uow, token, now)
        first = link.first_claimed_at is None
        link.claim_count += 1
        link.last_claimed_at = now
        if first:
            link.first_claimed_at = now
        rows = uow.links.versions(link.transcript_id)
        view = _view(issuer, rows, history=True)
        if first:
            uow.audit.append(actor=f"graduate:{link.transcript_id}",
                             action="claim_link.claim", source=f"web {ip}", now=now,
                             institution=rows[0].institution, subject=link.transcript_id)
        uow.commit()
        return view


def create_share(issuer: Issuer, claim_token: str, *, ip: str, label: str = "",
                 expires_in: timedelta | None = None, pin: str | None = None,
                 policy: LinkPolicy = DEFAULT_POLICY) -> NewLink:
    """A share link for an employer; `pin` (4-12 digits) is asked for on every opening."""
    ttl = policy.share_default_ttl if expires_in is None else expires_in
    if not timedelta(minutes=5) <= ttl <= policy.share_max_ttl:
        raise ServiceError("a share link lasts from 5 minutes to %(days)s days",
                           days=policy.share_max_ttl.days)
    if pin is not None and not _PIN.fullmatch(pin):
        raise ServiceError("a PIN is 4 to 12 digits")
    pin_hash = links.hash_pin(pin) if pin is not None else None
    with issuer.uow() as uow:
        now = issuer.clock()
        claim_link = _live_claim(uow, claim_token, now)
        live = [r for r in uow.links.shares_of(claim_link.transcript_id)
                if r.revoked_at is None and r.expires_at > now]
        if len(live) >= policy.max_live_shares:
            raise ServiceError("at most %(max)s live share links: revoke one first",
                               max=policy.max_live_shares)
        token, digest = links.new_token()
        row = uow.links.add_share_link(claim_link, token_hash=digest, label=label.strip()[:200],
                                       now=now, expires_at=now + ttl, pin_hash=pin_hash)
        uow.audit.append(actor=f"graduate:{claim_link.transcript_id}",
                         action="share_link.create", source=f"web {ip}", now=now,
                         subject=claim_link.transcript_id,
                         detail={"share": row.id, "pin": pin is not None,
                                 "expires_at": row.expires_at.isoformat()})
        uow.commit()
        return NewLink(row.id, token, row.expires_at)


def _state(row: ShareLinkRow, now: datetime) -> str:
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at <= now:
        return "expired"
    if row.locked_until is not None and row.locked_until > now:
        return "locked"
    return "live"


def list_shares(issuer: Issuer, claim_token: str) -> list[ShareInfo]:
    """The graduate's share links, newest first, each with its access log."""
    with issuer.uow() as uow:
        now = issuer.clock()
        claim_link = _live_claim(uow, claim_token, now)
        rows = uow.links.shares_of(claim_link.transcript_id)
        logs = uow.links.accesses([r.id for r in rows])
        return [
            ShareInfo(r.id, r.label, r.created_at, r.expires_at, r.revoked_at, r.revoked_reason,
                      r.pin_hash is not None, r.locked_until, r.view_count, r.last_viewed_at,
                      tuple(AccessEntry(a.at, a.ip, a.outcome, a.user_agent)
                            for a in logs[r.id]),
                      _state(r, now))
            for r in rows
        ]


def revoke_share(issuer: Issuer, claim_token: str, share_id: int, *, ip: str) -> None:
    with issuer.uow() as uow:
        now = issuer.clock()
        claim_link = _live_claim(uow, claim_token, now)
        row = uow.links.get_share_link(share_id)
        if row is None or row.transcript_id != claim_link.transcript_id:
            raise ServiceError("no share link %(share)s", share=share_id)
        if row.revoked_at is None:
            row.revoked_at, row.revoked_reason = now, "revoked by the graduate"
            uow.audit.append(actor=f"graduate:{row.transcript_id}",
                             action="share_link.revoke", source=f"web {ip}", now=now,
                             subject=row.transcript_id, detail={"share": row.id})
        uow.commit()


# --- the employer -----------------------------------------------------------------------


def open_share(issuer: Issuer, token: str, *, ip: str, pin: str | None = None,
               user_agent: str = "", policy: LinkPolicy = DEFAULT_POLICY) -> TranscriptView:
    """The shared transcript's current version and status; every outcome but an unknown
    token or a missing PIN is written to the link's access log."""
    now = issuer.clock()
    with issuer.uow() as uow:
        row = uow.links.find_share_link(token)
        if row is None:
            raise InvalidLink
        share_id, pin_hash = row.id, row.pin_hash
        state = _state(row, now)
        if state in ("revoked", "expired") or (state == "locked" and pin_hash is None):
            uow.links.log_access(row, now=now, ip=ip, user_agent=user_agent, outcome=state)
            uow.commit()
            raise InvalidLink
        if pin_hash is not None:
            if pin is None:
                raise PinRequired
            attempt = uow.links.reserve_pin_attempt(share_id, now=now,
                                                    max_attempts=policy.pin_max_attempts)
            if attempt is None:
                uow.links.reload(row)
                uow.links.log_access(row, now=now, ip=ip, user_agent=user_agent,
                                     outcome="locked")
                uow.commit()
                if row.revoked_at is not None:
                    raise InvalidLink
                raise LinkLocked(row.locked_until)
            uow.commit()  # the attempt counts even if this request dies during the check
    if pin_hash is not None and not links.check_pin(pin_hash, pin or ""):
        _wrong_pin(issuer, share_id, attempt, now=now, ip=ip, user_agent=user_agent,
                   policy=policy)
    with issuer.uow() as uow:
        row = uow.links.share_link(share_id)
        if pin_hash is not None:
            uow.links.record_right_pin(share_id)
        uow.links.record_view(share_id, now)
        uow.links.log_access(row, now=now, ip=ip, user_agent=user_agent, outcome="viewed")
        view = _view(issuer, uow.links.versions(row.transcript_id), history=False)
        uow.commit()
        return view


def _wrong_pin(issuer: Issuer, share_id: int, attempt: int, *, now: datetime, ip: str,
               user_agent: str, policy: LinkPolicy) -> None:
    with issuer.uow() as uow:
        uow.links.record_wrong_pin(share_id, attempt, now=now,
                                   max_attempts=policy.pin_max_attempts,
                                   lockout=policy.pin_lockout,
                                   max_failures=policy.pin_max_failures)
        row = uow.links.share_link(share_id)
        uow.links.reload(row)
        uow.links.log_access(row, now=now, ip=ip, user_agent=user_agent, outcome="wrong_pin")
        if row.revoked_at is not None and row.revoked_reason == "too many wrong PINs":
            uow.audit.append(actor="system", action="share_link.disable", source=f"web {ip}",
                             now=now, subject=row.transcript_id,
                             detail={"share": share_id, "reason": row.revoked_reason})
        uow.commit()
    if row.revoked_at is not None:
        raise InvalidLink
    if attempt >= policy.pin_max_attempts:
        raise LinkLocked(row.locked_until)
    raise WrongPin(policy.pin_max_attempts - attempt)
