"""Writing into the archive safely: where an archive may be, the lock that lets one
publish at a time in, a revision's place made through real folders only, and removing
what a publish that was stopped left behind (see :mod:`reportkit.archive` for the
layout)."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import time
from pathlib import Path

from .archive import INDEX_PART, LOCK, STAGING, SYMLINK, folders
from .errors import ReportError
from .project import Project

LOCK_WAIT_SECONDS = 30
INPUT_FOLDERS = ('reports', 'data', 'charts', 'templates')


def check_place(project: Project, archive: Path, shown: str) -> Path:
    """``archive`` resolved, if it can be an archive: a folder, or a path that does not
    exist yet, not inside the project's inputs. Else a ReportError naming ``shown``."""
    resolved = Path(os.path.realpath(archive))
    existing = resolved
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        which = 'this' if existing == resolved else f'{existing}'
        raise ReportError(f'the archive must be a folder, and {which} is a file; give '
                          '--archive a folder, or a path that does not exist yet (it is '
                          'created)', path=shown)
    for name in INPUT_FOLDERS:
        inputs = Path(os.path.realpath(project.root / name))
        if resolved.is_relative_to(inputs):
            raise ReportError(f'the archive cannot be inside {name}/, which holds inputs of '
                              'the reports; give --archive a folder outside reports/, '
                              'data/, charts/ and templates/', path=shown)
        if inputs.is_relative_to(resolved):
            raise ReportError(f'the archive cannot be a folder that holds {name}/, which '
                              'holds inputs of the reports; give --archive a folder of its '
                              'own', path=shown)
    return resolved


def prepare_place(archive: Path, folder: Path) -> bool:
    """Make the edition folder of ``folder`` (a revision's place) through real folders
    only; True when the revision is already there. Under the lock."""
    for part in (folder.parent.parent, folder.parent, folder):
        if os.path.islink(part):
            raise ReportError(SYMLINK, path=part)
    folder.parent.mkdir(parents=True, exist_ok=True)
    return os.path.lexists(folder)


@contextlib.contextmanager
def locked(archive: Path, wait: float = LOCK_WAIT_SECONDS):
    """Hold the archive's lock: one publish at a time. Waits up to ``wait`` seconds."""
    archive.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(archive / LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise ReportError(SYMLINK, path=archive / LOCK) from None
        raise ReportError(f'cannot open the lock ({error.strerror})',
                          path=archive / LOCK) from None
    with os.fdopen(descriptor, 'a+') as handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ReportError(f'another publish is using the archive {archive} '
                                      f'(waited {wait:.0f} s); try again when it has '
                                      'finished') from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_unfinished(archive: Path) -> list[Path]:
    """Remove what a publish that was stopped left (under the lock): hidden staging
    folders ``<series>/<edition>/.r<N>-*`` and a half-written ``.index.html.*.part``.
    Symbolic links are not followed (verify names them)."""
    removed = []
    for series in folders(archive):
        for edition in folders(series):
            with os.scandir(edition) as entries:
                staging = [Path(e.path) for e in entries if STAGING.fullmatch(e.name)
                           and e.is_dir(follow_symlinks=False)]
            for folder in staging:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
    with os.scandir(archive) as entries:
        parts = [Path(e.path) for e in entries if INDEX_PART.fullmatch(e.name)
                 and e.is_file(follow_symlinks=False)]
    for part in parts:
        part.unlink(missing_ok=True)
        removed.append(part)
    return removed
