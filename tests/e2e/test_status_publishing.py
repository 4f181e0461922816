"""Issuing, revoking and reissuing republish the institution's signed status lists; the
verifier, reading only the published files and the pinned root, sees each change."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sqlalchemy import text

from issuer.adapters.pki import load_root
from issuer.adapters.publish import status_list_path
from issuer.services.context import Issuer
from issuer.services.lifecycle import revoke
from issuer.services.publishing import publish
from tests.e2e.conftest import REGISTRAR, issue_file, reissue
from verifier.core.canonical import b64url_decode
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
    # one school's lists left old while another's publications kept the bundle new
    publish(issuer, ["2001"])
    os.utime(lists, (old, old))
    assert republish_if_stale(issuer, 3600)
    assert lists.stat().st_mtime > old + 3600


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


def message(verdict, cid: str) -> str:  # type: ignore[no-untyped-def]
    return next(c.message_en for c in verdict.checks if c.id == cid)


def test_verdicts_say_when_why_and_what_replaces_it(issuer: Issuer) -> None:
    """REVOKED shows the date and the published reason; SUPERSEDED names the newer
    version, its date and how to get it; a revoked version is not called the latest."""
    from tests.e2e.conftest import edit_csv
    from verifier.display import date_en

    _, report = issue_file(issuer, "1001", "school-batch.csv")
    first, second, third = report.issued[:3]
    tid = [Path(p).name.split("-v")[0] for p in (first, second, third)]
    revoke(issuer, tid[0], reason="the registrar's private note about a student",
           reason_code="incorrect_data", actor=REGISTRAR)
    (corrected,) = reissue(issuer, tid[1], reason="grade corrected").issued
    today = date_en(issuer.today())

    verifier = verifier_of(issuer)
    revoked = verifier.pdf(pdf(issuer, first))
    assert revoked.result is Result.REVOKED
    assert message(revoked, "not_revoked") == (
        f"This transcript has been revoked on {today}: the data on it is incorrect")
    assert message(revoked, "latest_version") == (
        "No newer version has been issued since this one was revoked")
    assert revoked.data["status"]["reason"] == "incorrect_data"
    assert revoked.data["status"]["date"] == issuer.today().isoformat()
    assert "private" not in json.dumps(revoked.data, ensure_ascii=False)

    old = verifier.pdf(pdf(issuer, second))
    assert old.result is Result.SUPERSEDED
    assert message(old, "latest_version") == (
        f"Version 2, issued on {today}, replaces this one: ask the school or the graduate "
        "for version 2")
    assert old.data["status"]["newer_version"] == 2
    assert "ฉบับที่ 2" in next(c.message_th for c in old.checks if c.id == "latest_version")
    assert verifier.pdf(pdf(issuer, corrected)).result is Result.VALID

    # a revoked transcript corrected later: still REVOKED, and names the new version
    with issuer.uow() as uow:
        row = uow.transcripts.get(tid[0], 1)
        assert row is not None
        student = json.loads(row.record_json)["student"]["student_id"]

    def lower_grades(r: dict[str, str]) -> None:
        if r["record_type"] == "course" and r["student_id"] == student:
            r["grade"] = "1"

    changed = edit_csv("school-batch.csv", lower_grades)
    (fixed,) = reissue(issuer, tid[0], reason="results corrected",
                       corrected=("fix.csv", changed)).issued
    verdict = verifier_of(issuer).pdf(pdf(issuer, first))
    assert verdict.result is Result.REVOKED
    assert "ask the school or the graduate for version 2" in message(verdict, "latest_version")
    assert verifier_of(issuer).pdf(pdf(issuer, fixed)).result is Result.VALID

    # nothing personal is published: the details name indexes, states, dates, codes
    details = status_list_path(issuer.settings.published_dir, "1001", "details").read_text()
    payload = b64url_decode(details.split(".")[1]).decode()
    assert "private" not in payload and tid[0] not in payload and "corrected" not in payload


def test_publications_are_numbered_and_never_reuse_a_number(issuer: Issuer) -> None:
    from issuer.adapters.publish import published_sequence

    published = issuer.settings.published_dir
    publish(issuer)
    publish(issuer)
    assert published_sequence(published, "1001") == 2
    shutil.rmtree(published / "status")  # the published folder lost: the database goes on
    publish(issuer)
    assert published_sequence(published, "1001") == 3
    with issuer.uow() as uow:  # the database restored from an older backup
        uow.session.execute(text("UPDATE status_sequences SET sequence = 1"))
        uow.commit()
    publish(issuer)
    assert published_sequence(published, "1001") == 4
