"""The compact QR credential (``BKT1:<digits>``, COSE_Sign1 ES256 over CBOR): round trip,
a size bounded whatever the names' length, and every forgery refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st
from qrcode import util

from issuer.adapters.credential_signing import sign_credential, sign_credential_jws
from issuer.adapters.pki import InstitutionKeys
from issuer.adapters.render import qr
from issuer.adapters.render.layout import QR_WIDTH
from tests import compact_forge as forge
from verifier.core import compact
from verifier.core.canonical import b64url
from verifier.core.credential import (
    MAX_NAME_EN,
    MAX_NAME_TH,
    Claims,
    CredentialError,
    extract_token,
    qr_url,
    shorten,
    unverified_header,
    verify,
)

MM = 72 / 25.4
URL = "https://transcripts.bangkok.go.th"
URL_40 = "https://verify-transcripts.bangkok.go.th"  # 40 characters
THAI_50 = ("พรรณพัชรวลัญช์กรณ์ณัฏฐ์" * 3)[:50]  # the longest names import accepts (50)
THAI_FAMILY_50 = ("เจริญรุ่งเรืองสุขสวัสดิ์วงศ์ษา" * 2)[:50]
CLAIMS = Claims(
    transcript_id="1001-2569-000123", version=1, institution="1001",
    name="กัญญ์ณัฏฐ์ ศรีสุวรรณ์", name_en="Kanyanat Srisuwan", programme="M6-SCI",
    gpa="3.45", graduation_date=date(2026, 3, 31), issued_at=1_775_000_000,
    status_index=4242, record_digest=b64url(bytes(range(32))),
)


def longest(english: str) -> Claims:
    """Claims for the longest valid names, shortened as the pipeline does."""
    return replace(CLAIMS, name=shorten(f"{THAI_50} {THAI_FAMILY_50}", MAX_NAME_TH),
                   name_en=shorten(english, MAX_NAME_EN), programme="M6-SCI-ENGLISH",
                   version=99, status_index=1_234_567)


def resolver(keys: InstitutionKeys) -> Callable[[str], ec.EllipticCurvePublicKey | None]:
    public_key = keys.credential_cert.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    return {keys.kid: public_key}.get


@pytest.fixture(scope="module")
def token(school_keys: InstitutionKeys) -> str:
    return sign_credential(CLAIMS, school_keys)


def test_issued_credentials_are_compact(token: str) -> None:
    assert token.startswith("BKT1:") and token[5:].isdigit()


def test_round_trip(token: str, school_keys: InstitutionKeys) -> None:
    assert verify(token, resolver(school_keys)) == (school_keys.kid, CLAIMS)


@pytest.mark.parametrize("english", ["Zoë Müller-Øster", "Seán O’Brien", None])
def test_names_outside_tis620_and_no_english(english: str | None,
                                             school_keys: InstitutionKeys) -> None:
    claims = replace(CLAIMS, name_en=english)
    assert verify(sign_credential(claims, school_keys), resolver(school_keys))[1] == claims


def test_vocational_claims_without_gpa(vocational_keys: InstitutionKeys) -> None:
    claims = replace(CLAIMS, institution="2001", gpa=None, graduation_date=None)
    assert verify(sign_credential(claims, vocational_keys), resolver(vocational_keys))[1] == claims


def test_the_url_is_alphanumeric_then_numeric(token: str, school_keys: InstitutionKeys) -> None:
    url = qr_url(URL, token)
    assert url.startswith("HTTPS://TRANSCRIPTS.BANGKOK.GO.TH/V#BKT1:")
    assert [mode for mode, _ in qr.segments(url)] == [
        util.MODE_ALPHA_NUM, util.MODE_8BIT_BYTE, util.MODE_ALPHA_NUM, util.MODE_NUMBER]  # "#"
    assert extract_token(url) == token
    assert verify(url, resolver(school_keys))[1] == CLAIMS


def test_a_base_url_with_a_path_keeps_the_path(token: str) -> None:
    assert qr_url("https://bkk.example/verifier/", token).startswith(
        "HTTPS://BKK.EXAMPLE/verifier/V#BKT1:")


def test_jws_credentials_issued_before_still_verify(school_keys: InstitutionKeys) -> None:
    jws = sign_credential_jws(CLAIMS, school_keys)
    assert verify(qr_url(URL, jws), resolver(school_keys)) == (school_keys.kid, CLAIMS)


@pytest.mark.parametrize("english", [
    "Phanphatcharawalankornnat Charoenrungrueangsuksawatwongsa",
    "É" * 50 + " " + "é" * 50,  # two bytes a character in UTF-8
])
def test_longest_names_stay_at_version_13(english: str, school_keys: InstitutionKeys) -> None:
    """Version 13 (69 modules) in the 42 mm symbol: modules of at least 0.6 mm. The JWS
    took version 18-19 for these names (docs/qr.md)."""
    content = qr_url(URL_40, sign_credential(longest(english), school_keys))
    symbol = qr.encode(content)
    assert symbol.version <= 13
    assert QR_WIDTH / symbol.size >= 0.6 * MM
    assert verify(content, resolver(school_keys))[1] == longest(english)


def test_the_qr_symbol_has_the_computed_version(token: str) -> None:
    content = qr_url(URL, token)
    symbol = qr.encode(content)
    assert symbol.version == qr.version_for(content) and symbol.size == 17 + 4 * symbol.version


# --- forgeries -----------------------------------------------------------------------------

def rejected(text: str, keys: InstitutionKeys, match: str | None = None) -> None:
    with pytest.raises(CredentialError, match=match):
        verify(text, resolver(keys))


def test_grade_inflation_refused(token: str, school_keys: InstitutionKeys) -> None:
    rejected(forge.with_claims(token, g="4.00"), school_keys, "signature")


def test_another_credentials_signature_refused(token: str, school_keys: InstitutionKeys) -> None:
    other = forge.parts(sign_credential(replace(CLAIMS, gpa="4.00"), school_keys))
    items = forge.parts(token)
    rejected(forge.assemble([*items[:3], other[3]]), school_keys, "signature")


def test_one_digit_changed_refused(token: str, school_keys: InstitutionKeys) -> None:
    for at in (8, len(token) // 2, len(token) - 1):
        digit = str((int(token[at]) + 1) % 10)
        with pytest.raises(CredentialError):
            verify(token[:at] + digit + token[at + 1:], resolver(school_keys))


def test_key_of_another_institution_refused(token: str, school_keys: InstitutionKeys,
                                            vocational_keys: InstitutionKeys) -> None:
    rejected(token, vocational_keys, "unknown")  # its kid is not the vocational key's


def test_signed_by_a_key_not_trusted(school_keys: InstitutionKeys) -> None:
    """A rogue key claiming the school's kid: the signature does not verify."""
    rogue = ec.generate_private_key(ec.SECP256R1())
    forged = compact.sign(cbor2.loads(forge.parts(sign_credential(CLAIMS, school_keys))[2]),
                          rogue, bytes.fromhex("00" * 8))
    rejected(forged, school_keys, "unknown")


