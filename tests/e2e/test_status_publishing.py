"""Issuing, revoking and reissuing republish the institution's signed status lists; the
verifier, reading only the published files and the pinned root, sees each change."""

from __future__ import annotations

from pathlib import Path

from issuer.adapters.pki import load_root
from issuer.adapters.publish import status_list_path
from issuer.services.context import Issuer
from issuer.services.lifecycle import revoke
from issuer.services.publishing import publish
from tests.e2e.conftest import REGISTRAR, issue_file, reissue
from verifier.core.verdict import Result
from verifier.sources import SourceSettings, TrustSource
from verifier.verification import Verifier


def verifier_of(issuer: Issuer, *, bundle: bool = False) -> Verifier:
    published = issuer.settings.published_dir
    settings = SourceSettings(roots=(load_root(issuer.settings.keys_dir),),
                              jwks=str(published / ".well-known" / "jwks.json"),
                              status=str(published / "status"))
    if bundle:
        settings = SourceSettings(roots=settings.roots, jwks="none", status="none",
                                  trust_file=published / "trust.json")
    return Verifier(TrustSource(settings))


def pdf(issuer: Issuer, relative: str) -> bytes:
    return (issuer.settings.output_dir / relative).read_bytes()


def test_revoke_and_reissue_reach_the_verifier(issuer: Issuer) -> None:
    _, report = issue_file(issuer, "1001", "school-batch.csv")
    first, second, third = report.issued[:3]
    for name in ("revocation", "refresh"):
        assert status_list_path(issuer.settings.published_dir, "1001", name).exists()
    assert verifier_of(issuer).pdf(pdf(issuer, first)).result is Result.VALID

    tid_first = Path(first).name.split("-v")[0]
    tid_second = Path(second).name.split("-v")[0]
    revoke(issuer, tid_first, reason="issued in error", actor=REGISTRAR)
    (corrected,) = reissue(issuer, tid_second, reason="grade corrected").issued

    for verifier in (verifier_of(issuer), verifier_of(issuer, bundle=True)):
        assert verifier.pdf(pdf(issuer, first)).result is Result.REVOKED
        assert verifier.pdf(pdf(issuer, second)).result is Result.SUPERSEDED
        assert verifier.pdf(pdf(issuer, corrected)).result is Result.VALID
        assert verifier.pdf(pdf(issuer, third)).result is Result.VALID


def test_publish_signs_lists_of_every_institution_with_keys(issuer: Issuer) -> None:
    publish(issuer)
    published = issuer.settings.published_dir
    for code in ("1001", "2001"):
        for name in ("revocation", "refresh"):
            assert status_list_path(published, code, name).read_text().count(".") == 2
    assert (published / "trust.json").exists()


def test_the_worker_re_signs_lists_before_they_get_old(issuer: Issuer) -> None:
    import os
    import time

    from issuer.jobs.tasks import republish_if_stale

    assert republish_if_stale(issuer, 3600)  # nothing published yet
    lists = status_list_path(issuer.settings.published_dir, "1001", "revocation")
    first = lists.read_text()
    assert not republish_if_stale(issuer, 3600)  # fresh: left alone
    old = time.time() - 7200
    os.utime(issuer.settings.published_dir / "trust.json", (old, old))
    time.sleep(1.1)  # the list's signing time has a resolution of one second
    assert republish_if_stale(issuer, 3600)
    assert lists.read_text() != first


def test_publishers_take_turns(issuer: Issuer) -> None:
    """A publisher waits for the one before it, and reads the database only then."""
    import threading

    from issuer.services.publishing import publishing_lock

    published = issuer.settings.published_dir
    finished = threading.Event()
    with publishing_lock(published):
        thread = threading.Thread(target=lambda: (publish(issuer), finished.set()))
        thread.start()
        assert not finished.wait(1.0)  # blocked while another publisher holds the lock
    thread.join(60)
    assert finished.is_set()
