"""Work on untrusted input in a child process with CPU, memory and wall-time limits, and
a small number of such children per machine.

`run` starts a program in its own session, lowers its priority (ordinary verifications
in the web workers come first), caps its CPU seconds and address space with
``prlimit`` (inherited by anything it starts), and kills the whole group when the wall
time is up. `Slots` shares a few decoding slots among every worker process of the
machine through ``flock`` on small files: the kernel frees a slot when its holder dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import resource
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

NICENESS = 10


class Overrun(RuntimeError):
    """The child ran out of time (wall or CPU) or memory."""


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int = 3
    """CPU seconds the child (and each program it starts) may use."""
    wall_seconds: float = 6.0
    """Wall time before the whole process group is killed."""
    memory: int = 1024 * 1024 * 1024
    """Address space in bytes."""


def start(argv: Sequence[str], limits: Limits, *, cwd: str | Path | None = None,
          env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start `argv` in its own session, stdin and stdout piped, under `limits` (CPU and
    memory; the caller keeps the wall time and ends it with `stop`)."""
    process = subprocess.Popen(
        list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, cwd=cwd, env=env, start_new_session=True)
    try:
        _limit(process.pid, limits)
    except BaseException:
        _kill(process)
        raise
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    """Kill a child from `start` and everything it started."""
    _kill(process)


def run(argv: Sequence[str], data: bytes, limits: Limits, *,
        cwd: str | Path | None = None, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[bytes]:
    """Run `argv` with `data` on its stdin; Overrun if it hits a limit."""
    process = start(argv, limits, cwd=cwd, env=env)
    try:
        out, _ = process.communicate(data, timeout=limits.wall_seconds)
    except subprocess.TimeoutExpired:
        _kill(process)
        raise Overrun("time is up") from None
    except BaseException:
        _kill(process)
        raise
    if process.returncode in (-signal.SIGXCPU, -signal.SIGKILL, -signal.SIGSEGV):
        raise Overrun(f"stopped by signal {-process.returncode}")
    return subprocess.CompletedProcess(process.args, process.returncode, out, b"")


def _limit(pid: int, limits: Limits) -> None:
    """Limits set from outside right after the start (no preexec_fn: it is unsafe in a
    threaded server); the child has done next to nothing by then."""
    try:
        os.setpriority(os.PRIO_PROCESS, pid, NICENESS)
        resource.prlimit(pid, resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
        resource.prlimit(pid, resource.RLIMIT_AS, (limits.memory, limits.memory))
        resource.prlimit(pid, resource.RLIMIT_CORE, (0, 0))
    except ProcessLookupError:  # it has already finished
        pass


def _kill(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.kill()
    process.communicate()


class Slots:
    """At most `count` holders at a time among all processes using `folder`."""

    def __init__(self, count: int, folder: Path | None = None) -> None:
        self.count = max(1, count)
        self.folder = folder or Path(tempfile.gettempdir()) / f"bkt-verifier-{os.getuid()}"

    @contextlib.contextmanager
    def take(self, wait: float = 0.0) -> Iterator[bool]:
        """Yield True holding a free slot, or False if none came free within `wait` s."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        deadline = time.monotonic() + wait
        while True:
            for i in range(self.count):
                fd = os.open(self.folder / f"slot-{i}", os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)
                    continue
                try:
                    yield True
                finally:
                    os.close(fd)  # releases the lock
                return
            if time.monotonic() >= deadline:
                yield False
                return
            time.sleep(0.05)
