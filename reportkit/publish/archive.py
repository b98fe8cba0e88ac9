"""The archive: its layout, and what a revision in it is: a manifest read, validated and
(optionally) signed, and the files it lists reached safely.

Layout (``archive/`` in the project by default)::

    archive/
      index.html                                  publications page (both languages)
      .lock                                       held while a publish runs
      <series>/<edition>/r1/
        <series>-<edition>-en-r1.pdf              PDF/A-3a, source data embedded
        <series>-<edition>-fr-r1.pdf
        manifest.json                             checksums, pages, inputs, software

A revision folder appears in one rename, complete with its manifest; before that it
is a hidden ``.r1-…`` folder that ``publish`` removes and ``verify`` allows.

The archive may sit on a shared drive that others can write, so nothing in it is
trusted: a manifest is validated when it is read (:func:`revisions`) and names only
plain files of its own folder; an archived file is reached through
:meth:`Revision.file_path` or :meth:`Revision.read_file`; symbolic links are never
followed; and :func:`reportkit.publish.verify.verify` accounts for every entry of the archive.

Writing into the archive (where it may be, the lock, what a stopped publish left) is
:mod:`reportkit.publish.place`; its publications page ``index.html`` is :mod:`reportkit.publish.pages`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (BaseModel, ConfigDict, Field, StringConstraints, ValidationError,
                      field_validator, model_validator)

from reportkit import files
from reportkit.errors import ReportError

MANIFEST = 'manifest.json'
INDEX = 'index.html'
LOCK = '.lock'
MANIFEST_FORMAT = 1
MANIFEST_LIMIT = files.MB
NAME_LIMIT = 200
KEY_VARIABLE = 'REPORT_ARCHIVE_KEY'
SIGNATURE_METHOD = 'hmac-sha256'
SYMLINK = 'a symbolic link: the archive holds only files'

_REVISION_FOLDER = re.compile(r'r[1-9][0-9]*')
MAX_WEB_DEPTH = 3
"""A web edition's files are at most this many names deep (``fonts/Lato-Bold.ttf``)."""
STAGING = re.compile(r'\.r[1-9][0-9]*-.+')             # tempfile.mkdtemp(prefix='.r1-')
INDEX_PART = re.compile(r'\.index\.html\..+\.part')    # files.write_atomically's temp


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
        raise ValueError(f'{printable(repr(value))} {problem}')
    return value


def _iso_date(value: str) -> str:
    dt.date.fromisoformat(value)
    return value


def _iso_time(value: str) -> str:
    dt.datetime.fromisoformat(value)
    return value


Sha256 = Annotated[str, StringConstraints(pattern=r'^[0-9a-f]{64}$')]


class WebFile(BaseModel):
    """One file of a document's web edition, named inside its folder
    (``index.html``, ``charts/goods-trade.svg``)."""

    model_config = ConfigDict(strict=True, extra='forbid', frozen=True)

    name: str
    sha256: Sha256
    size: Annotated[int, Field(ge=0)]

    @field_validator('name')
    @classmethod
    def plain_path(cls, value: str) -> str:
        parts = value.split('/')
        if len(parts) > MAX_WEB_DEPTH:
            raise ValueError(f'{printable(repr(value))} is more than {MAX_WEB_DEPTH} '
                             'folders deep')
        for part in parts:
            _plain(part)
        return value


class WebEdition(BaseModel):
    """A document's web edition: a folder of the revision, beside its PDF."""

    model_config = ConfigDict(strict=True, extra='forbid', frozen=True)

    folder: str
    files: Annotated[list[WebFile], Field(min_length=1)]

    @field_validator('folder')
    @classmethod
    def plain_name(cls, value: str) -> str:
        return _plain(value)

    @model_validator(mode='after')
    def has_its_page(self) -> 'WebEdition':
        names = [item.name for item in self.files]
        if 'index.html' not in names:
            raise ValueError(f'web: the folder {self.folder!r} lists no index.html')
        if len(set(names)) != len(names):
            raise ValueError(f'web: the folder {self.folder!r} lists a file twice')
        return self


class ArchivedFile(BaseModel):
    """One PDF of a revision, as ``files[]`` of its manifest records it, with its web
    edition (from the revisions published with one)."""

    model_config = ConfigDict(strict=True, extra='allow', frozen=True)

    name: str
    lang: Annotated[str, StringConstraints(pattern=r'^[a-z]{2,3}$')]
    title: str
    sha256: Sha256
    size: Annotated[int, Field(ge=0)]
    pages: Annotated[int, Field(ge=1)]
    attachments: list[str]
    web: WebEdition | None = None

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
    data_through: int | None = None
    """Written by editions before their window was their publication date."""
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
            names = [item.name] + ([item.web.folder] if item.web else [])
            for name in names:
                if name in (MANIFEST, INDEX):
                    raise ValueError(f'files: {name!r} is not an archived PDF')
                if name in seen:
                    raise ValueError(f'files: {name!r} is listed twice')
                seen.add(name)
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
    return printable(f'not a valid archive manifest: {text}')


def printable(text: str) -> str:
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

    def web_files(self) -> list[tuple[Path, dict]]:
        """(path, manifest entry) of every file of every web edition of the revision."""
        return [(self.folder / item['web']['folder'] / each['name'], each)
                for item in self.manifest['files'] if item.get('web')
                for each in item['web']['files']]

    def item(self, name: str) -> dict:
        """The manifest's entry for the archived file ``name``."""
        for item in self.manifest['files']:
            if item['name'] == name:
                return item
        raise ReportError(f'{printable(repr(name))} is not a file of this revision',
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


def folders(folder: Path) -> list[Path]:
    """The real (not linked), not hidden sub-folders of ``folder``, sorted."""
    try:
        with os.scandir(folder) as entries:
            return sorted(Path(entry.path) for entry in entries
                          if not entry.name.startswith('.')
                          and entry.is_dir(follow_symlinks=False))
    except (FileNotFoundError, NotADirectoryError):
        return []


def manifest_paths(archive: Path) -> list[Path]:
    """Every ``<series>/<edition>/r<N>/manifest.json`` reached through real folders."""
    found = []
    for series in folders(archive):
        for edition in folders(series):
            for folder in folders(edition):
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
        raise ReportError(printable(f'not valid JSON: {error}'), path=path) from None
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
    found = [read_manifest(archive, path) for path in manifest_paths(archive)]
    return sorted(found, key=lambda r: (r.series, r.edition, r.revision))
