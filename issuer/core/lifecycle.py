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

from issuer.core.refusal import Phrase, Refusal


class LifecycleError(Refusal):
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


_ANOTHER = {  # what acts on another institution's ...: the subject names it
    "batch": Phrase("batch %(subject)s belongs to another institution"),
    "institution": Phrase("institution %(subject)s is another institution: you act for your "
                          "own only"),
    "transcript": Phrase("%(subject)s belongs to another institution"),
}


def _must_belong(who: Principal, institution_code: str, noun: str, subject: object) -> None:
    """`noun` (batch, institution, transcript) `subject` is of `who`'s institution."""
    if who.institution_code != institution_code:
        raise LifecycleError(_ANOTHER[noun], subject=subject)


def require_role(who: Principal, roles: tuple[AccountRole, ...], doing: Phrase) -> None:
    if who.role not in roles:
        if not roles:
            raise LifecycleError("only the service itself may %(doing)s", doing=doing)
        if len(roles) == 1 and roles[0].value[0] in "aeiou":
            raise LifecycleError("only an %(role)s may %(doing)s", role=roles[0], doing=doing)
        if len(roles) == 1:
            raise LifecycleError("only a %(role)s may %(doing)s", role=roles[0], doing=doing)
        raise LifecycleError("only the roles %(roles)s may %(doing)s", doing=doing,
                             roles=" / ".join(r.value for r in roles))


def next_status(batch: BatchFacts, action: BatchAction, who: Principal | None) -> BatchStatus:
    """The status `action` moves `batch` to, or LifecycleError if it may not be taken.

    `who` is None only for the system itself (a job runner), which may only issue.
    """
    if who is None:
        if action not in (BatchAction.START_ISSUING, BatchAction.FINISH_ISSUING):
            raise LifecycleError("%(action)s needs a signed-in account", action=action)
    else:
        require_role(who, MAY.get(action, ()), _DOING[action])
        _must_belong(who, batch.institution_code, "batch", batch.id)
        if action is BatchAction.APPROVE and who.username == batch.created_by:
            raise LifecycleError("batch %(batch)s: the person who requested a batch cannot "
                                 "approve it (four eyes)", batch=batch.id)
    to = TRANSITIONS.get((batch.status, action))
    if to is None:
        raise _not_now(batch.id, batch.status, action)
    if action is BatchAction.SUBMIT and batch.warnings and not batch.warnings_confirmed:
        raise LifecycleError(
            "batch %(batch)s has %(warnings)s warning(s) not yet confirmed: check them, then "
            "confirm them (on the batch's page, or transcripts submit --confirm-warnings)",
            batch=batch.id, warnings=batch.warnings)
    return to


def check_confirm_warnings(batch: BatchFacts, who: Principal) -> None:
    """A registrar of the institution confirms the warnings of an imported batch, once."""
    require_role(who, (AccountRole.REGISTRAR,), Phrase("confirm the warnings of a batch"))
    _must_belong(who, batch.institution_code, "batch", batch.id)
    if not batch.warnings:
        raise LifecycleError("batch %(batch)s has no warnings to confirm", batch=batch.id)
    if batch.warnings_confirmed:
        raise LifecycleError("the warnings of batch %(batch)s are already confirmed",
                             batch=batch.id)
    if batch.status is not BatchStatus.IMPORTED:
        raise LifecycleError("batch %(batch)s is %(status)s: only an imported batch's "
                             "warnings are confirmed", batch=batch.id, status=batch.status)


def _not_now(batch: int, status: BatchStatus, action: BatchAction) -> LifecycleError:
    if action is BatchAction.APPROVE:
        return LifecycleError("batch %(batch)s is %(status)s, not submitted: only a submitted "
                              "batch is approved", batch=batch, status=status)
    if action in (BatchAction.START_ISSUING, BatchAction.FINISH_ISSUING):
        return LifecycleError("batch %(batch)s is %(status)s: it must be approved before "
                              "issuing", batch=batch, status=status)
    return LifecycleError("batch %(batch)s is %(status)s: it cannot be %(done)s now",
                          batch=batch, status=status, done=_PAST[action])


_PAST = {
    BatchAction.SUBMIT: Phrase("submitted"),
    BatchAction.WITHDRAW: Phrase("withdrawn"),
    BatchAction.REJECT: Phrase("rejected"),
    BatchAction.APPROVE: Phrase("approved"),
    BatchAction.START_ISSUING: Phrase("issued"),
    BatchAction.FINISH_ISSUING: Phrase("issued"),
}
_DOING = {
    BatchAction.SUBMIT: Phrase("submit a batch"),
    BatchAction.WITHDRAW: Phrase("withdraw a batch"),
    BatchAction.REJECT: Phrase("reject a batch"),
    BatchAction.APPROVE: Phrase("approve a batch"),
    BatchAction.START_ISSUING: Phrase("start issuing a batch"),
    BatchAction.FINISH_ISSUING: Phrase("finish issuing a batch"),
}


def may_issue(status: BatchStatus) -> bool:
    return status in ISSUABLE


# --- transcripts ------------------------------------------------------------------------

def check_revoke(status: TranscriptStatus, who: Principal, institution_code: str,
                 transcript: str) -> None:
    """A registrar of the institution revokes the current, valid version."""
    require_role(who, (AccountRole.REGISTRAR,), Phrase("revoke a transcript"))
    _must_belong(who, institution_code, "transcript", transcript)
    if status is not TranscriptStatus.ISSUED:
        raise LifecycleError("%(transcript)s is already %(status)s", transcript=transcript,
                             status=status)


def check_new_version(kind: ItemKind, latest: TranscriptStatus, *, same_record: bool,
                      same_student_data: bool, transcript: str) -> None:
    """Whether a new version of a transcript whose latest version is `latest` may be
    requested. `same_record`: the new snapshot equals the latest version's;
    `same_student_data`: what the school states about the student is unchanged (only
    the institution's details or the signatories differ).

    A correction must change something; a revocation is final, so a revoked transcript
    gets a new version only for changed student data, never for a reissue."""
    if latest is TranscriptStatus.SUPERSEDED:
        raise LifecycleError("%(transcript)s: its latest version is superseded",
                             transcript=transcript)
    if kind is ItemKind.REISSUE:
        if latest is TranscriptStatus.REVOKED:
            raise LifecycleError(
                "%(transcript)s is revoked, and a revocation cannot be undone: to issue "
                "corrected data, upload a correction", transcript=transcript)
        return
    if same_record:
        raise LifecycleError("%(transcript)s: the corrected data is the same as the issued "
                             "data", transcript=transcript)
    if latest is TranscriptStatus.REVOKED and same_student_data:
        raise LifecycleError(
            "%(transcript)s is revoked, and a revocation cannot be undone: only changed "
            "results or student details can be issued as a new version", transcript=transcript)


def check_request(who: Principal, institution_code: str, transcript: str | None = None
                  ) -> None:
    """Importing a file, or requesting a new version of `transcript`: a registrar of the
    institution."""
    require_role(who, (AccountRole.REGISTRAR,), Phrase("import results or request a new version"))
    if transcript is None:
        _must_belong(who, institution_code, "institution", institution_code)
    else:
        _must_belong(who, institution_code, "transcript", transcript)
