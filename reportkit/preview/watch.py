"""Watching the inputs (watchfiles): the project's reports/, data/, charts/ and
templates/, where every file a document is made from lives.

A save shows up as one change or several (an editor that writes a copy and renames it
over the file; a burst of saves): the changes that come within :data:`QUIET_MS` of each
other are taken together, and those that come while a build runs wait for it and are
taken together after it, so that a burst makes one build, not one per save. Editors'
own files (swap files, backups) and caches are not inputs, and are left out.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable, Iterable

from reportkit.project import Project

QUIET_MS = 60
"""How long the files must stay unchanged before a build starts (ms)."""
STEP_MS = 25
"""How often the watcher looks at what changed (ms)."""
LONGEST_MS = 1000
"""The longest a build waits for changes that go on and on to end (ms)."""


def watched(project: Project) -> list[Path]:
    """The folders whose files documents are made from (those that exist)."""
    return [folder for folder in (project.reports, project.data, project.charts,
                                  project.templates) if folder.is_dir()]


def watch(project: Project, on_change: Callable[[list[str]], None],
          stop: threading.Event | None = None) -> None:
    """Call ``on_change(names)`` with the changed files (as the project shows them) once
    the inputs have stayed unchanged for :data:`QUIET_MS` after a change, until ``stop``
    is set or Ctrl-C (KeyboardInterrupt).

    (watchfiles groups the changes of one step, but a file saved again and again counts
    as one change, so that its group ends at once: the quiet time is waited for here.)"""
    import watchfiles

    pending: set[str] = set()
    since = 0.0
    for changes in watchfiles.watch(*watched(project), watch_filter=watchfiles.DefaultFilter(),
                                    debounce=LONGEST_MS, step=STEP_MS, stop_event=stop,
                                    rust_timeout=QUIET_MS, yield_on_timeout=True,
                                    raise_interrupt=True):
        if changes:
            since = since if pending else time.monotonic()
            pending.update(path for _, path in changes)
            if time.monotonic() - since < LONGEST_MS / 1000:
                continue
        if pending:
            names, pending = changed_names(project, pending), set()
            on_change(names)


def changed_names(project: Project, paths: Iterable[str]) -> list[str]:
    """The changed files as a user names them, sorted, each once."""
    return sorted({project.show(path) for path in paths})
