"""Signed status lists: format, signature, institution binding, and the issuer's files."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from joserfc import jws
from joserfc.jwk import OctKey

from issuer.adapters.pki import InstitutionKeys
from issuer.adapters.publish import (
    read_status_lists,
    status_list_documents,
    status_list_path,
    write_status_lists,
    write_trust_bundle,
)
from verifier.core import status_credential as sc
from verifier.core import status_list as sl
from verifier.core.canonical import b64url, b64url_decode
from verifier.trust import TrustStore

NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def store(school_keys: InstitutionKeys, vocational_keys: InstitutionKeys,
          authority) -> TrustStore:
    from issuer.adapters.publish import jwks_document

    jwks = jwks_document([(k.credential_cert, k.chain) for k in (school_keys, vocational_keys)])
    return TrustStore.from_jwks(jwks, [authority.root_cert])


def test_round_trip(school_keys: InstitutionKeys, store: TrustStore) -> None:
    lists = status_list_documents(school_keys, [3, 200_000], [7], NOW)
    revocation = sc.verify(lists["revocation"], store.key, "1001", "revocation")
    assert revocation.is_set(3) and revocation.is_set(200_000) and not revocation.is_set(7)
    assert len(revocation.bits) * 8 >= 200_001
    refresh = sc.verify(lists["refresh"], store.key, "1001", "refresh")
    assert refresh.is_set(7) and not refresh.is_set(3)
    assert revocation.valid_from == NOW
    assert revocation.valid_until == NOW + sc.DEFAULT_VALIDITY
    assert revocation.ttl_seconds == 30
    assert revocation.sequence == refresh.sequence == 1


def test_payload_is_a_w3c_bitstring_status_list_credential(school_keys: InstitutionKeys):
    token = status_list_documents(school_keys, [], [], NOW)["revocation"]
    header = json.loads(b64url_decode(token.split(".")[0]))
    assert header == {"alg": "ES256", "kid": school_keys.kid, "typ": "bkt-status"}
    payload = json.loads(b64url_decode(token.split(".")[1]))
    assert payload["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    subject = payload["credentialSubject"]
    assert subject["type"] == "BitstringStatusList"
    assert subject["statusPurpose"] == "revocation"
    assert subject["ttl"] == 30_000  # milliseconds, as W3C defines it
    assert payload["sequence"] == 1
    assert len(sl.decode(subject["encodedList"])) * 8 == sl.MIN_ENTRIES
    assert payload["validFrom"] == "2026-07-01T12:00:00Z"


def test_wrong_purpose_or_institution(school_keys: InstitutionKeys, store: TrustStore) -> None:
    lists = status_list_documents(school_keys, [], [], NOW)
    with pytest.raises(sc.StatusListError, match="another institution or purpose"):
        sc.verify(lists["revocation"], store.key, "1001", "refresh")
    with pytest.raises(sc.StatusListError, match="another institution"):
        sc.verify(lists["revocation"], store.key, "2001", "revocation")


def test_signed_by_another_institution(vocational_keys: InstitutionKeys,
                                       store: TrustStore) -> None:
    status = sc.build("1001", "revocation", [], NOW, sequence=1)  # claims to be 1001's list
    token = sc.sign(status, vocational_keys.credential_key, vocational_keys.kid)
    with pytest.raises(sc.StatusListError, match="another institution's key"):
        sc.verify(token, store.key, "1001", "revocation")


def test_key_not_valid_when_the_list_was_issued(school_keys: InstitutionKeys,
                                                store: TrustStore) -> None:
    status = sc.build("1001", "revocation", [], datetime(2020, 1, 1, tzinfo=UTC), sequence=1)
    token = sc.sign(status, school_keys.credential_key, school_keys.kid)
    with pytest.raises(sc.StatusListError, match="not valid when"):
        sc.verify(token, store.key, "1001", "revocation")


def test_changed_payload(school_keys: InstitutionKeys, store: TrustStore) -> None:
    token = status_list_documents(school_keys, [5], [], NOW)["revocation"]
    header, payload, signature = token.split(".")
    data = json.loads(b64url_decode(payload))
    data["credentialSubject"]["encodedList"] = sl.encode(sl.new_bitstring())
    forged = ".".join((header, b64url(json.dumps(data).encode()), signature))
    with pytest.raises(sc.StatusListError, match="signature"):
        sc.verify(forged, store.key, "1001", "revocation")


def test_alg_none_and_hmac_refused(school_keys: InstitutionKeys, store: TrustStore) -> None:
    token = status_list_documents(school_keys, [], [], NOW)["revocation"]
    payload = token.split(".")[1]
    none = b64url(json.dumps({"alg": "none", "kid": school_keys.kid,
                              "typ": "bkt-status"}).encode())
    with pytest.raises(sc.StatusListError, match="algorithm"):
        sc.verify(f"{none}.{payload}.", store.key, "1001", "revocation")
    secret = OctKey.import_key(b"public key bytes as an HMAC secret")
    hs = jws.serialize_compact({"alg": "HS256", "kid": school_keys.kid, "typ": "bkt-status"},
                               b64url_decode(payload), secret, algorithms=["HS256"])
    with pytest.raises(sc.StatusListError, match="algorithm"):
        sc.verify(hs, store.key, "1001", "revocation")


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c", "x" * 100, "e30.e30.e30"])
def test_malformed_tokens(token: str, store: TrustStore) -> None:
    with pytest.raises(sc.StatusListError):
        sc.verify(token, store.key, "1001", "revocation")


def test_build_refuses_bad_input() -> None:
    with pytest.raises(ValueError):
        sc.build("1001", "suspension", [], NOW, sequence=1)
    with pytest.raises(ValueError):
        sc.build("../x", "revocation", [], NOW, sequence=1)
    with pytest.raises(ValueError):
        sc.build("1001", "revocation", [-1], NOW, sequence=1)
    with pytest.raises(ValueError):
        sc.build("1001", "revocation", [], datetime(2026, 1, 1), sequence=1)
    with pytest.raises(ValueError):
        sc.build("1001", "revocation", [], NOW, sequence=0)


def test_a_list_without_a_sequence_number_is_refused(school_keys: InstitutionKeys,
                                                     store: TrustStore) -> None:
    """Lists from before they were numbered cannot be ordered, so cannot be trusted not
    to be replayed: the issuer re-signs them (numbered) at its next publication."""
    payload = sc.build("1001", "revocation", [], NOW, sequence=1).to_payload()
    del payload["sequence"]
    token = sc.sign_payload(payload, school_keys.credential_key, school_keys.kid, typ=sc.TYP)
    with pytest.raises(sc.StatusListError, match="sequence"):
        sc.verify(token, store.key, "1001", "revocation")


def test_published_documents_are_numbered_upwards(tmp_path: Path,
                                                  school_keys: InstitutionKeys) -> None:
    from issuer.adapters.publish import published_sequence

    assert published_sequence(tmp_path, "1001") == 0
    write_status_lists(tmp_path, school_keys, [], [], NOW)
    write_status_lists(tmp_path, school_keys, [1], [], NOW)
    assert published_sequence(tmp_path, "1001") == 2
    write_status_lists(tmp_path, school_keys, [1], [], NOW, sequence=7)
    assert published_sequence(tmp_path, "1001") == 7
    for older in (7, 3):  # never an older (or the same) number in place of a newer one
        with pytest.raises(ValueError, match="refusing"):
            write_status_lists(tmp_path, school_keys, [], [], NOW, sequence=older)
    assert published_sequence(tmp_path, "1001") == 7


def test_status_details_round_trip(school_keys: InstitutionKeys, store: TrustStore) -> None:
    from datetime import date

    from verifier.core import status_details as sd

    details = [sd.StatusDetail(3, sd.REVOKED, date(2026, 6, 30), "incorrect_data"),
               sd.StatusDetail(7, sd.SUPERSEDED, date(2026, 6, 29), None, 2, date(2026, 6, 29))]
    token = status_list_documents(school_keys, [3], [7], NOW, sequence=5,
                                  details=details)["details"]
    header = json.loads(b64url_decode(token.split(".")[0]))
    assert header["typ"] == "bkt-status-details"
    payload = json.loads(b64url_decode(token.split(".")[1]))
    assert payload["entries"] == {
        "3": {"state": "revoked", "date": "2026-06-30", "reason": "incorrect_data"},
        "7": {"state": "superseded", "date": "2026-06-29",
              "newer": {"version": 2, "date": "2026-06-29"}}}
    got = sd.verify(token, store.key, "1001")
    assert got.sequence == 5 and got.get(3) == details[0] and got.get(7) == details[1]
    assert got.get(4) is None
    with pytest.raises(sc.StatusListError, match="another institution"):
        sd.verify(token, store.key, "2001")
    # a status list is not details, nor the other way round
    lists = status_list_documents(school_keys, [3], [7], NOW, sequence=5)
    with pytest.raises(sc.StatusListError):
        sd.verify(lists["revocation"], store.key, "1001")
    with pytest.raises(sc.StatusListError):
        sc.verify(token, store.key, "1001", "revocation")


def test_published_files_and_bundle(tmp_path: Path, school_keys: InstitutionKeys,
                                    vocational_keys: InstitutionKeys, store: TrustStore):
    from issuer.adapters.publish import jwks_document, write_json

    write_json(tmp_path / ".well-known" / "jwks.json",
               jwks_document([(school_keys.credential_cert, school_keys.chain)]))
    paths = write_status_lists(tmp_path, school_keys, [1], [2], NOW)
    write_status_lists(tmp_path, vocational_keys, [], [], NOW)
    assert paths == [tmp_path / "status/1001/revocation.jws",
                     tmp_path / "status/1001/refresh.jws",
                     tmp_path / "status/1001/details.jws"]
    assert status_list_path(tmp_path, "2001", "refresh").exists()
    lists = read_status_lists(tmp_path)
    assert set(lists) == {"1001", "2001"}
    assert set(lists["1001"]) == {"revocation", "refresh", "details"}
    bundle = json.loads(write_trust_bundle(tmp_path, NOW).read_text())
    assert bundle["type"] == "bkt-trust-bundle" and bundle["created"] == "2026-07-01T12:00:00Z"
    assert bundle["jwks"]["keys"][0]["kid"] == school_keys.kid
    assert "root" not in json.dumps(bundle).lower()
    status = sc.verify(bundle["status"]["1001"]["refresh"], store.key, "1001", "refresh")
    assert status.is_set(2)


@pytest.mark.parametrize("extra", [{"crit": None}, {"crit": ["exp"]}, {"jku": "http://x"},
                                   {"x5u": "http://x"}, {"b64": False}])
def test_header_parameters_beyond_alg_kid_typ_refused(school_keys: InstitutionKeys,
                                                      store: TrustStore, extra: dict) -> None:
    token = status_list_documents(school_keys, [], [], NOW)["revocation"]
    _, payload, signature = token.split(".")
    header = b64url(json.dumps({"alg": "ES256", "kid": school_keys.kid, "typ": "bkt-status",
                                **extra}).encode())
    with pytest.raises(sc.StatusListError):
        sc.verify(f"{header}.{payload}.{signature}", store.key, "1001", "revocation")


def _with_header(token: str, header: str | bytes) -> str:
    raw = header.encode() if isinstance(header, str) else header
    _, payload, signature = token.split(".")
    return f"{b64url(raw)}.{payload}.{signature}"


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("header", [
    DEEP,  # json raises RecursionError, not ValueError: it escaped both functions
    '{"alg": "ES256", "kid": ' + DEEP + ', "typ": "bkt-status"}',
    "[]", '"ES256"', "null", "not json", b"\xff\xfe",
    '{"alg": "ES256", "typ": "bkt-status"}',
    '{"alg": "ES256", "kid": 7, "typ": "bkt-status"}',
    '{"alg": "ES256", "kid": "", "typ": "bkt-status"}',
    '{"alg": ["ES256"], "kid": "x", "typ": "bkt-status"}',
])
def test_malformed_headers_are_status_list_errors(school_keys: InstitutionKeys,
                                                  store: TrustStore, header: str | bytes) -> None:
    token = status_list_documents(school_keys, [], [], NOW)["revocation"]
    forged = _with_header(token, header)
    with pytest.raises(sc.StatusListError):
        sc.verify(forged, store.key, "1001", "revocation")
    kid = sc.header_kid(forged)
    assert kid is None or isinstance(kid, str)


def test_a_served_list_with_a_nested_header_is_a_failed_fetch(
    tmp_path: Path, school_keys: InstitutionKeys, authority
) -> None:
    """Through the trust source: whatever the issuer serves is a failed fetch, not a crash."""
    from issuer.adapters.publish import jwks_document, write_json
    from verifier.sources import SourceSettings, TrustSource

    write_json(tmp_path / ".well-known" / "jwks.json",
               jwks_document([(school_keys.credential_cert, school_keys.chain)]))
    path = write_status_lists(tmp_path, school_keys, [], [], datetime.now(UTC))[0]
    path.write_text(_with_header(path.read_text(), DEEP))
    source = TrustSource(SourceSettings(
        roots=(authority.root_cert,), jwks=str(tmp_path / ".well-known" / "jwks.json"),
        status=str(tmp_path / "status")))
    view = source.status("1001", "revocation")
    assert view.status is None
    assert "malformed status list header" in (view.error or "")
