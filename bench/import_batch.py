"""Read, validate and import a cohort-size batch file; report students/s and peak memory.

    .venv/bin/python bench/import_batch.py                    # 2,000 students x 40 courses
    options: --students 2000, --courses 40, --no-import (reading and validating only)

The file: students recombined from the sample generator (`examples/make_examples.py`:
the given name, grades and parents of one sample student, the family name of another;
national IDs numbered), each with the first `--courses` course rows of the sample's three
years, its 12 activities and 2 assessments (54 rows at 40 courses), written as CSV (UTF-8)
and as XLSX (typed cells as `make_examples.csv_to_xlsx` types them; openpyxl's write-only
mode, so inline strings: the largest unpacked form).

Each figure comes from a fresh Python process (this file with ``--measure``), so no run
inherits another's memory. Peak memory is the rise of ``ru_maxrss`` (the process's peak
resident set) from just before the call to just after it: what reading and validating,
or importing, adds on top of the interpreter and its imports. Read+validate gets the
file's path (`load_batch` streams it); the import gets its bytes, as the service
`issuer.services.importing.import_batch` takes them (read before the baseline), on a
temporary SQLite issuer. Compared with issue 8's baseline: 32 students/s and 325 MB per
1,000 students.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from examples import make_examples as ex  # noqa: E402

BASELINE_RATE = 32.0  # students/s, 1,000 students on the CLI before this work
BASELINE_MB_PER_1000 = 325.0  # peak MB for 1,000 students
SCHOOL = "1001"


# --- the batch files ------------------------------------------------------------------

def national_id(k: int) -> str:
    """The k-th national ID: numbered, with a valid check digit."""
    body = f"11028{k:07d}"
    return body + str((11 - sum(int(d) * (13 - i) for i, d in enumerate(body)) % 11) % 10)


def student_rows(k: int, courses: int) -> list[dict[str, str]]:
    """The rows of the k-th student: the first `courses` course rows, every other row."""
    base = ex.STUDENTS
    given, family = base[k % len(base)], base[(k // len(base)) % len(base)]
    person = (*given[:2], family[2], *given[3:5], family[5], *given[6:])
    rows, seen = [], 0
    for row in ex.school_rows([person], seed=k, first=k + 1):
        if row["record_type"] == "course":
            seen += 1
            if seen > courses:
                continue
        row["national_id"] = national_id(k)
        rows.append(row)
    return rows


def batch_rows(students: int, courses: int) -> Iterator[dict[str, str]]:
    for k in range(students):
        yield from student_rows(k, courses)


def write_csv(path: Path, students: int, courses: int) -> int:
    """The batch as CSV (UTF-8); the number of data rows."""
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, ex.SCHOOL_COLUMNS, restval="", lineterminator="\r\n")
        writer.writeheader()
        for row in batch_rows(students, courses):
            writer.writerow(row)
            rows += 1
    return rows


def write_xlsx(path: Path, students: int, courses: int) -> None:
    """The batch as XLSX, cells typed as a school's Excel holds them (numbers, dates)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("batch")
    ws.append(list(ex.SCHOOL_COLUMNS))
    for row in batch_rows(students, courses):
        cells: list[Any] = []
        for column in ex.SCHOOL_COLUMNS:
            value = ex.typed(column, row.get(column, ""))
            if column in ex.DATE_COLUMNS and value is not None:
                value = WriteOnlyCell(ws, value)
                value.number_format = "yyyy-mm-dd"
            cells.append(value)
        ws.append(cells)
    wb.save(path)


# --- one measurement, in its own process ----------------------------------------------

def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def measure_validate(path: Path) -> dict[str, float]:
    from issuer.adapters.batchfile import load_batch
    from issuer.core.records import Institution, InstitutionKind

    school = Institution(SCHOOL, InstitutionKind.SCHOOL, "โรงเรียน", "School")
    before, t0 = _peak_mb(), time.perf_counter()
    result = load_batch(path, school)
    seconds = time.perf_counter() - t0
    if not result.ok:
        raise RuntimeError(f"the bench batch has errors: {result.errors[:3]}")
    return {"students": len(result.records), "seconds": seconds,
            "peak_mb": _peak_mb() - before}


