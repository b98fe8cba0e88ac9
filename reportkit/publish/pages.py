"""The publications page: ``index.html`` of the archive, every edition and revision in
both languages, rendered from the manifests alone; written, and compared with the page
they give."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

from markupsafe import Markup

from reportkit import files
from reportkit.publish.archive import INDEX, SYMLINK, Revision, revisions
from reportkit.errors import ReportError
from reportkit.compose.i18n import load_messages
from reportkit.numbers import long_date
from reportkit.project import Project


def render_index(project: Project, archive: Path,
                 found: list[Revision] | None = None) -> bytes:
    """``index.html`` as the manifests give it: every edition and revision, in both
    languages, no script (``found``: the archive's revisions, when already read)."""
    from reportkit.compose.compose import template_env

    if found is None:
        found = revisions(archive)
    rows = []
    for revision in sorted(found, key=lambda r: (r.series, r.edition, r.revision),
                           reverse=True):
        m = revision.manifest
        for item in m['files']:
            rows.append({
                'href': (revision.folder / item['name']).relative_to(archive).as_posix(),
                'name': item['name'], 'edition': f"{m['series']}/{m['edition']}",
                'revision': m['revision'],
                'lang': item['lang'], 'title': item['title'],
                'date': m['publication_date'], 'published': m['published_at'][:10],
                'pages': item['pages'], 'size': item['size'], 'sha256': item['sha256'],
                'note': (m.get('revision_note') or {}).get(item['lang']),
                'web': (revision.folder / item['web']['folder'] / 'index.html').relative_to(
                    archive).as_posix() if item.get('web') else None,
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
    target = archive / INDEX
    if os.path.islink(target):
        raise ReportError(SYMLINK, path=target)
    files.write_atomically(target, render_index(project, archive), durable=True)
    return target


def index_is_current(project: Project, archive: Path,
                     found: list[Revision] | None = None) -> bool:
    """True when ``index.html`` is the page the manifests give (or there is neither)."""
    found = revisions(archive) if found is None else found
    return index_problem(project, archive, found) is None


def index_problem(project: Project, archive: Path, found: list[Revision]) -> str | None:
    """Why ``index.html`` is not the page the manifests give (``found``: the archive's
    revisions), or None; None too when there is neither."""
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


def _kilobytes(size: int, lang: str) -> str:
    from reportkit.numbers import decimal
    return f'{decimal(size / 1024, lang, 0)}\u00a0{"Ko" if lang == "fr" else "KB"}'
