"""Shared fixtures: an in-memory development PKI (no network, no files); headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import settings

from issuer.adapters.hsm import TokenConfig
from issuer.adapters.pki import (
    Authority,
    InstitutionKeys,
    generate_authority,
    issue_institution_keys,
)
from tests.record_schema import checking_every_record
from tests.softhsm import forget_tokens, init_token, point_at_private_tokens

# No timing in pass/fail tests: these 2-core machines are shared and noisy.
settings.register_profile("bkt", deadline=None)
settings.load_profile("bkt")

# Fixed, so certificates are reproducible in shape; end-entity certificates last 3 years,
# so this moves forward when the signing tests (validated at the real clock) near 2029.
PKI_NOW = datetime(2026, 6, 1, tzinfo=UTC)


def pytest_configure(config: pytest.Config) -> None:
    point_at_private_tokens()  # before any process of the run loads SoftHSM2


def pytest_unconfigure(config: pytest.Config) -> None:
    forget_tokens()


@pytest.fixture(scope="session", autouse=True)
def _records_follow_their_schema() -> Iterator[None]:
    """Every transcript.json the suite makes is validated against its published schema."""
    with checking_every_record():
        yield


@pytest.fixture(scope="session")
def authority() -> Authority:
    return generate_authority(PKI_NOW)


@pytest.fixture(scope="session")
def school_keys(authority: Authority) -> InstitutionKeys:
    return issue_institution_keys(authority, "1001", "Wat Sutthiwararam School", PKI_NOW)


@pytest.fixture(scope="session")
def vocational_keys(authority: Authority) -> InstitutionKeys:
    return issue_institution_keys(authority, "2001", "BMA Vocational Training Centre", PKI_NOW)


@pytest.fixture(scope="session")
def hsm_token() -> TokenConfig:
    """A fresh SoftHSM2 token of this test process (tests/softhsm.py); skipped without
    SoftHSM2 unless BKT_REQUIRE_HSM=1."""
    return init_token()


@pytest.fixture
def chromium() -> Iterator[Any]:
    """Headless Chromium, a Playwright ``Browser`` (see tests/browser.py); per test."""
    from tests.browser import launch

    with launch() as browser:
        yield browser
