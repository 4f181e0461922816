"""The `transcripts` command as registrars, directors and operators use it: signed in with
``--as``, under the same rules as the web; one-line errors, exit codes, demo."""

from __future__ import annotations

import re
import stat
import time
from pathlib import Path

import pytest

from issuer.config import Settings
from issuer.core.lifecycle import AccountRole
from issuer.services import accounts
from issuer.services.context import Actor, Issuer
from tests import hostile_xlsx
from tests.e2e.conftest import EXAMPLES, PASSWORD, edit_csv, pdfs, setup_school


def test_demo_issues_both_kinds_and_each_verifies(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("demo", "--workers", "0")
    assert result.exit_code == 0, result.output
    files = pdfs(result.stdout)
    assert len(files) == 12 and all(f.exists() for f in files)
    assert {f.parent.name for f in files} == {"1001", "2001"}
    # each with its VC 2.0 export beside it, and the DID document that verifies them
    assert all(f.with_name(f.name.removesuffix(".pdf") + ".vc.json").is_file() for f in files)
    assert "did:web:127.0.0.1%3A8000" in result.stdout
    assert (tmp_path / "var" / "published" / ".well-known" / "did.json").is_file()
    keys, var = tmp_path / "keys", tmp_path / "var"
    assert not (keys / ".passphrase").exists() and not list(keys.rglob("root.key"))
    assert (var / "secrets" / "key-passphrase").exists()  # development only
    assert (var / "ceremony" / "root.key").exists()  # the dev ceremony's "offline" folder
    for path in (var, keys, var / "out", var / "secrets", var / "ceremony"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    for path in (var / "transcripts.db", files[0], keys / "integrity.key"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for f in (files[0], files[-1], files[0].with_name(files[0].stem + ".vc.json")):
        verified = run("verify", f)  # a PDF, or a VC 2.0 export
        assert verified.exit_code == 0 and verified.stdout.rstrip().endswith("VALID")
    # without a TSA (this run has none) the demo signs B-B: past its certificate's end,
    # nothing proves it was signed in time (test_serve.py: the B-LTA demo, in 2040)
    later = run("verify", files[0], "--at", "2031-01-01")
    assert later.exit_code == 1 and later.stdout.rstrip().endswith("INDETERMINATE")
    assert "long_term_validity: The signer's certificate expired on" in later.stdout
    assert run("verify", files[0], "--at", "soon").exit_code == 2  # not a time
    not_pdf = run("verify", EXAMPLES / "institutions.json")
    assert not_pdf.exit_code == 1 and not_pdf.stderr.startswith("Error: not a PDF file")
    again = run("demo", "--workers", "0")  # idempotent: nothing issued twice
    assert again.exit_code == 0
    assert "batch 1 is issued" in again.stdout and "batch 2 is issued" in again.stdout
    assert sorted(pdfs(again.stdout)) == sorted(files)


def test_demo_refuses_a_database_with_other_accounts(run) -> None:  # type: ignore[no-untyped-def]
    setup_school(run)
    refused = run("demo", "--workers", "0")
    assert refused.exit_code == 1 and "database of its own" in refused.stderr
    assert run("--as", "dir", "approve", "1", password=PASSWORD).exit_code == 1  # no batch


def test_the_command_line_cannot_approve_alone(run) -> None:  # type: ignore[no-untyped-def]
    """Found: `transcripts approve` and `issue --approve` approved directly, so one operator
    could import, approve and issue alone."""
    setup_school(run)
    anonymous = run("import", EXAMPLES / "school-batch.csv", "--institution", "1001")
    assert anonymous.exit_code == 1 and "signed-in account" in anonymous.stderr
    wrong = run("--as", "reg", "import", EXAMPLES / "school-batch.csv", "--institution",
                "1001", password="not the password")
    assert wrong.exit_code == 1 and "incorrect username, password or code" in wrong.stderr
    imported = run("--as", "reg", "import", EXAMPLES / "school-batch.csv", "--institution",
                   "1001", password=PASSWORD)
    assert imported.exit_code == 0 and "imported batch 1: 6 new" in imported.stdout
    progress = imported.stderr.replace("\r", "\n").splitlines()  # issue 14: no silence
    assert "rows read and checked: 516" in progress
    assert "students validated and sealed" in progress, progress
    assert "students matched with earlier issues" in progress, progress
    for who, message in ((None, "signed-in account"), ("reg", "only an approver"),
                         ("dir", "not submitted")):
        args = ("--as", who) if who else ()
        refused = run(*args, "approve", "1", password=PASSWORD)
        assert refused.exit_code == 1 and message in refused.stderr, refused.output
    unapproved = run("issue", "1", "--workers", "0")
    assert unapproved.exit_code == 1
    assert unapproved.stderr.strip() == (
        "Error: batch 1 is imported: it must be approved before issuing")
    assert "No such option '--approve'" in run("issue", "1", "--approve").stderr
    assert run("--as", "dir", "submit", "1", password=PASSWORD).exit_code == 1  # a registrar's
    assert run("--as", "reg", "submit", "1", password=PASSWORD).exit_code == 0
    approved = run("--as", "dir", "approve", "1", password=PASSWORD)
    assert approved.exit_code == 0 and "issuance queued as job" in approved.stdout
    issued = run("issue", "1", "--workers", "0")  # the system issues what was approved
    assert issued.exit_code == 0 and len(pdfs(issued.stdout)) == 6
    audit = run("--as", "admin", "audit", "export", password=PASSWORD).stdout
    assert '"actor":"dir","action":"batch.approve"' in audit
    assert '"actor":"reg","action":"batch.import"' in audit


def test_revocation_is_final_and_a_reissue_waits_for_approval(run) -> None:  # type: ignore[no-untyped-def]
    files = pdfs(run("demo", "--workers", "0").stdout)
    transcript_id = files[0].name.split("-v")[0]
    refused = run("revoke", transcript_id, "--reason", "issued in error")
    assert refused.exit_code == 1 and "signed-in account" in refused.stderr
    # the demo's accounts have random passwords: a registrar and a director we know
    issuer = Issuer.open(Settings.from_env())
    admin = Actor("bma-admin", "test", AccountRole.ADMIN)
    for name, role in (("reg", "registrar"), ("dir", "approver")):
        accounts.create_account(issuer, username=name, password=PASSWORD, role=role,
                                institution_code="1001", actor=admin)
    revoked = run("--as", "reg", "revoke", transcript_id, "--reason", "wrong student's grades",
                  "--reason-code", "issued_in_error", password=PASSWORD)
    assert revoked.exit_code == 0 and f"revoked {transcript_id} v1" in revoked.stdout
    verified = run("verify", files[0])
    assert verified.exit_code == 1
    today = issuer.today()
    on = f"{today.day} {today.strftime('%B')} {today.year}"
    assert (f"FAIL not_revoked: This transcript has been revoked on {on}: issued in error "
            "(recorded reason: wrong student's grades)") in verified.stdout
    assert "latest version" not in verified.stdout  # a revoked version is nobody's latest
    assert verified.stdout.rstrip().endswith("REVOKED")
    undo = run("--as", "reg", "reissue", transcript_id, "--reason", "undo", password=PASSWORD)
    assert undo.exit_code == 1 and "cannot be undone" in undo.stderr

    other = files[1].name.split("-v")[0]
    requested = run("--as", "reg", "reissue", other, "--reason", "typo", password=PASSWORD)
    assert requested.exit_code == 0 and "waiting for approval" in requested.stdout
    batch_id = re.search(r"batch (\d+)", requested.stdout).group(1)  # type: ignore[union-attr]
    assert run("issue", batch_id, "--workers", "0").exit_code == 1  # not approved yet
    assert run("--as", "reg", "approve", batch_id, password=PASSWORD).exit_code == 1
    assert run("--as", "dir", "approve", batch_id, password=PASSWORD).exit_code == 0
    issued = run("issue", batch_id, "--workers", "0")
    (new_pdf,) = pdfs(issued.stdout)
    assert issued.exit_code == 0 and new_pdf.name.startswith(f"{other}-v2-")
    assert run("verify", new_pdf).exit_code == 0
    old = run("verify", files[1]).stdout
    assert old.rstrip().endswith("SUPERSEDED")
    assert (f"FAIL latest_version: Version 2, issued on {on}, replaces this one: ask the "
            "school or the graduate for version 2") in old


def test_a_bad_file_is_rejected_whole(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    setup_school(run)
    bad = tmp_path / "bad.csv"
    spoiled = {"done": False}

    def spoil(row: dict[str, str]) -> None:
        if row["record_type"] == "course" and not spoiled["done"]:
            row["grade"], spoiled["done"] = "A+", True

    bad.write_bytes(edit_csv("school-batch.csv", spoil))
    rejected = run("--as", "reg", "import", bad, "--institution", "1001", password=PASSWORD)
    assert rejected.exit_code == 1
    lines = rejected.stderr.replace("\r", "").rstrip().splitlines()
    assert lines[0] == "rows read and checked: 516"  # progress, on stderr
    assert lines[-1] == "Error: batch rejected: 1 error(s), nothing was imported"
    assert lines[1].startswith('  แถว/row 2, grade = "A+": ')
    # issue 10's hostile XLSX files: one clean error each, read in a bounded child
    for make, reason in ((hostile_xlsx.entity_chain, "declares a DTD"),
                         (hostile_xlsx.undefined_entity, "damaged"),
                         (hostile_xlsx.shared_strings_bomb, "unpack to more than 50 MB")):
        path = tmp_path / f"{make.__name__}.xlsx"
        path.write_bytes(make())
        result = run("--as", "reg", "import", path, "--institution", "1001",
                     password=PASSWORD)
        assert result.exit_code == 1 and reason in result.stderr, result.stderr
        assert result.stderr.rstrip().endswith("nothing was imported")


@pytest.mark.parametrize(("args", "message"), [
    (("verify", "README.md"), "Error: no trusted root: run `transcripts keys create` first"),
    (("revoke", "1001-2569-999999", "--reason", "x"), "Error: this needs a signed-in account"),
    (("--as", "nobody", "revoke", "1001-2569-999999", "--reason", "x"),
     "Error: incorrect username, password or code"),
    (("keys", "create"), "Error: no institutions: run `transcripts institutions load` first"),
])
def test_errors_are_one_line_and_exit_non_zero(run, args, message) -> None:  # type: ignore[no-untyped-def]
    args = tuple(str(Path(__file__).parents[2] / a) if a.endswith(".md") else a for a in args)
    result = run(*args, password="whatever password")
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith(message)



def test_approvers_and_administrators_act_only_with_a_second_factor(  # type: ignore[no-untyped-def]
        run, monkeypatch: pytest.MonkeyPatch) -> None:
    """ASVS 4.3.1 on the command line, with the production default: ``--as`` an approver
    or administrator without TOTP is refused; with TOTP on it asks for the code."""
    import pyotp

    setup_school(run)
    monkeypatch.setenv("BKT_SECOND_FACTOR_ROLES", "admin,approver")
    for who in ("dir", "admin"):
        refused = run("--as", who, "approve", "1", password=PASSWORD)
        assert refused.exit_code == 1 and "acts only with two-step sign-in" in refused.stderr
    assert run("--as", "reg", "import", EXAMPLES / "school-batch.csv", "--institution",
               "1001", password=PASSWORD).exit_code == 0  # registrars are not held back
    issuer = Issuer.open(Settings.from_env())
    director = next(a for a in accounts.list_accounts(issuer) if a.username == "dir")
    secret = accounts.new_totp_secret()
    accounts.enable_totp(issuer, director.id, secret, pyotp.TOTP(secret).now(),
                         password=PASSWORD, actor=Actor("dir", "test", AccountRole.APPROVER,
                                                        "1001"))
    next_code = pyotp.TOTP(secret).at(time.time() + 30)  # the enabling code is spent
    monkeypatch.setenv("BKT_TOTP", next_code)
    signed_in = run("--as", "dir", "approve", "1", password=PASSWORD)
    assert "two-step" not in signed_in.stderr and "not submitted" in signed_in.stderr
