"""What a verifier makes of a key's life as the JWKS publishes it (`verifier.trust`):
period of use, retirement, compromise with and without a trusted timestamp, on the QR
and the PDF path; status lists signed by a compromised key."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from issuer.adapters.keystore import generation_of
from issuer.adapters.pdf_signing import TranscriptSigner
from issuer.adapters.pki import Authority, InstitutionKeys, issue_institution_keys
from issuer.adapters.publish import jwks_document
from issuer.core.key_lifecycle import Generation, KeyHistory
from issuer.pipeline import IssuedDocument, Producer
from tests.conftest import PKI_NOW
from tests.factories import school_record
from tests.pdfcheck import make_tsa
from verifier.core import status_credential
from verifier.core.credential import Claims, sign
from verifier.core.status_credential import StatusListError
from verifier.core.verdict import Result, Status, decide
from verifier.pdf import check_credential, check_pdf
from verifier.trust import CLOCK_SKEW, TrustStore

ROTATED = PKI_NOW + timedelta(days=200)
ISSUED = PKI_NOW + timedelta(days=30)  # by the first generation


@pytest.fixture(scope="module")
def successor(authority: Authority) -> InstitutionKeys:
    """1001's second generation, made at the rotation."""
    return issue_institution_keys(authority, "1001", "Wat Sutthiwararam School", ROTATED)


def history(first: InstitutionKeys, second: InstitutionKeys) -> KeyHistory:
    one = generation_of(1, first.pdf_cert, first.credential_cert, PKI_NOW)
    two = generation_of(2, second.pdf_cert, second.credential_cert, ROTATED)
    return KeyHistory("1001", (one,)).rotated(two)


def store(authority: Authority, entries: list[tuple[InstitutionKeys, Generation | None]],
          edit: Any = None) -> TrustStore:
    document = jwks_document([(k.credential_cert, k.chain) if g is None
                              else (k.credential_cert, k.chain, g) for k, g in entries])
    if edit is not None:
        edit(document)
    return TrustStore.from_jwks(document, [authority.root_cert])


def rotated_store(authority: Authority, first: InstitutionKeys, second: InstitutionKeys,
                  compromised: datetime | None = None) -> TrustStore:
    keys = history(first, second)
    if compromised is not None:
        keys = keys.compromised(first.kid, compromised, ROTATED + timedelta(days=1))
    one, two = keys.generations
    return store(authority, [(first, one), (second, two)])


def credential(keys: InstitutionKeys, issued: datetime) -> str:
    claims = Claims("1001-2569-000123", 1, "1001", "เด็กหญิง ทดสอบ", "M3", "3.50", None,
                    int(issued.timestamp()), 7, "A" * 43)
    return sign(claims, keys.credential_key, keys.kid)


def judged(token: str, trust: TrustStore, **kwargs: Any) -> tuple[Result, dict[str, Any]]:
    _, checks = check_credential(token, trust, **kwargs)
    return decide(checks).result, {c.id: (c.status, c.message_en) for c in checks}


def test_a_retired_key_vouches_for_its_period_of_use_only(
    authority: Authority, school_keys: InstitutionKeys, successor: InstitutionKeys
) -> None:
    trust = rotated_store(authority, school_keys, successor)
    result, checks = judged(credential(school_keys, ISSUED), trust)
    assert result is Result.VALID
    assert "retired since 2026-12-18 00:00 UTC" in checks["credential_issuer_trusted"][1]
    in_flight = ROTATED + CLOCK_SKEW - timedelta(seconds=1)  # signed during the rotation
    assert judged(credential(school_keys, in_flight), trust)[0] is Result.VALID
    result, checks = judged(credential(school_keys, ROTATED + timedelta(days=1)), trust)
    assert result is Result.UNTRUSTED
    assert checks["credential_issuer_trusted"] == (
        Status.FAIL, "The key was not valid at the credential's issue time: it was retired "
                     "on 2026-12-18 00:00 UTC")
    assert judged(credential(successor, ROTATED + timedelta(days=1)), trust)[0] is Result.VALID
    assert judged(credential(successor, ROTATED - timedelta(hours=1)), trust)[0] is (
        Result.UNTRUSTED)  # before its certificate


