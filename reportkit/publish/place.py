"""Writing into the archive safely: where an archive may be, the lock that lets one
publish at a time in, a revision's place made through real folders only, and removing
what a publish that was stopped left behind (see :mod:`reportkit.publish.archive` for the
layout)."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from pathlib import Path

from filelock import FileLock, Timeout

from reportkit.publish.archive import INDEX_PART, LOCK, STAGING, SYMLINK, folders
from reportkit.errors import ReportError
from reportkit.project import Project

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
    """Hold the archive's lock: one publish at a time. Waits up to ``wait`` seconds.

    The lock is an flock on ``.lock`` (filelock's native lock), not a marker file
    (SoftFileLock), although the archive may sit on a shared drive: the kernel (and an
    NFSv4 or SMB server, which carry flock as their own locks) drops an flock when its
    holder dies, so a killed publish never leaves a lock behind, where a marker can only be
    broken by guessing how long a publish may take. A file system with no locks at all is
    refused, rather than falling back to a marker (``fallback_to_soft=False``). The file
    is opened without following a symbolic link and stays in place after release."""
    archive.mkdir(parents=True, exist_ok=True)
    lock = FileLock(archive / LOCK, timeout=wait, mode=0o644, poll_interval=0.2,
                    fallback_to_soft=False)
    try:
        lock.acquire()
    except Timeout:
        raise ReportError(f'another publish is using the archive {archive} (waited '
                          f'{wait:.0f} s); try again when it has finished') from None
    except OSError as error:
        raise ReportError(_lock_problem(error), path=archive / LOCK) from None
    try:
        yield
    finally:
        lock.release()


def _lock_problem(error: OSError) -> str:
    if error.errno == errno.ELOOP:
        return SYMLINK
    if error.errno in (errno.ENOSYS, errno.ENOLCK, errno.EOPNOTSUPP):
        return ('the archive is on a file system without file locks, so two publishes '
                'could interleave; put it on a drive that supports them (a local disk, '
                'NFSv4, SMB)')
    return f'cannot open the lock ({error.strerror})'


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
