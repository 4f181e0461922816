"""The W3C VC 2.0 export (Open Badges 3.0, ecdsa-rdfc-2019): every issued version's
``.vc.json`` beside its PDF verifies with the Digital Bazaar stack from npm, offline,
against our published DID document and status list credentials; a revoked one shows
its bit set there, a superseded one its refresh bit, and a tampered one fails."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from issuer.adapters.vc_export import vc_path_for
from issuer.services.context import Issuer
from issuer.services.lifecycle import revoke
from tests.e2e.conftest import REGISTRAR, issue_file, make_issuer, only_students, reissue
from tests.vcnode import verify
from verifier.core import data_integrity, did_web


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory, key_store: Path
           ) -> tuple[Issuer, list[Path]]:
    folder = tmp_path_factory.mktemp("vc")
    issuer = make_issuer(f"sqlite:///{folder / 'test.db'}", key_store, folder)
    _, school = issue_file(issuer, "1001", "school-batch.csv",
                           only_students("school-batch.csv", "66001", "66002", "66003"))
    _, vocational = issue_file(issuer, "2001", "vocational-batch.csv")
    out = issuer.settings.output_dir
    return issuer, [out / vc_path_for(p) for p in school.issued + vocational.issued]


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
