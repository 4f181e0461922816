"""Key rotation, retirement and compromise, end to end (issue 9, part 1): what an
institution signed before new keys stays VALID on the QR path, the PDF path and
`transcripts verify`; a compromise voids what the key signed after it and leaves what it
claims to have signed before unproven; other institutions are untouched."""

from __future__ import annotations

import json
import re
import shutil
import time
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pikepdf
import pytest

from issuer.adapters import keystore
from issuer.core.lifecycle import AccountRole
from issuer.services import admin as admin_service
from issuer.services.checking import verify_pdf
from issuer.services.context import Actor, Issuer, ServiceError
from issuer.services.issuing import issue_batch
from issuer.services.keys import compromise_key, retire_key, rotate_keys
from issuer.services.lifecycle import revoke
from tests.e2e.conftest import (
    EXAMPLES,
    PASSWORD,
    REGISTRAR,
    SYSTEM,
    approved_batch,
    issue_file,
    make_issuer,
    only_students,
    pdfs,
    setup_school,
)
from tests.e2e.test_status_publishing import verifier_of
from verifier.core import status_credential
from verifier.core.credential import unverified_header
from verifier.core.verdict import Result, Status, Verdict

ADMIN = Actor("bma-admin", "test", AccountRole.ADMIN)


@pytest.fixture
def issuer(key_store: Path, tmp_path: Path) -> Issuer:
    """An issuer on its own copy of the session's key store (these tests change it), on
    SQLite: keys live in files, and the database part (audit, publishing) is the same
    code the PostgreSQL runs of the other e2e tests cover."""
    shutil.copytree(key_store, tmp_path / "keys")
    return make_issuer(f"sqlite:///{tmp_path / 'keys.db'}", tmp_path / "keys", tmp_path)


def issue(issuer: Issuer, code: str, *students: str) -> list[bytes]:
    name = "school-batch.csv" if code == "1001" else "vocational-batch.csv"
    _, report = issue_file(issuer, code, name, only_students(name, *students))
    return [(issuer.settings.output_dir / p).read_bytes() for p in report.issued]


def credential(pdf: bytes) -> str:
    with pikepdf.open(BytesIO(pdf)) as doc:
        return doc.attachments["credential.jws"].get_file().read_bytes().decode("ascii")


def transcript_id(pdf: bytes) -> str:
    with pikepdf.open(BytesIO(pdf)) as doc:
        record = doc.attachments["transcript.json"].get_file().read_bytes()
    return str(json.loads(record)["transcript_id"])


def kid(pdf: bytes) -> str:
    return str(unverified_header(credential(pdf))["kid"])


def every_path(issuer: Issuer, pdf: bytes) -> dict[str, Verdict]:
    """The verdicts of a verifier (QR and PDF, online and from the offline bundle) and of
    the issuer's own `transcripts verify`."""
    online, offline = verifier_of(issuer), verifier_of(issuer, bundle=True)
    return {"qr": online.credential(credential(pdf)), "pdf": online.pdf(pdf),
            "qr offline": offline.credential(credential(pdf)),
            "pdf offline": offline.pdf(pdf), "cli": verify_pdf(issuer, pdf)}


def results(verdicts: dict[str, Verdict]) -> dict[str, Result]:
    return {path: v.result for path, v in verdicts.items()}


def jwks(issuer: Issuer) -> dict[str, dict]:
    document = json.loads((issuer.settings.published_dir / ".well-known/jwks.json").read_text())
    return {k["kid"]: k for k in document["keys"]}


def check(verdict: Verdict, cid: str) -> tuple[Status, str]:
    found = next(c for c in verdict.checks if c.id == cid)
    return found.status, found.message_en


