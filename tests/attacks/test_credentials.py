"""Forged QR credentials, checked by `check_credential` (the QR path) and inside PDFs.

A credential is accepted only as an ES256 JWS with ``typ: bkt`` whose ``kid`` is a key
the trust store holds (the JWKS entry's x5c chain leads to the pinned BMA root); the key
must have been valid at the credential's issue time (``credential_issuer_trusted``) and
belong to the institution the claims name (``credential_institution``).
"""

from __future__ import annotations

import hmac
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from issuer.adapters.credential_signing import sign_credential, sign_credential_jws
from issuer.adapters.pdf_signing import TranscriptSigner
from issuer.adapters.pki import Authority, InstitutionKeys
from issuer.adapters.publish import jwks_document, write_json, write_status_lists
from issuer.adapters.render import attach_files
from issuer.pipeline import IssuedDocument, Producer, claims_for
from tests.attacks import forge
from tests.attacks.conftest import (
    VERIFIER_URL,
    assert_caught,
    failed,
    jwks_for,
    school,
    unsigned_of,
)
from verifier.core.canonical import b64url, b64url_decode
from verifier.core.credential import sign
from verifier.core.verdict import Result, Status, decide
from verifier.pdf import check_credential
from verifier.sources import SourceSettings, TrustSource
from verifier.trust import TrustStore
from verifier.verification import Verifier


@pytest.fixture(scope="module")
def jws_doc(school_doc: IssuedDocument, school_keys: InstitutionKeys) -> IssuedDocument:
    """The school's document with a JWS credential: the attacks here are on the JWS form,
    which the verifier still accepts (the compact form: tests/unit/test_qr_credential.py)."""
    claims = claims_for(school_doc.record, school_doc.record_digest)
    return replace(school_doc, credential=sign_credential_jws(claims, school_keys))


def _segments(token: str) -> list[str]:
    return token.split(".")


def _encode(obj: object) -> str:
    return b64url(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode())


def _header(token: str) -> dict:
    return json.loads(b64url_decode(_segments(token)[0]))


def _payload(token: str) -> dict:
    return json.loads(b64url_decode(_segments(token)[1]))


def _with(token: str, header: dict | None = None, payload: dict | None = None,
          signature: str | None = None) -> str:
    h, p, s = _segments(token)
    return ".".join((_encode(header) if header is not None else h,
                     _encode(payload) if payload is not None else p,
                     signature if signature is not None else s))


def _es256_raw(key: ec.EllipticCurvePrivateKey, data: bytes, size: int = 32,
               digest: hashes.HashAlgorithm | None = None) -> str:
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(digest or hashes.SHA256())))
    return b64url(r.to_bytes(size, "big") + s.to_bytes(size, "big"))


def _signing_input(header: dict, payload: dict) -> tuple[str, bytes]:
    text = f"{_encode(header)}.{_encode(payload)}"
    return text, text.encode("ascii")


def _rejected(token: str, trust: TrustStore, check: str = "credential_signature") -> None:
    claims, checks = check_credential(token, trust)
    verdict = decide(checks)
    assert verdict.result is not Result.VALID
    assert check in failed(checks), checks
    if check == "credential_signature":
        assert claims is None


# --- the control -----------------------------------------------------------------------------


def test_genuine_credentials(genuine: IssuedDocument, trust: TrustStore) -> None:
    claims, checks = check_credential(genuine.credential, trust)
    assert decide(checks).result is Result.VALID, checks
    assert claims is not None and claims.record_digest == genuine.record_digest
    assert {c.id for c in checks} == {"credential_signature", "credential_issuer_trusted",
                                      "credential_institution"}


# --- payload and signature ------------------------------------------------------------------


@pytest.mark.parametrize("field,value", [("g", "4.00"), ("n", "สมหญิง ใจดี"), ("i", "2001"),
                                         ("h", b64url(bytes(32))), ("v", 2), ("s", 0)])
def test_payload_changed(field: str, value: object, jws_doc: IssuedDocument,
                         trust: TrustStore) -> None:
    """A claim changed, the original signature kept."""
    payload = _payload(jws_doc.credential) | {field: value}
    _rejected(_with(jws_doc.credential, payload=payload), trust)


