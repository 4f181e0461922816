"""Status that stays right over time: replayed, future-dated and old lists, an issuer out
of reach, an old offline trust file, and credentials dated in the future.

Each test is an attack or a failure seen on a running verifier (issue 9): the answer must
never be a plain VALID when the status behind it cannot be shown current.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from issuer.adapters.credential_signing import sign_credential
from issuer.adapters.pki import Authority, InstitutionKeys
from issuer.adapters.publish import write_status_lists
from issuer.pipeline import Producer, claims_for
from tests.factories import school_record
from tests.verifier.conftest import (
    BASE_URL,
    REVOKED_INDEX,
    Documents,
    FakeClock,
    Server,
    publish,
    source_for,
)
from tests.verifier.test_shared import REDIS, redis_up
from verifier.core.verdict import Result
from verifier.verification import Verifier


def statuses(verdict: Any) -> dict[str, str]:
    return {c.id: c.status.value for c in verdict.checks}


def message(verdict: Any, cid: str) -> str:
    return next(c.message_en for c in verdict.checks if c.id == cid)


def snapshot(directory: Path, code: str) -> dict[Path, bytes]:
    """The published files of one institution's status, to put back later (a replay)."""
    folder = directory / "status" / code
    return {p: p.read_bytes() for p in folder.iterdir() if p.suffix == ".jws"}


def replay(files: dict[Path, bytes]) -> None:
    for path, data in files.items():
        path.write_bytes(data)


def test_a_replayed_list_does_not_un_revoke(
    tmp_path: Path, authority: Authority, school_keys: InstitutionKeys,
    training_keys: InstitutionKeys, documents: Documents, clock: FakeClock,
) -> None:
    """Copying back the list signed before a revocation (still within its validity)
    must not make the verifier answer VALID again."""
    now = datetime.fromtimestamp(clock.now, UTC)
    directory = publish(tmp_path / "pub", authority, [school_keys, training_keys],
                        now - timedelta(minutes=10))
    write_status_lists(directory, school_keys, [], [], now - timedelta(minutes=10))
    before = snapshot(directory, "1001")
    verifier = Verifier(source_for(directory, (authority.root_cert,), clock))
    assert verifier.credential(documents.revoked.credential).result is Result.VALID

    write_status_lists(directory, school_keys, [REVOKED_INDEX], [], now - timedelta(minutes=5))
    clock.advance(3601)
    assert verifier.credential(documents.revoked.credential).result is Result.REVOKED

    replay(before)
    for _ in range(3):
        clock.advance(3601)
        verdict = verifier.credential(documents.revoked.credential)
        assert verdict.result is Result.REVOKED, verdict.checks
    # what the replayed list says of an untouched transcript is not believed either
    verdict = verifier.credential(documents.school.credential)
    assert verdict.result is Result.INDETERMINATE
    assert "older" in message(verdict, "not_revoked")


@pytest.mark.parametrize("kind", ["file", pytest.param("redis", marks=pytest.mark.skipif(
    not redis_up(), reason="no Redis on 127.0.0.1:6379"))])
def test_every_worker_knows_the_newest_list(
    tmp_path: Path, authority: Authority, school_keys: InstitutionKeys,
    training_keys: InstitutionKeys, documents: Documents, clock: FakeClock, kind: str,
) -> None:
    """Workers share the high-water mark: a worker that never saw the newer list refuses
    the replayed one all the same (workers of one machine: files; of several: Redis)."""
    import uuid

    from verifier.shared import FileShared, RedisShared

    prefix = f"bkt:test:{uuid.uuid4().hex[:12]}"

    def store() -> Any:
        if kind == "file":
            return FileShared(tmp_path / "shared")
        return RedisShared(REDIS, prefix=prefix)

    now = datetime.fromtimestamp(clock.now, UTC)
    directory = publish(tmp_path / "pub", authority, [school_keys, training_keys],
                        now - timedelta(minutes=10))
    write_status_lists(directory, school_keys, [], [], now - timedelta(minutes=10))
    before = snapshot(directory, "1001")
    write_status_lists(directory, school_keys, [REVOKED_INDEX], [], now - timedelta(minutes=5))
    first = Verifier(source_for(directory, (authority.root_cert,), clock, shared=store()))
    assert first.credential(documents.revoked.credential).result is Result.REVOKED

    replay(before)
    second = Verifier(source_for(directory, (authority.root_cert,), clock, shared=store()))
    assert second.credential(documents.revoked.credential).result is Result.REVOKED
    if kind == "redis":
        redis = second.source.shared._redis  # type: ignore[attr-defined]
        redis.delete(*redis.keys(f"{prefix}:*"))


