"""Processes: the workers and forks of a build, which end with it, and what a killed
process leaves behind.

A build of one document uses two workers when it can (two cores): the renderer loads
WeasyPrint (:func:`.render.start_renderer`) and, when charts have to be drawn, the drawer
loads matplotlib (:func:`.charts.start_drawer`), each while the build itself reads and
checks the inputs. Every render runs in a child process (the renderer, or a fork of the
build: :func:`call_in_fork`), so that it can be given a budget (:mod:`.budget`) and killed.
Workers return results and never write files: the build alone writes.

Whatever ends a build ends its children (:func:`die_with_parent`): a build killed with
``kill -9`` or by the kernel runs no cleanup, and a child it left would go on holding its
memory as long as the machine runs. Ctrl-C, SIGTERM and SIGHUP are answered by the build
(:func:`interrupt_on_termination`), which stops its children and removes its temporary
files on the way out. What a SIGKILL leaves cannot be removed by the process that made it:
temporary files and folders are named after their owner (:func:`part_prefix`,
:func:`staging_prefix`), so that a later build can remove those whose owner is gone
(:func:`remove_abandoned`).
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from reportkit.errors import RenderError, ReportError

_PR_SET_PDEATHSIG = 1    # from <linux/prctl.h>
_PR_SET_NAME = 15
_ORPHANED = 70
"""Exit status of a child whose parent died before the child could ask to die with it."""


class Stopped(RenderError):
    """A child process ended without answering (it crashed, or was killed)."""

    status: int | None = None
    """Its exit status; negative: the signal that ended it."""


class OverTime(RenderError):
    """A child process gave no answer in the time it was given; it was killed."""


def die_with_parent(parent_pid: int) -> None:
    """In a child, first thing after the fork: be killed when the parent dies, however it
    dies, and leave the terminal's signals to the parent.

    The kernel sends SIGKILL to the child when the parent ends, even by ``kill -9``, which
    runs no cleanup (strictly, when the thread that forked it ends: a renderer that a
    batch's renderer thread forked to take over ends with that thread, once no document is
    left for it; one found dead is replaced). The parent may have died before the request was made, and then no
    signal would come: the child checks, and leaves. Ctrl-C reaches every process of the
    terminal, but the parent answers it and stops its children, so they ignore it; SIGTERM
    and SIGHUP end a child at once, instead of raising the parent's exception (meant for the
    parent's own cleanup) in code that would send it back as an answer."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)   # never ctypes.util: it runs compilers
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):   # not Linux: the pipe's end-of-file still ends us
        pass
    if os.getppid() != parent_pid:
        os._exit(_ORPHANED)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for number in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(number) != signal.SIG_IGN:   # nohup: ignored by all of us
            signal.signal(number, signal.SIG_DFL)


def _call_process(name: str) -> None:
    """Name this process ``name`` (its first 15 bytes) where ``ps`` and ``top`` show it:
    a renderer reads 'rendering', not the build's command line again."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_NAME, name.encode()[:15], 0, 0, 0)
    except (OSError, AttributeError):   # not Linux: only the name differs
        pass


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised in the build as Ctrl-C raises KeyboardInterrupt, so that
    every ``finally`` runs: workers stopped, temporary files removed."""

    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number = number

    @property
    def exit_status(self) -> int:
        """128 + the signal's number, as a shell reports a process the signal ended."""
        return 128 + self.number


def interrupt_on_termination() -> Callable[[], None]:
    """Make SIGTERM and SIGHUP raise :class:`Terminated` in this process (which must be in
    its main thread to handle signals); returns the function that puts back the handlers
    there were. Left to Python's defaults, both end the process on the spot, leaving its
    temporary files and its staging folders behind. A signal ignored already (SIGHUP
    under ``nohup``) stays ignored."""
    numbers = [number for number in (signal.SIGTERM, signal.SIGHUP)
               if signal.getsignal(number) != signal.SIG_IGN]

    def terminate(number, frame):
        for each in numbers:   # the cleanup is under way: a second signal must not cut it
            signal.signal(each, signal.SIG_IGN)
        raise Terminated(number)

    try:
        previous = {number: signal.signal(number, terminate) for number in numbers}
    except ValueError:   # not the main thread: signals are handled in the main thread only
        return lambda: None

    def restore() -> None:
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)

    return restore


