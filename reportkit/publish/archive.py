"""The archive: its layout, and what a revision in it is: a manifest read, validated and
(optionally) signed, and the files it lists reached safely.

Layout (``archive/`` in the project by default)::

    archive/
      index.html                                  publications page (both languages)
      .lock                                       held while a publish runs
      <series>/<edition>/r1/
        <series>-<edition>-en-r1.pdf              PDF/A-3a, source data embedded
        <series>-<edition>-en-r1/index.html       its web edition, with every file it uses
        <series>-<edition>-fr-r1.pdf
        manifest.json                             checksums, pages, inputs, software

A revision folder appears in one rename, complete with its manifest; before that it
is a hidden ``.r1-…`` folder that ``publish`` removes and ``verify`` allows.

The manifest's format is :mod:`reportkit.publish.manifest`.

The archive may sit on a shared drive that others can write, so nothing in it is
trusted: a manifest is validated when it is read (:func:`revisions`) and names only
plain files of its own folder; an archived file is reached through
:meth:`Revision.file_path` or :meth:`Revision.read_file`; symbolic links are never
followed; and :func:`reportkit.publish.verify.verify` accounts for every entry of the archive.

Writing into the archive (where it may be, the lock, what a stopped publish left) is
:mod:`reportkit.publish.place`; its publications page ``index.html`` is :mod:`reportkit.publish.pages`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from reportkit import files
from reportkit.errors import ReportError
from reportkit.publish.manifest import (INDEX, MANIFEST, MANIFEST_FORMAT, Manifest,  # noqa: F401
                                        name_problem, printable, validation_message)

LOCK = '.lock'
MANIFEST_LIMIT = files.MB
KEY_VARIABLE = 'REPORT_ARCHIVE_KEY'
SIGNATURE_METHOD = 'hmac-sha256'
SYMLINK = 'a symbolic link: the archive holds only files'

_REVISION_FOLDER = re.compile(r'r[1-9][0-9]*')
STAGING = re.compile(r'\.r[1-9][0-9]*-.+')             # tempfile.mkdtemp(prefix='.r1-')
INDEX_PART = re.compile(r'\.index\.html\..+\.part')    # files.write_atomically's temp


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

    def review_files(self) -> list[tuple[Path, dict]]:
        """(path, manifest entry) of every document's review form (from the revisions
        published with one)."""
        return [(self.folder / item['review']['name'], item['review'])
                for item in self.manifest['files'] if item.get('review')]

    def item(self, name: str) -> dict:
        """The manifest's entry for the archived file ``name`` (a PDF or a review form)."""
        for item in self.manifest['files']:
            if item['name'] == name:
                return item
            if (item.get('review') or {}).get('name') == name:
                return item['review']
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
        raise ReportError(validation_message(error), path=path) from None
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