def test_a_list_dated_in_the_future_is_refused(
    tmp_path: Path, authority: Authority, school_keys: InstitutionKeys,
    training_keys: InstitutionKeys, documents: Documents, clock: FakeClock,
) -> None:
    now = datetime.fromtimestamp(clock.now, UTC)
    directory = publish(tmp_path / "pub", authority, [school_keys, training_keys],
                        now + timedelta(hours=12))
    verdict = Verifier(source_for(directory, (authority.root_cert,), clock)).credential(
        documents.school.credential)
    assert verdict.result is Result.INDETERMINATE, verdict.checks
    assert "future" in message(verdict, "not_revoked")


def test_a_list_older_than_re_signing_allows_is_stale(
    tmp_path: Path, authority: Authority, school_keys: InstitutionKeys,
    training_keys: InstitutionKeys, documents: Documents, clock: FakeClock,
) -> None:
    now = datetime.fromtimestamp(clock.now, UTC)
    directory = publish(tmp_path / "pub", authority, [school_keys, training_keys],
                        now - timedelta(hours=13))
    verifier = Verifier(source_for(directory, (authority.root_cert,), clock))
    verdict = verifier.credential(documents.school.credential)
    assert verdict.result is Result.INDETERMINATE, verdict.checks
    assert "older than" in message(verdict, "not_revoked")
    # a set bit stays true however old the list: revocation is final
    assert verifier.credential(documents.revoked.credential).result is Result.REVOKED


def test_issuer_out_of_reach_beyond_the_cache_is_not_valid(
    published: Path, authority: Authority, documents: Documents, clock: FakeClock,
) -> None:
    server = Server(published)
    source = source_for(published, (authority.root_cert,), clock,
                        jwks=f"{server.url}/.well-known/jwks.json", status=f"{server.url}/status")
    verifier = Verifier(source)
    assert verifier.credential(documents.school.credential).result is Result.VALID
    server.stop()
    clock.advance(3 * 3600)
    for verdict in (verifier.credential(documents.school.credential),
                    verifier.pdf(documents.school.pdf)):
        assert verdict.result is Result.INDETERMINATE, verdict.checks
        assert statuses(verdict)["not_revoked"] == "indeterminate"
        assert "unreachable" in message(verdict, "not_revoked")
    assert verifier.credential(documents.revoked.credential).result is Result.REVOKED


def test_offline_trust_file_older_than_allowed_is_not_valid(
    tmp_path: Path, authority: Authority, school_keys: InstitutionKeys,
    training_keys: InstitutionKeys, documents: Documents,
) -> None:
    old = datetime.now(UTC) - timedelta(days=2)
    directory = publish(tmp_path / "pub", authority, [school_keys, training_keys], old)
    verdict = Verifier(source_for(directory, (authority.root_cert,), jwks=None, status=None,
                                  trust_file=directory / "trust.json")).credential(
        documents.school.credential)
    assert verdict.result is Result.INDETERMINATE, verdict.checks
    assert "older than" in message(verdict, "not_revoked")


