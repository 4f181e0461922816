"""Keys and status from files, a live local HTTP server, a cache and an offline bundle."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from issuer.adapters.pki import Authority, InstitutionKeys, generate_authority
from issuer.adapters.publish import status_list_path, write_status_lists
from tests.conftest import PKI_NOW
from tests.verifier.conftest import (
    Documents,
    FakeClock,
    Server,
    dead_url,
    file_config,
    publish,
    source_for,
)
from verifier.app import create_app
from verifier.core.verdict import Result
from verifier.sources import Freshness, SourceSettings, TrustSource
from verifier.verification import Verifier


def statuses(verdict: Any) -> dict[str, str]:
    return {c.id: c.status.value for c in verdict.checks}


def roots(authority: Authority) -> tuple:
    return (authority.root_cert,)


def test_over_http_with_max_age(published: Path, authority: Authority, documents: Documents,
                                clock: FakeClock) -> None:
    """Keys are kept for max-age; status lists for the refresh period (30 s) at most, then
    checked again with a conditional request that an unchanged list answers with 304."""
    server = Server(published, cache_control="max-age=120")
    try:
        source = source_for(published, roots(authority), clock,
                            jwks=f"{server.url}/.well-known/jwks.json",
                            status=f"{server.url}/status")
        verifier = Verifier(source)
        assert verifier.credential(documents.school.credential).result is Result.VALID
        assert len(server.requests) == 3  # JWKS and both lists
        clock.advance(20)
        assert verifier.pdf(documents.school.pdf).result is Result.VALID
        assert len(server.requests) == 3  # all from cache
        clock.advance(20)
        assert verifier.credential(documents.school.credential).result is Result.VALID
        assert sorted(server.requests[3:]) == ["/status/1001/refresh.jws",
                                               "/status/1001/revocation.jws"]
        assert server.codes[3:] == [304, 304]  # unchanged: nothing sent, nothing re-checked
        clock.advance(100)
        verifier.credential(documents.school.credential)
        assert server.requests[5:] == ["/.well-known/jwks.json", "/status/1001/revocation.jws",
                                       "/status/1001/refresh.jws"]
    finally:
        server.stop()


def test_status_refresh_applies_without_http_max_age(
    published: Path, authority: Authority, documents: Documents, clock: FakeClock
) -> None:
    server = Server(published, cache_control=None)
    try:
        source = source_for(published, roots(authority), clock,
                            jwks=f"{server.url}/.well-known/jwks.json",
                            status=f"{server.url}/status", default_ttl=7200)
        verifier = Verifier(source)
        verifier.credential(documents.school.credential)
        assert len(server.requests) == 3
        clock.advance(31)  # the lists' refresh is 30 s; keys last default_ttl
        verifier.credential(documents.school.credential)
        assert len(server.requests) == 5
        assert sorted(server.requests[3:]) == ["/status/1001/refresh.jws",
                                               "/status/1001/revocation.jws"]
    finally:
        server.stop()


def test_unreachable_briefly_stays_valid_then_is_indeterminate(
    published: Path, authority: Authority, documents: Documents, clock: FakeClock
) -> None:
    """One failed re-check is tolerated (status confirmed at most 60 s ago); after that
    the verdict says the issuer is unreachable and is not VALID."""
    server = Server(published)
    source = source_for(published, roots(authority), clock,
                        jwks=f"{server.url}/.well-known/jwks.json", status=f"{server.url}/status")
    verifier = Verifier(source)
    assert verifier.credential(documents.school.credential).result is Result.VALID
    server.stop()
    clock.advance(45)
    verdict = verifier.credential(documents.school.credential)
    assert verdict.result is Result.VALID, verdict.checks
    clock.advance(30)
    for verdict in (verifier.credential(documents.school.credential),
                    verifier.pdf(documents.school.pdf)):
        assert verdict.result is Result.INDETERMINATE
        checks = statuses(verdict)
        assert checks["not_revoked"] == checks["latest_version"] == "indeterminate"
        assert "unreachable" in next(c for c in verdict.checks
                                     if c.id == "not_revoked").message_en
    # a revoked transcript stays revoked from the cache
    assert verifier.credential(documents.revoked.credential).result is Result.REVOKED


def test_status_unreachable_with_empty_cache_is_indeterminate(
    published: Path, authority: Authority, documents: Documents
) -> None:
    source = source_for(published, roots(authority), status=f"{dead_url()}/status")
    verifier = Verifier(source)
    for verdict in (verifier.credential(documents.school.credential),
                    verifier.pdf(documents.school.pdf)):
        assert verdict.result is Result.INDETERMINATE
        assert statuses(verdict)["not_revoked"] == "indeterminate"
        assert statuses(verdict)["credential_signature"] == "pass"


def test_failed_fetch_is_not_retried_at_once(published: Path, authority: Authority,
                                             documents: Documents, clock: FakeClock) -> None:
    calls: list[str] = []

    def fetch(location: str) -> Any:
        from verifier.sources import FetchError, fetch_location

        calls.append(location)
        if "status" in location:
            raise FetchError("down")
        return fetch_location(location)

    settings = SourceSettings(roots=roots(authority),
                              jwks=str(published / ".well-known" / "jwks.json"),
                              status="http://issuer.invalid/status", retry_after=30)
    verifier = Verifier(TrustSource(settings, clock=clock, fetch=fetch))
    for _ in range(5):
        assert verifier.credential(documents.school.credential).result is Result.INDETERMINATE
    assert len([c for c in calls if "status" in c]) == 2  # one per list
    clock.advance(31)
    verifier.credential(documents.school.credential)
    assert len([c for c in calls if "status" in c]) == 4


def test_keys_unavailable_is_indeterminate_not_invalid(
    published: Path, authority: Authority, documents: Documents
) -> None:
    source = source_for(published, roots(authority), jwks=f"{dead_url()}/jwks.json")
    verifier = Verifier(source)
    for verdict in (verifier.credential(documents.school.credential),
                    verifier.pdf(documents.school.pdf)):
        assert verdict.result is Result.INDETERMINATE, verdict.checks
        assert statuses(verdict)["credential_signature"] == "indeterminate"
        assert statuses(verdict)["issuer_keys"] == "indeterminate"


def test_offline_trust_bundle(published: Path, authority: Authority,
                              documents: Documents) -> None:
    source = source_for(published, roots(authority), jwks=None, status=None,
                        trust_file=published / "trust.json")
    verifier = Verifier(source)
    assert source.keys().freshness is Freshness.OFFLINE
    for verdict in (verifier.credential(documents.school.credential),
                    verifier.pdf(documents.vocational.pdf)):
        assert verdict.result is Result.VALID, verdict.checks
        assert statuses(verdict)["not_revoked"] == "warn"
        assert "offline" in next(c for c in verdict.checks if c.id == "not_revoked").message_en
    assert verifier.credential(documents.revoked.credential).result is Result.REVOKED
    assert verifier.credential(documents.superseded.credential).result is Result.SUPERSEDED


def test_bundle_is_a_warm_start_when_the_issuer_is_down(
    published: Path, authority: Authority, documents: Documents
) -> None:
    """Keys from the bundle check the signature; its status lists alone are not current
    (tests/verifier/test_freshness.py)."""
    source = source_for(published, roots(authority), jwks=f"{dead_url()}/jwks.json",
                        status=f"{dead_url()}/status", trust_file=published / "trust.json")
    verdict = Verifier(source).credential(documents.school.credential)
    assert statuses(verdict)["credential_signature"] == "pass"
    assert statuses(verdict)["issuer_keys"] == "warn"
    assert Verifier(source).credential(documents.revoked.credential).result is Result.REVOKED


def test_offline_app_from_environment(published: Path, documents: Documents,
                                      tmp_path: Path) -> None:
    from verifier.app.config import VerifierConfig

    config = VerifierConfig.from_env({
        "BKT_VAR_DIR": str(tmp_path),  # not the repository's var/: its lists outlive the run
        "BKT_VERIFIER_ROOTS": str(published / "root.crt"),
        "BKT_VERIFIER_JWKS": "none",
        "BKT_VERIFIER_STATUS": "none",
        "BKT_VERIFIER_TRUST_FILE": str(published / "trust.json"),
    })
    client = create_app(config).test_client()
    body = client.post("/api/v1/verify", json={"credential": documents.school.credential})
    assert body.get_json()["result"] == "VALID"


def test_app_over_http(published: Path, documents: Documents, server: Server) -> None:
    config = file_config(published, jwks=f"{server.url}/.well-known/jwks.json",
                         status=f"{server.url}/status/")
    client = create_app(config).test_client()
    body = client.post("/api/v1/verify", json={"credential": documents.vocational.credential})
    assert body.get_json()["result"] == "VALID"
    assert client.get("/healthz").get_json() == {"status": "ok", "keys": "fresh",
                                                 "key_count": 2}


def test_untrusted_root(tmp_path: Path, documents: Documents, published: Path) -> None:
    """A verifier pinned to another root: the issuer's keys and PDF signer are untrusted."""
    other = generate_authority(PKI_NOW)
    verifier = Verifier(source_for(published, roots(other)))
    for verdict in (verifier.credential(documents.school.credential),
                    verifier.pdf(documents.school.pdf)):
        assert verdict.result is Result.UNTRUSTED, verdict.checks
        assert statuses(verdict)["credential_signature"] == "pass"
        assert statuses(verdict)["credential_issuer_trusted"] == "fail"
        assert verdict.data == {}
    pdf = verifier.pdf(documents.school.pdf)
    assert statuses(pdf)["pdf_signer_trusted"] == "fail"