def test_signature_of_another_credential(jws_doc: IssuedDocument, trust: TrustStore,
                                         school_keys: InstitutionKeys) -> None:
    """Payload of one credential, signature of another genuine one (same key)."""
    other = sign_credential_jws(replace(claims_for(jws_doc.record, jws_doc.record_digest),
                                    gpa="4.00"), school_keys)
    _rejected(_with(jws_doc.credential, signature=_segments(other)[2]), trust)


def test_wrong_key_claiming_the_kid(jws_doc: IssuedDocument, trust: TrustStore,
                                   vocational_keys: InstitutionKeys) -> None:
    """Signed by the vocational centre's (trusted) key under the school's kid."""
    header = _header(jws_doc.credential)
    payload = _payload(jws_doc.credential) | {"g": "4.00"}
    text, data = _signing_input(header, payload)
    _rejected(f"{text}.{_es256_raw(vocational_keys.credential_key, data)}", trust)


def test_signature_bytes_mangled(jws_doc: IssuedDocument,
                                         trust: TrustStore) -> None:
    """Signature bytes cut, padded, doubled, or not base64url."""
    sig = _segments(jws_doc.credential)[2]
    raw = b64url_decode(sig)
    for bad in (sig[:-2], b64url(raw + b"\0"), b64url(raw * 2), "", "!!!!", b64url(bytes(64))):
        _rejected(_with(jws_doc.credential, signature=bad), trust)


# --- algorithm and type confusion --------------------------------------------------------------


def test_alg_none(jws_doc: IssuedDocument, trust: TrustStore) -> None:
    header = _header(jws_doc.credential) | {"alg": "none"}
    payload = _payload(jws_doc.credential) | {"g": "4.00"}
    for signature in ("", _segments(jws_doc.credential)[2]):
        _rejected(_with(jws_doc.credential, header, payload, signature), trust)
    for alg in ("None", "NONE", "nOnE"):
        _rejected(_with(jws_doc.credential, header | {"alg": alg}, payload, ""), trust)


def _public_key_secrets(keys: InstitutionKeys) -> list[bytes]:
    """Every form in which a verifier might hold the public key, used as an HMAC key."""
    public = keys.credential_cert.public_key()
    jwk = jwks_for([keys])["keys"][0]
    return [
        public.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo),
        public.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo),
        public.public_bytes(serialization.Encoding.X962,
                            serialization.PublicFormat.UncompressedPoint),
        json.dumps(jwk).encode(),
        keys.credential_cert.public_bytes(serialization.Encoding.PEM),
    ]


@pytest.mark.parametrize("alg,digest", [("HS256", "sha256"), ("HS384", "sha384"),
                                        ("HS512", "sha512")])
def test_hmac_with_the_public_key_as_secret(alg: str, digest: str, jws_doc: IssuedDocument,
                                            school_keys: InstitutionKeys,
                                            trust: TrustStore) -> None:
    header = _header(jws_doc.credential) | {"alg": alg}
    payload = _payload(jws_doc.credential) | {"g": "4.00"}
    text, data = _signing_input(header, payload)
    for secret in _public_key_secrets(school_keys):
        mac = hmac.new(secret, data, digest).digest()
        _rejected(f"{text}.{b64url(mac)}", trust)


def test_other_asymmetric_algorithms(jws_doc: IssuedDocument, school_keys: InstitutionKeys,
                                     trust: TrustStore) -> None:
    """RS256/PS256 (with an RSA key), ES384 (P-384), ES256K (secp256k1), EdDSA headers, each
    with a real signature by a key of that type, and with the genuine ES256 signature."""
    payload = _payload(jws_doc.credential) | {"g": "4.00"}
    base = _header(jws_doc.credential)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    p384 = ec.generate_private_key(ec.SECP384R1())
    k1 = ec.generate_private_key(ec.SECP256K1())
    cases = {
        "RS256": lambda d: b64url(rsa_key.sign(d, padding.PKCS1v15(), hashes.SHA256())),
        "PS256": lambda d: b64url(rsa_key.sign(
            d, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())),
        "ES384": lambda d: _es256_raw(p384, d, 48, hashes.SHA384()),
        "ES256K": lambda d: _es256_raw(k1, d),
        "EdDSA": lambda d: b64url(bytes(64)),
    }
    for alg, signer in cases.items():
        text, data = _signing_input(base | {"alg": alg}, payload)
        _rejected(f"{text}.{signer(data)}", trust)
        genuine_sig = _segments(jws_doc.credential)[2]
        _rejected(_with(jws_doc.credential, base | {"alg": alg}, None, genuine_sig), trust)


