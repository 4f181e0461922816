"""Import warnings on the command line: printed at import, submit refused until confirmed."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import PASSWORD, edit_csv, setup_school


def test_prefix_against_sex_is_printed_and_submit_waits_for_confirmation(  # type: ignore[no-untyped-def]
        run, tmp_path: Path) -> None:
    setup_school(run)

    def male(row: dict[str, str]) -> None:  # เด็กหญิง / Miss, but ชาย
        if row["student_id"] == "66001":
            row["sex"] = "ชาย"

    path = tmp_path / "sex.csv"
    path.write_bytes(edit_csv("school-batch.csv", male))
    imported = run("--as", "reg", "import", path, "--institution", "1001", password=PASSWORD)
    assert imported.exit_code == 0, imported.output
    assert "imported batch 1: 6 new" in imported.stdout
    assert "2 warning(s) to check before submitting:" in imported.stdout
    assert ('  แถว/row 2, prefix_th = "เด็กหญิง": คำนำหน้า เด็กหญิง ไม่ตรงกับเพศ ชาย'
            in imported.stdout)
    assert "transcripts submit 1 --confirm-warnings" in imported.stdout

    refused = run("--as", "reg", "submit", "1", password=PASSWORD)
    assert refused.exit_code == 1
    assert "batch 1 has 2 warning(s) not yet confirmed" in refused.stderr
    assert "--confirm-warnings" in refused.stderr
    not_approver = run("--as", "dir", "submit", "1", "--confirm-warnings", password=PASSWORD)
    assert not_approver.exit_code == 1 and "only a registrar" in not_approver.stderr

    submitted = run("--as", "reg", "submit", "1", "--confirm-warnings", password=PASSWORD)
    assert submitted.exit_code == 0, submitted.output
    assert "batch 1: 2 warning(s) confirmed" in submitted.stdout
    assert "batch 1 submitted for approval" in submitted.stdout
    audit = run("--as", "admin", "audit", "export", password=PASSWORD).stdout
    assert "batch.confirm_warnings" in audit and "reg" in audit
