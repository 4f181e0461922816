"""Writing what verifiers read: the JWKS of credential keys and the signed status lists.

Layout under `Settings.published_dir` (see `issuer.adapters.publish`)::

    .well-known/jwks.json           every institution's credential keys, every generation
                                    (retired and compromised ones too), forever
    .well-known/did.json            the same keys as the did:web issuer of the VC 2.0
                                    export (`issuer.adapters.vc_export`, docs/interop.md)
    status/<code>/<purpose>.vc.json the revocation and refresh lists again, as
                                    BitstringStatusListCredentials (ecdsa-rdfc-2019)
    status/<code>/revocation.jws    bit set = that status index is revoked
    status/<code>/refresh.jws       bit set = superseded by a newer version
    status/<code>/details.jws       date, reason code and newer version of each set bit
    status/<code>/directory.jws     the institution's and its programmes' names, signed
    trust.json                      the offline bundle of all of the above
    schema/transcript/<kind>/v<n>.json  the JSON Schemas of transcript.json
    audit/checkpoint.jws            the audit log's signed head (`issuer.services.audit`)

`publish` runs after every issuance, revocation and reissue (for the institution
concerned) and from `transcripts publish` (for all). Verifiers take a list older than
12 hours as stale, so re-sign them every 6 hours (the embedded worker and Celery beat
do; without them, `transcripts publish` from cron).

Each publication of an institution's status takes the next number from the database
(`status_sequences`), above whatever is already published too, in the transaction that
then reads the statuses: a publisher with a higher number has seen every change one
with a lower number saw, and verifiers refuse any list numbered below one they have
seen (a replayed copy cannot un-revoke a transcript).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from pathlib import Path

from issuer.adapters.directory import write_directory
from issuer.adapters.keystore import public_generations
from issuer.adapters.pki import PkiError
from issuer.adapters.publish import (
    file_lock,
    jwks_document,
    published_sequence,
    write_json,
    write_schemas,
    write_status_lists,
    write_token_status_list,
    write_trust_bundle,
)
from issuer.adapters.vc_export import write_did_document, write_status_list_credentials
from issuer.config import BANGKOK
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
    published = issuer.settings.published_dir
    with issuer.uow() as uow:
        rows = uow.institutions.every()
        codes = [r.code for r in rows]
        statuses = {}
        for r in rows:
            if only is not None and r.code not in only:
                continue
            # the number first: it locks the row, so the statuses read next are current
            sequence = uow.transcripts.next_status_sequence(
                r, published_sequence(published, r.code))
            statuses[r.code] = (
                uow.transcripts.status_entries(r, [TranscriptStatus.REVOKED]),
                uow.transcripts.status_entries(r, [TranscriptStatus.SUPERSEDED]),
                uow.transcripts.status_details(r, BANGKOK),
                sequence,
            )
        names = {r.code: (r.name_th, r.name_en, uow.institutions.programmes(r))
                 for r in rows if r.code in statuses}
        uow.commit()  # a number taken is never given again, even if writing fails
    entries, signers, did_keys = [], [], []
    for code in codes:
        try:
            generations = public_generations(issuer.settings.keys_dir, code)
        except PkiError as e:  # a key dropped from the JWKS would void what it signed
            raise ServiceError("keys of %(code)s not published: %(problem)s", code=code,
                               problem=str(e)) from None
        entries += [(g.credential_cert, g.chain, g.generation) for g in generations]
        did_keys += [(code, g.credential_cert, g.generation.compromised is not None)
                     for g in generations]
        # Lists are signed with the active key; one retired without a successor
        # (`keys retire --final`) leaves none, an error only when its lists are asked for.
        if any(g.generation.retired is None for g in generations) or (
                generations and only is not None and code in only):
            signers.append(code)
    jwks = write_json(published / JWKS_PATH, jwks_document(entries))
    base_url = issuer.settings.public_base_url
    write_did_document(published, base_url, did_keys)
    now = issuer.clock()
    for code in signers:
        if code not in statuses:
            continue
        try:
            keys = issuer.keys(code)
        except PkiError as e:  # a revocation must not go unpublished silently
            raise ServiceError("status lists of %(code)s not published: %(problem)s",
                               code=code, problem=str(e)) from None
        revoked, superseded, details, sequence = statuses[code]
        write_status_lists(published, keys, revoked, superseded, now, sequence=sequence,
                           details=details)
        write_status_list_credentials(published, keys, revoked, superseded, now,
                                      sequence=sequence, base_url=base_url)
        write_token_status_list(published, keys, revoked, superseded, now, base_url)
        write_directory(published, keys, *names[code], now)
    write_trust_bundle(published, now)
    write_schemas(published)
    checkpoint_quietly(issuer)
    return jwks
