"""The audit log as administrators and operators see it whole: check it, checkpoint it,
export it.

`check_audit_chain` walks the keyed chain (`issuer.adapters.audit_chain`: the first
broken event, the first missing id) and compares it with a signed checkpoint
(`issuer.adapters.audit_checkpoint`: by default the latest published one, or a copy an
operator fetched), which catches a log cut short or rewritten below it.
`write_checkpoint` signs and publishes a new checkpoint of the head; publishing runs it
after every issuance, revocation and reissue, and the embedded worker when the log grew.

Exports hold exactly what is hashed (`audit_chain.FIELDS`) plus ``prev_hash`` and
``hash``: `check_export` follows their links and ids and compares them with a
checkpoint anywhere; recomputing the MACs needs the integrity key, which only the
issuer's host has.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from cryptography import x509

from issuer.adapters import audit_chain, audit_checkpoint, csvfile, integrity
from issuer.adapters.audit_checkpoint import Checkpoint, CheckpointError
from issuer.adapters.pki import AuditSigner, PkiError, load_root
from issuer.adapters.repositories import AuditLog, Conflict, DatabaseFailure
from issuer.config import Settings
from issuer.services.context import Issuer, ServiceError
from verifier.core.canonical import canonical_json
from verifier.sources import FetchError, fetch_location

log = logging.getLogger(__name__)

FORMATS = ("jsonl", "csv")
COLUMNS = (*audit_chain.FIELDS, "prev_hash", "hash")


@dataclass(frozen=True)
class ChainCheck:
    """Everything `audit verify` found, as data (the CLI and the admin page format it)."""

    first_broken_id: int | None  # None: every event is intact and linked
    events: int
    head_id: int | None  # the newest event
    head_hash: str | None
    first_missing_id: int | None = None  # None: no id missing among keyed events
    legacy_events: int = 0  # events from before the chain was keyed (SHA-256 only)
    macs_checked: bool = True
    checkpoint: Checkpoint | None = None  # the checkpoint compared with, if trusted
    checkpoint_problem: str | None = None  # why it does not match or cannot be trusted

    @property
    def intact(self) -> bool:
        """Nothing found wrong: chain, ids, and the checkpoint if there is one."""
        return (self.first_broken_id is None and self.first_missing_id is None
                and self.checkpoint_problem is None)

    @property
    def ok(self) -> bool:
        """Intact and anchored: a checkpoint was checked (or the log is empty)."""
        return self.intact and (self.checkpoint is not None or self.events == 0)

    def problems(self) -> list[str]:
        """One phrase per failure, in the order they should be read."""
        found = []
        if self.first_broken_id is not None:
            found.append(f"BROKEN at event {self.first_broken_id} (edited, inserted, "
                         "or the event before it was deleted)")
        if self.first_missing_id is not None:
            found.append(f"event {self.first_missing_id} is missing (deleted)")
        if self.checkpoint_problem is not None:
            found.append(self.checkpoint_problem)
        elif self.checkpoint is None and self.events:
            found.append("no checkpoint to compare with: a log cut short cannot be told "
                         "(run `transcripts audit checkpoint`, or give --checkpoint)")
        return found

    def summary(self) -> str:
        """The one line for an intact log."""
        parts = [f"chain intact: {self.events} event(s)"]
        if self.legacy_events:
            parts.append(f"{self.legacy_events} of them legacy (SHA-256, before the key)")
        if not self.macs_checked:
            parts.append("links and ids only: event contents NOT verified without the "
                         "integrity key (verify on the issuer host)")
        if self.head_id is not None:
            parts.append(f"head {self.head_id} {self.head_hash}")
        if self.checkpoint is not None:
            cp = self.checkpoint
            parts.append(f"matches checkpoint {cp.seq} (head {cp.head_id}, "
                         f"{cp.at.strftime('%Y-%m-%dT%H:%M:%SZ')})")
        return "; ".join(parts)


# --- checkpoints ---------------------------------------------------------------------------


def roots_of(settings: Settings, root: Path | None = None) -> list[x509.Certificate]:
    """The pinned root(s) checkpoints must chain to: `root` (a PEM file of one or more
    certificates) or the key store's ``root.crt``."""
    if root is None:
        try:
            return [load_root(settings.keys_dir)]
        except PkiError as e:
            raise ServiceError("%(problem)s (give the pinned root with --root)",
                               problem=str(e)) from None
    try:
        return x509.load_pem_x509_certificates(Path(root).read_bytes())
    except (OSError, ValueError) as e:
        raise ServiceError("cannot read the root certificate(s) %(root)s: %(problem)s",
                           root=root, problem=str(e)) from None