def measure_import(path: Path) -> dict[str, float]:
    """Through the service, on a temporary SQLite issuer: the file read from its path
    (streaming), validated, frozen into snapshots and stored."""
    from issuer.adapters.integrity import encode
    from issuer.config import Settings
    from issuer.core.lifecycle import AccountRole
    from issuer.services.admin import load_institutions
    from issuer.services.context import Actor, Issuer
    from issuer.services.importing import import_batch

    actor = Actor("registrar@bench", "bench", AccountRole.REGISTRAR, SCHOOL)
    with tempfile.TemporaryDirectory(prefix="bkt-import-") as tmp:
        folder = Path(tmp)
        settings = Settings(
            database_url=f"sqlite:///{folder / 'transcripts.db'}", keys_dir=folder / "keys",
            key_passphrase=b"unused", output_dir=folder / "out",
            published_dir=folder / "published", verifier_url="https://verify.example",
            integrity_key=encode(secrets.token_bytes(32)))
        issuer = Issuer.open(settings)
        load_institutions(issuer, ROOT / "examples" / "institutions.json", actor=actor)
        before, t0 = _peak_mb(), time.perf_counter()
        imported = import_batch(issuer, SCHOOL, path.name, path, actor=actor)
        seconds = time.perf_counter() - t0
        return {"students": imported.students, "seconds": seconds,
                "peak_mb": _peak_mb() - before}


def run_measurement(what: str, path: Path) -> dict[str, float]:
    """`measure_<what>(path)` in a fresh interpreter."""
    out = subprocess.run([sys.executable, __file__, "--measure", what, str(path)],
                         capture_output=True, text=True, check=False, cwd=ROOT)
    if out.returncode:
        raise RuntimeError(f"measuring {what} of {path.name} failed:\n{out.stderr}")
    return json.loads(out.stdout.splitlines()[-1])


# --- the report -----------------------------------------------------------------------

@dataclass(frozen=True)
class Figure:
    stage: str  # "read+validate" or "import"
    fmt: str  # "CSV" or "XLSX"
    students: int
    seconds: float
    peak_mb: float

    @property
    def rate(self) -> float:
        return self.students / self.seconds

    @property
    def mb_per_1000(self) -> float:
        return self.peak_mb / self.students * 1000


def describe_files(csv_path: Path, xlsx_path: Path, rows: int) -> str:
    with zipfile.ZipFile(xlsx_path) as z:
        unpacked = sum(i.file_size for i in z.infolist())
    mb = 1024 * 1024
    return (f"CSV {csv_path.stat().st_size / mb:.1f} MB ({rows:,} data rows); XLSX "
            f"{xlsx_path.stat().st_size / mb:.1f} MB, {unpacked / mb:.0f} MB unpacked")


def print_figures(figures: Sequence[Figure], out: TextIO) -> None:
    p = lambda *a: print(*a, file=out)  # noqa: E731
    p(f"{'':22}{'students/s':>11}{'peak MB':>9}{'MB/1,000':>10}   vs baseline "
      f"({BASELINE_RATE:.0f}/s, {BASELINE_MB_PER_1000:.0f} MB per 1,000)")
    for f in figures:
        speed, memory = f.rate / BASELINE_RATE, f.mb_per_1000 / BASELINE_MB_PER_1000
        p(f"  {f.stage + ' ' + f.fmt:<20}{f.rate:11.1f}{f.peak_mb:9.1f}{f.mb_per_1000:10.1f}"
          f"   {speed:5.1f}x the speed, {memory:.2f}x the memory ({f.seconds:.1f} s)")
    p("peak MB: rise of ru_maxrss during the call, each in a fresh process")


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> list[Figure]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--courses", type=int, default=40, help="course rows per student")
    parser.add_argument("--no-import", action="store_true",
                        help="reading and validating only, not the service")
    args = parser.parse_args(argv)
    if args.students < 1 or not 1 <= args.courses <= 72:
        parser.error("--students must be positive and --courses within 1..72")
    figures = []
    with tempfile.TemporaryDirectory(prefix="bkt-bench-") as tmp:
        files = {"CSV": Path(tmp) / "cohort.csv", "XLSX": Path(tmp) / "cohort.xlsx"}
        rows = write_csv(files["CSV"], args.students, args.courses)
        write_xlsx(files["XLSX"], args.students, args.courses)
        print(f"{args.students:,} students x {args.courses} courses: "
              f"{describe_files(files['CSV'], files['XLSX'], rows)}; {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.2f}", file=out)
        stages = ["validate"] if args.no_import else ["validate", "import"]
        for stage in stages:
            for fmt, path in files.items():
                m = run_measurement(stage, path)
                figures.append(Figure("read+validate" if stage == "validate" else "import",
                                      fmt, int(m["students"]), m["seconds"], m["peak_mb"]))
    print_figures(figures, out)
    return figures


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--measure":
        measure = {"validate": measure_validate, "import": measure_import}[sys.argv[2]]
        print(json.dumps(measure(Path(sys.argv[3]))))
    else:
        main()
