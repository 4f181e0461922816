"""The W3C VC 2.0 export (Open Badges 3.0, ecdsa-rdfc-2019): every issued version's
``.vc.json`` beside its PDF verifies with the Digital Bazaar stack from npm, offline,
against our published DID document and status list credentials; a revoked one shows
its bit set there, a superseded one its refresh bit, and a tampered one fails."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from issuer.adapters.pki import load_root
from issuer.adapters.vc_export import vc_path_for
from issuer.config import Settings
from issuer.services.checking import verify_vc
from issuer.services.context import Issuer, ServiceError
from issuer.services.keys import compromise_key, rotate_keys
from issuer.services.lifecycle import revoke
from tests.e2e.conftest import (
    REGISTRAR,
    issue_both_kinds,
    issue_file,
    make_issuer,
    only_students,
    reissue,
)
from tests.e2e.test_key_lifecycle import ADMIN
from tests.vcnode import run, verify
from verifier.core import data_integrity, did_web, open_badge
from verifier.core.canonical import canonical_json, digest
from verifier.core.verdict import Result, Verdict
from verifier.sources import SourceSettings, TrustSource
from verifier.verification import Verifier


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory, key_store: Path
           ) -> tuple[Issuer, list[Path]]:
    issuer, pdfs = issue_both_kinds(tmp_path_factory.mktemp("vc"), key_store)
    return issuer, [Path(vc_path_for(str(p))) for p in pdfs]


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text("utf-8"))


def test_every_exported_credential_verifies_with_digital_bazaar(
        issued: tuple[Issuer, list[Path]]) -> None:
    issuer, files = issued
    assert len(files) > 3 and all(f.is_file() for f in files)
    results = verify(issuer.settings.published_dir, *files)
    for name, result in results.items():
        assert result["verified"], (name, result)
        assert result["status"] == {"revocation": False, "refresh": False}, name


def test_the_python_verifier_agrees(issued: tuple[Issuer, list[Path]]) -> None:
    issuer, files = issued
    did_doc = load(issuer.settings.published_dir / ".well-known/did.json")
    for path in files:
        credential = load(path)
        proof = data_integrity.proof_of(credential)
        key = did_web.find_method(did_doc, proof["verificationMethod"])
        assert key is not None
        data_integrity.verify_proof(credential, key)


def our_verifier(issuer: Issuer) -> Verifier:
    published = issuer.settings.published_dir
    return Verifier(TrustSource(SourceSettings(
        roots=(load_root(issuer.settings.keys_dir),),
        jwks=str(published / ".well-known" / "jwks.json"), status=str(published / "status"))))


def checks(verdict: Verdict) -> dict[str, str]:
    return {c.id: c.status.value for c in verdict.checks}


def test_our_verifier_checks_an_export_against_the_jwks_and_status(
        issued: tuple[Issuer, list[Path]], tmp_path: Path) -> None:
    issuer, files = issued
    verifier = our_verifier(issuer)
    vocational = next(f for f in files if f.parent.name == "2001")
    for path in (files[0], vocational):
        verdict = verifier.vc(path.read_bytes())
        assert verdict.result is Result.VALID, checks(verdict)
        assert checks(verdict)["record_digest"] == "pass"
        assert verdict.data["transcript_id"] == load(path)["credentialSubject"][
            "transcript"]["transcript_id"]
    assert verify_vc(issuer, files[0].read_bytes()).result is Result.VALID  # the CLI's
    forged = load(files[0])
    forged["credentialSubject"]["transcript"]["summary"]["gpa"] = "4.00"
    verdict = verifier.vc(json.dumps(forged))
    assert verdict.result is Result.INVALID
    assert checks(verdict)["credential_signature"] == "fail"
    # a centre's key cannot vouch for a school's record, even in a well-signed credential
    other = load(vocational)
    record = other["credentialSubject"]["transcript"]
    record["institution"]["code"] = "1001"
    rebuilt = open_badge.credential(record, did=other["issuer"]["id"],
                                    record_digest=digest(canonical_json(record)),
                                    status=other["credentialStatus"])
    keys = issuer.keys("2001")
    resigned = data_integrity.add_proof(rebuilt, keys.credential_key,
                                        other["proof"]["verificationMethod"], datetime.now(UTC))
    verdict = verifier.vc(json.dumps(resigned))
    assert checks(verdict)["credential_signature"] == "pass"
    assert checks(verdict)["credential_institution"] == "fail"
    assert verdict.result is not Result.VALID
    with pytest.raises(ServiceError):
        verify_vc(issuer, b'{"type": ["VerifiableCredential"]}')
    # a credential of another shape than ours is refused before any JSON-LD work
    extra = load(files[0])
    extra["credentialSubject"]["result"].append({"type": ["Result"], "value": "4"})
    verdict = verifier.vc(json.dumps(extra))
    assert verdict.result is Result.INVALID
    assert "not a transcript credential as issued" in next(
        c.message_en for c in verdict.checks if c.id == "credential_signature")


def test_a_tampered_credential_fails(issued: tuple[Issuer, list[Path]],
                                     tmp_path: Path) -> None:
    issuer, files = issued
    credential = load(files[0])
    subject = credential["credentialSubject"]
    gpax = next(r for r in subject["result"] if r["resultDescription"].endswith(":gpax"))
    gpax["value"] = "4.00"  # grade inflation
    forged = tmp_path / "gpa.vc.json"
    forged.write_text(json.dumps(credential, ensure_ascii=False), "utf-8")
    record = load(files[0])
    record["credentialSubject"]["transcript"]["summary"]["gpa"] = "4.00"
    forged_record = tmp_path / "record.vc.json"
    forged_record.write_text(json.dumps(record, ensure_ascii=False), "utf-8")
    results = verify(issuer.settings.published_dir, forged, forged_record, files[0])
    assert not results["gpa.vc.json"]["verified"]
    assert not results["record.vc.json"]["verified"]
    assert results[files[0].name]["verified"]  # the original, in the same run


def test_revoked_and_superseded_show_in_the_bitstring_lists(
        issued: tuple[Issuer, list[Path]]) -> None:
    issuer, files = issued
    school = [f for f in files if f.parent.name == "1001"]
    revoked, superseded = (load(f)["credentialSubject"]["transcript"]["transcript_id"]
                           for f in school[:2])
    revoke(issuer, revoked, reason="issued in error", actor=REGISTRAR)
    report = reissue(issuer, superseded, reason="name misspelt")
    newer = [issuer.settings.output_dir / vc_path_for(p) for p in report.issued]
    results = verify(issuer.settings.published_dir, *school[:3], *newer)
    assert results[school[0].name]["verified"]
    assert results[school[0].name]["status"] == {"revocation": True, "refresh": False}
    assert results[school[1].name]["status"] == {"revocation": False, "refresh": True}
    assert results[school[2].name]["status"] == {"revocation": False, "refresh": False}
    assert results[newer[0].name]["verified"]
    assert results[newer[0].name]["status"] == {"revocation": False, "refresh": False}
    assert load(newer[0])["credentialSubject"]["transcript"]["version"] == 2
    published = issuer.settings.published_dir
    assert run(published, school[0])[0] == 1  # the script fails a revoked one
    assert run(published, school[2], newer[0])[0] == 0
    # our verifier reads the same bits (from the JWS lists published beside them)
    verifier = our_verifier(issuer)
    assert verifier.vc(school[0].read_bytes()).result is Result.REVOKED
    assert verifier.vc(school[1].read_bytes()).result is Result.SUPERSEDED
    assert verifier.vc(newer[0].read_bytes()).result is Result.VALID


def test_the_export_can_be_turned_off(tmp_path: Path, key_store: Path) -> None:
    assert Settings.from_env({"BKT_VC_EXPORT": "0"}).vc_export is False
    assert Settings.from_env({}).vc_export is True
    issuer = make_issuer(f"sqlite:///{tmp_path / 'test.db'}", key_store, tmp_path,
                         vc_export=False)
    _, report = issue_file(issuer, "1001", "school-batch.csv",
                           only_students("school-batch.csv", "66001"))
    pdf = issuer.settings.output_dir / report.issued[0]
    assert pdf.is_file() and not (issuer.settings.output_dir / vc_path_for(report.issued[0])
                                  ).exists()
    assert (issuer.settings.published_dir / "status" / "1001" / "revocation.vc.json").is_file()


def test_credentials_verify_across_a_key_rotation(tmp_path: Path, key_store: Path) -> None:
    """A new key generation adds a verification method; the old one stays in did.json,
    so what it signed still verifies, and each method id is the same as before. A key
    reported compromised stays listed but no longer asserts: fail closed."""
    shutil.copytree(key_store, tmp_path / "keys")
    issuer = make_issuer(f"sqlite:///{tmp_path / 'test.db'}", tmp_path / "keys", tmp_path,
                         vc_export=True)
    out = issuer.settings.output_dir
    _, first = issue_file(issuer, "1001", "school-batch.csv",
                          only_students("school-batch.csv", "66001"))
    did_json = issuer.settings.published_dir / ".well-known" / "did.json"
    before = load(did_json)["assertionMethod"]
    rotate_keys(issuer, "1001", actor=ADMIN)
    _, second = issue_file(issuer, "1001", "school-batch.csv",
                           only_students("school-batch.csv", "66002"))
    after = load(did_json)["assertionMethod"]
    assert set(before) < set(after) and len(after) == len(before) + 1
    old, new = out / vc_path_for(first.issued[0]), out / vc_path_for(second.issued[0])
    assert load(old)["proof"]["verificationMethod"] != load(new)["proof"]["verificationMethod"]
    results = verify(issuer.settings.published_dir, old, new)
    assert all(r["verified"] and not any(r["status"].values()) for r in results.values())
    # the old key reported compromised: still listed, but it asserts nothing any more
    method = load(old)["proof"]["verificationMethod"]
    compromise_key(issuer, "1001", method.rsplit("#1001-", 1)[1], datetime.now(UTC),
                   actor=ADMIN)
    document = load(did_json)
    assert method in {m["id"] for m in document["verificationMethod"]}
    assert method not in document["assertionMethod"]
    results = verify(issuer.settings.published_dir, old, new)
    assert not results[old.name]["verified"] and results[new.name]["verified"]
