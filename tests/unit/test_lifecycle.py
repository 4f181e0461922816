"""The batch and transcript rules, on the pure core: every transition, every role."""

from __future__ import annotations

import pytest

from issuer.core.lifecycle import (
    MAY,
    TRANSITIONS,
    AccountRole,
    BatchAction,
    BatchFacts,
    BatchStatus,
    ItemKind,
    LifecycleError,
    Principal,
    TranscriptStatus,
    check_new_version,
    check_request,
    check_revoke,
    may_issue,
    next_status,
)

REG = Principal("reg", AccountRole.REGISTRAR, "1001")
DIR = Principal("dir", AccountRole.APPROVER, "1001")
DIR_ELSEWHERE = Principal("dir2", AccountRole.APPROVER, "2001")
ADMIN = Principal("admin", AccountRole.ADMIN, None)
PEOPLE = (REG, DIR, DIR_ELSEWHERE, ADMIN)


def batch(status: BatchStatus, created_by: str = "reg") -> BatchFacts:
    return BatchFacts(7, "1001", status, created_by)


@pytest.mark.parametrize("status", list(BatchStatus))
@pytest.mark.parametrize("action", list(BatchAction))
@pytest.mark.parametrize("who", PEOPLE, ids=lambda p: p.username)
def test_every_action_from_every_state_by_everyone(
        status: BatchStatus, action: BatchAction, who: Principal) -> None:
    allowed = ((status, action) in TRANSITIONS and who.role in MAY.get(action, ())
               and who.institution_code == "1001")
    if allowed:
        assert next_status(batch(status), action, who) is TRANSITIONS[(status, action)]
    else:
        with pytest.raises(LifecycleError):
            next_status(batch(status), action, who)


def test_the_requester_never_approves_their_own_batch() -> None:
    requester = Principal("dir", AccountRole.APPROVER, "1001")
    with pytest.raises(LifecycleError, match="four eyes"):
        next_status(batch(BatchStatus.SUBMITTED, created_by="dir"), BatchAction.APPROVE,
                    requester)
    assert next_status(batch(BatchStatus.SUBMITTED), BatchAction.APPROVE, DIR) \
        is BatchStatus.APPROVED


def test_only_a_submitted_batch_is_approved() -> None:
    for status in set(BatchStatus) - {BatchStatus.SUBMITTED}:
        with pytest.raises(LifecycleError, match="only a submitted batch"):
            next_status(batch(status), BatchAction.APPROVE, DIR)


def test_the_system_only_issues_what_is_approved() -> None:
    assert next_status(batch(BatchStatus.APPROVED), BatchAction.START_ISSUING, None) \
        is BatchStatus.ISSUING
    assert next_status(batch(BatchStatus.ISSUING), BatchAction.FINISH_ISSUING, None) \
        is BatchStatus.ISSUED
    for status in (BatchStatus.IMPORTED, BatchStatus.SUBMITTED, BatchStatus.REJECTED):
        with pytest.raises(LifecycleError, match="must be approved"):
            next_status(batch(status), BatchAction.START_ISSUING, None)
    with pytest.raises(LifecycleError, match="signed-in account"):
        next_status(batch(BatchStatus.SUBMITTED), BatchAction.APPROVE, None)
    assert [s for s in BatchStatus if may_issue(s)] == [BatchStatus.APPROVED,
                                                          BatchStatus.ISSUING]


def test_revocation_by_a_registrar_of_a_valid_version_only() -> None:
    check_revoke(TranscriptStatus.ISSUED, REG, "1001", "T")
    for who in (DIR, ADMIN):
        with pytest.raises(LifecycleError, match="only a registrar"):
            check_revoke(TranscriptStatus.ISSUED, who, "1001", "T")
    with pytest.raises(LifecycleError, match="another institution"):
        check_revoke(TranscriptStatus.ISSUED, REG, "2001", "T")
    for status in (TranscriptStatus.REVOKED, TranscriptStatus.SUPERSEDED):
        with pytest.raises(LifecycleError, match="already"):
            check_revoke(status, REG, "1001", "T")


def test_a_revocation_is_final_only_corrected_data_gets_a_new_version() -> None:
    def check(kind: ItemKind, latest: TranscriptStatus, same_record: bool = False,
              same_student_data: bool = False) -> None:
        check_new_version(kind, latest, same_record=same_record,
                          same_student_data=same_student_data, transcript="T")

    with pytest.raises(LifecycleError, match="cannot be undone"):
        check(ItemKind.REISSUE, TranscriptStatus.REVOKED, same_record=True,
              same_student_data=True)
    check(ItemKind.CORRECTION, TranscriptStatus.REVOKED)
    with pytest.raises(LifecycleError, match="cannot be undone"):  # new signatory only
        check(ItemKind.CORRECTION, TranscriptStatus.REVOKED, same_student_data=True)
    with pytest.raises(LifecycleError, match="the same as the issued data"):
        check(ItemKind.CORRECTION, TranscriptStatus.ISSUED, same_record=True,
              same_student_data=True)
    check(ItemKind.CORRECTION, TranscriptStatus.ISSUED, same_student_data=True)
    check(ItemKind.REISSUE, TranscriptStatus.ISSUED, same_record=True, same_student_data=True)
    for kind in (ItemKind.CORRECTION, ItemKind.REISSUE):
        with pytest.raises(LifecycleError, match="superseded"):
            check(kind, TranscriptStatus.SUPERSEDED)


def test_requests_come_from_the_institutions_registrar() -> None:
    check_request(REG, "1001", "batch")
    for who in (DIR, ADMIN):
        with pytest.raises(LifecycleError, match="only a registrar"):
            check_request(who, "1001", "batch")
    with pytest.raises(LifecycleError, match="another institution"):
        check_request(REG, "2001", "batch")
