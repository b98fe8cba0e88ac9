"""Run the command line in a child process under a resource limit, and measure it.

Used by the bounded-work cases: each hostile input must end in a one-line message within
a time and memory budget, never run on or eat the machine. The child gets an address-space
limit (RLIMIT_AS) and a wall-clock timeout; its own peak memory comes from ``wait4``.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MEMORY_LIMIT_MB = 3000
"""Address space a run may reserve (WeasyPrint, pandas and matplotlib reserve about
1.5 GB of address space between them; the resident memory stays far below)."""
TIME_LIMIT_S = 120


@dataclass(frozen=True)
class Bounded:
    status: int | None
    """Exit status; None when the run was killed at the time limit."""
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float
    """Peak resident memory of the command's own process (MB)."""


def run_bounded(args: list[str], *, seconds: float = TIME_LIMIT_S,
                memory_mb: int = MEMORY_LIMIT_MB, cwd: Path | None = None) -> Bounded:
    """``python make_report.py ARGS`` with at most ``memory_mb`` of address space and
    ``seconds`` of wall time (the whole process group is killed then)."""
    limit = memory_mb * 1024 * 1024

    def limits() -> None:
        os.setsid()
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    env = {**os.environ, 'PYTHONDONTWRITEBYTECODE': '1'}
    with tempfile.TemporaryFile('w+') as out, tempfile.TemporaryFile('w+') as err:
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, str(ROOT / 'make_report.py'), *args],
                                 cwd=cwd or ROOT, stdout=out, stderr=err,
                                 stdin=subprocess.DEVNULL, preexec_fn=limits, env=env)
        status, usage = _wait(child, started + seconds)
        elapsed = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        return Bounded(status, out.read(), err.read(), elapsed, usage.ru_maxrss / 1024)


def _wait(child: subprocess.Popen, deadline: float):
    """Wait for the child until ``deadline`` (then kill its group); its own rusage."""
    while True:
        pid, code, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            child.returncode = os.waitstatus_to_exitcode(code)
            return child.returncode, usage
        if time.perf_counter() >= deadline:
            os.killpg(child.pid, signal.SIGKILL)
            _, _, usage = os.wait4(child.pid, 0)
            child.returncode = -9
            return None, usage
        time.sleep(0.05)


def one_line_error(result: Bounded) -> str:
    """The ``error:`` line of a failed run (asserting there is exactly one problem line
    and no traceback)."""
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    lines = [line for line in result.stderr.splitlines() if line.startswith('error:')]
    assert lines, result.stderr[-3000:]
    return lines[0]