def test_offline_trust_file_within_the_allowed_age_is_valid_with_a_warning(
    published: Path, authority: Authority, documents: Documents,
) -> None:
    verdict = Verifier(source_for(published, (authority.root_cert,), jwks=None, status=None,
                                  trust_file=published / "trust.json")).credential(
        documents.school.credential)
    assert verdict.result is Result.VALID
    assert statuses(verdict)["not_revoked"] == "warn"


def test_warm_start_bundle_with_the_issuer_down_is_not_valid(
    tmp_path: Path, authority: Authority, school_keys: InstitutionKeys,
    training_keys: InstitutionKeys, documents: Documents,
) -> None:
    """A bundle used because the issuer cannot be reached confirms nothing current (its
    lists were signed ten minutes ago)."""
    from tests.verifier.conftest import dead_url

    directory = publish(tmp_path / "pub", authority, [school_keys, training_keys],
                        datetime.now(UTC) - timedelta(minutes=10))
    source = source_for(directory, (authority.root_cert,), jwks=f"{dead_url()}/jwks.json",
                        status=f"{dead_url()}/status", trust_file=directory / "trust.json")
    verdict = Verifier(source).credential(documents.school.credential)
    assert verdict.result is Result.INDETERMINATE, verdict.checks
    assert "unreachable" in message(verdict, "not_revoked")


def test_a_credential_issued_in_the_future_is_invalid(
    published: Path, authority: Authority, school_keys: InstitutionKeys,
) -> None:
    record = school_record(issued_at=datetime.now(UTC) + timedelta(days=365))
    produced = Producer(school_keys, BASE_URL).produce(record)
    verifier = Verifier(source_for(published, (authority.root_cert,)))
    for verdict in (verifier.credential(produced.credential), verifier.pdf(produced.pdf)):
        assert verdict.result is Result.INVALID, verdict.checks
        assert statuses(verdict)["credential_issued_at"] == "fail"
        assert "future" in message(verdict, "credential_issued_at")
    # within the clock skew it is fine
    soon = school_record(issued_at=datetime.now(UTC) + timedelta(minutes=2))
    token = sign_credential(claims_for(soon, "A" * 43), school_keys)
    assert statuses(verifier.credential(token))["credential_issued_at"] == "pass"


def test_a_fresh_verifier_accepts_a_replay_within_the_residual_window(
    tmp_path: Path, authority: Authority, school_keys: InstitutionKeys,
    training_keys: InstitutionKeys, documents: Documents, clock: FakeClock,
) -> None:
    """The documented residual window (README, "Freshness"): a verifier with an empty
    store has no high-water mark, so a list replayed to it is believed while it is
    younger than the maximum age; one just a little older is stale."""
    now = datetime.fromtimestamp(clock.now, UTC)
    directory = publish(tmp_path / "pub", authority, [school_keys, training_keys],
                        now - timedelta(hours=11))
    write_status_lists(directory, school_keys, [], [], now - timedelta(hours=11))
    old = snapshot(directory, "1001")
    write_status_lists(directory, school_keys, [REVOKED_INDEX], [], now - timedelta(minutes=1))
    replay(old)
    verifier = Verifier(source_for(directory, (authority.root_cert,), clock))
    assert verifier.credential(documents.revoked.credential).result is Result.VALID
    clock.advance(3601)
    assert verifier.credential(documents.revoked.credential).result is Result.INDETERMINATE