def test_a_key_vouches_for_nothing_before_its_period_of_use(
    authority: Authority, successor: InstitutionKeys
) -> None:
    start = ROTATED + timedelta(days=1)  # certified at ROTATED, put in use a day later
    trust = store(authority, [(successor, generation_of(
        2, successor.pdf_cert, successor.credential_cert, start))])
    result, checks = judged(credential(successor, ROTATED + timedelta(hours=1)), trust)
    assert result is Result.UNTRUSTED
    assert "put in use on 2026-12-19 00:00 UTC" in checks["credential_issuer_trusted"][1]
    assert judged(credential(successor, start - CLOCK_SKEW), trust)[0] is Result.VALID


def test_a_jwks_without_lifecycle_members_still_works(
    authority: Authority, school_keys: InstitutionKeys
) -> None:
    trust = store(authority, [(school_keys, None)])
    assert judged(credential(school_keys, ISSUED), trust)[0] is Result.VALID
    assert trust.keys[school_keys.kid].retired_at is None


def test_compromise_voids_after_and_doubts_before(
    authority: Authority, school_keys: InstitutionKeys, successor: InstitutionKeys
) -> None:
    since = ISSUED + timedelta(days=10)
    trust = rotated_store(authority, school_keys, successor, compromised=since)
    result, checks = judged(credential(school_keys, since + timedelta(days=1)), trust)
    assert result is Result.INVALID
    assert checks["credential_key_not_compromised"][0] is Status.FAIL
    result, checks = judged(credential(school_keys, ISSUED), trust)
    assert result is Result.INDETERMINATE
    status, message = checks["credential_key_not_compromised"]
    assert status is Status.INDETERMINATE
    assert "compromised since 2026-07-11 00:00 UTC" in message and "back-date" in message
    # a trusted timestamp from before the compromise proves it; one after does not
    assert judged(credential(school_keys, ISSUED), trust,
                  signed_by=ISSUED + timedelta(minutes=1))[0] is Result.VALID
    assert judged(credential(school_keys, ISSUED), trust,
                  signed_by=since + timedelta(minutes=1))[0] is Result.INVALID
    # the successor is not affected
    assert judged(credential(successor, ROTATED + timedelta(days=1)), trust)[0] is Result.VALID


@pytest.mark.parametrize("member,value", [("bkt_compromised_at", "last tuesday"),
                                          ("bkt_retired_at", "2026-01-01T00:00:00"),
                                          ("bkt_pdf_x5t#S256", 42)])
def test_an_unreadable_lifecycle_member_drops_the_key(
    authority: Authority, school_keys: InstitutionKeys, member: str, value: Any
) -> None:
    """A compromise that cannot be read must not be ignored."""
    generation = generation_of(1, school_keys.pdf_cert, school_keys.credential_cert, PKI_NOW)

    def spoil(document: dict) -> None:
        document["keys"][0][member] = value

    assert school_keys.kid not in store(authority, [(school_keys, generation)], spoil).keys


def test_status_lists_of_a_compromised_key_are_refused(
    authority: Authority, school_keys: InstitutionKeys, successor: InstitutionKeys
) -> None:
    since = ISSUED + timedelta(days=10)
    lists = {}
    for keys, when in ((school_keys, ISSUED), (successor, ROTATED + timedelta(days=1))):
        status = status_credential.build("1001", status_credential.REVOCATION, [], when,
                                         sequence=1)
        lists[keys.kid] = status_credential.sign(status, keys.credential_key, keys.kid)
    retired = rotated_store(authority, school_keys, successor)
    for token in lists.values():  # a retired key's list from its period of use is fine
        status_credential.verify(token, retired.key, "1001", status_credential.REVOCATION)
    compromised = rotated_store(authority, school_keys, successor, compromised=since)
    with pytest.raises(StatusListError, match="not valid when the list was issued"):
        status_credential.verify(lists[school_keys.kid], compromised.key, "1001",
                                 status_credential.REVOCATION)
    status_credential.verify(lists[successor.kid], compromised.key, "1001",
                             status_credential.REVOCATION)


