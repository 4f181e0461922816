"""One record, many forms (issue 13): the PDF's ``transcript.json``, its QR credential,
the VC 2.0 export (``.vc.json``) and the SD-JWT VC (``.sd-jwt``) of every issued version
are made from the same frozen record and say the same, field by field; revoked, all four
are REVOKED, superseded, all four SUPERSEDED."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from issuer.adapters.vc_export import vc_path_for
from issuer.services.context import Issuer
from issuer.services.lifecycle import revoke
from tests.e2e.conftest import REGISTRAR, issue_both_kinds, reissue
from tests.e2e.test_vc import our_verifier
from verifier.core import credential, sd_jwt, sd_jwt_vc
from verifier.core.canonical import canonical_json, digest
from verifier.core.verdict import Result


@dataclass(frozen=True)
class Forms:
    """The four forms of one issued version, as files hold them."""

    pdf: bytes
    record: dict[str, Any]  # transcript.json, attached to the PDF
    qr: str  # credential.jws, attached to the PDF (the printed QR equals it)
    vc: dict[str, Any]
    sd_jwt: str  # every disclosure


def forms(pdf_path: Path) -> Forms:
    pdf = pdf_path.read_bytes()
    with pikepdf.open(BytesIO(pdf)) as doc:
        files = {name: doc.attachments[name].get_file().read_bytes()
                 for name in ("transcript.json", "credential.jws")}
    return Forms(pdf, json.loads(files["transcript.json"]), files["credential.jws"].decode(),
                 json.loads(Path(vc_path_for(str(pdf_path))).read_text("utf-8")),
                 pdf_path.with_suffix(".sd-jwt").read_text("ascii"))


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory, key_store: Path
           ) -> tuple[Issuer, list[Path]]:
    return issue_both_kinds(tmp_path_factory.mktemp("one-record"), key_store)


def key_resolver(issuer: Issuer, code: str) -> Any:
    keys = issuer.keys(code)
    public = keys.credential_key.public_key()
    return lambda kid: public if kid == keys.kid else None


def names(record: dict[str, Any], lang: str, *, prefix: bool) -> str:
    s = record["student"]
    parts = (s[f"prefix_{lang}"] if prefix else None, s[f"first_name_{lang}"],
             s[f"last_name_{lang}"])
    return " ".join(p for p in parts if p)


def test_the_four_forms_agree_field_by_field(issued: tuple[Issuer, list[Path]]) -> None:
    issuer, pdfs = issued
    kinds = set()
    for path in pdfs:
        f = forms(path)
        r = f.record
        code, kind = r["institution"]["code"], r["institution"]["kind"]
        kinds.add(kind)
        resolve = key_resolver(issuer, code)
        record_digest = digest(canonical_json(r))

        # the QR credential: the record's identity, the headline figures and its digest
        _, qr = credential.verify(f.qr, resolve)
        assert (qr.transcript_id, qr.version, qr.institution, qr.status_index) == (
            r["transcript_id"], r["version"], code, r["status_index"])
        assert qr.record_digest == record_digest
        assert qr.programme == r["programme"]["code"]
        assert qr.gpa == r.get("summary", {}).get("gpa")
        assert qr.graduation_date is not None
        assert qr.graduation_date.isoformat() == r["graduation_date"]
        assert qr.name == names(r, "th", prefix=False)
        assert qr.name_en == names(r, "en", prefix=False)
        assert datetime.fromtimestamp(qr.issued_at, UTC).isoformat().replace(
            "+00:00", "Z") == r["issued_at"]

        # the VC 2.0 export: the same record inside, the same digest, the same status bit
        subject = f.vc["credentialSubject"]
        assert subject["transcript"] == r
        assert subject["transcriptDigest"] == record_digest
        assert f.vc["validFrom"] == r["issued_at"]
        entries = f.vc["credentialStatus"]
        entries = entries if isinstance(entries, list) else [entries]
        assert {e["statusPurpose"] for e in entries} == {"revocation", "refresh"}
        assert {int(e["statusListIndex"]) for e in entries} == {r["status_index"]}
        assert all(f"/status/{code}/" in e["statusListCredential"] for e in entries)

        # the SD-JWT VC with every disclosure: the same identity, each field the record's
        verified = sd_jwt.verify(f.sd_jwt, resolve, types=sd_jwt_vc.TYPES,
                                 visible=sd_jwt_vc.VISIBLE)
        sd = sd_jwt_vc.read(verified)
        assert (sd.transcript_id, sd.version, sd.institution, sd.status_index, sd.kind) == (
            r["transcript_id"], r["version"], code, r["status_index"], kind)
        assert sd.issued_at == qr.issued_at
        assert sd.withheld_fields == () and not any(sd.withheld.values())
        shown = sd.disclosed
        assert shown["name"] == {"th": names(r, "th", prefix=True),
                                 "en": names(r, "en", prefix=True)}
        assert shown["programme"] == {k: r["programme"][k] for k in ("code", "name_th",
                                                                     "name_en")}
        assert shown["graduation_date"] == r["graduation_date"]
        if kind == "school":
            assert shown["gpa"] == r["summary"]["gpa"] == qr.gpa
            assert shown["courses"] == r["courses"] and len(r["courses"]) > 10
            assert shown["terms"] == [{k: t[k] for k in sd_jwt_vc.TERM_KEYS}
                                      for t in r["summary"]["terms"]]
        else:
            assert shown["modules"] == r["modules"] and r["modules"]
    assert kinds == {"school", "vocational"}


def test_the_four_forms_carry_one_status(issued: tuple[Issuer, list[Path]]) -> None:
    """Our verifier reads each form's status from the same lists: revoke one version and
    reissue another, and every form of each says so."""
    issuer, pdfs = issued
    school = [p for p in pdfs if p.parent.name == "1001"]
    revoked, replaced = forms(school[0]), forms(school[1])
    revoke(issuer, revoked.record["transcript_id"], reason="issued in error",
           actor=REGISTRAR)
    report = reissue(issuer, replaced.record["transcript_id"], reason="grades corrected")
    new_pdf = issuer.settings.output_dir / report.issued[0]
    verifier = our_verifier(issuer)
    for f, expected in ((revoked, Result.REVOKED), (replaced, Result.SUPERSEDED),
                        (forms(new_pdf), Result.VALID), (forms(school[2]), Result.VALID)):
        verdicts = {"pdf": verifier.pdf(f.pdf), "qr": verifier.credential(f.qr),
                    "vc": verifier.vc(json.dumps(f.vc)), "sd-jwt": verifier.sd_jwt(f.sd_jwt)}
        assert {form: v.result for form, v in verdicts.items()} == dict.fromkeys(
            verdicts, expected), f.record["transcript_id"]
