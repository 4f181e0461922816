"""The verdict rule: a failed signature is INVALID whatever else passed."""

from hypothesis import given
from hypothesis import strategies as st

from verifier.core.verdict import Check, Result, Status, decide

IDS = ["pdf_signature", "pdf_unmodified", "pdf_signer_trusted", "credential_signature",
       "record_digest", "not_revoked", "latest_version", "same_institution"]


def check(cid: str, status: Status) -> Check:
    return Check(cid, status, "ไทย", "English")


def test_all_pass_is_valid() -> None:
    assert decide([check(i, Status.PASS) for i in IDS]).result is Result.VALID


def test_no_checks_is_never_valid() -> None:
    assert decide([]).result is Result.INVALID


def test_order_of_precedence() -> None:
    passing = {i: Status.PASS for i in IDS}

    def result(**overrides: Status) -> Result:
        return decide([check(i, overrides.get(i, s)) for i, s in passing.items()]).result

    assert result(not_revoked=Status.FAIL) is Result.REVOKED
    assert result(latest_version=Status.FAIL) is Result.SUPERSEDED
    assert result(not_revoked=Status.FAIL, latest_version=Status.FAIL) is Result.REVOKED
    assert result(pdf_signer_trusted=Status.FAIL, not_revoked=Status.FAIL) is Result.UNTRUSTED
    assert result(not_revoked=Status.INDETERMINATE) is Result.INDETERMINATE
    assert result(record_digest=Status.FAIL, pdf_signer_trusted=Status.FAIL) is Result.INVALID
    assert result(same_institution=Status.FAIL) is Result.INVALID


@given(st.lists(st.tuples(st.sampled_from(IDS), st.sampled_from(list(Status))), min_size=1))
def test_failed_signature_is_always_invalid(pairs: list[tuple[str, Status]]) -> None:
    checks = [check(i, s) for i, s in pairs] + [check("pdf_signature", Status.FAIL)]
    verdict = decide(checks)
    assert verdict.result is Result.INVALID
    assert verdict.to_json()["result"] == "INVALID"


@given(st.lists(st.tuples(st.sampled_from(IDS), st.sampled_from(list(Status))), min_size=1))
def test_valid_only_when_nothing_failed_or_undecided(pairs: list[tuple[str, Status]]) -> None:
    checks = [check(i, s) for i, s in pairs]
    if decide(checks).result is Result.VALID:
        assert all(c.status in (Status.PASS, Status.WARN, Status.SKIPPED) for c in checks)
