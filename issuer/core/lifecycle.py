"""The life of a batch and of a transcript: states, transitions, and who may do each.

Pure rules, no I/O: the web views, the command line, the job runners and the services
all ask these functions, so a rule lives in one place. Everything that ends in a
signature goes through a batch (a file's new students, corrections of issued ones, a
request to reissue), and every batch needs an approver who is not its requester (four
eyes). Revocation is final: a revoked version never becomes valid again; only corrected
data, approved like any batch, can give the transcript a new version.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class LifecycleError(Exception):
    """An action the rules do not allow; the message says why, in one line."""


class AccountRole(StrEnum):
    """What an account may do."""

    REGISTRAR = "registrar"  # one institution: imports, submits, revokes, requests reissues
    APPROVER = "approver"  # the institution's director: approves or rejects batches
    ADMIN = "admin"  # BMA: institutions, accounts, keys, audit log; no institution


STAFF = (AccountRole.REGISTRAR, AccountRole.APPROVER)


class BatchStatus(StrEnum):
    """Where a batch is between its import and its signatures."""

    IMPORTED = "imported"  # stored, previewable, not yet asked to be approved
    SUBMITTED = "submitted"  # waiting for an approver
    APPROVED = "approved"  # frozen: its records and their digests are under the approval
    ISSUING = "issuing"
    ISSUED = "issued"
    REJECTED = "rejected"  # sent back by the approver
    WITHDRAWN = "withdrawn"  # taken back by the registrar before approval


class BatchKind(StrEnum):
    """What a batch is for (its items say it per student)."""

    IMPORT = "import"  # a file with students not issued before (maybe corrections too)
    CORRECTION = "correction"  # a file whose students were all issued, with changed data
    REISSUE = "reissue"  # a request to issue the stored data again (no file)


class ItemKind(StrEnum):
    """What issuing one record of a batch does."""

    NEW = "new"  # version 1 of a new transcript
    CORRECTION = "correction"  # a new version with changed data; the old one is superseded
    REISSUE = "reissue"  # a new version of the same data (signatories or layout changed)


class TranscriptStatus(StrEnum):
    ISSUED = "issued"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"


class BatchAction(StrEnum):
    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    APPROVE = "approve"
    REJECT = "reject"
    START_ISSUING = "start_issuing"
    FINISH_ISSUING = "finish_issuing"


# (from, action) -> to
TRANSITIONS: dict[tuple[BatchStatus, BatchAction], BatchStatus] = {
    (BatchStatus.IMPORTED, BatchAction.SUBMIT): BatchStatus.SUBMITTED,
    (BatchStatus.IMPORTED, BatchAction.WITHDRAW): BatchStatus.WITHDRAWN,
    (BatchStatus.SUBMITTED, BatchAction.WITHDRAW): BatchStatus.WITHDRAWN,
    (BatchStatus.SUBMITTED, BatchAction.APPROVE): BatchStatus.APPROVED,
    (BatchStatus.SUBMITTED, BatchAction.REJECT): BatchStatus.REJECTED,
    (BatchStatus.APPROVED, BatchAction.START_ISSUING): BatchStatus.ISSUING,
    (BatchStatus.ISSUING, BatchAction.START_ISSUING): BatchStatus.ISSUING,  # resuming
    (BatchStatus.ISSUING, BatchAction.FINISH_ISSUING): BatchStatus.ISSUED,
}

# Who may take each action on a batch of their own institution; issuing itself is the
# system's (a job), started by whoever may see the batch once it is approved.
MAY: dict[BatchAction, tuple[AccountRole, ...]] = {
    BatchAction.SUBMIT: (AccountRole.REGISTRAR,),
    BatchAction.WITHDRAW: (AccountRole.REGISTRAR,),
    BatchAction.APPROVE: (AccountRole.APPROVER,),
    BatchAction.REJECT: (AccountRole.APPROVER,),
    BatchAction.START_ISSUING: STAFF,
}

OPEN = frozenset({BatchStatus.IMPORTED, BatchStatus.SUBMITTED, BatchStatus.APPROVED,
                  BatchStatus.ISSUING})
"""A student in an open batch cannot be put in another batch until it is closed."""
ISSUABLE = frozenset({BatchStatus.APPROVED, BatchStatus.ISSUING})
"""What a runner may issue (or resume)."""


@dataclass(frozen=True)
class Principal:
    """An authenticated account acting, as the rules see it."""

    username: str
    role: AccountRole
    institution_code: str | None


@dataclass(frozen=True)
class BatchFacts:
    """What the rules need to know about a batch."""

    id: int
    institution_code: str
    status: BatchStatus
    created_by: str  # the requester: who imported the file or asked for the reissue
    warnings: int = 0  # what the import questioned (a prefix against the sex)
    warnings_confirmed: bool = False  # the registrar checked them and confirmed


def _must_belong(who: Principal, institution_code: str, what: str) -> None:
    if who.institution_code != institution_code:
        raise LifecycleError(f"{what} belongs to another institution")


def require_role(who: Principal, roles: tuple[AccountRole, ...], doing: str) -> None:
    if who.role not in roles:
        allowed = " or ".join(r.value for r in roles)
        if not allowed:
            raise LifecycleError(f"only the service itself may {doing}")
        article = "an" if allowed[0] in "aeiou" else "a"
        raise LifecycleError(f"only {article} {allowed} may {doing}")


def next_status(batch: BatchFacts, action: BatchAction, who: Principal | None) -> BatchStatus:
    """The status `action` moves `batch` to, or LifecycleError if it may not be taken.

    `who` is None only for the system itself (a job runner), which may only issue.
    """
    what = f"batch {batch.id}"
    if who is None:
        if action not in (BatchAction.START_ISSUING, BatchAction.FINISH_ISSUING):
            raise LifecycleError(f"{action.value} needs a signed-in account")
    else:
        require_role(who, MAY.get(action, ()), f"{action.value.replace('_', ' ')} a batch")
        _must_belong(who, batch.institution_code, what)
        if action is BatchAction.APPROVE and who.username == batch.created_by:
            raise LifecycleError(
                f"{what}: the person who requested a batch cannot approve it (four eyes)")
    to = TRANSITIONS.get((batch.status, action))
    if to is None:
        raise LifecycleError(_not_now(what, batch.status, action))
    if action is BatchAction.SUBMIT and batch.warnings and not batch.warnings_confirmed:
        raise LifecycleError(
            f"{what} has {batch.warnings} warning(s) not yet confirmed: check them, then "
            "confirm them (on the batch's page, or transcripts submit --confirm-warnings)")
    return to


def check_confirm_warnings(batch: BatchFacts, who: Principal) -> None:
    """A registrar of the institution confirms the warnings of an imported batch, once."""
    what = f"batch {batch.id}"
    require_role(who, (AccountRole.REGISTRAR,), "confirm the warnings of a batch")
    _must_belong(who, batch.institution_code, what)
    if not batch.warnings:
        raise LifecycleError(f"{what} has no warnings to confirm")
    if batch.warnings_confirmed:
        raise LifecycleError(f"the warnings of {what} are already confirmed")
    if batch.status is not BatchStatus.IMPORTED:
        raise LifecycleError(f"{what} is {batch.status.value}: only an imported batch's "
                             "warnings are confirmed")


def _not_now(what: str, status: BatchStatus, action: BatchAction) -> str:
    if action is BatchAction.APPROVE:
        return f"{what} is {status.value}, not submitted: only a submitted batch is approved"
    if action in (BatchAction.START_ISSUING, BatchAction.FINISH_ISSUING):
        return f"{what} is {status.value}: it must be approved before issuing"
    return f"{what} is {status.value}: it cannot be {_PAST[action]} now"


_PAST = {
    BatchAction.SUBMIT: "submitted",
    BatchAction.WITHDRAW: "withdrawn",
    BatchAction.REJECT: "rejected",
    BatchAction.APPROVE: "approved",
    BatchAction.START_ISSUING: "issued",
    BatchAction.FINISH_ISSUING: "issued",
}


def may_issue(status: BatchStatus) -> bool:
    return status in ISSUABLE


# --- transcripts ------------------------------------------------------------------------

def check_revoke(status: TranscriptStatus, who: Principal, institution_code: str,
                 transcript: str) -> None:
    """A registrar of the institution revokes the current, valid version."""
    require_role(who, (AccountRole.REGISTRAR,), "revoke a transcript")
    _must_belong(who, institution_code, transcript)
    if status is not TranscriptStatus.ISSUED:
        raise LifecycleError(f"{transcript} is already {status.value}")


def check_new_version(kind: ItemKind, latest: TranscriptStatus, *, same_record: bool,
                      same_student_data: bool, transcript: str) -> None:
    """Whether a new version of a transcript whose latest version is `latest` may be
    requested. `same_record`: the new snapshot equals the latest version's;
    `same_student_data`: what the school states about the student is unchanged (only
    the institution's details or the signatories differ).

    A correction must change something; a revocation is final, so a revoked transcript
    gets a new version only for changed student data, never for a reissue."""
    if latest is TranscriptStatus.SUPERSEDED:
        raise LifecycleError(f"{transcript}: its latest version is superseded")
    if kind is ItemKind.REISSUE:
        if latest is TranscriptStatus.REVOKED:
            raise LifecycleError(
                f"{transcript} is revoked, and a revocation cannot be undone: to issue "
                "corrected data, upload a correction")
        return
    if same_record:
        raise LifecycleError(f"{transcript}: the corrected data is the same as the issued data")
    if latest is TranscriptStatus.REVOKED and same_student_data:
        raise LifecycleError(
            f"{transcript} is revoked, and a revocation cannot be undone: only changed "
            "results or student details can be issued as a new version")


def check_request(who: Principal, institution_code: str, what: str) -> None:
    """Importing a file or requesting a new version: a registrar of the institution."""
    require_role(who, (AccountRole.REGISTRAR,), "import results or request a new version")
    _must_belong(who, institution_code, what)