def test_rotation_keeps_earlier_transcripts_valid_on_every_path(issuer: Issuer) -> None:
    before_1001 = issue(issuer, "1001", "66001", "66002")
    before_2001 = issue(issuer, "2001", "69-1001")
    old_kid, other_kid = kid(before_1001[0]), kid(before_2001[0])
    other_jwk = jwks(issuer)[other_kid]
    other_files = {p: p.read_bytes() for p in (issuer.settings.keys_dir / "2001").rglob("*")
                   if p.is_file()}

    change = rotate_keys(issuer, "1001", actor=ADMIN)
    new_kid = change.history.generations[-1].kid
    assert change.created is not None and change.created.kid == new_kid != old_kid
    for pdf in [*before_1001, *before_2001]:
        assert set(results(every_path(issuer, pdf)).values()) == {Result.VALID}
    retired = every_path(issuer, before_1001[0])["qr"]
    assert "retired since" in check(retired, "credential_issuer_trusted")[1]

    lists = issuer.settings.published_dir / "status" / "1001"
    for name in ("revocation.jws", "refresh.jws"):  # re-signed with the new key
        assert status_credential.header_kid((lists / name).read_text().strip()) == new_kid
    (after,) = issue(issuer, "1001", "66003")  # the same running issuer: new keys
    assert kid(after) == new_kid
    assert set(results(every_path(issuer, after)).values()) == {Result.VALID}

    published = jwks(issuer)
    assert published[old_kid]["bkt_retired_at"] == published[new_kid]["bkt_not_before"]
    assert "bkt_retired_at" not in published[new_kid]
    assert published[other_kid] == other_jwk  # 2001 untouched
    assert {p: p.read_bytes() for p in (issuer.settings.keys_dir / "2001").rglob("*")
            if p.is_file()} == other_files
    assert kid(issue(issuer, "2001", "69-1002")[0]) == other_kid

    # revocation still reaches old transcripts: the lists are signed with the new key
    revoke(issuer, transcript_id(before_1001[1]), reason="issued in error", actor=REGISTRAR)
    assert set(results(every_path(issuer, before_1001[1])).values()) == {Result.REVOKED}

    rotate_keys(issuer, "1001", actor=ADMIN)  # retired keys stay published forever
    assert {old_kid, new_kid} <= set(jwks(issuer))
    assert set(results(every_path(issuer, before_1001[0])).values()) == {Result.VALID}
    assert set(results(every_path(issuer, after)).values()) == {Result.VALID}

    listing = [(k.generation.number, k.generation.state.value, k.purpose, k.problem)
               for k in admin_service.signing_keys(issuer)
               if k.institution == "1001" and k.generation is not None]
    assert listing == [(3, "active", "credential", ""), (3, "active", "pdf", ""),
                       (2, "retired", "credential", ""), (2, "retired", "pdf", ""),
                       (1, "retired", "credential", ""), (1, "retired", "pdf", "")]
    events = [e for e in admin_service.audit_log(issuer, institution_code="1001")
              if e.action == "key.rotate"]
    assert len(events) == 2 and events[0].actor == "bma-admin"
    assert events[0].detail["created"] == new_kid and events[0].detail["active"] == new_kid


def test_compromise_voids_what_the_key_signed_after_and_doubts_what_it_claims_before(
    issuer: Issuer,
) -> None:
    (earlier,) = issue(issuer, "1001", "66001")
    (other,) = issue(issuer, "2001", "69-1001")
    time.sleep(1.1)  # times are kept to the second
    since = datetime.now(UTC).replace(microsecond=0)
    time.sleep(1.1)
    (later,) = issue(issuer, "1001", "66002")  # e.g. by whoever took the key
    old_kid = kid(earlier)

    change = compromise_key(issuer, "1001", old_kid, since, actor=ADMIN)
    assert change.created is not None  # the active key was replaced at once
    assert jwks(issuer)[old_kid]["bkt_compromised_at"] == since.isoformat().replace(
        "+00:00", "Z")

    void = every_path(issuer, later)
    assert set(results(void).values()) == {Result.INVALID}
    status, message = check(void["qr"], "credential_key_not_compromised")
    assert status is Status.FAIL and "after that" in message
    assert check(void["pdf"], "pdf_key_not_compromised")[0] is Status.FAIL

    doubtful = every_path(issuer, earlier)
    assert set(results(doubtful).values()) == {Result.INDETERMINATE}
    status, message = check(doubtful["qr"], "credential_key_not_compromised")
    assert status is Status.INDETERMINATE and "back-date" in message
    assert check(doubtful["pdf"], "pdf_key_not_compromised")[0] is Status.INDETERMINATE

    assert set(results(every_path(issuer, other)).values()) == {Result.VALID}
    (fresh,) = issue(issuer, "1001", "66003")
    assert kid(fresh) == change.created.kid
    assert set(results(every_path(issuer, fresh)).values()) == {Result.VALID}

    with pytest.raises(ServiceError, match="only an earlier time"):
        compromise_key(issuer, "1001", old_kid, since, actor=ADMIN)
    events = {e.action for e in admin_service.audit_log(issuer, institution_code="1001")}
    assert "key.compromise" in events