@pytest.mark.parametrize("typ", [None, "JWT", "BKT", "bkt+jwt", "", 1, ["bkt"]])
def test_typ_missing_or_wrong(typ: object, jws_doc: IssuedDocument,
                              school_keys: InstitutionKeys, trust: TrustStore) -> None:
    """Correctly signed by the school's key, with another type: refused (the ``typ``
    separates transcript credentials from the status lists the same key signs)."""
    header = _header(jws_doc.credential)
    if typ is None:
        del header["typ"]
    else:
        header["typ"] = typ
    text, data = _signing_input(header, _payload(jws_doc.credential))
    _rejected(f"{text}.{_es256_raw(school_keys.credential_key, data)}", trust)


@pytest.mark.parametrize("kid", [None, "", "AAAAAAAAAAA", 7, {"kid": "x"}, "../../etc/passwd"])
def test_kid_missing_unknown_or_odd(kid: object, jws_doc: IssuedDocument,
                                    school_keys: InstitutionKeys, trust: TrustStore) -> None:
    header = _header(jws_doc.credential)
    if kid is None:
        del header["kid"]
    else:
        header["kid"] = kid
    text, data = _signing_input(header, _payload(jws_doc.credential))
    _rejected(f"{text}.{_es256_raw(school_keys.credential_key, data)}", trust)


def test_key_embedded_in_the_header(jws_doc: IssuedDocument, trust: TrustStore,
                                    rogue_school_keys: InstitutionKeys) -> None:
    """"jwk"/"x5c"/"jku" headers carrying the forger's own key: never used."""
    jwk = jwks_for([rogue_school_keys])["keys"][0]
    payload = _payload(jws_doc.credential) | {"g": "4.00"}
    for extra in ({"jwk": {k: jwk[k] for k in ("kty", "crv", "x", "y")}},
                  {"x5c": jwk["x5c"]}, {"jku": "https://evil.example/jwks.json"},
                  {"kid": jwk["kid"], "jwk": {k: jwk[k] for k in ("kty", "crv", "x", "y")}}):
        header = _header(jws_doc.credential) | extra
        text, data = _signing_input(header, payload)
        _rejected(f"{text}.{_es256_raw(rogue_school_keys.credential_key, data)}", trust)


@pytest.mark.parametrize("extra", [{"crit": None}, {"crit": ["exp"]}, {"crit": 5},
                                   {"b64": False, "crit": ["b64"]}, {"zip": "DEF"},
                                   {"cty": "JWT"}, {"x5u": "https://evil.example/c.pem"}])
def test_extra_header_parameters(extra: dict, jws_doc: IssuedDocument,
                                 school_keys: InstitutionKeys, trust: TrustStore) -> None:
    """Headers that change processing, correctly signed by the school's key: refused.
    ("crit": null used to crash joserfc with a TypeError before any signature check.)"""
    header = _header(jws_doc.credential) | extra
    text, data = _signing_input(header, _payload(jws_doc.credential))
    _rejected(f"{text}.{_es256_raw(school_keys.credential_key, data)}", trust)


# --- trust ----------------------------------------------------------------------------------


def test_credential_from_an_untrusted_root(
    jws_doc: IssuedDocument, authority: Authority, school_keys: InstitutionKeys,
    vocational_keys: InstitutionKeys, rogue_school_keys: InstitutionKeys,
) -> None:
    """A valid credential by a look-alike "1001" key whose JWKS entry carries an x5c chain
    to another root: the trust store drops the entry, so the kid is unknown. Also when the
    rogue entry is published next to the genuine ones, or claims the genuine kid."""
    claims = replace(claims_for(jws_doc.record, jws_doc.record_digest), gpa="4.00")
    token = sign_credential(claims, rogue_school_keys)
    rogue_entry = jwks_for([rogue_school_keys])["keys"][0]
    stolen_kid = rogue_entry | {"kid": school_keys.kid}
    jwks = jwks_for([school_keys, vocational_keys])
    jwks["keys"] += [rogue_entry, stolen_kid]
    trust = TrustStore.from_jwks(jwks, [authority.root_cert])
    assert set(trust.keys) == {school_keys.kid, vocational_keys.kid}
    _rejected(token, trust)
    forged = sign(claims, rogue_school_keys.credential_key, school_keys.kid)
    _rejected(forged, trust)


