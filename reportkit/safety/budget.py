"""How long one document's render may take, and how much memory: a backstop against a
document that would keep WeasyPrint laying out for minutes or fill the machine's memory
(the inputs are capped too, but a few lines of CSS can make layout explode).

Every render runs in a child process, the renderer (:func:`.render.start_renderer`) or a
fork of the build (:func:`.worker.call_in_fork`). The child limits itself before it renders
(:meth:`Budget.limit_this_process`): its address space (``RLIMIT_AS``), so that an
allocation beyond the budget fails instead of swapping the machine to a halt, and its CPU
time (``RLIMIT_CPU``), in case nobody is there to stop it. The build waits for the answer
until the deadline and kills the child then: a process stuck in a native library cannot be
trusted to stop itself, and the build cannot limit another process's memory; hence both.

Set in the environment (a value that is not a number in range stops the command with a
one-line message):

``REPORT_RENDER_SECONDS``
    Seconds one document's render may take, from the moment it is handed to WeasyPrint to
    the PDF in memory (default 300; a normal render of an edition takes 2 to 3 s).
``REPORT_RENDER_MEMORY_MB``
    Megabytes of memory (address space) one render may take on top of what its process
    held when it began (default 2048; a normal render of an edition adds 200 to 300 MB of
    address space, of which 25 to 50 MB resident). On top, not in all: a render in a fork
    of the build starts with pandas and matplotlib mapped, the renderer without them, and
    the same document must pass or fail alike in both.
"""

from __future__ import annotations

import math
import os
import signal
from dataclasses import dataclass

from reportkit.errors import RenderError, ReportError

SECONDS = 'REPORT_RENDER_SECONDS'
MEMORY = 'REPORT_RENDER_MEMORY_MB'
DEFAULT_SECONDS = 300.0
DEFAULT_MEMORY_MB = 2048
MAX_SECONDS = 86_400.0
MAX_MEMORY_MB = 1 << 20
MB = 1024 * 1024

NATIVE_OUT_OF_MEMORY = {-signal.SIGTRAP, -signal.SIGABRT, -signal.SIGSEGV, -signal.SIGBUS}
"""How a native library (GLib, Pango, HarfBuzz) ends a process when an allocation fails:
GLib's fatal errors trap or abort (e.g. Pango cannot start a thread); code that does not
check what malloc returned crashes."""


@dataclass(frozen=True)
class Budget:
    """The wall-clock seconds and the megabytes of memory one render may take."""

    seconds: float = DEFAULT_SECONDS
    memory_mb: int = DEFAULT_MEMORY_MB

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> Budget:
        """The budget set by ``REPORT_RENDER_SECONDS`` and ``REPORT_RENDER_MEMORY_MB``
        (defaults for those unset or empty); raises :class:`~.errors.ReportError`, one
        line, for a value that is not a number in range."""
        environ = os.environ if environ is None else environ
        seconds = _number(environ, SECONDS, float, DEFAULT_SECONDS, MAX_SECONDS,
                          'a number of seconds')
        memory = _number(environ, MEMORY, int, DEFAULT_MEMORY_MB, MAX_MEMORY_MB,
                         'a whole number of megabytes')
        return cls(seconds, memory)

    def limit_this_process(self) -> None:
        """In the child, right before each render: at most ``memory_mb`` more address space
        than it holds now, CPU time for ``seconds`` more (and one spare), no core file
        (a crash must not leave hundreds of megabytes in the working folder), and its
        standard error to nowhere: out of memory, Python and GLib print lines of noise
        around the one message that says what happened (the child's answers and errors
        travel back through its pipe, not through standard error)."""
        import resource

        held = _address_space()
        _lower(resource.RLIMIT_AS, held + self.memory_mb * MB)
        used = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
        _lower(resource.RLIMIT_CPU, math.ceil(used + self.seconds) + 1)
        _lower(resource.RLIMIT_CORE, 0)
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 2)
        os.close(quiet)

    def over_time(self, name: str) -> RenderError:
        return RenderError(f'{name}: rendering took longer than {self.seconds:g} s (the '
                           f'limit, {SECONDS}); nothing was written')

    def over_memory(self, name: str) -> RenderError:
        return RenderError(f'{name}: rendering needed more than {self.memory_mb:,} MB of '
                           f'memory (the limit, {MEMORY}); nothing was written')

    def exceeded(self, name: str, status: int | None) -> RenderError | None:
        """What a render process that ended with exit ``status`` ran out of, if that is
        how its limits end it: SIGXCPU at the CPU limit; at the memory limit, a native
        library's abort or crash (a Python allocation raises MemoryError instead, which
        is :meth:`over_memory`)."""
        if status == -signal.SIGXCPU:
            return self.over_time(name)
        if status in NATIVE_OUT_OF_MEMORY:   # or a crash: nothing tells them apart
            return RenderError(f'{name}: rendering crashed ({signal.Signals(-status).name}), '
                               f'most likely for want of memory: it may take '
                               f'{self.memory_mb:,} MB (the limit, {MEMORY}); nothing was '
                               'written')
        return None


def _number(environ, variable: str, kind: type, default, highest, what: str):
    raw = environ.get(variable, '')
    if not raw.strip():
        return default
    try:
        value = kind(raw.strip())
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or not 0 < value <= highest:
        raise ReportError(f'{variable}={raw!r}: it must be {what} greater than 0 and at '
                          f'most {highest:,g} (unset, it is {default:g})')
    return value


def _address_space() -> int:
    """Bytes of address space this process holds (0 where /proc cannot tell)."""
    try:
        with open('/proc/self/statm') as statm:
            return int(statm.read().split()[0]) * os.sysconf('SC_PAGE_SIZE')
    except (OSError, ValueError, IndexError):
        return 0


_BEFORE: dict[tuple[int, int], int] = {}
"""(process, limit) -> the soft limit the process had before its first render's."""


def _lower(kind: int, soft: int) -> None:
    """Set the soft limit to ``soft``, never above what it was before this process's
    first budget (a renderer renders many documents, each under its own budget, and the
    next one may need more room than the last left it) nor the hard limit."""
    import resource

    current, hard = resource.getrlimit(kind)
    current = _BEFORE.setdefault((os.getpid(), kind), current)
    for ceiling in (current, hard):
        if ceiling != resource.RLIM_INFINITY:
            soft = min(soft, ceiling)
    resource.setrlimit(kind, (soft, hard))
