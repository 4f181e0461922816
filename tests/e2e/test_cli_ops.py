"""The operator's commands: queue a job and run it with `transcripts worker`, check and
export the audit log."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from tests.e2e.conftest import EXAMPLES, PASSWORD, setup_school


def test_a_queued_batch_is_issued_by_the_worker(run) -> None:  # type: ignore[no-untyped-def]
    setup_school(run)
    imported = run("--as", "reg", "import", EXAMPLES / "school-batch.csv", "--institution",
                   "1001", password=PASSWORD)
    batch_id = re.search(r"imported batch (\d+)", imported.stdout).group(1)  # type: ignore[union-attr]
    refused = run("jobs", "issue", batch_id)
    assert refused.exit_code == 1 and "must be approved" in refused.stderr
    assert run("--as", "reg", "submit", batch_id, password=PASSWORD).exit_code == 0
    approved = run("--as", "dir", "approve", batch_id, password=PASSWORD)
    assert approved.exit_code == 0, approved.output
    queued = run("jobs", "issue", batch_id)  # approval queued it: the same job
    assert queued.exit_code == 0, queued.output
    job_id = re.search(r"job (\d+) queued", queued.stdout).group(1)  # type: ignore[union-attr]
    assert f"queued as job {job_id}" in approved.stdout
    assert "queued 0/6" in run("jobs", "show", job_id).stdout
    ran = run("worker", "--once", "--workers", "0")
    assert ran.exit_code == 0 and "ran 1 job(s)" in ran.stdout
    assert "done 6/6, attempts 1" in run("jobs", "show", job_id).stdout
    assert run("jobs", "show", "99").stderr.startswith("Error: no job 99")


def test_audit_verify_export_and_tampering(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("demo", "--workers", "0").exit_code == 0
    verified = run("audit", "verify")
    assert verified.exit_code == 0 and "chain intact" in verified.stdout
    for fmt in ("jsonl", "csv"):
        out = tmp_path / f"audit.{fmt}"
        exported = run("audit", "export", "--format", fmt, "--output", out)
        assert exported.exit_code == 0 and "exported" in exported.stderr
        assert run("audit", "verify", "--file", out).exit_code == 0
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    assert {"batch.approve", "batch.issue"} <= {e["action"] for e in events}
    assert run("audit", "export").stdout.splitlines() == lines  # stdout by default

    edited = tmp_path / "edited.jsonl"
    edited.write_text("\n".join(lines).replace('"batch.approve"', '"batch.reject"', 1) + "\n")
    assert run("audit", "verify", "--file", edited).exit_code == 1

    database = sqlite3.connect(tmp_path / "var" / "transcripts.db")
    with database:  # the file's holder drops the append-only triggers first
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            database.execute("UPDATE audit_events SET actor = 'someone' WHERE id = 3")
        database.execute("DROP TRIGGER audit_events_no_update")
        database.execute("UPDATE audit_events SET actor = 'someone' WHERE id = 3")
    database.close()
    broken = run("audit", "verify")
    assert broken.exit_code == 1 and "BROKEN at event 3" in broken.stderr