@pytest.mark.parametrize("header", [
    {1: -35, 4: b"12345678"},  # ES384
    {1: -8, 4: b"12345678"},  # EdDSA
    {1: 5, 4: b"12345678"},  # HMAC 256/256
    {4: b"12345678"},  # no alg
    {1: -7},  # no kid
    {1: -7, 4: "12345678"},  # kid not bytes
    {1: -7, 4: b"12345678", 33: [b"cert"]},  # x5chain offered by the credential itself
    {1: -7, 4: b"12345678", 2: [1]},  # crit
])
def test_protected_header_other_than_es256_and_kid_refused(
        header: dict, token: str, school_keys: InstitutionKeys) -> None:
    items = forge.parts(token)
    rejected(forge.assemble([cbor2.dumps(header), *items[1:]]), school_keys, "ES256")


def test_unprotected_header_refused(token: str, school_keys: InstitutionKeys) -> None:
    items = forge.parts(token)
    rejected(forge.assemble([items[0], {4: b"12345678"}, *items[2:]]), school_keys, "ES256")


def test_other_cose_structures_refused(token: str, school_keys: InstitutionKeys) -> None:
    rejected(forge.assemble(forge.parts(token), tag=98), school_keys, "ES256")  # COSE_Sign
    rejected(forge.assemble(forge.parts(token), tag=17), school_keys, "ES256")  # COSE_Mac0


def test_unknown_claims_refused(school_keys: InstitutionKeys) -> None:
    forged = compact.sign({1: "x", 99: "?"}, school_keys.credential_key,
                          bytes.fromhex(forge_kid(school_keys)))
    rejected(forged, school_keys, "known claims")


def forge_kid(keys: InstitutionKeys) -> str:
    from verifier.core.canonical import b64url_decode

    return b64url_decode(keys.kid).hex()


@pytest.mark.parametrize("text", [
    "BKT1:", "BKT1:12a4", "BKT1:" + "9" * 3000, "BKT1:0", "BKT1:" + "１２３",  # fullwidth
    "BKT1:" + str(int.from_bytes(b"\x02" + b"x" * 40, "big")),  # not our lead byte
    "BKT1:" + str(int.from_bytes(b"\x01" + b"\xff" * 40, "big")),  # not CBOR
    "BKT1:" + str(int.from_bytes(b"\x01" + cbor2.dumps([1, 2, 3, 4]), "big")),  # no tag
])
def test_garbage_refused_not_crashing(text: str, school_keys: InstitutionKeys) -> None:
    rejected(text, school_keys)
    rejected(f"{URL.upper()}/V#{text}", school_keys)


def test_unverified_header_names_the_kid(token: str, school_keys: InstitutionKeys) -> None:
    assert unverified_header(token) == {"alg": "ES256", "kid": school_keys.kid}
    with pytest.raises(CredentialError):
        unverified_header("BKT1:123")


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(alphabet="0123456789", max_size=700),
                 st.binary(max_size=300).map(
                     lambda b: str(int.from_bytes(b"\x01" + b, "big")))))
def test_any_digits_are_refused_with_one_error(digits: str) -> None:
    """Whatever the digits (or the bytes they stand for), a CredentialError, no crash."""
    with pytest.raises(CredentialError):
        verify("BKT1:" + digits, lambda kid: None)
