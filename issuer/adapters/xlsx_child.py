"""Read an uploaded XLSX in a child process with CPU-time and memory limits.

An XLSX is a ZIP of XML parts: a decompressor and an XML parser in native code work on
whatever the uploader sent. They run here in a child (`verifier.sandbox`: own session,
low priority, ``RLIMIT_CPU`` and ``RLIMIT_AS``, killed at the wall time), so a file that
crashes or exhausts them costs that child, never the web worker or the command. The
child gets the file on stdin and writes one JSON line per row (a list of strings), then
one closing object: ``{"problems": [...]}`` or ``{"error": [th, en]}``. The parent reads
the rows as they come (validation runs beside the reading) and turns anything else, a
crash or a limit, into a file-level error.

    python -m issuer.adapters.xlsx_child   (the child; stdin: the file)
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from issuer.adapters.xlsx import CellProblem
from verifier import sandbox

ROOT = Path(__file__).resolve().parents[2]
MiB = 1 << 20
LIMITS = sandbox.Limits(cpu_seconds=120, wall_seconds=600.0, memory=1024 * MiB)
"""A 2,000-student x 40-course cohort (298 MB of sheet XML) took 25 s of CPU and 62 MB
resident; the limits leave room for a slow machine, not for a hostile file."""
MAX_LINE = 64 * MiB  # one row as JSON: 64 columns of at most 32,767 characters, escaped

NOT_READ = ("อ่านไฟล์ .xlsx ไม่สำเร็จภายในเวลาและหน่วยความจำที่กำหนด: ไฟล์อาจเสียหายหรือใหญ่เกินไป "
            "ลองบันทึกใหม่ใน Excel หรือบันทึกเป็น CSV UTF-8",
            "the .xlsx could not be read within the time and memory allowed: it may be "
            "damaged or too large; save it again in Excel, or as CSV UTF-8")


class ChildFailed(Exception):
    """The child stopped without a closing line (crash, limit, kill); the reason in Thai
    and English."""

    def __init__(self, th: str, en: str) -> None:
        super().__init__(en)
        self.th, self.en = th, en


@dataclass
class Usage:
    """What the last child used (from ``wait4``), for tests and benchmarks."""

    cpu_seconds: float = 0.0
    peak_kb: int = 0
    """The child's peak resident memory (VmHWM, which exec resets; ru_maxrss does not)."""
    exit_code: int | None = None


def read(data: bytes, problems: list[CellProblem], *, limits: sandbox.Limits | None = None,
         usage: Usage | None = None) -> Iterator[list[str]]:
    """The rows of the workbook `data`, read by a bounded child; cell problems appended
    to `problems` at the end. ChildFailed with the child's own error, or NOT_READ when it
    crashed or ran out of time or memory."""
    limits = limits or LIMITS
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT),
           "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}
    process = sandbox.start([sys.executable, "-m", __name__], limits, cwd=ROOT, env=env)
    timer = threading.Timer(limits.wall_seconds, _kill_group, (process.pid,))
    timer.daemon = True
    timer.start()
    threading.Thread(target=_feed, args=(process.stdin, data), daemon=True).start()
    assert process.stdout is not None
    closing: dict[str, Any] | None = None
    try:
        while line := process.stdout.readline(MAX_LINE):
            message = json.loads(line)
            if isinstance(message, list) and all(isinstance(c, str) for c in message):
                yield message
                continue
            if isinstance(message, dict):
                closing = message
            break
    except ValueError:
        closing = None
    finally:
        timer.cancel()
        _finish(process, usage, done=closing is not None)
    if usage is not None and closing is not None:
        usage.peak_kb = int(closing.get("peak_kb", 0))
    if closing is not None and isinstance(closing.get("error"), list):
        th, en = closing["error"]
        raise ChildFailed(str(th), str(en))
    if closing is None or not isinstance(closing.get("problems"), list):
        raise ChildFailed(*NOT_READ)
    problems.extend(CellProblem(**p) for p in closing["problems"])


def _feed(stdin: Any, data: bytes) -> None:
    try:
        stdin.write(data)
        stdin.close()
    except (BrokenPipeError, OSError):  # the child stopped early (an error, a limit)
        pass


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _finish(process: subprocess.Popen[bytes], usage: Usage | None, *, done: bool) -> None:
    """Reap the child, killed at once unless it has `done` (then given a few seconds to
    exit), and note what it used."""
    if not done:
        _kill_group(process.pid)
    deadline = time.monotonic() + 5
    status, rusage = 0, None
    try:
        while True:
            pid, status, rusage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                _kill_group(process.pid)
                _, status, rusage = os.wait4(process.pid, 0)
                break
            time.sleep(0.005)
        process.returncode = os.waitstatus_to_exitcode(status)
    except ChildProcessError:  # reaped elsewhere
        rusage = None
    if process.stdout is not None:
        process.stdout.close()
    if usage is not None:
        usage.exit_code = process.returncode
        if rusage is not None:
            usage.cpu_seconds = rusage.ru_utime + rusage.ru_stime


def child() -> int:
    """The child: the workbook on stdin, rows and a closing line on stdout."""
    from issuer.adapters.batchfile import BatchFileError, read_xlsx

    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n",
                           write_through=False)
    problems: list[CellProblem] = []
    try:
        for row in read_xlsx(sys.stdin.buffer.read(), problems):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        closing: dict[str, Any] = {"problems": [asdict(p) for p in problems]}
    except BatchFileError as e:
        closing = {"error": [e.error.reason_th, e.error.reason_en]}
    except MemoryError:
        closing = {"error": list(NOT_READ)}
    closing["peak_kb"] = _peak_kb()
    out.write(json.dumps(closing, ensure_ascii=False) + "\n")
    out.flush()
    return 0


def _peak_kb() -> int:
    """This process's peak resident memory since exec (``VmHWM``), in kB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sys.exit(child())