def test_workers_agree_as_soon_as_one_has_the_newer_list(
    tmp_path: Path, authority: Authority, school_keys: InstitutionKeys,
    training_keys: InstitutionKeys, documents: Documents, clock: FakeClock,
) -> None:
    """A worker still within its refresh period takes the newer list another worker
    fetched, at its next verification, without fetching it: the two never answer VALID,
    REVOKED, VALID."""
    from verifier.shared import FileShared

    now = datetime.fromtimestamp(clock.now, UTC)
    directory = publish(tmp_path / "pub", authority, [school_keys, training_keys],
                        now - timedelta(minutes=10))
    write_status_lists(directory, school_keys, [], [], now - timedelta(minutes=10))
    shared = tmp_path / "shared"
    later = FakeClock()  # the first worker's clock: it reaches its refresh first
    first = Verifier(source_for(directory, (authority.root_cert,), later,
                                shared=FileShared(shared)))
    second = Verifier(source_for(directory, (authority.root_cert,), clock,
                                 shared=FileShared(shared)))
    assert first.credential(documents.revoked.credential).result is Result.VALID
    assert second.credential(documents.revoked.credential).result is Result.VALID

    write_status_lists(directory, school_keys, [REVOKED_INDEX], [], now - timedelta(minutes=1))
    later.advance(31)
    assert first.credential(documents.revoked.credential).result is Result.REVOKED
    fetched: list[str] = []
    fetch = second.source._fetch
    second.source._fetch = lambda location, entry: (  # type: ignore[method-assign]
        fetched.append(location) or fetch(location, entry))
    assert second.credential(documents.revoked.credential).result is Result.REVOKED
    assert fetched == []  # within its refresh period: taken from the shared store


def test_a_trust_file_gives_a_new_verifier_its_high_water_mark(
    tmp_path: Path, authority: Authority, school_keys: InstitutionKeys,
    training_keys: InstitutionKeys, documents: Documents, clock: FakeClock,
) -> None:
    """The residual window closes with a recent trust file: a verifier started with it
    refuses a list older than the one the file holds."""
    from issuer.adapters.publish import write_trust_bundle

    now = datetime.fromtimestamp(clock.now, UTC)
    directory = publish(tmp_path / "pub", authority, [school_keys, training_keys],
                        now - timedelta(minutes=10))
    write_status_lists(directory, school_keys, [], [], now - timedelta(minutes=10))
    before = snapshot(directory, "1001")
    write_status_lists(directory, school_keys, [REVOKED_INDEX], [], now - timedelta(minutes=5))
    bundle = write_trust_bundle(directory, now, tmp_path / "trust.json")
    replay(before)
    verifier = Verifier(source_for(directory, (authority.root_cert,), clock,
                                   trust_file=bundle))
    assert verifier.credential(documents.revoked.credential).result is Result.REVOKED
    verdict = verifier.credential(documents.school.credential)
    assert verdict.result is Result.INDETERMINATE
    assert "older status list" in message(verdict, "not_revoked")


def test_details_of_a_newer_publication_are_fetched_with_the_list(
    tmp_path: Path, authority: Authority, school_keys: InstitutionKeys,
    training_keys: InstitutionKeys, documents: Documents, clock: FakeClock,
) -> None:
    """Details cached from an earlier publication do not hide the date and reason of a
    revocation the lists already show."""
    from datetime import date

    from verifier.core.status_details import StatusDetail

    now = datetime.fromtimestamp(clock.now, UTC)
    directory = publish(tmp_path / "pub", authority, [school_keys, training_keys],
                        now - timedelta(minutes=10))
    verifier = Verifier(source_for(directory, (authority.root_cert,), clock))
    assert verifier.credential(documents.school.credential).result is Result.VALID
    clock.advance(25)
    assert verifier.credential(documents.superseded.credential).result is Result.SUPERSEDED
    write_status_lists(directory, school_keys, [REVOKED_INDEX], [], now - timedelta(minutes=1),
                       details=[StatusDetail(REVOKED_INDEX, "revoked", date(2026, 12, 1),
                                             "award_withdrawn")])
    clock.advance(6)  # the lists are due, the details (fetched 6 s ago) are not
    verdict = verifier.credential(documents.revoked.credential)
    assert verdict.result is Result.REVOKED
    assert message(verdict, "not_revoked") == ("This transcript has been revoked on "
                                                "1 December 2026: the institution withdrew "
                                                "the qualification")
