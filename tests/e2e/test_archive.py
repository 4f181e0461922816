"""`transcripts archive refresh`: stored B-LTA transcripts whose TSA's certificate ends
soon get a fresh document timestamp from a renewed TSA; resumable, idempotent, audited.

The TSA of the issuance lives ten minutes (`tests.livepki`); the verdict a day later is
reached by judging at that moment, never by sleeping.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import select

from issuer.adapters.orm import AuditEventRow, TranscriptRow
from issuer.adapters.pki import load_authority
from issuer.adapters.responders import write_service_keys
from issuer.config import Settings
from issuer.pki_services import create_app, running
from issuer.services.admin import load_institutions
from issuer.services.archive import refresh_archive
from issuer.services.checking import verify_pdf
from issuer.services.context import Issuer, ServiceError
from tests.e2e.conftest import EXAMPLES, SYSTEM, VERIFIER_URL, issue_file, only_students
from tests.livepki import PASSPHRASE, live_pki
from verifier.core.verdict import Result


def _issuer(folder: Path, keys_dir: Path, tsa_url: str) -> Issuer:
    issuer = Issuer.open(Settings(
        database_url=f"sqlite:///{folder / 'transcripts.db'}", keys_dir=keys_dir,
        key_passphrase=PASSPHRASE, output_dir=folder / "out",
        published_dir=folder / "published", verifier_url=VERIFIER_URL,
        second_factor_roles=(), tsa_url=tsa_url))
    load_institutions(issuer, EXAMPLES / "institutions.json", actor=SYSTEM)
    return issuer


def test_refresh_extends_b_lta_transcripts_before_their_tsa_ends(tmp_path: Path) -> None:
    with live_pki(tmp_path / "keys", tsa_lifetime=timedelta(minutes=10)) as pki:
        issuer = _issuer(tmp_path, pki.keys_dir, pki.tsa_url)
        _, report = issue_file(issuer, "1001", "school-batch.csv",
                               only_students("school-batch.csv", "66001", "66002"))
        assert len(report.issued) == 2
        with issuer.uow() as uow:
            rows = [(r.id, r.transcript_id, r.pdf_path) for r in uow.session.scalars(
                select(TranscriptRow).order_by(TranscriptRow.id))]
        paths = [issuer.settings.output_dir / path for _, _, path in rows]
        first = [p.read_bytes() for p in paths]
        later = datetime.now(UTC) + timedelta(days=1)  # the issuance's TSA has ended
        assert verify_pdf(issuer, first[0], moment=later).result is Result.INDETERMINATE

        # its own TSA is due itself: nothing can be extended with it
        with pytest.raises(ServiceError, match="renew its key first"):
            refresh_archive(issuer, actor=SYSTEM)

        # `transcripts keys create` renews the TSA near its end; the services restart
        write_service_keys(pki.keys_dir, load_authority(pki.keys_dir, PASSPHRASE), PASSPHRASE,
                           datetime.now(UTC))
        with running(create_app(pki.keys_dir, PASSPHRASE)) as url:
            issuer = _renewed(issuer, f"{url}/tsa")
            seen: list[tuple[int, int]] = []
            done = refresh_archive(issuer, actor=SYSTEM,
                                   progress=lambda more, total: seen.append((more, total)))
            assert seen == [(1, 2), (1, 2)]  # the CLI's progress bar: one step a version
            assert sorted(done.refreshed) == sorted(f"{tid} v1" for _, tid, _ in rows)
            assert not done.failed
            again = refresh_archive(issuer, actor=SYSTEM)  # idempotent
            assert again.refreshed == [] and again.current == 2

        for path, before, (row_id, _, _) in zip(paths, first, rows, strict=True):
            after = path.read_bytes()  # in place: graduates' downloads serve this file
            assert after.startswith(before)  # an incremental update
            assert len(PdfFileReader(BytesIO(after)).embedded_timestamp_signatures) == 2
            verdict = verify_pdf(issuer, after, moment=later)
            assert verdict.result is Result.VALID, [c for c in verdict.checks
                                                    if c.status.value != "pass"]
            with issuer.uow() as uow:
                stored = uow.session.get(TranscriptRow, row_id)
                assert stored is not None
                assert stored.pdf_sha256 == hashlib.sha256(after).hexdigest()
        with issuer.uow() as uow:
            events = list(uow.session.scalars(select(AuditEventRow).where(
                AuditEventRow.action == "transcript.archive_refresh")))
            subjects = sorted(e.subject for e in events)
        assert subjects == sorted(tid for _, tid, _ in rows)


def _renewed(issuer: Issuer, tsa_url: str) -> Issuer:
    """The same issuer, timestamping with the restarted services' TSA."""
    return Issuer.open(dataclasses.replace(issuer.settings, tsa_url=tsa_url))