class Worker:
    """A forked process: ``preload()`` first, then every :meth:`submit`-ted call in turn.

    ``folder``, when given, is a folder of the worker's, for the files of its calls, and
    removed when it is stopped."""

    def __init__(self, preload: Callable[[], None], name: str,
                 folder: Path | None = None) -> None:
        import multiprocessing

        context = multiprocessing.get_context('fork')
        self.name, self.folder = name, folder
        self._stopping = threading.Lock()
        self._connection, theirs = context.Pipe()
        self._process = context.Process(target=_serve, args=(theirs, preload, os.getpid(), name),
                                        daemon=True, name=name)
        self._process.start()
        theirs.close()
        self._sent = 0
        self._received: list[tuple[bool, object]] = []

    def submit(self, function: Callable, *args, **kwargs) -> Pending:
        """Run ``function(*args, **kwargs)`` in the worker after what was submitted
        before; ``function`` must be a module-level function (it travels by name)."""
        try:
            self._connection.send((function, args, kwargs))
        except (OSError, ValueError):
            raise self._stopped() from None
        self._sent += 1
        return Pending(self, self._sent - 1)

    def _outcome(self, index: int, timeout: float | None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while len(self._received) <= index:
            try:
                if deadline is not None and not self._connection.poll(
                        max(0.0, deadline - time.monotonic())):
                    self.stop()
                    raise OverTime(f'the {self.name} process gave no answer within '
                                   f'{timeout:g} s; it was stopped')
                self._received.append(self._connection.recv())
            except (EOFError, OSError):
                raise self._stopped() from None
        failed, value = self._received[index]
        if failed:
            raise value
        return value

    def _stopped(self) -> Stopped:
        self._process.join(5)
        return _stopped(self.name, self._process.exitcode)

    @property
    def alive(self) -> bool:
        """False once it was stopped, or ended (crashed, or killed at its budget)."""
        return self._process.is_alive()

    def stop(self) -> None:
        """Stop the worker, whatever it is doing (loading, waiting or working); from any
        thread, as often as asked."""
        with self._stopping:
            if self._process.is_alive():
                self._process.kill()
            self._process.join()
            self._connection.close()
            if self.folder is not None:
                import shutil
                shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class Pending:
    """The result, to come, of a call submitted to a worker."""

    worker: Worker
    index: int

    def result(self, timeout: float | None = None):
        """The function's return value; raises what it raised, or :class:`OverTime` (and
        the worker is stopped) when no answer came within ``timeout`` seconds."""
        return self.worker._outcome(self.index, timeout)


def _serve(connection, preload: Callable[[], None], parent: int, name: str) -> None:
    die_with_parent(parent)
    _call_process(name)
    try:
        preload()
        unloaded = None
    except Exception as error:   # e.g. a library that cannot load: the answer to every call
        unloaded = error
    while True:
        try:
            function, args, kwargs = connection.recv()
        except EOFError:   # the build is done with us
            return
        if unloaded is not None:
            _send(connection, _answer(lambda: _raise(unloaded), 'In a worker process'))
        else:
            _send(connection, _answer(lambda: function(*args, **kwargs),
                                      'In a worker process'))


def _raise(error: BaseException):
    raise error


def _answer(call: Callable[[], object], where: str) -> tuple[bool, object]:
    """(False, what ``call()`` returned) or (True, what it raised), to send back."""
    try:
        return False, call()
    except MemoryError:   # no traceback to format: memory may still be short
        return True, MemoryError()
    except BaseException as error:  # sent back, and raised in the build
        if not isinstance(error, ReportError):   # a bug: keep where it happened
            import traceback
            error.add_note(f'{where}:\n' + ''.join(
                traceback.format_exception(error)).rstrip())
        return True, error


def _send(connection, outcome: tuple[bool, object]) -> None:
    try:
        connection.send(outcome)
    except Exception:   # a result that cannot be pickled: its text travels
        connection.send((True, RuntimeError(f'{type(outcome[1]).__name__}: {outcome[1]}')))


def _stopped(name: str, status: int | None) -> Stopped:
    error = Stopped(f'the {name} process stopped unexpectedly (exit status {status}); '
                    'no PDF was written')
    error.status = status
    return error


def call_in_fork(function: Callable, *args, name: str = 'chart-drawing'
                 ) -> Callable[..., object]:
    """Start ``function(*args)`` in a fork of this process, which inherits everything
    this one has loaded (nothing to load again); returns ``result(timeout=None)``, which
    waits for the result and returns it, or raises what ``function`` raised.

    The fork dies with this process; it is killed when ``result`` is interrupted (Ctrl-C,
    SIGTERM), or when it gives no answer within ``timeout`` seconds (:class:`OverTime`).
    ``name`` names it in messages."""
    import multiprocessing

    ours, theirs = multiprocessing.Pipe(duplex=False)
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:   # the fork: run, send, and leave without running any cleanup
        status = _ORPHANED
        try:
            die_with_parent(parent)
            ours.close()
            _send(theirs, _answer(lambda: function(*args), 'In a forked process'))
            status = 0
        finally:
            os._exit(status)
    theirs.close()
    return _Fork(pid, ours, name).result


class _Fork:
    """The parent's side of :func:`call_in_fork`."""

    def __init__(self, pid: int, connection, name: str) -> None:
        self.pid, self.connection, self.name = pid, connection, name

    def result(self, timeout: float | None = None):
        try:
            if timeout is not None and not self.connection.poll(timeout):
                raise OverTime(f'the {self.name} process gave no answer within '
                               f'{timeout:g} s; it was stopped')
            failed, value = self.connection.recv()
        except EOFError:
            raise _stopped(self.name, self._reap()) from None
        except BaseException:   # over time, or interrupted: it must not run on
            os.kill(self.pid, signal.SIGKILL)
            self._reap()
            raise
        finally:
            self.connection.close()
        self._reap()
        if failed:
            raise value
        return value

    def _reap(self) -> int | None:
        try:
            return os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
        except ChildProcessError:
            return None


def stop_pool(pool) -> None:
    """Kill the workers of a ``ProcessPoolExecutor`` now: its own shutdown waits for the
    calls under way (a render may take minutes), which an interrupted build must not."""
    processes = list((getattr(pool, '_processes', None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.kill()
    for process in processes:
        process.join()


@contextmanager
def stopped_on_error(pool, folders: Iterable[Path]) -> Iterator[None]:
    """Within: when anything is raised (a failure, Ctrl-C, SIGTERM), the pool's workers
    are killed at once, and what they left in ``folders`` is removed: their staging
    folders, and the temporary files they made for this process (nobody else will rename
    them)."""
    try:
        yield
    except BaseException:
        stop_pool(pool)
        for folder in folders:
            remove_abandoned(folder, also=(os.getpid(),))
        raise


def _host() -> str:
    import socket
    return re.sub(r'[^A-Za-z0-9-]', '-', socket.gethostname())[:40] or 'localhost'


def _owner(pid: int | None) -> str:
    return f'{pid or os.getpid()}@{_host()}'


def part_prefix(name: str, owner: int | None = None) -> str:
    """The prefix of a temporary file beside ``name`` (with the suffix ``.part``):
    ``.NAME.PID@HOST.``, where PID is the ``owner`` (default: this process), the process
    that removes or renames it."""
    return f'.{name}.{_owner(owner)}.'


def staging_prefix(owner: int | None = None) -> str:
    """The prefix of a private folder under ``build/``: ``.staging-PID@HOST-``."""
    return f'.staging-{_owner(owner)}-'


def _abandoned(host: str) -> re.Pattern:
    """Names made with the prefixes above (and tempfile's random part) on this machine."""
    host = re.escape(host)
    return re.compile(rf'\..+\.(?P<file>\d+)@{host}\.[A-Za-z0-9_]+\.part'
                      rf'|\.staging-(?P<folder>\d+)@{host}-[A-Za-z0-9_]+')


def remove_abandoned(folder: Path, also: tuple[int, ...] = ()) -> list[str]:
    """Remove from ``folder`` the temporary files and staging folders whose owner is no
    longer running (or is one of the ``also`` processes); returns their names.

    Only names made by :func:`part_prefix` and :func:`staging_prefix` on this machine are
    considered (a folder shared with another machine cannot tell whether that one's
    processes run), a ``.part`` only when it is a file and a staging folder only when it is
    a folder, never a symbolic link; nothing else in ``folder`` is looked at. Never fails:
    a file that cannot be removed stays, for the next build."""
    pattern, removed = _abandoned(_host()), []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None:
            continue
        pid = int(match['file'] or match['folder'])
        if pid <= 0 or (pid not in also and _running(pid)):   # kill(0) is our own group
            continue
        try:
            if match['file'] and entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
            elif match['folder'] and entry.is_dir(follow_symlinks=False):
                import shutil
                shutil.rmtree(entry.path)
            else:
                continue
        except OSError:
            continue
        removed.append(entry.name)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # another user's process: running
        return True
    return True