def test_unknown_key_is_invalid(published: Path, documents: Documents,
                                authority: Authority) -> None:
    """A credential signed by a key nobody published: INVALID (forged), not UNTRUSTED."""
    from issuer.adapters.credential_signing import sign_credential
    from issuer.adapters.pki import issue_institution_keys
    from issuer.pipeline import claims_for

    stranger = issue_institution_keys(generate_authority(PKI_NOW), "1001", "Fake", PKI_NOW)
    school = documents.school
    token = sign_credential(claims_for(school.record, school.record_digest), stranger)
    verdict = Verifier(source_for(published, roots(authority))).credential(token)
    assert verdict.result is Result.INVALID
    assert statuses(verdict)["credential_signature"] == "fail"


def test_new_key_is_fetched_when_first_seen(
    tmp_path: Path, authority: Authority, school_keys: InstitutionKeys,
    training_keys: InstitutionKeys, documents: Documents, clock: FakeClock,
) -> None:
    now = datetime.now(UTC)
    directory = publish(tmp_path / "pub", authority, [training_keys], now)
    verifier = Verifier(source_for(directory, roots(authority), clock))
    assert verifier.credential(documents.vocational.credential).result is Result.VALID
    publish(directory, authority, [training_keys, school_keys], now)
    clock.advance(31)  # within the JWKS ttl, past retry_after
    assert verifier.credential(documents.school.credential).result is Result.VALID


