"""The status verdicts on the page, phone-sized, against the real service (gunicorn):
REVOKED with its date and reason, SUPERSEDED naming the version that replaces it, and
status that cannot be shown current as "cannot be confirmed", its reason unfolded --
never the green VALID. Skipped without Chromium unless ``BKT_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from issuer.adapters.pki import Authority, InstitutionKeys
from issuer.config import ROOT
from tests.browser import expect, launch, new_page, shot
from tests.e2e.test_serve import free_port, wait_for
from tests.verifier.conftest import Documents, publish


@contextmanager
def serving(published: Path, folder: Path) -> Iterator[str]:
    """``gunicorn wsgi:verifier`` on the issuer's files in `published`, configured only
    through the environment; its URL."""
    port = free_port()
    env = os.environ | {
        "BKT_VERIFIER_ROOTS": str(published / "root.crt"),
        "BKT_VERIFIER_JWKS": str(published / ".well-known" / "jwks.json"),
        "BKT_VERIFIER_STATUS": str(published / "status"),
        "BKT_VERIFIER_SHARED": str(folder / "shared"),
        "BKT_VERIFIER_RATELIMIT": "600 per minute",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "--threads", "4",
         "-b", f"127.0.0.1:{port}", "--no-control-socket",
         "--error-logfile", str(folder / "error.log"), "wsgi:verifier"],
        cwd=ROOT, env=env, start_new_session=True)
    try:
        assert wait_for(f"http://127.0.0.1:{port}/healthz") == 200
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.fixture(scope="module")
def live(published: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(published, tmp_path_factory.mktemp("verifier")) as url:
        yield url


@pytest.fixture(scope="module")
def stale(tmp_path_factory: pytest.TempPathFactory, authority: Authority,
          school_keys: InstitutionKeys, training_keys: InstitutionKeys) -> Iterator[str]:
    """A verifier whose issuer stopped re-signing its lists 13 hours ago."""
    folder = tmp_path_factory.mktemp("stale")
    directory = publish(folder / "published", authority, [school_keys, training_keys],
                        datetime.now(UTC) - timedelta(hours=13))
    with serving(directory, folder) as url:
        yield url


@pytest.fixture(scope="module")
def chromium(documents: Documents, live: str, stale: str) -> Iterator[object]:
    """One headless Chromium for this module (tests/conftest.py's is per test): each test
    opens its page in a context of its own, and nothing here signs once it runs (the
    documents and both servers come first)."""
    with launch() as browser:
        yield browser


def scan(chromium, url: str, credential: str):  # type: ignore[no-untyped-def]
    page = new_page(chromium, url)
    page.goto(f"/v#{credential}")
    expect(page.locator("#verdict")).to_be_visible()
    return page


def test_revoked_shows_when_and_why(chromium, live: str,  # type: ignore[no-untyped-def]
                                    documents: Documents) -> None:
    page = scan(chromium, live, documents.revoked.credential)
    expect(page.locator("#result")).to_have_class("result revoked")
    expect(page.locator("#details")).to_have_attribute("open", "")
    revoked = page.locator("#checks li[data-check=not_revoked]")
    expect(revoked).to_be_visible()
    expect(revoked).to_contain_text("revoked on 3 July 2026: issued in error")
    expect(revoked).to_contain_text("3 กรกฎาคม พ.ศ. 2569")
    assert "This is the latest version" not in page.locator("#checks").inner_text()
    # and in the headline itself, never only in the list of checks
    expect(page.locator("#result #why")).to_contain_text("revoked on 3 July 2026: issued in error")
    shot(page, "verifier-revoked-reason-phone")


def test_superseded_names_the_newer_version(chromium, live: str,  # type: ignore[no-untyped-def]
                                            documents: Documents) -> None:
    page = scan(chromium, live, documents.superseded.credential)
    expect(page.locator("#result")).to_have_class("result superseded")
    expect(page.locator("#result-en")).to_contain_text("Superseded")
    latest = page.locator("#checks li[data-check=latest_version]")
    expect(latest).to_be_visible()
    expect(latest).to_contain_text(
        "Version 2, issued on 4 July 2026, replaces this one: ask the school or the "
        "graduate for version 2")
    expect(page.locator("#result #why")).to_contain_text("Version 2, issued on 4 July 2026")
    shot(page, "verifier-superseded-phone")


def test_stale_status_is_never_the_green_valid(chromium, stale: str,  # type: ignore[no-untyped-def]
                                               documents: Documents) -> None:
    page = scan(chromium, stale, documents.school.credential)
    expect(page.locator("#result")).to_have_class("result indeterminate")
    expect(page.locator("#result-en")).to_contain_text("Cannot be confirmed")
    expect(page.locator("#details")).to_have_attribute("open", "")
    reason = page.locator("#checks li[data-check=not_revoked]")
    expect(reason).to_be_visible()
    expect(reason).to_contain_text("older than the 12 h allowed")
    shot(page, "verifier-stale-phone")