def test_kid_of_one_institution_for_anothers_claims(
    jws_doc: IssuedDocument, trust: TrustStore, vocational_keys: InstitutionKeys
) -> None:
    """The vocational centre (a trusted key) signs a credential naming school 1001: the
    signature is valid, the key is not 1001's: INVALID, ``credential_institution``."""
    claims = replace(claims_for(jws_doc.record, jws_doc.record_digest), gpa="4.00")
    token = sign(claims, vocational_keys.credential_key, vocational_keys.kid)
    claims_seen, checks = check_credential(token, trust)
    assert claims_seen is not None
    assert failed(checks) == {"credential_institution"}
    assert decide(checks).result is Result.INVALID


def test_credential_issued_before_the_key_existed(
    jws_doc: IssuedDocument, school_keys: InstitutionKeys, trust: TrustStore
) -> None:
    """Back-dated: the key was not valid at the claimed issue time."""
    old = int(datetime(2020, 1, 1, tzinfo=UTC).timestamp())
    claims = replace(claims_for(jws_doc.record, jws_doc.record_digest), issued_at=old)
    _rejected(sign_credential(claims, school_keys), trust, "credential_issuer_trusted")


@pytest.mark.parametrize("iat", [10**20, -10**20, 2**63])
def test_issue_time_out_of_any_calendar(iat: int, jws_doc: IssuedDocument,
                                        school_keys: InstitutionKeys,
                                        trust: TrustStore) -> None:
    claims = replace(claims_for(jws_doc.record, jws_doc.record_digest), issued_at=iat)
    _rejected(sign_credential(claims, school_keys), trust, "credential_issuer_trusted")


# --- robustness -------------------------------------------------------------------------------


def test_deeply_nested_header(trust: TrustStore) -> None:
    """json.loads raises RecursionError (not ValueError) on deep nesting: it escaped."""
    _rejected(f"{b64url(b'[' * 2900)}.e30.AA", trust)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["alg", "kid", "typ", "t", "v", "i", "g", "iat", "h",
                                       "s", "d", "n", "p", "crit", "b64"]), children,
                      max_size=6),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=_JSON, payload=_JSON, signature=st.binary(max_size=80),
       text=st.text(max_size=60))
def test_no_token_crashes(header: object, payload: object, signature: bytes, text: str,
                          jws_doc: IssuedDocument, school_keys: InstitutionKeys,
                          trust: TrustStore) -> None:
    """Arbitrary JSON in the header and payload (also correctly signed with the school's
    key), arbitrary signature bytes, arbitrary text: a failed check, never an exception,
    never VALID unless it is a well-formed credential by the school's key."""
    base = _header(jws_doc.credential)
    for head in (header, base | header if isinstance(header, dict) else header):
        text_in, data = _signing_input(head, payload)
        for token in (f"{text_in}.{b64url(signature)}",
                      f"{text_in}.{_es256_raw(school_keys.credential_key, data)}",
                      text, f"{VERIFIER_URL}/v#{text}"):
            claims, checks = check_credential(token, trust)
            assert checks and (claims is None) == ("credential_signature" in failed(checks))


# --- credentials inside the PDF -----------------------------------------------------------


def _certified(doc: IssuedDocument, record: bytes, credential: str, keys: InstitutionKeys,
               ) -> bytes:
    """`doc`'s pages with these attachments, certified by the institution's genuine key
    (what a compromised issuance step could produce)."""
    bare = forge.without_attachments(unsigned_of(doc))
    return TranscriptSigner(keys).sign(attach_files(bare, record, credential))


def test_record_does_not_match_the_credential(
    jws_doc: IssuedDocument, school_keys: InstitutionKeys, trust: TrustStore
) -> None:
    """A genuinely certified PDF whose transcript.json is not the record the embedded
    credential's digest names (GPA raised in the record)."""
    record = json.loads(jws_doc.record_json)
    record["summary"]["gpa"] = "3.90"
    fake = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
    pdf = _certified(jws_doc, fake, jws_doc.credential, school_keys)
    assert_caught(pdf, trust, "record_digest")


