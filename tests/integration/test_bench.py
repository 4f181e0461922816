"""The benchmarks keep working: tiny runs, checked for the report's structure (never for
their figures, which depend on the machine); a cohort-size batch fits the file limits."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from bench import issue_batch as bench
from issuer.core.records import Institution, InstitutionKind


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


def test_tiny_b_lta_run_reports_the_cost_of_each_level() -> None:
    out = io.StringIO()
    results = bench.main(["--n", "1", "--workers", "0", "--vocational", "0", "--sign-runs",
                          "1", "--level", "B-LTA", "--levels", "all"], out=out)
    text = out.getvalue()
    assert "PAdES B-LTA" in text and "signing per PAdES level" in text
    assert list(results.level_ms) == ["B-B", "B-T", "B-LT", "B-LTA"]
    assert all(ms > 0 for ms in results.level_ms.values())
    assert results.level_kb["B-LTA"] > results.level_kb["B-LT"] > results.level_kb["B-B"]


def test_batch_files_split_at_the_file_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    one_student = len(bench.batch_files(1, 0.0)[0].data)
    monkeypatch.setattr(bench, "MAX_BYTES", int(3.5 * one_student / bench.SIZE_MARGIN))
    files = bench.batch_files(10, 0.2)
    assert [(f.code, f.students) for f in files] == [
        (bench.SCHOOL, 3), (bench.SCHOOL, 3), (bench.SCHOOL, 2), (bench.CENTRE, 2)]
    assert all(len(f.data) <= bench.MAX_BYTES for f in files)
    assert len({f.name for f in files}) == len(files)


# --- the import benchmark -------------------------------------------------------------

def test_import_bench_tiny_run_reports_every_figure() -> None:
    from bench import import_batch as ibench

    out = io.StringIO()
    figures = ibench.main(["--students", "3", "--courses", "5"], out=out)
    text = out.getvalue()
    assert text.startswith("3 students x 5 courses: CSV ")
    assert [(f.stage, f.fmt, f.students) for f in figures] == [
        ("read+validate", "CSV", 3), ("read+validate", "XLSX", 3),
        ("import", "CSV", 3), ("import", "XLSX", 3)]
    assert all(f.seconds > 0 and f.peak_mb >= 0 for f in figures)
    for line in ("read+validate CSV", "import XLSX", "vs baseline (32/s, 325 MB per 1,000)",
                 "x the speed", "rise of ru_maxrss"):
        assert line in text


def test_a_cohort_of_2000_students_with_40_courses_fits_every_limit(tmp_path: Path) -> None:
    """Measured on 20 students of the benchmark's batch, scaled to 2,000 with a 25 % margin
    (the whole file is the benchmark's job)."""
    from bench import import_batch as ibench
    from issuer.adapters import batchfile
    from issuer.core import batch

    csv_path, xlsx_path = tmp_path / "b.csv", tmp_path / "b.xlsx"
    rows = ibench.write_csv(csv_path, 20, 40)
    ibench.write_xlsx(xlsx_path, 20, 40)
    with zipfile.ZipFile(xlsx_path) as z:
        unpacked = sum(i.file_size for i in z.infolist())
    scale = 2000 / 20 * 1.25
    assert rows == 20 * 54
    assert rows * scale <= batch.MAX_ROWS
    assert csv_path.stat().st_size * scale <= batchfile.MAX_CSV_BYTES
    assert xlsx_path.stat().st_size * scale <= batchfile.MAX_XLSX_BYTES
    assert unpacked * scale <= batchfile.MAX_XLSX_UNPACKED
    school = Institution("1001", InstitutionKind.SCHOOL, "โรงเรียน", "School")
    for path in (csv_path, xlsx_path):
        assert len(batchfile.load_batch(path, school).records) == 20
