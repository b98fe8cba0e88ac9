"""The archive: every published edition and revision, never changed once written.

Layout (``archive/`` in the project by default)::

    archive/
      index.html                                  publications page (both languages)
      .lock                                       held while a publish runs
      beyond-the-border/2015/r1/
        beyond-the-border-2015-en-r1.pdf          PDF/A-3a, source data embedded
        beyond-the-border-2015-fr-r1.pdf
        manifest.json                             checksums, pages, inputs, software

A revision folder appears in one rename, complete with its manifest; before that it
is a hidden ``.r1-…`` folder that ``publish`` removes and ``verify`` allows.

The archive may sit on a shared drive that others can write, so nothing in it is
trusted: a manifest is validated when it is read (:func:`revisions`) and names only
plain files of its own folder; an archived file is reached through
:meth:`Revision.file_path` or :meth:`Revision.read_file`; symbolic links are never
followed; and :func:`verify` accounts for every entry of the archive.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import hashlib
import hmac
import json
import os
import re
import shutil
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from markupsafe import Markup
from pydantic import (BaseModel, ConfigDict, Field, StringConstraints, ValidationError,
                      field_validator, model_validator)

from . import files
from .errors import ReportError
from .i18n import load_messages
from .numbers import long_date
from .project import Project

MANIFEST = 'manifest.json'
INDEX = 'index.html'
LOCK = '.lock'
MANIFEST_FORMAT = 1
LOCK_WAIT_SECONDS = 30
MANIFEST_LIMIT = files.MB
NAME_LIMIT = 200
KEY_VARIABLE = 'REPORT_ARCHIVE_KEY'
SIGNATURE_METHOD = 'hmac-sha256'
SYMLINK = 'a symbolic link: the archive holds only files'

_REVISION_FOLDER = re.compile(r'r[1-9][0-9]*')
_STAGING = re.compile(r'\.r[1-9][0-9]*-.+')            # tempfile.mkdtemp(prefix='.r1-')
_INDEX_PART = re.compile(r'\.index\.html\..+\.part')   # render.write_atomically's temp
INPUT_FOLDERS = ('reports', 'data', 'charts', 'templates')


# --- the manifest format ------------------------------------------------------------------

def name_problem(name: str) -> str | None:
    """Why ``name`` is not a plain file name (one entry of one folder), or None."""
    if not name:
        return 'is empty'
    if len(name) > NAME_LIMIT:
        return f'is {len(name)} characters long; at most {NAME_LIMIT} are allowed'
    if '\x00' in name:
        return 'contains a NUL character'
    if '/' in name or '\\' in name:
        return 'is not a plain file name: it contains a slash or a backslash'
    if '..' in name:
        return 'is not a plain file name: it contains ..'
    if name.startswith('.'):
        return 'starts with a dot (a hidden file)'
    if not name.isprintable():
        return 'contains a control or other unprintable character'
    return None


def _plain(value: str) -> str:
    problem = name_problem(value)
    if problem:
        raise ValueError(f'{_printable(repr(value))} {problem}')
    return value


def _iso_date(value: str) -> str:
    dt.date.fromisoformat(value)
    return value


def _iso_time(value: str) -> str:
    dt.datetime.fromisoformat(value)
    return value


Sha256 = Annotated[str, StringConstraints(pattern=r'^[0-9a-f]{64}$')]


class ArchivedFile(BaseModel):
    """One PDF of a revision, as ``files[]`` of its manifest records it."""

    model_config = ConfigDict(strict=True, extra='allow', frozen=True)

    name: str
    lang: Annotated[str, StringConstraints(pattern=r'^[a-z]{2,3}$')]
    title: str
    sha256: Sha256
    size: Annotated[int, Field(ge=0)]
    pages: Annotated[int, Field(ge=1)]
    attachments: list[str]

    @field_validator('name')
    @classmethod
    def plain_name(cls, value: str) -> str:
        return _plain(value)


class Signature(BaseModel):
    model_config = ConfigDict(strict=True, extra='forbid', frozen=True)

    method: Literal['hmac-sha256']
    value: Annotated[str, StringConstraints(pattern=r'^[0-9a-f]{64}$')]


class Manifest(BaseModel):
    """``manifest.json``, format 1: what :func:`publish._manifest` writes. Keys this
    model does not name are kept (and signed) but not interpreted."""

    model_config = ConfigDict(strict=True, extra='allow', frozen=True)

    format: Literal[1]
    series: str
    edition: str
    revision: Annotated[int, Field(ge=1)]
    status: Literal['final']
    publication_date: str
    published_at: str
    revision_note: dict[str, str] | None
    data_through: int
    pdf_variant: str
    files: Annotated[list[ArchivedFile], Field(min_length=1)]
    inputs: dict[str, Any]
    software: dict[str, str]
    signature: Signature | None = None

    @field_validator('series', 'edition')
    @classmethod
    def plain_names(cls, value: str) -> str:
        return _plain(value)

    @field_validator('publication_date')
    @classmethod
    def iso_date(cls, value: str) -> str:
        return _iso_date(value)

    @field_validator('published_at')
    @classmethod
    def iso_time(cls, value: str) -> str:
        return _iso_time(value)

    @model_validator(mode='after')
    def distinct_names(self) -> 'Manifest':
        seen = set()
        for item in self.files:
            if item.name in (MANIFEST, INDEX):
                raise ValueError(f'files: {item.name!r} is not an archived PDF')
            if item.name in seen:
                raise ValueError(f'files: {item.name!r} is listed twice')
            seen.add(item.name)
        return self


def _validation_message(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        where = ''
        for part in item['loc']:
            where += f'[{part}]' if isinstance(part, int) else (f'.{part}' if where else
                                                                str(part))
        message = item['msg'].removeprefix('Value error, ')
        if item['type'] == 'missing':
            message = 'missing'
        problems.append(f'{where}: {message}' if where else message)
    more = len(problems) - 1
    text = problems[0] + (f' (and {more} more problem{"s" if more > 1 else ""})'
                          if more else '')
    return _printable(f'not a valid archive manifest: {text}')


def _printable(text: str) -> str:
    """Text safe to print: lone surrogates and controls escaped."""
    text = text.encode('utf-8', 'backslashreplace').decode('utf-8')
    return ''.join(c if c.isprintable() else repr(c)[1:-1] for c in text)


# --- signing (optional: a key kept outside the archive) ----------------------------------

def archive_key() -> bytes | None:
    """The signing key from ``REPORT_ARCHIVE_KEY``, or None when it is not set."""
    value = os.environ.get(KEY_VARIABLE)
    return value.encode('utf-8') if value else None


def _signed_bytes(manifest: dict) -> bytes:
    unsigned = {k: v for k, v in manifest.items() if k != 'signature'}
    return json.dumps(unsigned, sort_keys=True, separators=(',', ':'),
                      ensure_ascii=False).encode('utf-8')


def sign(manifest: dict, key: bytes | None) -> dict:
    """``manifest`` with an HMAC-SHA256 ``signature`` over its other keys (unchanged
    when there is no key)."""
    if not key:
        return manifest
    value = hmac.new(key, _signed_bytes(manifest), hashlib.sha256).hexdigest()
    return {**manifest, 'signature': {'method': SIGNATURE_METHOD, 'value': value}}


def signature_problem(manifest: dict, key: bytes) -> str | None:
    """Why ``manifest`` does not carry a valid signature made with ``key``, or None."""
    signature = manifest.get('signature')
    if not signature:
        return (f'not signed, and {KEY_VARIABLE} is set: it was published without the key, '
                'or its signature was removed')
    expected = hmac.new(key, _signed_bytes(manifest), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature['value']):
        return (f'changed: its signature does not match ({KEY_VARIABLE}): the manifest was '
                'edited after it was published, or signed with another key')
    return None


# --- reading ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Revision:
    """One archived revision of an edition, as its (validated) manifest describes it."""

    folder: Path
    manifest: dict

    @property
    def edition(self) -> str:
        return self.manifest['edition']

    @property
    def revision(self) -> int:
        return self.manifest['revision']

    @property
    def series(self) -> str:
        return self.manifest['series']

    def item(self, name: str) -> dict:
        """The manifest's entry for the archived file ``name``."""
        for item in self.manifest['files']:
            if item['name'] == name:
                return item
        raise ReportError(f'{_printable(repr(name))} is not a file of this revision',
                          path=self.folder / MANIFEST)

    def file_path(self, name: str) -> Path:
        """The path of the archived file ``name``: listed in the manifest, a regular file
        inside the revision folder, not a symbolic link; else a ReportError naming it."""
        self.item(name)
        path = self.folder / name
        if os.path.islink(path):
            raise ReportError(SYMLINK, path=path)
        resolved = files.inside(self.folder, path, what=f'the archived file {name}',
                                shown=str(path))
        try:
            info = os.lstat(resolved)
        except FileNotFoundError:
            raise ReportError('missing from the archive (run archive verify)',
                              path=path) from None
        if not stat.S_ISREG(info.st_mode):
            raise ReportError('not a regular file; the archive holds only files', path=path)
        return resolved

    def read_file(self, name: str) -> bytes:
        """The bytes of the archived file ``name``, read once and checked against the
        manifest (size and SHA-256); else a ReportError naming the file."""
        item = self.item(name)
        path = self.file_path(name)
        try:
            data = files.read_bytes(self.folder, path, what=f'the archived file {name}',
                                    shown=str(path), limit=item['size'])
        except FileNotFoundError:
            raise ReportError('missing from the archive (run archive verify)',
                              path=path) from None
        except ReportError:
            data = None
        if data is None or len(data) != item['size'] or \
                hashlib.sha256(data).hexdigest() != item['sha256']:
            raise ReportError('the archived file does not match its manifest (run archive '
                              'verify)', path=path)
        return data