def test_credential_of_another_transcript_embedded(
    jws_doc: IssuedDocument, school_keys: InstitutionKeys, trust: TrustStore
) -> None:
    """The genuine credential of another transcript of the same school embedded with this
    record: the digest it carries is the other record's."""
    other = Producer(school_keys, VERIFIER_URL).produce(
        school(transcript_id="1001-2569-000124", seed=8))
    pdf = _certified(jws_doc, jws_doc.record_json, other.credential, school_keys)
    assert_caught(pdf, trust, "record_digest")


def test_forged_credential_embedded(
    jws_doc: IssuedDocument, school_keys: InstitutionKeys, trust: TrustStore
) -> None:
    """A credential with the GPA raised and its signature kept, embedded and certified."""
    payload = _payload(jws_doc.credential) | {"g": "4.00"}
    pdf = _certified(jws_doc, jws_doc.record_json,
                     _with(jws_doc.credential, payload=payload), school_keys)
    assert_caught(pdf, trust, "credential_signature")


def test_credential_of_another_institution_embedded(
    jws_doc: IssuedDocument, school_keys: InstitutionKeys,
    vocational_keys: InstitutionKeys, trust: TrustStore
) -> None:
    """School 1001's PDF carrying a credential for this record signed by 2001's key and
    naming 2001: valid signature, but not the institution that certified the PDF."""
    claims = replace(claims_for(jws_doc.record, jws_doc.record_digest),
                     institution="2001")
    token = sign_credential(claims, vocational_keys)
    pdf = _certified(jws_doc, jws_doc.record_json, token, school_keys)
    assert_caught(pdf, trust, "same_institution")


# --- revocation, through the whole verifier ---------------------------------------------------


@pytest.fixture(scope="module")
def revoked(school_keys: InstitutionKeys) -> IssuedDocument:
    return Producer(school_keys, VERIFIER_URL).produce(
        school(transcript_id="1001-2569-000300", status_index=300))


@pytest.fixture(scope="module")
def verifier(tmp_path_factory: pytest.TempPathFactory, authority: Authority,
             school_keys: InstitutionKeys, vocational_keys: InstitutionKeys) -> Verifier:
    """A verifier reading the issuer's published files: index 300 of 1001 is revoked."""
    folder: Path = tmp_path_factory.mktemp("published")
    jwks = folder / ".well-known" / "jwks.json"
    write_json(jwks, jwks_document([(k.credential_cert, k.chain)
                                    for k in (school_keys, vocational_keys)]))
    now = datetime.now(UTC)
    write_status_lists(folder, school_keys, [300], [], now)
    write_status_lists(folder, vocational_keys, [], [], now)
    return Verifier(TrustSource(SourceSettings(
        roots=(authority.root_cert,), jwks=str(jwks), status=str(folder / "status"))))


def test_revoked_credential_and_pdf(revoked: IssuedDocument, jws_doc: IssuedDocument,
                                    verifier: Verifier) -> None:
    assert verifier.credential(jws_doc.credential).result is Result.VALID
    assert verifier.pdf(jws_doc.pdf).result is Result.VALID
    for verdict in (verifier.credential(revoked.credential), verifier.pdf(revoked.pdf)):
        assert verdict.result is Result.REVOKED
        assert "not_revoked" in failed(verdict.checks)


def test_institution_mismatch_through_the_verifier(
    jws_doc: IssuedDocument, vocational_keys: InstitutionKeys, verifier: Verifier,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Signed by 2001's key, claiming 1001: INVALID, and 1001's status lists are not even
    fetched (``credential_institution`` is one of the checks status look-ups wait for)."""
    claims = replace(claims_for(jws_doc.record, jws_doc.record_digest), gpa="4.00")
    token = sign(claims, vocational_keys.credential_key, vocational_keys.kid)
    asked: list[tuple[str, str]] = []
    status = verifier.source.status

    def recording(code: str, purpose: str):  # type: ignore[no-untyped-def]
        asked.append((code, purpose))
        return status(code, purpose)

    monkeypatch.setattr(verifier.source, "status", recording)
    verdict = verifier.credential(token)
    assert verdict.result is Result.INVALID
    assert failed(verdict.checks) == {"credential_institution"}
    skipped = {c.id for c in verdict.checks if c.status is Status.SKIPPED}
    assert skipped == {"not_revoked", "latest_version"}
    assert asked == []
    assert not verdict.data  # no signed data shown for a mis-attributed credential
    verifier.credential(jws_doc.credential)  # the same verifier does look for a good one
    assert asked == [("1001", "revocation"), ("1001", "refresh")]

