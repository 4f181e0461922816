"""The QR credential in its first form (compact JWS, still accepted), checked by the verifier."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jws
from joserfc.jwk import ECKey

from issuer.adapters.credential_signing import sign_credential_jws as sign_credential
from issuer.adapters.pki import InstitutionKeys
from verifier.core.canonical import b64url, b64url_decode
from verifier.core.credential import (
    Claims,
    CredentialError,
    extract_token,
    qr_url,
    unverified_header,
    verify,
)

CLAIMS = Claims(
    transcript_id="T2026-1001-000123",
    version=1,
    institution="1001",
    name="เด็กหญิงสมศรี ใจดี",
    programme="M6-SCI",
    gpa="3.45",
    graduation_date=date(2026, 3, 31),
    issued_at=1_775_000_000,
    status_index=4242,
    record_digest=b64url(hashlib.sha256(b"record").digest()),
)


def resolver(*keys: InstitutionKeys) -> Callable[[str], ec.EllipticCurvePublicKey | None]:
    table = {}
    for k in keys:
        public_key = k.credential_cert.public_key()
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
        table[k.kid] = public_key
    return table.get


def segments(token: str) -> list[str]:
    return token.split(".")


def encode(obj: object) -> str:
    return b64url(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode())


@pytest.fixture(scope="module")
def token(school_keys: InstitutionKeys) -> str:
    return sign_credential(CLAIMS, school_keys)


def test_round_trip(token: str, school_keys: InstitutionKeys) -> None:
    kid, claims = verify(token, resolver(school_keys))
    assert kid == school_keys.kid
    assert claims == CLAIMS


def test_header(token: str, school_keys: InstitutionKeys) -> None:
    assert unverified_header(token) == {"alg": "ES256", "kid": school_keys.kid, "typ": "bkt"}


def test_vocational_claims_without_gpa(vocational_keys: InstitutionKeys) -> None:
    claims = replace(CLAIMS, institution="2001", gpa=None, graduation_date=None)
    token = sign_credential(claims, vocational_keys)
    assert verify(token, resolver(vocational_keys))[1] == claims


def test_keys_of_another_institution_refused(vocational_keys: InstitutionKeys) -> None:
    with pytest.raises(ValueError, match="institution"):
        sign_credential(CLAIMS, vocational_keys)


def test_changed_payload(token: str, school_keys: InstitutionKeys) -> None:
    header, payload, signature = segments(token)
    data = json.loads(b64url_decode(payload))
    assert data["g"] == "3.45"
    data["g"] = "4.00"  # grade inflation, the commonest forgery
    forged = ".".join([header, encode(data), signature])
    with pytest.raises(CredentialError, match="signature"):
        verify(forged, resolver(school_keys))


def test_changed_signature(token: str, school_keys: InstitutionKeys) -> None:
    header, payload, signature = segments(token)
    raw = bytearray(b64url_decode(signature))
    raw[5] ^= 0x01
    with pytest.raises(CredentialError):
        verify(".".join([header, payload, b64url(bytes(raw))]), resolver(school_keys))


def test_wrong_key(
    token: str, school_keys: InstitutionKeys, vocational_keys: InstitutionKeys
) -> None:
    other = vocational_keys.credential_cert.public_key()
    assert isinstance(other, ec.EllipticCurvePublicKey)
    with pytest.raises(CredentialError, match="signature"):
        verify(token, lambda kid: other)


def test_unknown_kid(token: str, vocational_keys: InstitutionKeys) -> None:
    with pytest.raises(CredentialError, match="unknown"):
        verify(token, resolver(vocational_keys))


def test_alg_none(token: str, school_keys: InstitutionKeys) -> None:
    _, payload, _ = segments(token)
    header = encode({"alg": "none", "kid": school_keys.kid, "typ": "bkt"})
    for unsigned in (f"{header}.{payload}.", f"{header}.{payload}.AAAA"):
        with pytest.raises(CredentialError):
            verify(unsigned, resolver(school_keys))


def test_hs256_with_the_public_key_as_secret(token: str, school_keys: InstitutionKeys) -> None:
    """The classic algorithm-confusion attack: HMAC keyed with the public key's bytes."""
    _, payload, _ = segments(token)
    header = encode({"alg": "HS256", "kid": school_keys.kid, "typ": "bkt"})
    public_pem = school_keys.credential_cert.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for secret in (
        public_pem,
        school_keys.credential_cert.public_bytes(serialization.Encoding.PEM),
    ):
        mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        with pytest.raises(CredentialError, match="algorithm"):
            verify(f"{header}.{payload}.{b64url(mac)}", resolver(school_keys))


def test_wrong_typ(school_keys: InstitutionKeys, token: str) -> None:
    # a correctly signed token whose typ is not ours (e.g. some other JWS from the same key)
    _, payload, _ = segments(token)
    for typ in ("JWT", None):
        header = {"alg": "ES256", "kid": school_keys.kid}
        if typ:
            header["typ"] = typ
        other = jws.serialize_compact(
            header, b64url_decode(payload), ECKey.import_key(school_keys.credential_key)
        )
        with pytest.raises(CredentialError, match="type"):
            verify(other, resolver(school_keys))


def test_ps256_or_es384_refused(token: str, school_keys: InstitutionKeys) -> None:
    _, payload, signature = segments(token)
    for alg in ("ES384", "RS256", "EdDSA", "es256"):
        forged_header = encode({"alg": alg, "kid": school_keys.kid, "typ": "bkt"})
        with pytest.raises(CredentialError):
            verify(f"{forged_header}.{payload}.{signature}", resolver(school_keys))


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "not a token",
        "a.b",
        "a.b.c.d",
        "!!!.$$$.###",
        "e30.e30.e30",  # {} header: no alg
        "W10.e30.e30",  # [] header
        "eyJhbGciOiJFUzI1NiJ9",  # header only
        "x" * 5000 + ".a.b",
    ],
)
def test_malformed_tokens(bad: str, school_keys: InstitutionKeys) -> None:
    with pytest.raises(CredentialError):
        verify(bad, resolver(school_keys))


def test_malformed_payload_with_valid_signature(school_keys: InstitutionKeys) -> None:
    header = {"alg": "ES256", "kid": school_keys.kid, "typ": "bkt"}
    key = ECKey.import_key(school_keys.credential_key)
    for payload in (
        b"[]",
        b'{"t":"x"}',
        json.dumps({**CLAIMS.to_payload(), "v": True}).encode(),
    ):
        signed = jws.serialize_compact(header, payload, key)
        with pytest.raises(CredentialError, match="malformed"):
            verify(signed, resolver(school_keys))
    signed = jws.serialize_compact(header, b"not json", key)
    with pytest.raises(CredentialError):
        verify(signed, resolver(school_keys))


def test_qr_url_extraction(token: str, school_keys: InstitutionKeys) -> None:
    url = qr_url("https://verify.bangkok.go.th/", token)
    assert url == f"https://verify.bangkok.go.th/v#{token}"
    assert extract_token(url) == token
    assert extract_token(f"  {token}\n") == token
    assert verify(url, resolver(school_keys))[1] == CLAIMS
    with pytest.raises(CredentialError):
        extract_token("https://verify.bangkok.go.th/v#")


def test_qr_url_stays_short(token: str) -> None:
    """DESIGN.md: a typical name keeps the whole URL under ~500 bytes (QR version <= 17)."""
    assert len(qr_url("https://verify.bangkok.go.th", token).encode()) < 500