def revision_folder(archive: Path, series: str, edition: str, revision: int) -> Path:
    return archive / series / edition / f'r{revision}'


def _folders(folder: Path) -> list[Path]:
    """The real (not linked), not hidden sub-folders of ``folder``, sorted."""
    try:
        with os.scandir(folder) as entries:
            return sorted(Path(entry.path) for entry in entries
                          if not entry.name.startswith('.')
                          and entry.is_dir(follow_symlinks=False))
    except (FileNotFoundError, NotADirectoryError):
        return []


def _manifest_paths(archive: Path) -> list[Path]:
    """Every ``<series>/<edition>/r<N>/manifest.json`` reached through real folders."""
    found = []
    for series in _folders(archive):
        for edition in _folders(series):
            for folder in _folders(edition):
                if _REVISION_FOLDER.fullmatch(folder.name) and \
                        os.path.lexists(folder / MANIFEST):
                    found.append(folder / MANIFEST)
    return found


def read_manifest(archive: Path, path: Path) -> Revision:
    """The revision whose manifest is ``path``, validated; else a ReportError naming it."""
    if os.path.islink(path):
        raise ReportError(SYMLINK, path=path)
    try:
        raw = files.read_bytes(archive, path, what='the manifest', shown=str(path),
                               limit=MANIFEST_LIMIT)
    except FileNotFoundError:
        raise ReportError('the manifest is missing', path=path) from None
    try:
        data = json.loads(raw.decode('utf-8'))
    except (ValueError, RecursionError) as error:
        raise ReportError(_printable(f'not valid JSON: {error}'), path=path) from None
    if not isinstance(data, dict):
        raise ReportError('not a valid archive manifest: expected a JSON object', path=path)
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as error:
        raise ReportError(_validation_message(error), path=path) from None
    expected = revision_folder(archive, manifest.series, manifest.edition, manifest.revision)
    if path.parent != expected:
        raise ReportError(
            f'not a valid archive manifest: it describes {manifest.series} '
            f'{manifest.edition} revision {manifest.revision}, which belongs in '
            f'{expected.relative_to(archive).as_posix()}/', path=path)
    return Revision(path.parent, data)


