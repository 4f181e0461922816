"""Graduates' claim links and share links: every rule, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from issuer.adapters.orm import AuditEventRow, ClaimLinkRow, ShareLinkRow
from issuer.services import graduates as g
from issuer.services.context import Issuer, ServiceError
from issuer.services.lifecycle import revoke
from tests.e2e.conftest import REGISTRAR, issue_file, only_students, reissue

START = datetime(2026, 4, 2, 3, 0, tzinfo=UTC)
FEW = g.LinkPolicy(pin_max_attempts=3, pin_lockout=timedelta(minutes=10), pin_max_failures=5)
IP = "203.0.113.7"


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock(issuer: Issuer) -> Clock:
    clock = Clock()
    issuer.clock = clock
    return clock


@pytest.fixture
def issued(issuer: Issuer, clock: Clock) -> tuple[int, list[str]]:
    """A school batch of two students issued: (batch id, transcript IDs)."""
    batch_id, report = issue_file(issuer, "1001", "school-batch.csv",
                                  only_students("school-batch.csv", "66001", "66002"))
    return batch_id, sorted(Path(p).name.split("-v")[0] for p in report.issued)


@pytest.fixture
def claim_token(issuer: Issuer, issued: tuple[int, list[str]]) -> str:
    return g.create_claim_link(issuer, issued[1][0], actor=REGISTRAR).token


def audit_actions(issuer: Issuer) -> list[str]:
    with issuer.uow() as uow:
        return list(uow.session.scalars(select(AuditEventRow.action).order_by(AuditEventRow.id)))


# --- claim links ----------------------------------------------------------------------


def test_a_claim_link_opens_the_transcript(issuer: Issuer, issued: tuple[int, list[str]],
                                           clock: Clock) -> None:
    tid = issued[1][0]
    link = g.create_claim_link(issuer, tid, actor=REGISTRAR, institution_code="1001")
    assert len(link.token) == 43  # 256 bits, base64url
    assert link.expires_at == START + g.DEFAULT_POLICY.claim_ttl
    view = g.claim(issuer, link.token, ip=IP)
    assert view.transcript_id == tid and view.institution_code == "1001"
    assert view.status == "issued" and len(view.versions) == 1
    assert view.current.pdf_file is not None and view.current.pdf_file.exists()
    assert view.student_name_en and view.student_name_th and view.programme_en
    with issuer.uow() as uow:
        row = uow.session.scalar(select(ClaimLinkRow))
        assert row is not None
        assert row.token_hash == hashlib.sha256(link.token.encode()).hexdigest()
        assert link.token not in repr(row.__dict__)  # only its hash is stored
    g.claim(issuer, link.token, ip=IP)
    with issuer.uow() as uow:
        row = uow.session.scalar(select(ClaimLinkRow))
        assert row is not None and row.claim_count == 2 and row.first_claimed_at == START
    assert audit_actions(issuer).count("claim_link.claim") == 1  # the first claim only


def test_a_claim_link_expires(issuer: Issuer, claim_token: str, clock: Clock) -> None:
    clock.advance(g.DEFAULT_POLICY.claim_ttl - timedelta(seconds=1))
    g.claim(issuer, claim_token, ip=IP)
    clock.advance(timedelta(seconds=1))
    with pytest.raises(g.InvalidLink):
        g.claim(issuer, claim_token, ip=IP)
    with pytest.raises(g.InvalidLink):
        g.create_share(issuer, claim_token, ip=IP)


def test_a_new_claim_link_replaces_the_old(issuer: Issuer, issued: tuple[int, list[str]],
                                          claim_token: str) -> None:
    newer = g.create_claim_link(issuer, issued[1][0], actor=REGISTRAR)
    with pytest.raises(g.InvalidLink):
        g.claim(issuer, claim_token, ip=IP)
    assert g.claim(issuer, newer.token, ip=IP).transcript_id == issued[1][0]


def test_replacing_a_claim_link_revokes_the_share_links_made_with_it(
        issuer: Issuer, issued: tuple[int, list[str]], claim_token: str) -> None:
    """Issue 10 (intentional change: share links outlived a replaced claim link before):
    whoever held the old claim link keeps nothing, share links included."""
    share = g.create_share(issuer, claim_token, ip=IP)
    assert g.open_share(issuer, share.token, ip=IP)
    newer = g.create_claim_link(issuer, issued[1][0], actor=REGISTRAR)
    with pytest.raises(g.InvalidLink):
        g.open_share(issuer, share.token, ip=IP)
    (info,) = g.list_shares(issuer, newer.token)
    assert info.revoked_reason == g.REPLACED
    fresh = g.create_share(issuer, newer.token, ip=IP)
    assert g.open_share(issuer, fresh.token, ip=IP)


def test_unknown_and_malformed_tokens_get_one_answer(issuer: Issuer, claim_token: str) -> None:
    for token in ("", "x", "A" * 43, "A" * 42 + "!", "A" * 10_000, None, claim_token[::-1]):
        for opener in (lambda t: g.claim(issuer, t, ip=IP),
                       lambda t: g.open_share(issuer, t, ip=IP)):
            with pytest.raises(g.InvalidLink) as info:
                opener(token)
            assert str(info.value) == "this link is not valid or has expired"
    with pytest.raises(g.InvalidLink):  # a claim token is no share token
        g.open_share(issuer, claim_token, ip=IP)


def test_claim_links_are_made_by_the_transcripts_institution(
        issuer: Issuer, issued: tuple[int, list[str]]) -> None:
    with pytest.raises(ServiceError, match="no transcript"):
        g.create_claim_link(issuer, issued[1][0], actor=REGISTRAR, institution_code="2001")
    with pytest.raises(ServiceError, match="no batch"):
        g.create_claim_links(issuer, issued[0], actor=REGISTRAR, institution_code="2001")


def test_claim_links_for_a_whole_batch(issuer: Issuer, issued: tuple[int, list[str]]) -> None:
    batch_id, tids = issued
    made = g.create_claim_links(issuer, batch_id, actor=REGISTRAR, institution_code="1001")
    assert sorted(t for t, _ in made) == tids
    assert len({link.token for _, link in made}) == len(tids)
    for tid, link in made:
        assert g.claim(issuer, link.token, ip=IP).transcript_id == tid
    assert "claim_link.create_batch" in audit_actions(issuer)


def test_the_graduate_sees_every_version_and_the_employer_the_current(
        issuer: Issuer, issued: tuple[int, list[str]], claim_token: str) -> None:
    tid = issued[1][0]
    share = g.create_share(issuer, claim_token, ip=IP)
    reissue(issuer, tid, reason="grade corrected")
    view = g.claim(issuer, claim_token, ip=IP)
    assert [(v.version, v.status) for v in view.versions] == [(2, "issued"), (1, "superseded")]
    assert view.versions[1].status_reason == "superseded by version 2"
    shared = g.open_share(issuer, share.token, ip=IP)
    assert [(v.version, v.status, v.status_reason) for v in shared.versions] == [
        (2, "issued", "")]
    revoke(issuer, tid, reason="fraud", actor=REGISTRAR)
    assert g.claim(issuer, claim_token, ip=IP).status == "revoked"
    shared = g.open_share(issuer, share.token, ip=IP)
    assert shared.status == "revoked" and shared.current.status_reason == ""


# --- share links ----------------------------------------------------------------------


def test_a_share_link_opens_and_logs_each_view(issuer: Issuer, claim_token: str,
                                               clock: Clock) -> None:
    share = g.create_share(issuer, claim_token, ip=IP, label="Siam Bank HR")
    assert share.expires_at == START + g.DEFAULT_POLICY.share_default_ttl
    view = g.open_share(issuer, share.token, ip="198.51.100.1", user_agent="Mozilla/5.0")
    assert view.status == "issued" and view.current.pdf_file is not None
    clock.advance(timedelta(hours=1))
    g.open_share(issuer, share.token, ip="198.51.100.2")
    (info,) = g.list_shares(issuer, claim_token)
    assert (info.label, info.state, info.view_count, info.has_pin) == (
        "Siam Bank HR", "live", 2, False)
    assert info.last_viewed_at == START + timedelta(hours=1)
    assert [(a.at, a.ip, a.outcome) for a in info.accesses] == [
        (START + timedelta(hours=1), "198.51.100.2", "viewed"),
        (START, "198.51.100.1", "viewed"),
    ]
    assert info.accesses[1].user_agent == "Mozilla/5.0"
    assert "share_link.create" in audit_actions(issuer)


def test_a_share_link_expires(issuer: Issuer, claim_token: str, clock: Clock) -> None:
    share = g.create_share(issuer, claim_token, ip=IP, expires_in=timedelta(days=2))
    clock.advance(timedelta(days=2))
    with pytest.raises(g.InvalidLink):
        g.open_share(issuer, share.token, ip="198.51.100.1")
    (info,) = g.list_shares(issuer, claim_token)
    assert info.state == "expired"
    assert [(a.ip, a.outcome) for a in info.accesses] == [("198.51.100.1", "expired")]


def test_a_revoked_share_link_stops_working(issuer: Issuer, issued: tuple[int, list[str]],
                                            claim_token: str) -> None:
    share = g.create_share(issuer, claim_token, ip=IP)
    other = g.create_claim_link(issuer, issued[1][1], actor=REGISTRAR).token
    with pytest.raises(ServiceError, match="no share link"):
        g.revoke_share(issuer, other, share.id, ip=IP)  # not the other graduate's to revoke
    g.open_share(issuer, share.token, ip=IP)
    g.revoke_share(issuer, claim_token, share.id, ip=IP)
    with pytest.raises(g.InvalidLink):
        g.open_share(issuer, share.token, ip=IP)
    (info,) = g.list_shares(issuer, claim_token)
    assert info.state == "revoked" and info.revoked_reason == "revoked by the graduate"
    assert [a.outcome for a in info.accesses] == ["revoked", "viewed"]
    assert g.list_shares(issuer, other) == []
    assert "share_link.revoke" in audit_actions(issuer)


def test_share_link_settings_are_checked(issuer: Issuer, claim_token: str) -> None:
    for kwargs, message in (
        ({"expires_in": timedelta(minutes=1)}, "5 minutes to 365 days"),
        ({"expires_in": timedelta(days=366)}, "5 minutes to 365 days"),
        ({"pin": "12a4"}, "4 to 12 digits"),
        ({"pin": "123"}, "4 to 12 digits"),
    ):
        with pytest.raises(ServiceError, match=message):
            g.create_share(issuer, claim_token, ip=IP, **kwargs)  # type: ignore[arg-type]
    assert g.list_shares(issuer, claim_token) == []


def test_live_share_links_are_capped(issuer: Issuer, claim_token: str) -> None:
    policy = g.LinkPolicy(max_live_shares=2)
    first = g.create_share(issuer, claim_token, ip=IP, policy=policy)
    g.create_share(issuer, claim_token, ip=IP, policy=policy)
    with pytest.raises(ServiceError, match="at most 2"):
        g.create_share(issuer, claim_token, ip=IP, policy=policy)
    g.revoke_share(issuer, claim_token, first.id, ip=IP)
    g.create_share(issuer, claim_token, ip=IP, policy=policy)


# --- PINs -----------------------------------------------------------------------------


def pin_share(issuer: Issuer, claim_token: str) -> g.NewLink:
    return g.create_share(issuer, claim_token, ip=IP, pin="2468", policy=FEW)


def opener(issuer: Issuer, token: str) -> Callable[..., g.TranscriptView]:
    return lambda pin=None, ip="198.51.100.9": g.open_share(issuer, token, ip=ip, pin=pin,
                                                             policy=FEW)


def test_a_pin_is_asked_for_and_stored_with_argon2id(issuer: Issuer, claim_token: str) -> None:
    share = pin_share(issuer, claim_token)
    open_ = opener(issuer, share.token)
    with pytest.raises(g.PinRequired):
        open_()
    assert open_("2468").status == "issued"
    with issuer.uow() as uow:
        row = uow.session.get_one(ShareLinkRow, share.id)
        assert (row.pin_hash or "").startswith("$argon2id$") and "2468" not in row.pin_hash
    (info,) = g.list_shares(issuer, claim_token)
    assert info.has_pin and [a.outcome for a in info.accesses] == ["viewed"]


def test_wrong_pins_lock_the_link_then_it_opens_again(issuer: Issuer, claim_token: str,
                                                      clock: Clock) -> None:
    share = pin_share(issuer, claim_token)
    open_ = opener(issuer, share.token)
    with pytest.raises(g.WrongPin) as first:
        open_("0000")
    assert first.value.attempts_left == 2
    with pytest.raises(g.WrongPin):
        open_("1111")
    with pytest.raises(g.LinkLocked) as locked:
        open_("2222")  # the third wrong PIN in a row locks it
    assert locked.value.until == START + FEW.pin_lockout
    with pytest.raises(g.LinkLocked):
        open_("2468")  # even the right PIN, while locked
    (info,) = g.list_shares(issuer, claim_token)
    assert info.state == "locked"
    assert [a.outcome for a in info.accesses] == ["locked", "wrong_pin", "wrong_pin",
                                                  "wrong_pin"]
    clock.advance(FEW.pin_lockout)
    assert open_("2468").status == "issued"
    with pytest.raises(g.WrongPin) as again:
        open_("0000")
    assert again.value.attempts_left == 2  # a right PIN starts the count again


def test_too_many_wrong_pins_in_all_disable_the_link(issuer: Issuer, claim_token: str,
                                                     clock: Clock) -> None:
    share = pin_share(issuer, claim_token)
    open_ = opener(issuer, share.token)
    outcomes = []
    for _ in range(FEW.pin_max_failures):
        try:
            open_("0000")
        except g.LinkError as e:
            outcomes.append(type(e).__name__)
        clock.advance(FEW.pin_lockout)
    assert outcomes == ["WrongPin", "WrongPin", "LinkLocked", "WrongPin", "InvalidLink"]
    with pytest.raises(g.InvalidLink):
        open_("2468")  # disabled for good
    (info,) = g.list_shares(issuer, claim_token)
    assert info.state == "revoked" and info.revoked_reason == "too many wrong PINs"
    assert "share_link.disable" in audit_actions(issuer)


def test_parallel_guesses_cannot_outrun_the_lockout(issuer: Issuer, claim_token: str) -> None:
    share = pin_share(issuer, claim_token)
    guesses = 12
    barrier = threading.Barrier(guesses)
    results: list[str] = []
    lock = threading.Lock()

    def guess(i: int) -> None:
        barrier.wait()
        try:
            g.open_share(issuer, share.token, ip=f"198.51.100.{i}", pin=f"{1000 + i}",
                         policy=FEW)
            outcome = "opened"
        except g.LinkError as e:
            outcome = type(e).__name__
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(guesses)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    checked = [r for r in results if r in ("WrongPin", "opened")]
    assert "opened" not in results
    assert len(checked) + results.count("LinkLocked") == guesses
    (info,) = g.list_shares(issuer, claim_token)
    assert len([a for a in info.accesses if a.outcome == "wrong_pin"]) <= FEW.pin_max_attempts
