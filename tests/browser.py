"""Headless Chromium for the browser tests: Playwright's Python package driving Debian's
`chromium` (``BKT_CHROMIUM`` names another binary); Playwright downloads no browser.

A missing Playwright or Chromium skips the test, unless ``BKT_REQUIRE_BROWSER=1`` (CI),
which makes it a failure. ``BKT_SCREENSHOTS=dir`` saves a picture at every `shot`.

A running sync Playwright owns its thread's event loop, so ``asyncio.run()`` (which
pyHanko's signing calls) fails in that thread until it stops: the `chromium` fixture
(tests/conftest.py) is per test, and signed PDFs are made before it starts.
"""

from __future__ import annotations

import importlib
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

CHROMIUM = os.environ.get("BKT_CHROMIUM") or shutil.which("chromium") \
    or shutil.which("chromium-browser")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
TIMEOUT_MS = 60_000  # CI shares two cores with the rest of the suite


def skip_or_fail(message: str) -> None:
    if os.environ.get("BKT_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message, allow_module_level=True)


def sync_api() -> ModuleType:
    """``playwright.sync_api``, or skip (fail under BKT_REQUIRE_BROWSER=1)."""
    try:
        return importlib.import_module("playwright.sync_api")
    except ImportError:
        skip_or_fail("Playwright is not installed: pip install -e '.[test]'")
        raise


@contextmanager
def launch() -> Iterator[Any]:
    """A headless Chromium (a Playwright ``Browser``) for the length of the block."""
    api = sync_api()
    if not CHROMIUM:
        skip_or_fail("no chromium: apt-get install chromium")
    with api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser: Any, base_url: str, *, viewport: dict[str, int] | None = None,
             **options: Any) -> Any:
    """A page in a fresh context (its own cookies) on `base_url`, phone-sized by default."""
    context = browser.new_context(base_url=base_url, viewport=viewport or PHONE, **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


def expect(target: Any) -> Any:
    """Playwright's ``expect`` (waits for the condition, up to the context's timeout)."""
    return sync_api().expect(target)


def shot(page: Any, name: str, folder: str | Path | None = None) -> Path | None:
    """Save a full-page screenshot to `folder` (default ``BKT_SCREENSHOTS``), if any."""
    folder = folder or os.environ.get("BKT_SCREENSHOTS")
    if not folder:
        return None
    path = Path(folder) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path