def test_expired_status_list_is_indeterminate(
    tmp_path: Path, authority: Authority, school_keys: InstitutionKeys,
    training_keys: InstitutionKeys, documents: Documents, clock: FakeClock,
) -> None:
    directory = publish(tmp_path / "pub", authority, [school_keys, training_keys],
                        datetime.now(UTC), validity=timedelta(hours=2))
    verifier = Verifier(source_for(directory, roots(authority), clock))
    assert verifier.credential(documents.school.credential).result is Result.VALID
    clock.advance(3 * 3600)
    verdict = verifier.credential(documents.school.credential)
    assert verdict.result is Result.INDETERMINATE
    assert "expired" in next(c for c in verdict.checks if c.id == "not_revoked").message_en


def test_status_list_of_another_institution_is_refused(
    tmp_path: Path, authority: Authority, school_keys: InstitutionKeys,
    training_keys: InstitutionKeys, documents: Documents,
) -> None:
    directory = publish(tmp_path / "pub", authority, [school_keys, training_keys],
                        datetime.now(UTC))
    # the training school signs an (empty) revocation list and puts it in 1001's place
    forged = dataclasses.replace(training_keys, code="1001")
    write_status_lists(tmp_path / "forged", forged, [], [], datetime.now(UTC))
    shutil.copy(status_list_path(tmp_path / "forged", "1001", "revocation"),
                status_list_path(directory, "1001", "revocation"))
    verdict = Verifier(source_for(directory, roots(authority))).credential(
        documents.revoked.credential)
    assert verdict.result is Result.INDETERMINATE
    message = next(c for c in verdict.checks if c.id == "not_revoked").message_en
    assert "another institution" in message


def test_tampered_status_list_is_refused(published: Path, tmp_path: Path,
                                         authority: Authority, documents: Documents) -> None:
    directory = tmp_path / "pub"
    shutil.copytree(published, directory)
    path = status_list_path(directory, "1001", "revocation")
    header, _payload, signature = path.read_text().strip().split(".")
    clean = status_list_path(directory, "3001", "revocation").read_text().strip().split(".")[1]
    path.write_text(".".join((header, clean, signature)))  # an empty list, wrong signature
    verdict = Verifier(source_for(directory, roots(authority))).credential(
        documents.revoked.credential)
    assert verdict.result is Result.INDETERMINATE


@pytest.mark.parametrize("bad", ["{}", "not json", '{"type": "bkt-trust-bundle"}'])
def test_bad_trust_file_fails_at_start(tmp_path: Path, authority: Authority, bad: str) -> None:
    path = tmp_path / "trust.json"
    path.write_text(bad)
    with pytest.raises(ValueError, match="trust file"):
        TrustSource(SourceSettings(roots=roots(authority), trust_file=path))


@pytest.mark.parametrize("jwks, status", [
    (b'{"keys": [1, "x", {}, {"x5c": [42]}, {"kid": [], "x5c": "AAAA"}]}', None),
    (b"[" * 10000, None),
    (b"\xff\xfe", None),
    (None, b"\xff\xfe"),
    (None, b"e30.e30.e30"),
    (None, b"[" * 10000),
    (None, b"eyJhbGciOiJFUzI1NiIsImtpZCI6IngiLCJ0eXAiOiJia3Qtc3RhdHVzIiwiY3JpdCI6bnVsbH0.e30.AA"),
])
def test_whatever_the_issuer_sends_is_never_a_crash(
    published: Path, authority: Authority, documents: Documents, jwks: bytes | None,
    status: bytes | None,
) -> None:
    from verifier.sources import Fetched, fetch_location

    def fetch(location: str) -> Fetched:
        if location.endswith("jwks.json") and jwks is not None:
            return Fetched(jwks)
        if location.endswith(".jws") and status is not None:
            return Fetched(status)
        return fetch_location(location)

    settings = SourceSettings(roots=roots(authority),
                              jwks=str(published / ".well-known" / "jwks.json"),
                              status=str(published / "status"))
    verifier = Verifier(TrustSource(settings, fetch=fetch))
    verdict = verifier.credential(documents.school.credential)
    assert verdict.result in {Result.INDETERMINATE, Result.INVALID}