# --- the PDF path: the PDF-signing key of a compromised generation ------------------------


@pytest.fixture(scope="module")
def documents(authority: Authority, school_keys: InstitutionKeys
              ) -> tuple[IssuedDocument, IssuedDocument]:
    """A transcript signed now by generation 1, without and with a trusted timestamp."""
    plain = Producer(school_keys, "https://verify.example").produce(
        school_record(issued_at=ISSUED))
    stamped = dataclasses.replace(plain, pdf=TranscriptSigner(
        school_keys, timestamper=make_tsa(authority)).sign(
            plain.pdf[: plain.pdf.index(b"%%EOF") + len(b"%%EOF\n")]))
    return plain, stamped


def pdf_verdict(pdf: bytes, trust: TrustStore) -> tuple[Result, dict[str, Status]]:
    checks = check_pdf(pdf, trust).checks
    return decide(checks).result, {c.id: c.status for c in checks}


def test_a_pdf_of_a_retired_generation_stays_valid(
    authority: Authority, school_keys: InstitutionKeys, successor: InstitutionKeys,
    documents: tuple[IssuedDocument, IssuedDocument],
) -> None:
    keys = KeyHistory("1001", (generation_of(1, school_keys.pdf_cert,
                                             school_keys.credential_cert, PKI_NOW),))
    now = datetime.now(UTC)
    rotated = keys.rotated(generation_of(2, successor.pdf_cert, successor.credential_cert, now))
    trust = store(authority, [(school_keys, rotated.generations[0]),
                              (successor, rotated.generations[1])])
    for document in documents:
        result, checks = pdf_verdict(document.pdf, trust)
        assert result is Result.VALID, checks
        assert "pdf_key_not_compromised" not in checks


def test_the_compromise_rule_applies_to_the_pdf_signing_key(
    authority: Authority, school_keys: InstitutionKeys, successor: InstitutionKeys,
    documents: tuple[IssuedDocument, IssuedDocument],
) -> None:
    plain, stamped = documents
    now = datetime.now(UTC)
    keys = KeyHistory("1001", (generation_of(1, school_keys.pdf_cert,
                                             school_keys.credential_cert, PKI_NOW),))

    def compromised_since(since: datetime) -> TrustStore:
        marked = keys.compromised(school_keys.kid, since, since, generation_of(
            2, successor.pdf_cert, successor.credential_cert, since))
        return store(authority, [(school_keys, marked.generations[0]),
                                 (successor, marked.generations[1])])

    # compromised after the credential's iat but before the PDF was signed (now)
    result, checks = pdf_verdict(plain.pdf, compromised_since(ISSUED + timedelta(days=1)))
    assert result is Result.INVALID
    assert checks["pdf_key_not_compromised"] is Status.FAIL
    assert checks["credential_key_not_compromised"] is Status.INDETERMINATE

    # compromised after both, no timestamp: only the key's word for when it signed
    later = compromised_since(now + timedelta(minutes=1))
    result, checks = pdf_verdict(plain.pdf, later)
    assert result is Result.INDETERMINATE
    assert checks["pdf_key_not_compromised"] is checks[
        "credential_key_not_compromised"] is Status.INDETERMINATE

    # a trusted timestamp (RFC 3161) from before the compromise proves both
    result, checks = pdf_verdict(stamped.pdf, later)
    assert result is Result.VALID, checks
    assert checks["pdf_key_not_compromised"] is checks[
        "credential_key_not_compromised"] is Status.PASS
