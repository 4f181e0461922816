"""The issuance benchmark keeps working: a tiny run, checked for the report's structure
(never for its figures, which depend on the machine)."""

from __future__ import annotations

import io

import pytest

from bench import issue_batch as bench


def test_tiny_run_reports_every_figure() -> None:
    out = io.StringIO()
    results = bench.main(["--n", "3", "--workers", "0", "--vocational", "0.34",
                          "--sign-runs", "1"], out=out)
    text = out.getvalue()
    assert "N=3: 2 school, 1 vocational, in 2 batch file(s)" in text
    for heading in ("import:", "issuance:", "10,000 at this rate:", "stages, ms per transcript",
                    "signing, same unsigned PDF", "stock pyHanko", "ratio pipeline/stock"):
        assert heading in text
    for stage in ("credential", "render", "sign", "write", "store"):
        assert results.timings[stage] > 0
        assert f"  {stage} " in text
    assert results.n == 3 and results.batches == 2
    assert results.memory.done == 3
    assert results.stock_ms > 0 and results.ours_alone_ms > 0
    if results.memory.available:
        assert "parent RSS" in text and "worker RSS, max" in text


def test_batch_files_split_at_the_file_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    one_student = len(bench.batch_files(1, 0.0)[0].data)
    monkeypatch.setattr(bench, "MAX_BYTES", int(3.5 * one_student / bench.SIZE_MARGIN))
    files = bench.batch_files(10, 0.2)
    assert [(f.code, f.students) for f in files] == [
        (bench.SCHOOL, 3), (bench.SCHOOL, 3), (bench.SCHOOL, 2), (bench.CENTRE, 2)]
    assert all(len(f.data) <= bench.MAX_BYTES for f in files)
    assert len({f.name for f in files}) == len(files)
