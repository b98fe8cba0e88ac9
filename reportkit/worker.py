"""A second process that loads a heavy library ahead of time, then runs calls in order.

A build of one document uses two of them when it can (two cores): the renderer loads
WeasyPrint (:func:`.render.start_renderer`) and, when charts have to be drawn, the drawer
loads matplotlib (:func:`.charts.start_drawer`), each while the build itself reads and
checks the inputs. Workers return results and never write files: the build alone writes,
so that an interrupted build leaves nothing behind. Ctrl-C is answered by the build, which
stops its workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .errors import RenderError, ReportError


class Worker:
    """A forked process: ``preload()`` first, then every :meth:`submit`-ted call in turn."""

    def __init__(self, preload: Callable[[], None], name: str) -> None:
        import multiprocessing

        context = multiprocessing.get_context('fork')
        self.name = name
        self._connection, theirs = context.Pipe()
        self._process = context.Process(target=_serve, args=(theirs, preload), daemon=True,
                                        name=name)
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

    def _outcome(self, index: int):
        while len(self._received) <= index:
            try:
                self._received.append(self._connection.recv())
            except (EOFError, OSError):
                raise self._stopped() from None
        failed, value = self._received[index]
        if failed:
            raise value
        return value

    def _stopped(self) -> RenderError:
        self._process.join(5)
        return RenderError(f'the {self.name} process stopped unexpectedly (exit status '
                           f'{self._process.exitcode}); no PDF was written')

    def stop(self) -> None:
        """Stop the worker, whatever it is doing (loading, waiting or working)."""
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self._connection.close()


@dataclass
class Pending:
    """The result, to come, of a call submitted to a worker."""

    worker: Worker
    index: int

    def result(self):
        """The function's return value; raises what it raised."""
        return self.worker._outcome(self.index)


def _serve(connection, preload: Callable[[], None]) -> None:
    import signal
    import traceback

    # Ctrl-C reaches every process of the terminal; the build answers it and stops us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
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
        try:
            if unloaded is not None:
                raise unloaded
            outcome = (False, function(*args, **kwargs))
        except BaseException as error:  # sent back, and raised in the build
            if not isinstance(error, ReportError):   # a bug: keep where it happened
                error.add_note('In a worker process:\n' + ''.join(
                    traceback.format_exception(error)).rstrip())
            outcome = (True, error)
        try:
            connection.send(outcome)
        except Exception:   # a result that cannot be pickled: its text travels
            connection.send((True, RuntimeError(f'{type(outcome[1]).__name__}: '
                                                f'{outcome[1]}')))


def call_in_fork(function: Callable, *args) -> Callable[[], object]:
    """Start ``function(*args)`` in a fork of this process, which inherits everything
    this one has loaded (nothing to load again); returns a function that waits for the
    result and returns it, or raises what ``function`` raised."""
    import multiprocessing
    import os

    ours, theirs = multiprocessing.Pipe(duplex=False)
    pid = os.fork()
    if pid == 0:   # the fork: run, send, and leave without running any cleanup
        try:
            ours.close()
            try:
                outcome = (False, function(*args))
            except BaseException as error:
                if not isinstance(error, ReportError):   # a bug: keep where it happened
                    import traceback
                    error.add_note('In a forked process:\n' + ''.join(
                        traceback.format_exception(error)).rstrip())
                outcome = (True, error)
            theirs.send(outcome)
        finally:
            os._exit(0)
    theirs.close()

    def result():
        try:
            failed, value = ours.recv()
        except EOFError:
            raise RenderError('a process drawing charts stopped unexpectedly; no PDF was '
                              'written') from None
        finally:
            ours.close()
            os.waitpid(pid, 0)
        if failed:
            raise value
        return value

    return result
