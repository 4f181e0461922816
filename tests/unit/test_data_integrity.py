"""The VC export's cryptographic core: Multikey, did:web, JSON-LD with bundled contexts
only (and no term dropped), ecdsa-rdfc-2019 proofs. Interoperability with another
implementation: tests/e2e/test_vc.py (the Digital Bazaar stack)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from verifier.core import data_integrity, did_web, jsonld, multikey

KEY = ec.derive_private_key(0x5EED, ec.SECP256R1())
OTHER = ec.derive_private_key(0xBAD, ec.SECP256R1())
DID = "did:web:transcripts.example.go.th"
METHOD = f"{DID}#1001-abc"
WHEN = datetime(2026, 4, 2, 3, 0, tzinfo=UTC)


def document() -> dict[str, Any]:
    return {
        "@context": [jsonld.VC_V2, jsonld.OB_V3, jsonld.BKT_V1],
        "id": "urn:bkt:transcript:1001-2569-000001:v1",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": DID, "type": ["Profile"], "name": "Wat Don School"},
        "validFrom": "2026-04-02T03:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "achievement": {"id": "urn:bkt:achievement:1001:LS", "type": ["Achievement"],
                            "name": "Lower Secondary", "criteria": {"narrative": "x"}},
            "transcript": {"summary": {"gpa": "3.20"}, "names": ["กัญญ์ณัฏฐ์"]},
        },
    }


def test_multikey_round_trips_a_p256_key() -> None:
    text = multikey.encode_p256(KEY.public_key())
    assert text.startswith("zDn") and len(text) == 49  # p256-pub, compressed, base58btc
    assert multikey.decode_p256(text).public_numbers() == KEY.public_key().public_numbers()
    for bad in ("", "Dn" + text[3:], text[:-1] + "0", "z" + multikey.b58encode(b"\x80\x24")):
        with pytest.raises(multikey.MultikeyError):
            multikey.decode_p256(bad)


def test_base58_keeps_leading_zero_bytes() -> None:
    for data in (b"", b"\0", b"\0\0\x01", b"\xff" * 40, bytes(range(35))):
        assert multikey.b58decode(multikey.b58encode(data)) == data
    assert multikey.b58encode(b"hello world") == "StV1DL6CwTryKyV"  # the usual test vector


@pytest.mark.parametrize(("url", "did", "path"), [
    ("http://127.0.0.1:8000", "did:web:127.0.0.1%3A8000", "/.well-known/did.json"),
    ("https://transcripts.bangkok.go.th/", "did:web:transcripts.bangkok.go.th",
     "/.well-known/did.json"),
    ("https://example.go.th/bkt/issuer", "did:web:example.go.th:bkt:issuer",
     "/bkt/issuer/did.json"),
])
def test_did_web_of_a_base_url(url: str, did: str, path: str) -> None:
    assert did_web.did_for(url) == did
    assert did_web.document_path(url) == path


def test_the_did_document_lists_each_key_as_an_assertion_method() -> None:
    doc = did_web.document(DID, [did_web.Method("1001", "abc", KEY.public_key()),
                                 did_web.Method("1001", "def", OTHER.public_key())])
    assert doc["assertionMethod"] == [METHOD, f"{DID}#1001-def"]
    found = did_web.find_method(doc, METHOD)
    assert found is not None
    assert found.public_numbers() == KEY.public_key().public_numbers()
    assert did_web.find_method(doc, f"{DID}#2001-abc") is None
    doc["assertionMethod"] = doc["assertionMethod"][1:]  # listed, but not for assertions
    assert did_web.find_method(doc, METHOD) is None
    compromised = did_web.document(DID, [did_web.Method("1001", "abc", KEY.public_key(),
                                                        asserts=False)])
    assert compromised["assertionMethod"] == []
    assert compromised["verificationMethod"][0]["id"] == METHOD


def test_only_bundled_contexts_load() -> None:
    doc = document()
    doc["@context"] = [jsonld.VC_V2, "https://evil.example/context.json"]
    with pytest.raises(jsonld.JsonLdError, match="not bundled"):
        jsonld.canonize(doc)


@pytest.mark.parametrize("change", [
    lambda d: d["credentialSubject"].__setitem__("gpa", "4.00"),  # no context defines it
    lambda d: d["credentialSubject"]["achievement"].__setitem__("grade", "4"),
    lambda d: d.__setitem__("type", [*d["type"], "HonoursCredential"]),  # relative
    lambda d: d["credentialSubject"]["achievement"].__setitem__("id", "LS-2551"),  # relative
])
def test_a_term_no_context_defines_is_refused_not_dropped(change: Any) -> None:
    doc = document()
    jsonld.canonize(doc)  # as made, nothing is dropped
    change(doc)
    with pytest.raises(jsonld.JsonLdError, match="not defined"):
        jsonld.canonize(doc)


def test_the_record_is_signed_as_a_json_literal() -> None:
    nquads = jsonld.canonize(document())
    assert '"{\\"names\\":[\\"กัญญ์ณัฏฐ์\\"],\\"summary\\":{\\"gpa\\":\\"3.20\\"}}"' \
        '^^<http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON>' in nquads


def test_a_proof_verifies_and_any_change_breaks_it() -> None:
    signed = data_integrity.add_proof(document(), KEY, METHOD, WHEN)
    proof = data_integrity.verify_proof(signed, KEY.public_key())
    assert proof["created"] == "2026-04-02T03:00:00Z"
    assert proof["proofValue"].startswith("z")
    assert len(multikey.from_multibase(proof["proofValue"])) == 64  # r || s
    with pytest.raises(data_integrity.ProofError):
        data_integrity.verify_proof(signed, OTHER.public_key())
    for change in (
        lambda d: d["credentialSubject"]["transcript"]["summary"].__setitem__("gpa", "4.00"),
        lambda d: d["issuer"].__setitem__("name", "Another School"),
        lambda d: d["proof"].__setitem__("created", "2020-01-01T00:00:00Z"),
        lambda d: d["proof"].__setitem__("verificationMethod", f"{DID}#2001-abc"),
        lambda d: d["proof"].__setitem__("proofValue", "z" + "1" * 80),
        lambda d: d.pop("proof"),
    ):
        forged = copy.deepcopy(signed)
        change(forged)
        with pytest.raises(data_integrity.ProofError):
            data_integrity.verify_proof(forged, KEY.public_key())


class TokenKey:
    """A key that only signs (as a PKCS#11 token key does): no private numbers."""

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        self._key = key
        self.calls: list[Any] = []

    def sign(self, data: bytes, algorithm: ec.ECDSA) -> bytes:
        self.calls.append(algorithm)
        return self._key.sign(data, algorithm)


def test_the_key_is_used_only_through_sign() -> None:
    token = TokenKey(KEY)
    signed = data_integrity.add_proof(document(), token, METHOD, WHEN)  # type: ignore[arg-type]
    assert len(token.calls) == 1 and token.calls[0].algorithm.name == "sha256"
    data_integrity.verify_proof(signed, KEY.public_key())