def revisions(archive: Path) -> list[Revision]:
    """Every revision in the archive, oldest edition first. Each manifest is validated:
    one that is not valid is a ReportError naming it."""
    found = [read_manifest(archive, path) for path in _manifest_paths(archive)]
    return sorted(found, key=lambda r: (r.series, r.edition, r.revision))


# --- where the archive may be, and publishing into it -------------------------------------

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


def fsync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def remove_unfinished(archive: Path) -> list[Path]:
    """Remove what a publish that was stopped left (under the lock): hidden staging
    folders ``<series>/<edition>/.r<N>-*`` and a half-written ``.index.html.*.part``.
    Symbolic links are not followed (verify names them)."""
    removed = []
    for series in _folders(archive):
        for edition in _folders(series):
            with os.scandir(edition) as entries:
                staging = [Path(e.path) for e in entries if _STAGING.fullmatch(e.name)
                           and e.is_dir(follow_symlinks=False)]
            for folder in staging:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
    with os.scandir(archive) as entries:
        parts = [Path(e.path) for e in entries if _INDEX_PART.fullmatch(e.name)
                 and e.is_file(follow_symlinks=False)]
    for part in parts:
        part.unlink(missing_ok=True)
        removed.append(part)
    return removed


# --- verify -------------------------------------------------------------------------------

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
    archive = Path(os.path.realpath(archive))
    done = Verified()
    findings: list[Finding] = []
    reported: set[Path] = set()

    def find(path: Path, problem: str) -> None:
        findings.append(Finding(_shown(archive, path), problem))
        reported.add(path)

    found: list[Revision] = []
    unreadable: set[Path] = set()         # revision folders whose manifest is not valid
    for path in _manifest_paths(archive):
        try:
            found.append(read_manifest(archive, path))
        except ReportError as error:
            find(path, error.message)
            unreadable.add(path.parent)
    found.sort(key=lambda r: (r.series, r.edition, r.revision))

    known: set[Path] = set()
    for revision in found:
        known.add(revision.folder / MANIFEST)
        if key:
            problem = signature_problem(revision.manifest, key)
            done.signed += 1
            if problem:
                find(revision.folder / MANIFEST, problem)
        elif revision.manifest.get('signature'):
            done.unchecked_signatures += 1
        for item in revision.manifest['files']:
            path = revision.folder / item['name']
            known.add(path)
            problem = _file_problem(revision, item, path)
            if problem is None or not problem.startswith(('missing', SYMLINK)):
                done.checked += 1
            if problem:
                find(path, problem)

    index = archive / INDEX
    known.add(index)
    if project is not None and not unreadable:
        problem = _index_problem(project, archive, found)
        done.index = True
        if problem:
            find(index, problem)

    revision_folders = {revision.folder for revision in found}
    for path, is_folder in _entries(archive):
        if path in reported:
            continue
        relative = path.relative_to(archive).parts
        if os.path.islink(path):
            find(path, SYMLINK)
        elif _in_staging(relative) or (len(relative) > 3 and
                                       path.parents[len(relative) - 4] in unreadable):
            continue            # an unfinished publish / covered by the manifest's finding
        elif is_folder:
            if not _expected_folder(relative, path, revision_folders | unreadable):
                find(path, 'unexpected folder (not an edition or revision of the archive)')
        elif path in known or relative == (LOCK,):
            with contextlib.suppress(FileNotFoundError):
                if not stat.S_ISREG(os.lstat(path).st_mode):
                    find(path, 'not a regular file; the archive holds only files')
        elif len(relative) == 1 and _INDEX_PART.fullmatch(relative[0]):
            continue            # the page half-written by a publish that was stopped
        else:
            find(path, 'unexpected file (not in any manifest)')
    return done.checked, findings, done