def load_checkpoint(
    settings: Settings, location: str | None = None,
    roots: list[x509.Certificate] | Path | None = None,
) -> tuple[Checkpoint | None, str | None]:
    """(checkpoint, None) if the one at `location` (path or URL; default the latest
    published) is trusted under `roots` (certificates, a PEM file, default the key
    store's root); (None, why) if it is not; (None, None) if none is published."""
    if location is None:
        token = audit_checkpoint.read_latest(settings.published_dir)
        if token is None:
            return None, None
        where = str(audit_checkpoint.latest_path(settings.published_dir))
    else:
        try:
            token = fetch_location(location, max_bytes=audit_checkpoint.MAX_TOKEN).body.decode(
                "ascii", "replace")
        except FetchError as e:
            return None, f"checkpoint unavailable: {e}"
        where = location
    try:
        trusted = roots if isinstance(roots, list) else roots_of(settings, roots)
    except ServiceError as e:
        return None, f"checkpoint {where} not checked: {e}"
    try:
        return audit_checkpoint.verify(token, trusted), None
    except CheckpointError as e:
        return None, f"checkpoint {where} REFUSED: {e}"


def _compare(report: audit_chain.ChainReport, checkpoint: Checkpoint) -> str | None:
    """Why the log does not match `checkpoint`, or None."""
    if checkpoint.head_id == 0:
        return None  # made when the log was empty
    name = f"checkpoint {checkpoint.seq}"
    if report.watched is None:
        return (f"event {checkpoint.head_id}, the head of {name}, is gone: the log was "
                f"truncated (or rewritten) below it")
    digest, count = report.watched
    if digest != checkpoint.head_hash:
        return f"event {checkpoint.head_id} differs from {name}: the log was rewritten"
    if count != checkpoint.events:
        return (f"{name} counted {checkpoint.events} event(s) up to {checkpoint.head_id}, "
                f"the log has {count}: events were deleted or inserted")
    return None


def _checked(report: audit_chain.ChainReport, checkpoint: Checkpoint | None,
             problem: str | None) -> ChainCheck:
    if checkpoint is not None and problem is None:
        problem = _compare(report, checkpoint)
    return ChainCheck(report.first_broken_id, report.events, report.head_id,
                      report.head_hash, report.first_missing_id, report.legacy_events,
                      report.macs_checked, checkpoint if problem is None else None, problem)


def check_audit_chain(issuer: Issuer, checkpoint: str | None = None,
                      root: Path | None = None) -> ChainCheck:
    """Check the database's chain with the integrity key, against the checkpoint at
    `checkpoint` (path or URL; default the latest published) signed under `root`
    (default the key store's root certificate)."""
    found, problem = load_checkpoint(issuer.settings, checkpoint, root)
    key = issuer.integrity_key(audit_chain.PURPOSE)
    with issuer.uow() as uow:
        report = audit_chain.check(
            uow.audit.chain(), key,
            legacy_head_id=found.legacy_head_id if found else None,
            watch=found.head_id if found else None)
    return _checked(report, found, problem)


