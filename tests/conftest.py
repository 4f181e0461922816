"""Shared fixtures: an in-memory development PKI (no network, no files); headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from hypothesis import settings

from issuer.adapters import accounts as accounts_adapter
from issuer.adapters.hsm import TokenConfig
from issuer.adapters.pki import (
    Authority,
    InstitutionKeys,
    generate_authority,
    issue_institution_keys,
)
from tests.record_schema import checking_every_record
from tests.softhsm import forget_tokens, init_token, point_at_private_tokens

if TYPE_CHECKING:
    from tests.livepki import LivePki

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


class RememberingHasher(PasswordHasher):
    """The accounts' argon2id hasher, with the same parameters, remembering its answers
    for one test process: a password is hashed once (a salt of its own per password, not
    per account) and each (hash, password) pair is verified once, for real, then answered
    the same way. Sign-ins still go through argon2id and still fail on a wrong password;
    what is saved is the repeated 0.2 s of CPU (64 MiB, 3 passes) per account made and per
    sign-in, which the command-line and web tests do hundreds of times. PINs of graduate
    links keep the real hasher (their lockout test races parallel guesses)."""

    def __init__(self, real: PasswordHasher) -> None:
        params = real._parameters
        super().__init__(time_cost=params.time_cost, memory_cost=params.memory_cost,
                         parallelism=params.parallelism, hash_len=params.hash_len,
                         salt_len=params.salt_len, encoding=real.encoding, type=params.type)
        self._hashes: dict[str | bytes, str] = {}
        self._verdicts: dict[tuple[str | bytes, str | bytes],
                             tuple[type[Exception], tuple[Any, ...]] | None] = {}

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        if salt is not None:
            return super().hash(password, salt=salt)
        if password not in self._hashes:
            self._hashes[password] = super().hash(password)
        return self._hashes[password]

    def verify(self, hash: str | bytes, password: str | bytes) -> Any:
        key = (hash, password)
        if key not in self._verdicts:
            try:
                super().verify(hash, password)
                self._verdicts[key] = None
            except (VerificationError, InvalidHashError) as e:
                self._verdicts[key] = (type(e), e.args)
        failure = self._verdicts[key]
        if failure is not None:
            raise failure[0](*failure[1])
        return True


@pytest.fixture(scope="session", autouse=True)
def _passwords_hashed_once() -> Iterator[None]:
    """`RememberingHasher` in place of the accounts' hasher for the whole session."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts_adapter, "_HASHER", RememberingHasher(accounts_adapter._HASHER))
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
def pki_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePki]:
    """The BMA PKI's online services (CRL, OCSP, TSA) live on 127.0.0.1 with a key store
    naming them (`tests.livepki`): for B-T/B-LT/B-LTA signing at the real clock."""
    from tests.livepki import live_pki

    with live_pki(tmp_path_factory.mktemp("live-pki")) as pki:
        yield pki


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
