"""Reading inputs: one containment rule for every file the pipeline reads, and a journal
of what was read.

The rule: a file given by a path (from a configuration, a section, a manifest…) is read
only when, resolved with its symlinks followed, it lies inside its root (the project, or
the archive), is a regular file (not a FIFO, a device or a folder) and is no larger than
the cap for its kind. Anything else is an error naming the entry and where it was given.
Symlinks that stay inside keep working.

Every file read this way is recorded, with its SHA-256, in the journals open at the time
(:func:`recording`): a build's cache key and an archive manifest cover exactly the files
the build opened, not a list of folders.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from reportkit.errors import ReportError
from reportkit.inputs import sha256_file

KB, MB = 1024, 1024 * 1024
LARGEST_INPUT = 256 * MB
"""No input is larger (the largest cap, an archived PDF, is 200 MB): a file grown past
it since it was recorded is simply a change."""


@dataclass
class Journal:
    """What a piece of work read: files (path inside the root -> SHA-256) and folder
    listings (``folder/pattern`` -> the names found), both in the order first seen."""

    files: dict[str, str] = field(default_factory=dict)
    listings: dict[str, list[str]] = field(default_factory=dict)

    def add(self, other: 'Journal') -> None:
        self.files.update(other.files)
        self.listings.update(other.listings)

    def as_dict(self) -> dict:
        return {'files': dict(sorted(self.files.items())),
                'listings': dict(sorted(self.listings.items()))}

    @classmethod
    def from_dict(cls, data: dict) -> 'Journal':
        return cls(dict(data.get('files', {})), {k: list(v) for k, v in
                                                  data.get('listings', {}).items()})


_OPEN: list[Journal] = []


@contextlib.contextmanager
def recording():
    """Record every contained read and listing until the block ends."""
    journal = Journal()
    _OPEN.append(journal)
    try:
        yield journal
    finally:
        _OPEN.remove(journal)


def note(journal: Journal) -> None:
    """Add what another piece of work read (e.g. a cached result's reads) to the open
    journals."""
    for open_journal in _OPEN:
        open_journal.add(journal)


def _record_file(name: str, digest: str) -> None:
    for journal in _OPEN:
        journal.files.setdefault(name, digest)


def inside(root: Path, path: Path, *, what: str, shown: str, error=ReportError,
           line: int | None = None, place: str = 'the project') -> Path:
    """``path`` resolved (symlinks followed), if it lies inside ``root``; else ``error``.

    ``what`` names the entry in the message ("section 'trade'", "image 'map.png'");
    ``shown`` and ``line`` say where it was given; ``place`` names the root ('the
    project', 'the archive')."""
    if '\x00' in str(path):
        raise error(f'{what}: the name contains a NUL character', path=shown, line=line)
    try:
        resolved = Path(os.path.realpath(path))
    except (OSError, ValueError) as problem:
        raise error(f'{what}: {problem}', path=shown, line=line) from None
    root = Path(os.path.realpath(root))
    if not resolved.is_relative_to(root):
        how = 'leads' if os.path.islink(path) or resolved != Path(os.path.abspath(path)) \
            else 'is'
        raise error(f'{what} {how} outside {place}; only files inside it can be used '
                    '(copy the file in)', path=shown, line=line)
    return resolved


def read_bytes(root: Path, path: Path, *, what: str, shown: str, limit: int,
               error=ReportError, line: int | None = None, place: str = 'the project'
               ) -> bytes:
    """The bytes of a file inside ``root``, by the containment rule; recorded.

    Raises FileNotFoundError when it does not exist (callers say what is missing), and
    ``error`` when it is outside, not a regular file, or larger than ``limit`` bytes."""
    resolved = inside(root, path, what=what, shown=shown, error=error, line=line,
                      place=place)
    try:
        info = os.stat(resolved)
    except FileNotFoundError:
        raise
    except OSError as problem:
        raise error(f'{what}: cannot be read ({problem.strerror})', path=shown,
                    line=line) from None
    _check_kind(info, what, shown, limit, error, line)
    try:
        # O_NONBLOCK: a FIFO swapped in after the check must not hang the build.
        descriptor = os.open(resolved, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as problem:
        if isinstance(problem, FileNotFoundError):
            raise
        raise error(f'{what}: cannot be read ({problem.strerror})', path=shown,
                    line=line) from None
    try:
        opened = os.fstat(descriptor)
        _check_kind(opened, what, shown, limit, error, line)
        known = _READ.get(_status(opened))
        data, digest = known if known else (_read_at_most(descriptor, limit + 1), None)
    finally:
        os.close(descriptor)
    if len(data) > limit:
        raise error(_too_large(what, len(data), limit), path=shown, line=line)
    if digest is None:
        digest = hashlib.sha256(data).hexdigest()
        _keep_read(opened, data, digest)
    _record_file(relative_name(root, resolved), digest)
    return data


def digest_of(data: bytes) -> str:
    """The SHA-256 of ``data``, computed once per bytes object in this process: the bytes
    :func:`read_bytes` returned, or the fonts and images a batch's documents share, are
    hashed again for each document's keys otherwise."""
    known = _BY_IDENTITY.get(id(data))
    if known is not None and known[0] is data:
        return known[1]
    digest = hashlib.sha256(data).hexdigest()
    _remember(_BY_IDENTITY, id(data), data, digest)
    return digest


def _remember(memo: dict, key, data: bytes, digest: str) -> None:
    """Keep (``data``, ``digest``) in ``memo``: files of 4 MB at most, 64 MB in all (then
    the memo starts again)."""
    if len(data) <= _KEPT_LIMIT // 16:
        if sum(len(known) for known, _ in memo.values()) + len(data) > _KEPT_LIMIT:
            memo.clear()
        memo[key] = (data, digest)


def _read_at_most(descriptor: int, count: int) -> bytes:
    blocks, left = [], count
    while left > 0:
        block = os.read(descriptor, min(left, 1 << 20))
        if not block:
            break
        blocks.append(block)
        left -= len(block)
    return b''.join(blocks)


def read_text(root: Path, path: Path, *, what: str, shown: str, limit: int,
              error=ReportError, line: int | None = None, place: str = 'the project'
              ) -> str:
    """:func:`read_bytes` decoded as UTF-8 (a byte-order mark at the start is dropped);
    text with a NUL or not UTF-8 is an error naming the line."""
    data = read_bytes(root, path, what=what, shown=shown, limit=limit, error=error,
                      line=line, place=place)
    return decode_text(data, shown, error)


def decode_text(data: bytes, shown: str, error=ReportError) -> str:
    """UTF-8 text without its byte-order mark; a NUL or an undecodable byte is an error
    naming its line."""
    try:
        text = data.decode('utf-8-sig')
    except UnicodeDecodeError as problem:
        line = data[:problem.start].count(b'\n') + 1
        raise error('not UTF-8 text; save the file as UTF-8', path=shown, line=line) from None
    if '\x00' in text:
        line = text[:text.index('\x00')].count('\n') + 1
        raise error('the text contains a NUL character (the file may be damaged or not '
                    'text)', path=shown, line=line)
    return text


def checked(root: Path, path: Path, *, what: str, shown: str, limit: int,
            error=ReportError, line: int | None = None) -> Path:
    """The resolved path of a file that a library will open itself (a font, a style),
    after :func:`read_bytes` checked and recorded it."""
    read_bytes(root, path, what=what, shown=shown, limit=limit, error=error, line=line)
    return Path(os.path.realpath(path))


def listing(root: Path, folder: Path, pattern: str) -> list[Path]:
    """The entries of ``folder`` matching ``pattern`` (sorted); recorded, so that a file
    added or removed there changes what depends on it."""
    found = sorted(folder.glob(pattern)) if folder.is_dir() else []
    name = f'{relative_name(root, folder)}/{pattern}'
    for journal in _OPEN:
        journal.listings.setdefault(name, [p.name for p in found])
    return found


def relative_name(root: Path, path: Path) -> str:
    """``path`` as a name inside ``root`` (POSIX form), for journals and messages."""
    root = Path(os.path.realpath(root))
    try:
        return Path(os.path.realpath(path)).relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _check_kind(info: os.stat_result, what: str, shown: str, limit: int, error,
                line: int | None) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise error(f'{what} is a folder, not a file', path=shown, line=line)
    if not stat.S_ISREG(info.st_mode):
        raise error(f'{what} is not a regular file (a device, a pipe or a socket); only '
                    'ordinary files can be used', path=shown, line=line)
    if info.st_size > limit:
        raise error(_too_large(what, info.st_size, limit), path=shown, line=line)


def _too_large(what: str, size: int, limit: int) -> str:
    return f'{what} is {_size(size)}; at most {_size(limit)} is allowed for it'


def _size(count: int) -> str:
    if count >= MB:
        return f'{count / MB:,.1f} MB'
    return f'{count / KB:,.0f} KB' if count >= KB else f'{count} bytes'


def unchanged(root: Path, journal: Journal) -> bool:
    """True when every file and listing of ``journal`` is still as recorded (nothing
    is recorded by this check)."""
    root = Path(os.path.realpath(root))
    looked = _LOOKED[-1] if _LOOKED else {}
    for name, digest in journal.files.items():
        if (root, name) not in looked:
            looked[root, name] = _current_digest(root, name)
        if looked[root, name] != digest:
            return False
    for name, names in journal.listings.items():
        if (root, name, '*') not in looked:
            folder, _, pattern = name.rpartition('/')
            found = sorted((root / folder).glob(pattern)) if (root / folder).is_dir() else []
            looked[root, name, '*'] = [p.name for p in found]
        if looked[root, name, '*'] != names:
            return False
    return True


@contextlib.contextmanager
def looking_once() -> Iterator[None]:
    """Within it, :func:`unchanged` looks at each file and listing once, however many
    journals name it: for a pass over many documents at once (those of a batch share
    their templates, fonts and data files)."""
    _LOOKED.append({})
    try:
        yield
    finally:
        _LOOKED.pop()


_LOOKED: list[dict] = []


def _current_digest(root: Path, name: str) -> str | None:
    """The SHA-256 of the file ``name`` under ``root`` now; None when it is not a regular
    file inside ``root`` (whatever a link says), is too large, or cannot be read."""
    try:
        resolved = Path(os.path.realpath(root / name))
        if not resolved.is_relative_to(root):
            return None
        info = resolved.stat()
        if not stat.S_ISREG(info.st_mode) or info.st_size > LARGEST_INPUT:
            return None
        return _digest(resolved, info)
    except OSError:
        return None


_DIGESTS: dict[tuple, str] = {}
"""Digests :func:`unchanged` found, by the file's status (:func:`_status`): a batch
checks the same templates and fonts for each of its documents."""
_READ: dict[tuple, tuple[bytes, str]] = {}
"""Files :func:`read_bytes` read (their bytes and digest), by status: each document of a
batch reads the same fonts, templates and stylesheets."""
_BY_IDENTITY: dict[int, tuple[bytes, str]] = {}
"""Bytes :func:`digest_of` hashed (and their digest), by their ``id``."""
_KEPT_LIMIT = 64 * MB
_SETTLED_NS = 2_000_000_000
"""A file is remembered only when unchanged for this long (2 s) before it was read: a
write in the same tick of the clock as the reading could leave its times as they were."""


def _status(info: os.stat_result) -> tuple:
    """What changes when a file is written, replaced or renamed over: device, inode,
    size, modification and change times (no program can set a change time)."""
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns


def _settled(info: os.stat_result, now: int) -> bool:
    return now - max(info.st_mtime_ns, info.st_ctime_ns) > _SETTLED_NS


def _keep_read(info: os.stat_result, data: bytes, digest: str) -> None:
    if _settled(info, time.time_ns()):
        _remember(_READ, _status(info), data, digest)
        _remember(_BY_IDENTITY, id(data), data, digest)


def _digest(path: Path, info: os.stat_result) -> str:
    """``path``'s SHA-256, from what this process read or hashed before when its status
    is as it was then."""
    status = _status(info)
    known = _DIGESTS.get(status) or (_READ[status][1] if status in _READ else None)
    if known is None:
        now = time.time_ns()
        known = sha256_file(path)
        if _settled(info, now):
            if len(_DIGESTS) >= 4096:
                _DIGESTS.clear()
            _DIGESTS[status] = known
    return known


# --- writing ------------------------------------------------------------------------------

def write_atomically(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Write ``data`` to ``path`` so that a reader finds the old file or the new one, never
    a part of either: the bytes go to a hidden file beside it, which is renamed over it.

    The hidden file is named after this process (``.NAME.PID@HOST.*.part``, see
    :func:`~.worker.part_prefix`); it is removed on any failure, an interrupt included,
    and what a killed process left in the folder is removed before writing. With
    ``durable`` the bytes are on the disk before the rename and the rename is on the disk
    before the return (for what is published or sent; a cache need not be). The folder is
    made when missing; the file is readable by all (0o644)."""
    from reportkit.safety.worker import part_prefix, remove_abandoned

    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    remove_abandoned(folder)
    handle, temp = tempfile.mkstemp(prefix=part_prefix(path.name), suffix='.part',
                                    dir=folder)
    try:
        with os.fdopen(handle, 'wb') as stream:
            stream.write(data)
            if durable:
                stream.flush()
                os.fsync(stream.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(folder)


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (a rename, a new file) to the disk."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def replace_folder(staged: Path, target: Path) -> None:
    """Put the folder ``staged`` (beside ``target``) in the place of ``target``: the old
    folder, if any, moves aside, the new one takes its name, and the old one is removed.
    A failure at any step leaves ``target`` as it was; a build killed between the two
    renames leaves the old folder under a staging name, which the next build removes."""
    import shutil

    from reportkit.safety.worker import staging_prefix

    old = None
    if target.exists() or target.is_symlink():
        if target.is_symlink() or not target.is_dir():
            raise OSError(f'{target} is in the way: it is not a folder')
        old = Path(tempfile.mkdtemp(prefix=staging_prefix(), dir=target.parent))
        os.rmdir(old)
        os.rename(target, old)
    try:
        os.rename(staged, target)
    except BaseException:
        if old is not None:
            os.rename(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def stage_folder(files: dict[str, bytes], beside: Path) -> Path:
    """``files`` (relative name -> content) written into a new hidden folder beside
    ``beside`` (a killed build's is removed by the next one), to be renamed into place by
    :func:`replace_folder`."""
    import shutil

    from reportkit.safety.worker import remove_abandoned, staging_prefix

    beside.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned(beside.parent)
    staging = Path(tempfile.mkdtemp(prefix=staging_prefix(), dir=beside.parent))
    try:
        os.chmod(staging, 0o755)
        for name, data in sorted(files.items()):
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            os.chmod(target, 0o644)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging

