"""Writing what verifiers read: the JWKS of credential keys and the signed status lists.

Layout under `Settings.published_dir` (see `issuer.adapters.publish`)::

    .well-known/jwks.json           every institution's credential key (retired ones too)
    status/<code>/revocation.jws    bit set = that status index is revoked
    status/<code>/refresh.jws       bit set = superseded by a newer version
    status/<code>/directory.jws     the institution's and its programmes' names, signed
    trust.json                      the offline bundle of all of the above
    audit/checkpoint.jws            the audit log's signed head (`issuer.services.audit`)

`publish` runs after every issuance, revocation and reissue (for the institution
concerned) and from `transcripts publish` (for all): lists are valid for 30 days, so
re-sign them at least daily (`transcripts publish` from cron, or the worker).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from pathlib import Path

from issuer.adapters.directory import write_directory
from issuer.adapters.pki import PkiError, load_credential_certificate
from issuer.adapters.publish import (
    file_lock,
    jwks_document,
    write_json,
    write_status_lists,
    write_trust_bundle,
)
from issuer.core.lifecycle import TranscriptStatus
from issuer.services.audit import checkpoint_quietly
from issuer.services.context import Issuer, ServiceError

JWKS_PATH = ".well-known/jwks.json"


def publishing_lock(published_dir: Path) -> AbstractContextManager[None]:
    """One publisher at a time on this machine (web threads, worker processes): each reads
    the database only once it holds the lock, so a publisher that read the statuses
    before a revocation cannot overwrite the lists of one that read after it."""
    return file_lock(published_dir / ".publish.lock")


def publish(issuer: Issuer, institutions: Iterable[str] | None = None) -> Path:
    """Rewrite the JWKS, the status lists of `institutions` (codes; default every one)
    and the trust bundle from the key store and the database; the JWKS path."""
    with publishing_lock(issuer.settings.published_dir):
        return _publish(issuer, institutions)


def _publish(issuer: Issuer, institutions: Iterable[str] | None) -> Path:
    only = set(institutions) if institutions is not None else None
    with issuer.uow() as uow:
        rows = uow.institutions.every()
        codes = [r.code for r in rows]
        statuses = {
            r.code: (uow.transcripts.status_entries(r, [TranscriptStatus.REVOKED]),
                     uow.transcripts.status_entries(r, [TranscriptStatus.SUPERSEDED]))
            for r in rows if only is None or r.code in only
        }
        names = {r.code: (r.name_th, r.name_en, uow.institutions.programmes(r))
                 for r in rows if r.code in statuses}
    entries, signers = [], []
    for code in codes:
        try:
            entries.append(load_credential_certificate(issuer.settings.keys_dir, code))
        except PkiError:
            continue  # no keys yet: nothing of it can have been issued
        signers.append(code)
    published = issuer.settings.published_dir
    jwks = write_json(published / JWKS_PATH, jwks_document(entries))
    now = issuer.clock()
    for code in signers:
        if code not in statuses:
            continue
        try:
            keys = issuer.keys(code)
        except PkiError as e:  # a revocation must not go unpublished silently
            raise ServiceError(f"status lists of {code} not published: {e}") from None
        revoked, superseded = statuses[code]
        write_status_lists(published, keys, revoked, superseded, now)
        write_directory(published, keys, *names[code], now)
    write_trust_bundle(published, now)
    checkpoint_quietly(issuer)
    return jwks
