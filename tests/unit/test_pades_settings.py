"""Which PAdES level transcripts are signed at, from the environment."""

from __future__ import annotations

import pytest

from issuer.adapters.pdf_signing import PadesLevel
from issuer.config import DEFAULT_PKI_URL, PADES_LEVELS, Settings

TSA = "http://127.0.0.1:8002/tsa"


def test_without_a_tsa_transcripts_are_b_b_and_the_services_are_local() -> None:
    settings = Settings.from_env({})
    assert settings.tsa_url is None and settings.signing_level == "B-B"
    assert settings.pki_url == DEFAULT_PKI_URL
    assert Settings.from_env({"BKT_PKI_URL": ""}).pki_url is None


def test_b_lta_is_the_default_once_a_tsa_is_configured() -> None:
    assert Settings.from_env({"BKT_TSA_URL": TSA}).signing_level == "B-LTA"
    chosen = Settings.from_env({"BKT_TSA_URL": TSA, "BKT_PADES_LEVEL": "b-t"})
    assert chosen.signing_level == "B-T"


@pytest.mark.parametrize("env", [{"BKT_PADES_LEVEL": "B-LT"},
                                 {"BKT_PADES_LEVEL": "B-X", "BKT_TSA_URL": TSA}])
def test_a_level_that_cannot_be_honoured_is_refused(env: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="BKT_"):
        Settings.from_env(env)


def test_the_settings_and_the_signer_know_the_same_levels() -> None:
    assert tuple(level.value for level in PadesLevel) == PADES_LEVELS
    assert PadesLevel.parse(" b-lta ") is PadesLevel.B_LTA
    with pytest.raises(ValueError, match="unknown PAdES level"):
        PadesLevel.parse("LTV")


def test_serve_runs_the_pki_services_only_where_they_are_local() -> None:
    from issuer.serve import commands

    local = commands(Settings.from_env({}), 8000, 8001, {})
    assert [c[0][-1] for c in local] == ["wsgi:issuer", "wsgi:verifier", "wsgi:pki_services"]
    assert "127.0.0.1:8002" in local[2][0]
    for elsewhere in ("", "https://pki.bangkok.go.th"):
        found = commands(Settings.from_env({"BKT_PKI_URL": elsewhere}), 8000, 8001, {})
        assert [c[0][-1] for c in found] == ["wsgi:issuer", "wsgi:verifier"]