def write_checkpoint(issuer: Issuer) -> tuple[Checkpoint, bool]:
    """Sign and publish a checkpoint of the current head; (it, True), or (the latest,
    False) when the head has not moved since. Refuses (ServiceError) when the log no
    longer holds the latest published checkpoint's head: signing it now would hide the
    truncation or rewrite from whoever checks only the newest checkpoint."""
    settings = issuer.settings
    try:
        signer = issuer.audit_signer()
    except PkiError as e:
        raise ServiceError("no audit checkpoint: %(problem)s (run `transcripts keys create`)",
                           problem=str(e)) \
            from None
    with audit_checkpoint.lock(settings.published_dir):
        return _write_checkpoint(issuer, signer)


def checkpoint_quietly(issuer: Issuer) -> Checkpoint | None:
    """`write_checkpoint` for publishing and the worker: a failure is logged, not raised,
    so status lists are still published (`audit verify` reports the log's state)."""
    try:
        return write_checkpoint(issuer)[0]
    except ServiceError as e:
        log.error("audit log: %s", e)
    except (OSError, DatabaseFailure) as e:
        log.error("audit log: checkpoint not published: %s: %s", type(e).__name__, e)
    return None


def _write_checkpoint(issuer: Issuer, signer: AuditSigner) -> tuple[Checkpoint, bool]:
    settings = issuer.settings
    previous, problem = load_checkpoint(settings, None, [signer.chain[-1]])
    if problem is not None:
        raise ServiceError("no audit checkpoint written: the published %(problem)s",
                           problem=problem)
    for _attempt in range(3):
        with issuer.uow() as uow:
            newest = uow.audit.head()
            head_id, head_hash = newest if newest else (0, audit_chain.GENESIS)
            if previous is not None:
                _refuse_if_rewritten(uow.audit, previous, head_id)
                if (head_id, head_hash) == (previous.head_id, previous.head_hash):
                    return previous, False
                legacy = previous.legacy_head_id
            else:
                legacy = uow.audit.legacy_prefix()
            last_seq = uow.audit.last_checkpoint_seq()
            checkpoint = Checkpoint(
                seq=max(last_seq, previous.seq if previous else 0) + 1,
                head_id=head_id, head_hash=head_hash, events=uow.audit.count_upto(head_id),
                legacy_head_id=legacy, at=issuer.clock().replace(microsecond=0))
            token = audit_checkpoint.sign(checkpoint, signer)
            uow.audit.add_checkpoint(seq=checkpoint.seq, at=checkpoint.at, head_id=head_id,
                                     head_hash=head_hash, events=checkpoint.events,
                                     legacy_head_id=legacy, token=token)
            try:
                uow.commit()
            except Conflict:  # another host took this seq: read again
                continue
        try:
            audit_checkpoint.write(settings.published_dir, checkpoint, token)
        except FileExistsError:
            raise ServiceError("checkpoint %(seq)s is already published: the database's checkpoint"
                               " numbers went back", seq=checkpoint.seq) from None
        return checkpoint, True
    raise ServiceError("no audit checkpoint written: other hosts kept taking its number")


def _refuse_if_rewritten(audit: AuditLog, previous: Checkpoint, head_id: int) -> None:
    if previous.head_id == 0:
        return
    held = audit.hash_at(previous.head_id)
    if head_id < previous.head_id or held is None:
        raise ServiceError("no audit checkpoint written: event %(head)s, the head of checkpoint "
                           "%(seq)s, is gone (the log was truncated)",
                           head=previous.head_id, seq=previous.seq)
    if held != previous.head_hash:
        raise ServiceError("no audit checkpoint written: event %(head)s differs from checkpoint "
                           "%(seq)s (the log was rewritten)",
                           head=previous.head_id, seq=previous.seq)
    if audit.count_upto(previous.head_id) != previous.events:
        raise ServiceError("no audit checkpoint written: events up to %(head)s were deleted or "
                           "inserted since checkpoint %(seq)s",
                           head=previous.head_id, seq=previous.seq)


