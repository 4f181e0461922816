"""Import warnings in the batch rules (pure): submitted only once confirmed, confirmed
once, by a registrar of the institution, while the batch is imported."""

from __future__ import annotations

import pytest

from issuer.core.lifecycle import (
    BatchAction,
    BatchFacts,
    BatchStatus,
    LifecycleError,
    check_confirm_warnings,
    next_status,
)
from tests.unit.test_lifecycle import ADMIN, DIR, DIR_ELSEWHERE, REG


def facts(warnings: int = 2, confirmed: bool = False,
          status: BatchStatus = BatchStatus.IMPORTED) -> BatchFacts:
    return BatchFacts(7, "1001", status, "reg", warnings=warnings, warnings_confirmed=confirmed)


def test_unconfirmed_warnings_block_submission() -> None:
    with pytest.raises(LifecycleError, match=r"2 warning\(s\) not yet confirmed"):
        next_status(facts(), BatchAction.SUBMIT, REG)
    assert next_status(facts(confirmed=True), BatchAction.SUBMIT, REG) is BatchStatus.SUBMITTED
    assert next_status(facts(warnings=0), BatchAction.SUBMIT, REG) is BatchStatus.SUBMITTED
    # withdrawing stays possible: a wrong file is withdrawn, not confirmed
    assert next_status(facts(), BatchAction.WITHDRAW, REG) is BatchStatus.WITHDRAWN


def test_who_confirms_and_when() -> None:
    check_confirm_warnings(facts(), REG)
    for who, message in ((DIR, "only a registrar"), (ADMIN, "only a registrar"),
                         (DIR_ELSEWHERE, "only a registrar")):
        with pytest.raises(LifecycleError, match=message):
            check_confirm_warnings(facts(), who)
    cases = ((facts(warnings=0), "no warnings"), (facts(confirmed=True), "already confirmed"),
             (facts(status=BatchStatus.WITHDRAWN), "only an imported batch"))
    for batch, message in cases:
        with pytest.raises(LifecycleError, match=message):
            check_confirm_warnings(batch, REG)
