"""The `transcripts` command as a registrar uses it: one-line errors, exit codes, demo."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from issuer.cli import main
from tests.e2e.conftest import EXAMPLES, edit_csv


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Invoke the CLI against a fresh var/ and key store under tmp_path."""
    monkeypatch.setenv("BKT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("BKT_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.delenv("BKT_DATABASE_URL", raising=False)
    monkeypatch.delenv("BKT_KEY_PASSPHRASE", raising=False)

    def invoke(*args: str | Path) -> Result:
        result = CliRunner().invoke(main, [str(a) for a in args])
        assert "Traceback" not in result.output
        return result

    return invoke


def pdfs(output: str) -> list[Path]:
    return [Path(p) for p in re.findall(r"^\s*(/\S+\.pdf)$", output, re.M)]


def test_demo_issues_both_kinds_and_each_verifies(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("demo", "--workers", "0")
    assert result.exit_code == 0, result.output
    files = pdfs(result.stdout)
    assert len(files) == 12 and all(f.exists() for f in files)
    assert {f.parent.name for f in files} == {"1001", "2001"}
    assert (tmp_path / "keys" / ".passphrase").exists()
    for f in (files[0], files[-1]):
        verified = run("verify", f)
        assert verified.exit_code == 0 and verified.stdout.rstrip().endswith("VALID")
    not_pdf = run("verify", EXAMPLES / "institutions.json")
    assert not_pdf.exit_code == 1 and not_pdf.stderr.startswith("Error: not a PDF file")
    again = run("demo", "--workers", "0")  # idempotent: nothing issued twice
    assert again.exit_code == 0
    assert "0 issued, 6 already issued" in again.stdout
    assert sorted(pdfs(again.stdout)) == sorted(files)


def test_revoke_then_verify_exits_non_zero(run) -> None:  # type: ignore[no-untyped-def]
    files = pdfs(run("demo", "--workers", "0").stdout)
    transcript_id = files[0].name.split("-v")[0]
    revoked = run("revoke", transcript_id, "--reason", "issued in error")
    assert revoked.exit_code == 0 and f"revoked {transcript_id} v1" in revoked.stdout
    verified = run("verify", files[0])
    assert verified.exit_code == 1
    assert "FAIL not_revoked: Revoked: issued in error" in verified.stdout
    assert verified.stdout.rstrip().endswith("REVOKED")
    reissued = run("reissue", files[1].name.split("-v")[0], "--reason", "typo")
    assert reissued.exit_code == 0 and " v2: " in reissued.stdout


def test_step_by_step_with_a_bad_file_and_an_unapproved_batch(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("init-db").exit_code == 0
    assert run("institutions", "load", EXAMPLES / "institutions.json").exit_code == 0
    assert run("keys", "create").exit_code == 0
    bad = tmp_path / "bad.csv"
    spoiled = {"done": False}

    def spoil(row: dict[str, str]) -> None:
        if row["record_type"] == "course" and not spoiled["done"]:
            row["grade"], spoiled["done"] = "A+", True

    bad.write_bytes(edit_csv("school-batch.csv", spoil))
    rejected = run("import", bad, "--institution", "1001")
    assert rejected.exit_code == 1
    lines = rejected.stderr.rstrip().splitlines()
    assert lines[-1] == "Error: batch rejected: 1 error(s), nothing was imported"
    assert lines[0].startswith('  แถว/row 2, grade = "A+": ')
    imported = run("import", EXAMPLES / "school-batch.csv", "--institution", "1001")
    assert imported.exit_code == 0 and "imported batch 1: 6 student(s)" in imported.stdout
    unapproved = run("issue", "1", "--workers", "0")
    assert unapproved.exit_code == 1
    assert unapproved.stderr.strip() == (
        "Error: batch 1 is imported: it must be approved before issuing")
    issued = run("issue", "1", "--workers", "0", "--approve")
    assert issued.exit_code == 0 and len(pdfs(issued.stdout)) == 6


@pytest.mark.parametrize(("args", "message"), [
    (("verify", "README.md"), "Error: no trusted root: run `transcripts keys create` first"),
    (("revoke", "1001-2569-999999", "--reason", "x"), "Error: no transcript 1001-2569-999999"),
    (("import", "README.md", "--institution", "7777"), "Error: no institution with code '7777'"),
    (("keys", "create"), "Error: no institutions: run `transcripts institutions load` first"),
])
def test_errors_are_one_line_and_exit_non_zero(run, args, message) -> None:  # type: ignore[no-untyped-def]
    args = tuple(str(Path(__file__).parents[2] / a) if a.endswith(".md") else a for a in args)
    result = run(*args)
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith(message)
