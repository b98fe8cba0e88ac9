"""Verify: account for every entry of the archive against the manifests beside it.

Each archived file is re-hashed, every signature checked when there is a key,
``index.html`` compared with the page the manifests give (:mod:`reportkit.publish.pages`), and
everything else (hidden files, symbolic links, which are never followed, unexpected files
and folders) named, except what a publish leaves on purpose or when it is stopped."""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportkit import files
from reportkit.publish.archive import (INDEX, INDEX_PART, LOCK, MANIFEST, STAGING, SYMLINK, Revision,
                      archive_key, manifest_paths, name_problem, printable, read_manifest,
                      signature_problem)
from reportkit.errors import ReportError
from reportkit.publish.pages import index_problem
from reportkit.project import Project


@dataclass(frozen=True)
class Finding:
    path: str
    problem: str

    def __str__(self) -> str:
        return f'{self.path}: {self.problem}'


@dataclass
class Verified:
    """What :func:`verify` looked at, besides its findings."""

    checked: int = 0
    """Archived files re-hashed against their manifest."""
    index: bool = False
    """Whether ``index.html`` was compared with the page the manifests give."""
    signed: int = 0
    """Manifests whose signature was checked with ``REPORT_ARCHIVE_KEY``."""
    unchecked_signatures: int = 0
    """Signed manifests not checked, for want of the key."""


_UNSET: Any = object()


def verify(archive: Path, project: Project | None = None, *,
           key: bytes | None = _UNSET) -> tuple[int, list[Finding]]:
    """Account for every entry of the archive. Returns (files checked, problems).

    Each revision's files are re-hashed against its manifest; ``index.html`` is compared
    byte for byte with the page the manifests give (when ``project`` is given); with a
    key (default: ``REPORT_ARCHIVE_KEY``) every manifest's signature is checked. A
    changed, missing or unexpected file, an invalid manifest and any symbolic link (never
    followed) each give one finding. Allowed besides: the lock ``.lock`` and what an
    unfinished publish leaves (``<series>/<edition>/.r<N>-*``), which the next one
    removes."""
    checked, findings, _ = verify_archive(archive, project, key=key)
    return checked, findings


def verify_archive(archive: Path, project: Project | None = None, *,
                   key: bytes | None = _UNSET) -> tuple[int, list[Finding], Verified]:
    """:func:`verify`, with what was looked at."""
    if key is _UNSET:
        key = archive_key()
    if not archive.is_dir():
        raise ReportError(f'no archive at {archive}')
    audit = _Audit(Path(os.path.realpath(archive)))
    found, unreadable = _read_manifests(audit)
    known: set[Path] = set()
    for revision in found:
        known |= _check_revision(audit, revision, key)

    index = audit.archive / INDEX
    known.add(index)
    if project is not None and not unreadable:
        problem = index_problem(project, audit.archive, found)
        audit.done.index = True
        if problem:
            audit.find(index, problem)
    _check_entries(audit, {revision.folder for revision in found}, unreadable, known)
    return audit.done.checked, audit.findings, audit.done


class _Audit:
    """One run of :func:`verify`: what it looked at, its findings, the paths they name."""

    def __init__(self, archive: Path) -> None:
        self.archive = archive
        self.done = Verified()
        self.findings: list[Finding] = []
        self.reported: set[Path] = set()

    def find(self, path: Path, problem: str) -> None:
        self.findings.append(Finding(_shown(self.archive, path), problem))
        self.reported.add(path)


def _read_manifests(audit: _Audit) -> tuple[list[Revision], set[Path]]:
    """The revisions whose manifest is valid, sorted, and the revision folders whose
    manifest is not (each one a finding)."""
    found: list[Revision] = []
    unreadable: set[Path] = set()         # revision folders whose manifest is not valid
    for path in manifest_paths(audit.archive):
        try:
            found.append(read_manifest(audit.archive, path))
        except ReportError as error:
            audit.find(path, error.message)
            unreadable.add(path.parent)
    found.sort(key=lambda r: (r.series, r.edition, r.revision))
    return found, unreadable


