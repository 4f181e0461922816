"""The student's Thai and English names in the QR credential, in a bounded payload.

``m``: both names in TIS-620 (one byte per Thai character), base64url. The English
name comes at no cost in the QR against the Thai-only ``n`` of earlier credentials,
which still verify; each name is shortened past a bound, so the QR's version is bounded
whatever the name (DESIGN.md: "bound the payload whatever the name's length").
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import replace
from datetime import date

import pytest

from issuer.adapters.credential_signing import sign_credential
from issuer.adapters.pki import InstitutionKeys
from issuer.adapters.render.qr import version_for
from issuer.core.record_json import to_canonical
from issuer.pipeline import claims_for
from tests.factories import LONG, school_record, vocational_record
from verifier.core.canonical import b64url, digest
from verifier.core.credential import (
    MAX_NAME_EN,
    MAX_NAME_TH,
    Claims,
    CredentialError,
    qr_url,
    shorten,
    verify,
)

CLAIMS = Claims(
    transcript_id="1001-2569-000123", version=1, institution="1001",
    name="กัญญ์ณัฏฐ์ ศรีสุวรรณ์", name_en="Kanyanat Srisuwan", programme="LS-2551",
    gpa="3.20", graduation_date=date(2026, 3, 31), issued_at=1_775_098_800,
    status_index=4711, record_digest=b64url(bytes(32)),
)
PRODUCTION_URL = "https://verify.transcripts.bangkok.go.th"  # longer than the demo's


def payload_bytes(claims: Claims) -> int:
    return len(json.dumps(claims.to_payload(), ensure_ascii=False,
                          separators=(",", ":")).encode())


def url_of(claims: Claims, keys: InstitutionKeys) -> str:
    return qr_url(PRODUCTION_URL, sign_credential(claims, keys))


def test_both_names_round_trip() -> None:
    payload = CLAIMS.to_payload()
    assert set(payload) >= {"m"} and not {"n", "e"} & set(payload)
    assert Claims.from_payload(payload) == CLAIMS


def test_english_name_costs_nothing_in_the_qr() -> None:
    thai_only = replace(CLAIMS, name_en=None)
    assert "n" in thai_only.to_payload()
    assert payload_bytes(CLAIMS) < payload_bytes(thai_only)


def test_earlier_credentials_still_read(school_keys: InstitutionKeys) -> None:
    earlier = replace(CLAIMS, name_en=None)
    token = sign_credential(earlier, school_keys)
    key = school_keys.credential_cert.public_key()
    assert verify(token, lambda kid: key)[1] == earlier


def test_a_name_outside_tis620_falls_back_to_utf8() -> None:
    claims = replace(CLAIMS, name="Zoë ศรีสุวรรณ์", name_en="Zoë Srisuwan")
    payload = claims.to_payload()
    assert payload["n"] == "Zoë ศรีสุวรรณ์" and payload["e"] == "Zoë Srisuwan"
    assert Claims.from_payload(payload) == claims


@pytest.mark.parametrize("payload_change", [
    {"n": "อื่น"},  # names twice: ambiguous
    {"m": "!!"},  # not base64url
    {"m": b64url("ไม่มีชื่ออังกฤษ".encode("tis_620"))},  # no newline: not two names
    {"m": b64url(b"a\nb\nc")},
    {"m": 5},
])
def test_malformed_names_are_refused(payload_change: dict) -> None:
    with pytest.raises(CredentialError):
        Claims.from_payload(CLAIMS.to_payload() | payload_change)


def test_shorten_bounds_a_name_without_splitting_a_letter() -> None:
    thai = LONG.first_name_th * 3
    short = shorten(thai, MAX_NAME_TH)
    assert len(short) <= MAX_NAME_TH and short.endswith("...")
    kept = short.removesuffix("...")
    assert thai.startswith(kept)
    assert unicodedata.category(thai[len(kept)]) != "Mn"  # no letter left without its marks
    cut_at_a_mark = next(  # a mark where the cut falls: cut before its letter
        text for k in range(10) if unicodedata.category(
            (text := "ก" * k + "กัญญ์ณัฏฐ์" * 8)[MAX_NAME_TH - 3]) == "Mn")
    assert unicodedata.category(cut_at_a_mark[MAX_NAME_TH - 3]) == "Mn"
    kept = shorten(cut_at_a_mark, MAX_NAME_TH).removesuffix("...")
    assert unicodedata.category(cut_at_a_mark[len(kept)]) != "Mn"
    assert shorten("  สมศรี\n ใจดี ", 40) == "สมศรี ใจดี"
    assert shorten("Kanyanat Srisuwan", MAX_NAME_EN) == "Kanyanat Srisuwan"


def test_typical_names_keep_version_17_and_any_name_version_19(
    school_keys: InstitutionKeys
) -> None:
    for record in (school_record(), vocational_record()):
        claims = claims_for(record, digest(to_canonical(record)))
        assert claims.name_en  # the English name is in the QR
        assert version_for(url_of(replace(claims, institution="1001"), school_keys)) <= 17
    # the worst case: both names at their bound, in the costliest characters, every
    # other field at its longest
    worst = replace(CLAIMS, name="ฐ" * (MAX_NAME_TH * 2), name_en="W" * (MAX_NAME_EN * 2),
                    programme="X" * 12, gpa="3.45", status_index=9_999_999,
                    transcript_id="1001-2569-999999", version=99)
    worst = replace(worst, name=shorten(worst.name, MAX_NAME_TH),
                    name_en=shorten(worst.name_en or "", MAX_NAME_EN))
    assert version_for(url_of(worst, school_keys)) <= 19
