"""`transcripts archive refresh`: keep stored B-LTA transcripts verifiable.

A B-LTA transcript holds while its last document timestamp's certificate is valid. Before
that ends (`REFRESH_WITHIN`), each stored file gets current validation data and a new
document timestamp (`issuer.adapters.pdf_archive.refresh`), replaced atomically in place,
so graduates' downloads serve the refreshed file; its row's SHA-256 follows. One
transcript per transaction with its audit event (``transcript.archive_refresh``):
an interrupted run resumes where it stopped, and a second run finds nothing due
(idempotent: the new timestamp's certificate, the TSA's, ends after the window, or the
run refuses to start). Files below B-LTA are left alone (no timestamp to extend).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography import x509
from pyhanko.sign.timestamps import TimeStamper

from issuer.adapters.pdf_archive import (
    ArchiveError,
    last_timestamp_expiry,
    refresh,
    tsa_certificate_expiry,
)
from issuer.adapters.pdf_signing import close_timestamper, http_timestamper
from issuer.adapters.pki import load_root
from issuer.services.context import Actor, Issuer, ServiceError
from issuer.services.workers import write_atomically

REFRESH_WITHIN = timedelta(days=365)
"""Refresh a transcript whose last timestamp's certificate ends within this."""
PAGE = 200


@dataclass
class RefreshReport:
    refreshed: list[str] = field(default_factory=list)  # "ID v<version>"
    current: int = 0  # B-LTA, not due
    not_lta: int = 0  # below B-LTA, or no file
    failed: list[tuple[str, str]] = field(default_factory=list)  # (transcript, why)


def refresh_archive(issuer: Issuer, *, actor: Actor, within: timedelta = REFRESH_WITHIN,
                    now: datetime | None = None,
                    progress: Callable[[int, int], None] | None = None) -> RefreshReport:
    """Refresh every stored B-LTA transcript due within `within` of `now` (see module).
    `progress` is called with the versions looked at since its last call and the number
    stored in all, after each one."""
    settings = issuer.settings
    if not settings.tsa_url:
        raise ServiceError("no time-stamping authority: set BKT_TSA_URL")
    now = now or issuer.clock()
    root = load_root(settings.keys_dir)
    timestamper = http_timestamper(settings.tsa_url)
    try:
        tsa_until = tsa_certificate_expiry(timestamper)
    except Exception as e:  # unreachable, or not a TSA
        close_timestamper(timestamper)
        raise ServiceError("the time-stamping authority %(url)s does not answer: %(problem)s",
                           url=settings.tsa_url,
                           problem=": ".join((type(e).__name__, str(e)))) from None
    if tsa_until <= now + within:  # its timestamps would be due at once: renew it first
        close_timestamper(timestamper)
        raise ServiceError(
            "the time-stamping authority's certificate ends on %(until)s, within %(days)s "
            "days: renew its key first (transcripts keys create renews the project's own)",
            until=tsa_until.date().isoformat(), days=within.days)
    report = RefreshReport()
    after = 0
    with issuer.uow() as uow:
        total = uow.transcripts.count_with_files()
    try:
        while True:
            with issuer.uow() as uow:
                page = uow.transcripts.with_files(after, PAGE)
            if not page:
                return report
            for row_id in page:
                _refresh_one(issuer, row_id, actor, root, timestamper, now + within, report)
                if progress is not None:
                    progress(1, total)
            after = page[-1]
    finally:
        close_timestamper(timestamper)


def _refresh_one(issuer: Issuer, row_id: int, actor: Actor, root: x509.Certificate,
                 timestamper: TimeStamper, due_by: datetime, report: RefreshReport) -> None:
    with issuer.uow() as uow:
        row = uow.transcripts.by_id(row_id)
        assert row is not None and row.pdf_path is not None
        name = f"{row.transcript_id} v{row.version}"
        path = issuer.settings.output_dir / row.pdf_path
        try:
            pdf = path.read_bytes()
            expiry = last_timestamp_expiry(pdf)
            if expiry is None:
                report.not_lta += 1
                return
            if expiry > due_by:
                report.current += 1
                return
            refreshed = refresh(pdf, root, timestamper)
            until = last_timestamp_expiry(refreshed)
        except (OSError, ArchiveError, ValueError) as e:
            report.failed.append((name, str(e) or type(e).__name__))
            return
        except Exception as e:  # a TSA or responder failure: this one waits for the next run
            report.failed.append((name, f"{type(e).__name__}: {e}"))
            return
        write_atomically(path, refreshed)
        before, row.pdf_sha256 = row.pdf_sha256, hashlib.sha256(refreshed).hexdigest()
        uow.audit.append(
            actor=actor.name, action="transcript.archive_refresh", source=actor.source,
            now=issuer.clock(), institution=row.institution, subject=row.transcript_id,
            detail={"version": row.version, "timestamp_until_before": expiry.isoformat(),
                    "timestamp_until": until.isoformat() if until else None,
                    "pdf_sha256_before": before, "pdf_sha256": row.pdf_sha256})
        uow.commit()
        report.refreshed.append(name)