def _check_revision(audit: _Audit, revision: Revision, key: bytes | None) -> set[Path]:
    """Check the signature and every file of ``revision``; the paths its manifest names."""
    known = {revision.folder / MANIFEST}
    if key:
        problem = signature_problem(revision.manifest, key)
        audit.done.signed += 1
        if problem:
            audit.find(revision.folder / MANIFEST, problem)
    elif revision.manifest.get('signature'):
        audit.done.unchecked_signatures += 1
    listed = [(revision.folder / item['name'], item) for item in revision.manifest['files']]
    for path, item in listed + revision.web_files() + revision.review_files():
        known.add(path)
        problem = _file_problem(revision, item, path)
        if problem is None or not problem.startswith(('missing', SYMLINK)):
            audit.done.checked += 1
        if problem:
            audit.find(path, problem)
    return known


def _check_entries(audit: _Audit, revision_folders: set[Path], unreadable: set[Path],
                   known: set[Path]) -> None:
    """Account for every entry of the archive not named by a finding yet."""
    archive = audit.archive
    holding = {folder for path in known for folder in path.parents}  # web editions' folders
    for path, is_folder in _entries(archive):
        if path in audit.reported:
            continue
        relative = path.relative_to(archive).parts
        if os.path.islink(path):
            audit.find(path, SYMLINK)
        elif _in_staging(relative) or (len(relative) > 3 and
                                       path.parents[len(relative) - 4] in unreadable):
            continue            # an unfinished publish / covered by the manifest's finding
        elif is_folder:
            if not _expected_folder(relative, path, revision_folders | unreadable) and \
                    path not in holding:
                audit.find(path, 'unexpected folder (not an edition or revision of the '
                           'archive)')
        elif path in known or relative == (LOCK,):
            with contextlib.suppress(FileNotFoundError):
                if not stat.S_ISREG(os.lstat(path).st_mode):
                    audit.find(path, 'not a regular file; the archive holds only files')
        elif len(relative) == 1 and INDEX_PART.fullmatch(relative[0]):
            continue            # the page half-written by a publish that was stopped
        else:
            audit.find(path, 'unexpected file (not in any manifest)')


def _shown(archive: Path, path: Path) -> str:
    return printable(path.relative_to(archive).as_posix())


def _entries(archive: Path):
    """Every entry under ``archive`` as (path, is a real folder), sorted; symbolic links
    are listed, never followed."""
    for current, folders, names in os.walk(archive, followlinks=False):
        here = Path(current)
        folders.sort()
        entries = [(here / name, not os.path.islink(here / name)) for name in folders]
        entries += [(here / name, False) for name in names]
        yield from sorted(entries)


def _in_staging(relative: tuple[str, ...]) -> bool:
    return (len(relative) >= 3 and STAGING.fullmatch(relative[2]) is not None
            and not relative[0].startswith('.') and not relative[1].startswith('.'))


def _expected_folder(relative: tuple[str, ...], path: Path, revisions: set[Path]) -> bool:
    if len(relative) <= 2:                            # a series or an edition
        return name_problem(relative[-1]) is None and relative != (INDEX,)
    return len(relative) == 3 and path in revisions


def _file_problem(revision: Revision, item: dict, path: Path) -> str | None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return 'missing'
    if stat.S_ISLNK(info.st_mode):
        return SYMLINK
    if not stat.S_ISREG(info.st_mode):
        return 'changed: not a regular file; the archive holds only files'
    if info.st_size != item['size']:
        return f'changed: {info.st_size} bytes, the manifest says {item["size"]}'
    try:
        data = files.read_bytes(revision.folder, path, what='the file', shown=str(path),
                                limit=item['size'])
    except FileNotFoundError:
        return 'missing'
    except ReportError as error:
        return f'changed: {error.message}'
    if hashlib.sha256(data).hexdigest() != item['sha256']:
        return 'changed: its SHA-256 differs from the manifest'
    return None