def _shown(archive: Path, path: Path) -> str:
    return _printable(path.relative_to(archive).as_posix())


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
    return (len(relative) >= 3 and _STAGING.fullmatch(relative[2]) is not None
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


def _index_problem(project: Project, archive: Path, found: list[Revision]) -> str | None:
    path = archive / INDEX
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return 'missing: run publish again to write it' if found else None
    if stat.S_ISLNK(info.st_mode):
        return SYMLINK
    page = render_index(project, archive, found)
    changed = ('changed: it is not the page the manifests give; run publish again, or '
               'restore it from a copy')
    if not stat.S_ISREG(info.st_mode) or info.st_size != len(page):
        return changed
    try:
        data = files.read_bytes(archive, path, what='the publications page',
                                shown=str(path), limit=len(page))
    except (FileNotFoundError, ReportError):
        return changed
    return None if data == page else changed


# --- the publications page ----------------------------------------------------------------

def render_index(project: Project, archive: Path,
                 found: list[Revision] | None = None) -> bytes:
    """``index.html`` as the manifests give it: every edition and revision, in both
    languages, no script (``found``: the archive's revisions, when already read)."""
    from .compose import template_env

    if found is None:
        found = revisions(archive)
    rows = []
    for revision in sorted(found, key=lambda r: (r.series, r.edition, r.revision),
                           reverse=True):
        m = revision.manifest
        for item in m['files']:
            rows.append({
                'href': (revision.folder / item['name']).relative_to(archive).as_posix(),
                'name': item['name'], 'edition': m['edition'], 'revision': m['revision'],
                'lang': item['lang'], 'title': item['title'],
                'date': m['publication_date'], 'published': m['published_at'][:10],
                'pages': item['pages'], 'size': item['size'], 'sha256': item['sha256'],
                'note': (m.get('revision_note') or {}).get(item['lang']),
            })
    sections = []
    for lang in ('en', 'fr'):
        messages = load_messages(project, lang)
        env = template_env(project, messages)
        sections.append(Markup(env.get_template('archive/section.html.j2').render(
            lang=lang, rows=rows, kb=lambda size, lang=lang: _kilobytes(size, lang),
            day=lambda iso, lang=lang: long_date(dt.date.fromisoformat(iso), lang))))
        messages.check()
    page = template_env(project, load_messages(project, 'en')).get_template(
        'archive/index.html.j2').render(sections=sections, count=len(rows))
    return page.encode('utf-8')


def write_index(project: Project, archive: Path) -> Path:
    """Rewrite ``index.html`` from the manifests."""
    from .render import write_atomically

    target = archive / INDEX
    if os.path.islink(target):
        raise ReportError(SYMLINK, path=target)
    write_atomically(target, render_index(project, archive))
    return target


def index_is_current(project: Project, archive: Path,
                     found: list[Revision] | None = None) -> bool:
    """True when ``index.html`` is the page the manifests give (or there is neither)."""
    found = revisions(archive) if found is None else found
    return _index_problem(project, archive, found) is None


def _kilobytes(size: int, lang: str) -> str:
    from .numbers import decimal
    return f'{decimal(size / 1024, lang, 0)}\u00a0{"Ko" if lang == "fr" else "KB"}'
