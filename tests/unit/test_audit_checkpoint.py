"""The audit checkpoint's format: what it signs, and every forgery `verify` refuses."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jws
from joserfc.jwk import ECKey, OctKey

from issuer.adapters import audit_checkpoint as ac
from issuer.adapters.pki import (
    AUDIT_SIGNING,
    AuditSigner,
    Authority,
    InstitutionKeys,
    generate_authority,
    issue_audit_key,
)
from issuer.adapters.publish import x5c
from tests.conftest import PKI_NOW
from verifier.core.canonical import b64url, b64url_decode

CHECKPOINT = ac.Checkpoint(seq=3, head_id=41, head_hash="ab" * 32, events=41,
                           legacy_head_id=0, at=PKI_NOW + timedelta(days=1))


@pytest.fixture(scope="module")
def signer(authority: Authority) -> AuditSigner:
    return issue_audit_key(authority, PKI_NOW)


def token_with(header: dict, payload: bytes, key: ec.EllipticCurvePrivateKey) -> str:
    return jws.serialize_compact(header, payload, ECKey.import_key(key), algorithms=["ES256"])


def test_a_checkpoint_round_trips(signer: AuditSigner, authority: Authority) -> None:
    token = ac.sign(CHECKPOINT, signer)
    header = json.loads(b64url_decode(token.split(".")[0]))
    assert header["typ"] == "bkt-audit-checkpoint" and len(header["x5c"]) == 2  # no root
    assert json.loads(b64url_decode(token.split(".")[1])) == {
        "seq": 3, "head_id": 41, "head_hash": "ab" * 32, "events": 41, "legacy_head_id": 0,
        "at": "2026-06-02T00:00:00Z"}
    assert ac.verify(token, [authority.root_cert]) == CHECKPOINT


def test_the_audit_certificate_is_for_checkpoints_only(signer: AuditSigner) -> None:
    from cryptography import x509

    usage = signer.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [AUDIT_SIGNING]
    assert isinstance(signer.key.curve, ec.SECP256R1)


def test_an_institution_key_cannot_sign_a_checkpoint(
        school_keys: InstitutionKeys, authority: Authority) -> None:
    """Its certificate chains to the same root, but is not meant for the audit log."""
    impostor = AuditSigner(school_keys.credential_key, school_keys.credential_cert,
                           school_keys.chain)
    with pytest.raises(ac.CheckpointError, match="not meant for the audit log"):
        ac.verify(ac.sign(CHECKPOINT, impostor), [authority.root_cert])


def test_a_checkpoint_under_another_root_is_refused(authority: Authority) -> None:
    other = issue_audit_key(generate_authority(PKI_NOW), PKI_NOW)
    with pytest.raises(ac.CheckpointError, match="not trusted"):
        ac.verify(ac.sign(CHECKPOINT, other), [authority.root_cert])


def test_a_checkpoint_after_its_certificate_expired_is_refused(
        signer: AuditSigner, authority: Authority) -> None:
    late = ac.Checkpoint(**{**CHECKPOINT.__dict__, "at": PKI_NOW + timedelta(days=4000)})
    with pytest.raises(ac.CheckpointError, match="not trusted"):
        ac.verify(ac.sign(late, signer), [authority.root_cert])


def test_an_edited_payload_is_refused(signer: AuditSigner, authority: Authority) -> None:
    header, _, signature = ac.sign(CHECKPOINT, signer).split(".")
    payload = json.dumps(CHECKPOINT.to_payload() | {"head_id": 40}).encode()
    with pytest.raises(ac.CheckpointError, match="signature"):
        ac.verify(f"{header}.{b64url(payload)}.{signature}", [authority.root_cert])


@pytest.mark.parametrize("change", [
    {"kid": "x"},  # anything beyond alg/typ/x5c
    {"jku": "https://evil.example/jwks"},
    {"typ": "bkt"},  # another document type of the project
    {"alg": "ES384"},
])
def test_headers_other_than_expected_are_refused(
        signer: AuditSigner, authority: Authority, change: dict) -> None:
    header = {"alg": "ES256", "typ": ac.TYP, "x5c": x5c([signer.cert, *signer.chain])} | change
    payload = json.dumps(CHECKPOINT.to_payload()).encode()
    if header["alg"] == "ES384":
        token = ".".join([b64url(json.dumps(header).encode()), b64url(payload), "AAAA"])
    else:
        token = token_with(header, payload, signer.key)
    with pytest.raises(ac.CheckpointError, match="header"):
        ac.verify(token, [authority.root_cert])


def test_hmac_and_none_are_refused(signer: AuditSigner, authority: Authority) -> None:
    chain = x5c([signer.cert, *signer.chain])
    payload = json.dumps(CHECKPOINT.to_payload()).encode()
    hmac_token = jws.serialize_compact({"alg": "HS256", "typ": ac.TYP, "x5c": chain}, payload,
                                       OctKey.import_key(b"k" * 32), algorithms=["HS256"])
    none = ".".join([b64url(json.dumps({"alg": "none", "typ": ac.TYP, "x5c": chain}).encode()),
                     b64url(payload), ""])
    for token in (hmac_token, none):
        with pytest.raises(ac.CheckpointError):
            ac.verify(token, [authority.root_cert])


@pytest.mark.parametrize("payload", [
    {"seq": -1}, {"head_id": "41"}, {"head_hash": "AB" * 32}, {"at": "yesterday"},
    {"events": True}, {"extra": 1},
])
def test_malformed_payloads_are_refused(signer: AuditSigner, authority: Authority,
                                        payload: dict) -> None:
    header = {"alg": "ES256", "typ": ac.TYP, "x5c": x5c([signer.cert, *signer.chain])}
    body = json.dumps(CHECKPOINT.to_payload() | payload).encode()
    with pytest.raises(ac.CheckpointError, match="payload"):
        ac.verify(token_with(header, body, signer.key), [authority.root_cert])


@pytest.mark.parametrize("token", ["", "a.b", "x" * 70000, "a.b.c", None])
def test_garbage_is_refused(token: str, authority: Authority) -> None:
    with pytest.raises(ac.CheckpointError):
        ac.verify(token, [authority.root_cert])


def test_files_latest_and_history(signer: AuditSigner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    token = ac.sign(CHECKPOINT, signer)
    assert ac.read_latest(tmp_path) is None
    assert ac.write(tmp_path, CHECKPOINT, token) == tmp_path / "audit" / "checkpoint.jws"
    assert ac.read_latest(tmp_path) == token
    assert (tmp_path / "audit" / "checkpoints" / "3.jws").read_text().strip() == token
    with pytest.raises(FileExistsError):  # a number is published once
        ac.write(tmp_path, CHECKPOINT, token)
