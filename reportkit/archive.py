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
is a hidden ``.r1-…`` folder that ``publish`` removes and ``verify`` ignores.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from .errors import ReportError
from .i18n import load_messages
from .inputs import sha256_file
from .numbers import long_date
from .project import Project

MANIFEST = 'manifest.json'
INDEX = 'index.html'
LOCK = '.lock'
MANIFEST_FORMAT = 1
LOCK_WAIT_SECONDS = 30


@dataclass(frozen=True)
class Revision:
    """One archived revision of an edition, as its manifest describes it."""

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


def revision_folder(archive: Path, series: str, edition: str, revision: int) -> Path:
    return archive / series / edition / f'r{revision}'


def revisions(archive: Path) -> list[Revision]:
    """Every revision in the archive (folders with a manifest), oldest edition first."""
    found = []
    for manifest in sorted(archive.glob(f'*/*/r*/{MANIFEST}')):
        if any(part.startswith('.') for part in manifest.relative_to(archive).parts):
            continue
        try:
            data = json.loads(manifest.read_text(encoding='utf-8'))
        except (OSError, ValueError) as error:
            raise ReportError(f'cannot read the manifest: {error}', path=manifest) from None
        found.append(Revision(manifest.parent, data))
    return sorted(found, key=lambda r: (r.series, r.edition, r.revision))


@contextlib.contextmanager
def locked(archive: Path, wait: float = LOCK_WAIT_SECONDS):
    """Hold the archive's lock: one publish at a time. Waits up to ``wait`` seconds."""
    archive.mkdir(parents=True, exist_ok=True)
    with open(archive / LOCK, 'a+') as handle:
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
    """Remove hidden staging folders left by a publish that was stopped (under the lock)."""
    removed = []
    for staging in archive.glob('*/*/.r*'):
        if staging.is_dir():
            shutil.rmtree(staging, ignore_errors=True)
            removed.append(staging)
    return removed


# --- verify -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    path: str
    problem: str

    def __str__(self) -> str:
        return f'{self.path}: {self.problem}'


def verify(archive: Path) -> tuple[int, list[Finding]]:
    """Re-hash every archived file against its manifest.

    Returns (files checked, problems): a changed, missing or unexpected file each give
    one finding. Unfinished (hidden) staging folders are not part of the archive.
    """
    if not archive.is_dir():
        raise ReportError(f'no archive at {archive}')
    findings: list[Finding] = []
    checked = 0
    expected: set[Path] = {archive / INDEX, archive / LOCK}
    for revision in revisions(archive):
        folder = revision.folder
        expected.add(folder / MANIFEST)
        for item in revision.manifest.get('files', []):
            path = folder / item['name']
            expected.add(path)
            shown = str(path.relative_to(archive))
            if not path.is_file():
                findings.append(Finding(shown, 'missing'))
                continue
            checked += 1
            if path.stat().st_size != item['size']:
                findings.append(Finding(shown, f'changed: {path.stat().st_size} bytes, the '
                                               f'manifest says {item["size"]}'))
            elif sha256_file(path) != item['sha256']:
                findings.append(Finding(shown, 'changed: its SHA-256 differs from the '
                                               'manifest'))
    for path in sorted(archive.rglob('*')):
        relative = path.relative_to(archive)
        if any(part.startswith('.') for part in relative.parts) and path != archive / LOCK:
            continue  # an unfinished publish, removed by the next one
        if path.is_file() and path not in expected:
            findings.append(Finding(str(relative), 'unexpected file (not in any manifest)'))
    return checked, findings


# --- the publications page ----------------------------------------------------------------

def write_index(project: Project, archive: Path) -> Path:
    """Rewrite ``index.html``: every edition and revision, in both languages, no script."""
    from .compose import template_env
    from .render import write_atomically

    rows = []
    for revision in sorted(revisions(archive), key=lambda r: (r.series, r.edition,
                                                             r.revision), reverse=True):
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
    target = archive / INDEX
    write_atomically(target, page.encode('utf-8'))
    return target


def _kilobytes(size: int, lang: str) -> str:
    from .numbers import decimal
    return f'{decimal(size / 1024, lang, 0)}\u00a0{"Ko" if lang == "fr" else "KB"}'
