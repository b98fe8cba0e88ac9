"""The two versions a review compares, each as the review forms of its documents: the
current inputs of an edition, an archived revision, or another edition.

An archived revision is read from the review forms the archive keeps beside its PDFs.
A revision published before the archive kept them is made again from the current inputs,
but only when those are still the inputs it recorded (its project files, by SHA-256;
the code may have changed since); otherwise it cannot be compared, and the message says
which inputs changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from reportkit.errors import ReportError
from reportkit.files import Journal, unchanged
from reportkit.project import Project
from reportkit.review.form import MAX_FORM_BYTES, Form, read_form, review_form

CURRENT = 'current'
ARCHIVE = 'archive'
_REVISION = re.compile(r'r([1-9][0-9]*)')
Key = tuple  # (a batch document's key or None, language)


@dataclass
class Version:
    """One side of a comparison."""

    label: str
    """As the reviewer reads it: 'revision 1 (archived)', 'the current inputs'."""
    forms: dict[Key, Form] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    """What the reviewer should know of it (rebuilt from its recorded inputs; a
    translation pending)."""


def revision_number(text: str) -> int | None:
    """``r2`` -> 2; None when ``text`` names no revision (``2014`` is an edition)."""
    found = _REVISION.fullmatch(text.strip().lower())
    return int(found.group(1)) if found else None


def version(project: Project, name: str, which: str, archive: Path,
            languages: list[str] | None, only: list[str] | None) -> Version:
    """``which`` of edition ``name``: CURRENT, ARCHIVE (its latest revision), a revision
    (``r2``), or another edition's name (its current inputs)."""
    if which == CURRENT:
        return current(project, name, languages, only, 'the current inputs')
    number = revision_number(which)
    if which == ARCHIVE or number is not None:
        return archived(project, archive, name, number, languages, only)
    other = project.resolve(which)
    return current(project, other, languages, only, f'edition {other} (its current inputs)')


def current(project: Project, name: str, languages: list[str] | None,
            only: list[str] | None, label: str) -> Version:
    """The review forms of edition ``name`` as its inputs make it now (phase 1 only:
    nothing is rendered; the data view and the charts come from the build cache)."""
    from reportkit.run.prepare import BuildRequest, prepare

    found = Version(label)
    for item in _documents(project, name, only):
        prepared = prepare(project, BuildRequest(name, languages, item=item, review=True),
                           cache=project.build / 'cache')
        for lang in prepared.composed:
            found.forms[(item, lang)] = review_form(prepared, lang)
        pending = sorted(f'{lang}/{section}' for lang, section in prepared.edition.pending)
        if pending:
            found.notes.append(f'{label}: translation pending in {", ".join(pending)}')
    return found


def _documents(project: Project, name: str, only: list[str] | None) -> list:
    """A batch edition's documents (those of ``only``); [None] for one per language."""
    from reportkit.load.edition import load_series_of

    if load_series_of(project, name)[0].for_each is None:
        if only:
            raise ReportError(f'--only: edition {name} is not a batch series (it has one '
                              'document per language)')
        return [None]
    from reportkit.run.plan import items
    from reportkit.run.prepare import BuildRequest
    return items(project, BuildRequest(name, only=only), True)[0]


def archived(project: Project, archive: Path, name: str, number: int | None,
             languages: list[str] | None, only: list[str] | None) -> Version:
    """The review forms of an archived revision of ``name`` (its latest when ``number``
    is None), read from the archive and validated."""
    from reportkit.publish.archive import revisions

    series, _, edition_id = name.partition('/')
    if not archive.is_dir():
        raise ReportError(f'no archive at {archive}: publish the edition first, or name '
                          'the archive with --archive')
    kept = [r for r in revisions(archive) if (r.series, r.edition) == (series, edition_id)]
    if not kept:
        raise ReportError(f'edition {name} is not in the archive {archive} (publish it '
                          'first, or compare with another edition: --from 2014)')
    chosen = kept[-1] if number is None else next(
        (r for r in kept if r.revision == number), None)
    if chosen is None:
        raise ReportError(f'edition {name} has no revision {number} in the archive '
                          f'(it has {", ".join(f"r{r.revision}" for r in kept)})')
    label = f'revision {chosen.revision} (archived, {chosen.manifest["publication_date"]})'
    entries = [item for item in chosen.manifest['files']
               if (not languages or item['lang'] in languages)
               and (not only or item.get('document') in only)]
    if not all(item.get('review') for item in entries):
        return _rebuilt(project, name, chosen, label, languages, only)
    found = Version(label)
    for item in entries:
        shown = f"{chosen.folder / item['review']['name']}"
        if item['review']['size'] > MAX_FORM_BYTES:
            raise ReportError(f'larger than {MAX_FORM_BYTES // 2**20} MB', path=shown)
        found.forms[(item.get('document'), item['lang'])] = read_form(
            chosen.read_file(item['review']['name']), shown)
    return found


def _rebuilt(project: Project, name: str, revision, label: str,
             languages: list[str] | None, only: list[str] | None) -> Version:
    """A revision archived without review forms, made again from its recorded inputs,
    when they are all still as they were."""
    from reportkit.inputs import code_digests

    code = code_digests()
    recorded = {path: digest for path, digest in revision.manifest['inputs'].items()
                if path not in code and not path.startswith('reportkit/')}
    changed = [path for path, digest in recorded.items()
               if not unchanged(project.root, Journal({path: digest}))]
    if changed:
        shown = ', '.join(changed[:4]) + (f' and {len(changed) - 4} more'
                                          if len(changed) > 4 else '')
        raise ReportError(
            f'{label} was published before the archive kept what a comparison needs, and '
            f'its inputs have changed since ({shown}): it cannot be compared; compare '
            'a later revision, or another edition')
    found = current(project, name, languages, only, label)
    found.notes.append(f'{label}: published before the archive kept review forms; made '
                       'again from its recorded inputs, which are unchanged')
    return found