# --- exports -------------------------------------------------------------------------------


def _line(event: Any) -> dict[str, Any]:
    return audit_chain.event_fields(event) | {"prev_hash": event.prev_hash, "hash": event.hash}


def export_audit(issuer: Issuer, out: TextIO, fmt: str = "jsonl") -> int:
    """Write every event, in order, to `out` as JSON lines or CSV (``detail`` as canonical
    JSON); returns the number of events written."""
    if fmt not in FORMATS:
        raise ServiceError("unknown export format %(fmt)r (use %(formats)s)", fmt=fmt,
                           formats=" or ".join(FORMATS))
    with issuer.uow() as uow:
        if fmt == "csv":
            return csvfile.write(out, COLUMNS, (_csv_row(_line(e)) for e in uow.audit.chain()),
                                 lineterminator="\n")
        count = 0
        for event in uow.audit.chain():
            out.write(json.dumps(_line(event), ensure_ascii=False, separators=(",", ":"))
                      + "\n")
            count += 1
    return count


def _csv_row(line: dict[str, Any]) -> list[object]:
    line = line | {"detail": canonical_json(line["detail"]).decode()}
    return ["" if line[c] is None else line[c] for c in COLUMNS]


def export_key(settings: Settings) -> bytes | None:
    """The audit-chain key where this host has it (never created here), else None."""
    try:
        master = integrity.load_key(settings.integrity_key, settings.keys_dir)
    except integrity.IntegrityKeyError:
        return None
    return integrity.derive(master, audit_chain.PURPOSE)


def check_export(lines: Iterable[str], fmt: str = "jsonl", *, key: bytes | None = None,
                 checkpoint: Checkpoint | None = None,
                 checkpoint_problem: str | None = None) -> ChainCheck:
    """Check an export like the database: links, ids, MACs if `key` is given, and the
    trusted `checkpoint` if any (`load_checkpoint`)."""
    report = audit_chain.check(
        _rows(lines, fmt), key,
        legacy_head_id=checkpoint.legacy_head_id if checkpoint else None,
        watch=checkpoint.head_id if checkpoint else None)
    return _checked(report, checkpoint, checkpoint_problem)


def verify_export(lines: Iterable[str], fmt: str = "jsonl", key: bytes | None = None
                  ) -> int | None:
    """The id of the first broken (else missing) event of an export, or None."""
    check = check_export(lines, fmt, key=key)
    return check.first_broken_id if check.first_broken_id is not None \
        else check.first_missing_id


def _rows(lines: Iterable[str], fmt: str) -> Iterator[dict[str, Any]]:
    """Export lines as dicts; CSV values are text: ``id`` and ``institution_id`` are read
    back as integers, an empty ``subject``/``institution_id`` as null, ``detail`` as JSON."""
    if fmt == "csv":
        rows: Iterable[Any] = (_from_csv(r) for r in csv.DictReader(lines))
    elif fmt == "jsonl":
        rows = (json.loads(line) for line in lines if line.strip())
    else:
        raise ServiceError("unknown export format %(fmt)r (use %(formats)s)", fmt=fmt,
                           formats=" or ".join(FORMATS))
    try:
        for number, row in enumerate(rows, 1):
            if not isinstance(row, dict) or type(row.get("id")) is not int:
                raise ServiceError("export line %(number)s is not an audit event", number=number)
            yield row
    except (ValueError, KeyError) as e:
        raise ServiceError("not an audit export (%(fmt)s): %(problem)s", fmt=fmt,
                           problem=str(e)) from None


def _from_csv(guarded: dict[str, str]) -> dict[str, Any]:
    row = {k: csvfile.unguard(v) if isinstance(v, str) else v for k, v in guarded.items()}
    return row | {
        "id": int(row["id"]),
        "institution_id": int(row["institution_id"]) if row["institution_id"] else None,
        "subject": row["subject"] or None,
        "detail": json.loads(row["detail"]),
    }