def test_only_administrators_change_keys_and_the_rules_hold(issuer: Issuer) -> None:
    admin_service_account(issuer)
    for actor in (REGISTRAR, Actor("cli:operator", "cli")):
        with pytest.raises(ServiceError, match="only an administrator"):
            rotate_keys(issuer, "1001", actor=actor)
    active = keystore.read_history(issuer.settings.keys_dir, "1001").generations[0].kid
    with pytest.raises(ServiceError, match="only active key of 1001"):
        retire_key(issuer, "1001", active, actor=ADMIN)
    with pytest.raises(ServiceError, match="no institution with code '9999'"):
        rotate_keys(issuer, "9999", actor=ADMIN)
    assert keystore.read_history(issuer.settings.keys_dir, "1001").generations[0].kid == active

    retire_key(issuer, "1001", active, actor=ADMIN, final=True)
    batch_id = approved_batch(issuer, "1001", "school-batch.csv",
                              only_students("school-batch.csv", "66001"))
    with pytest.raises(ServiceError, match="no active signing key"):
        issue_batch(issuer, batch_id, actor=SYSTEM, workers=0)
    assert jwks(issuer)[active]["bkt_retired_at"]  # still published
    rotate_keys(issuer, "1001", actor=ADMIN)
    assert len(issue_batch(issuer, batch_id, actor=SYSTEM, workers=0).issued) == 1


def admin_service_account(issuer: Issuer) -> None:
    """An account exists, so the setup exemption of `require_admin` is over."""
    from issuer.services.accounts import create_account

    create_account(issuer, username="bma-admin", password=PASSWORD, role="admin",
                   institution_code=None, actor=ADMIN)


def test_the_key_commands(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    setup_school(run)
    imported = run("--as", "reg", "import", EXAMPLES / "school-batch.csv", "--institution",
                   "1001", password=PASSWORD)
    batch_id = re.search(r"imported batch (\d+)", imported.stdout).group(1)  # type: ignore[union-attr]
    assert run("--as", "reg", "submit", batch_id, password=PASSWORD).exit_code == 0
    assert run("--as", "dir", "approve", batch_id, password=PASSWORD).exit_code == 0
    issued = run("issue", batch_id, "--workers", "0")
    old_pdf = pdfs(issued.stdout)[0]
    listed = run("keys", "list", "--institution", "1001")
    old_kid = re.search(r"^\s+1\s+(\S+)\s+active", listed.stdout, re.M).group(1)  # type: ignore[union-attr]

    refused = run("keys", "rotate", "--institution", "1001")
    assert refused.exit_code == 1 and "only an administrator" in refused.stderr
    refused = run("--as", "reg", "keys", "rotate", "--institution", "1001", password=PASSWORD)
    assert refused.exit_code == 1 and "only an administrator" in refused.stderr
    rotated = run("--as", "admin", "keys", "rotate", "--institution", "1001",
                  password=PASSWORD)
    assert rotated.exit_code == 0, rotated.output
    assert re.search(rf"^\s+1\s+{re.escape(old_kid)}\s+retired\s+from .* to ", rotated.stdout,
                     re.M)
    assert re.search(r"^\s+2\s+\S+\s+active", rotated.stdout, re.M)
    verified = run("verify", old_pdf)
    assert verified.exit_code == 0 and verified.stdout.rstrip().endswith("VALID")

    new_kid = re.search(r"^\s+2\s+(\S+)", rotated.stdout, re.M).group(1)  # type: ignore[union-attr]
    retire = run("--as", "admin", "keys", "retire", "--institution", "1001", "--kid",
                 new_kid, password=PASSWORD)
    assert retire.exit_code == 1 and "only active key" in retire.stderr
    bad = run("--as", "admin", "keys", "compromise", "--institution", "1001", "--kid",
              old_kid, "--since", "yesterday", password=PASSWORD)
    assert bad.exit_code == 2 and "ISO 8601" in bad.stderr
    compromised = run("--as", "admin", "keys", "compromise", "--institution", "1001",
                      "--kid", old_kid, "--since", "2020-01-01", password=PASSWORD)
    assert compromised.exit_code == 0, compromised.output
    assert "compromised since 2019-12-31 17:00 UTC" in compromised.stdout  # Bangkok time
    verified = run("verify", old_pdf)
    assert verified.exit_code == 1 and verified.stdout.rstrip().endswith("INVALID")
    assert "FAIL credential_key_not_compromised" in verified.stdout

    exported = run("audit", "export").stdout
    actions = [json.loads(line)["action"] for line in exported.splitlines()]
    assert actions.count("key.rotate") == 1 and actions.count("key.compromise") == 1
