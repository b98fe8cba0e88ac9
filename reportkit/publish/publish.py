"""Stage 7, publish: a final edition -> a permanent revision in the archive.

Every language is rendered as PDF/A-3a with the data it shows embedded (the windowed
rows of each data file, AFRelationship /Source), into a hidden staging folder beside
its place in the archive. The manifest is written last, every file is flushed to disk,
and one rename makes the revision appear, complete. A publish stopped at any moment
leaves the archive as it was (the staging folder is removed by the next publish and
ignored by verify). The archive lock keeps two publishes from interleaving.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from reportkit.publish.archive import MANIFEST, MANIFEST_FORMAT, archive_key, revision_folder, revisions, sign
from reportkit.run.render import render_language
from reportkit.run.prepare import BuildRequest, Progress, output_name, prepare, quiet
from reportkit.cache import Depends, PdfCache
from reportkit.errors import ReportError
from reportkit.files import Journal, fsync_dir, read_bytes, recording, write_atomically
from reportkit.inputs import code_digests, key, manifest_inputs, sha256_file, software
from reportkit.load.edition import Edition, load_edition
from reportkit.publish.pages import index_is_current, write_index
from reportkit.publish.place import LOCK_WAIT_SECONDS, check_place, locked, prepare_place, remove_unfinished
from reportkit.project import Project
from reportkit.render.pdf import ARCHIVE_VARIANT, Embedded
from reportkit.render.web import page_files, web_folder
from reportkit.review.form import SUFFIX as REVIEW_SUFFIX, form_bytes, review_form


@dataclass(frozen=True)
class Published:
    folder: Path
    manifest: dict
    reused: list[str]
    """Languages whose PDF was taken from the cache (nothing had changed)."""
    index: Path


def publish(project: Project, edition_id: str, archive: Path, progress: Progress = quiet,
            lock_wait: float = LOCK_WAIT_SECONDS) -> Published:
    """Publish the final edition ``edition_id`` in every language it lists.

    Waits up to ``lock_wait`` seconds while another publish holds the archive."""
    edition = load_edition(project, edition_id)
    config = edition.config
    if config.status != 'final':
        raise ReportError(f'edition {edition_id} is a draft and cannot be published; set '
                          'status = "final" when it is approved', path=edition.config_shown)
    archive = check_place(project, archive, str(archive))
    folder = revision_folder(archive, config.series, config.id, config.revision)
    with locked(archive, lock_wait):
        archived = revisions(archive)         # every manifest valid, before anything is made
        if prepare_place(archive, folder):
            stale = not index_is_current(project, archive, archived)
            if stale:
                write_index(project, archive)
            raise ReportError(
                f'edition {edition_id} revision {config.revision} is already in the archive '
                f'({folder}); an archived revision never changes. To correct it, raise '
                f'revision to {config.revision + 1} and add a revision_note in '
                f'{edition.config_shown}'
                + (' (index.html was not the page the manifests give: it has been rewritten)'
                   if stale else ''))
        remove_unfinished(archive)
        languages = list(config.languages)
        versions = software()
        store = _Store(project)

        staging = Path(tempfile.mkdtemp(prefix=f'.r{config.revision}-', dir=folder.parent))
        os.chmod(staging, 0o755)
        try:
            entries, reused, journal = _render_all(project, edition, languages, staging,
                                                   store, progress)
            manifest = _manifest(edition, entries, manifest_inputs(journal), versions)
            write_atomically(staging / MANIFEST, json.dumps(
                manifest, indent=2, ensure_ascii=False).encode() + b'\n', durable=True)
            fsync_dir(staging)
            os.rename(staging, folder)        # the revision appears, complete
            fsync_dir(folder.parent)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        index = write_index(project, archive)
    return Published(folder, manifest, reused, index)


class _Store:
    """Archival PDFs kept in ``build/cache/archive`` with what each was made from, so that
    publishing unchanged inputs again reuses them."""

    def __init__(self, project: Project) -> None:
        folder = project.build / 'cache' / 'archive'
        self.pdfs, self.depends = PdfCache(folder), Depends(folder, project.root)

    @staticmethod
    def plan(edition: Edition, lang: str, item: str | None = None) -> str:
        return key('archive', ARCHIVE_VARIANT, edition.name, item, lang, software(),
                   code_digests())


def _render_all(project: Project, edition: Edition, languages: list[str], staging: Path,
                store: _Store | None, progress: Progress):
    """Every document's archival PDF (each language; each row of a batch series) into
    ``staging``, from the store when its inputs are unchanged; (manifest entries,
    documents reused, every file read)."""
    config = edition.config
    entries, reused, journal = [], [], Journal()
    embedded = None
    for item in _documents(project, edition):
        hits = {}
        for lang in languages:
            found = store.depends.lookup(store.plan(edition, lang, item)) if store else None
            entry = store.pdfs.get(found[0]) if found else None
            if entry is not None and entry.web is not None and entry.review is not None:
                hits[lang] = (entry, found[1])
        missing = [lang for lang in languages if lang not in hits]
        reads = Journal()
        if missing:
            with recording() as reads:
                prepared = prepare(project, BuildRequest(edition.name, missing, item=item,
                                                         formats=('pdf', 'web'), forms=True),
                                   progress)
                if embedded is None:   # the same data for every document of the edition
                    embedded = _source_data(project, config.publication_date,
                                            prepared.datasets)
        for lang in languages:
            name = output_name(config, lang, item)
            target = staging / name
            label = f'{item} {lang}' if item else lang
            if lang in hits:
                entry, read = hits[lang]
                shutil.copyfile(entry.path, target)
                pages, attached, title = entry.pages, entry.attachments, None
                web = store.pdfs.web_files(entry)
                review = entry.review.read_bytes()
                journal.add(read)
                reused.append(label)
            else:
                progress(6, 'Rendering the archival PDF (PDF/A-3a)', f'{edition.name} {label}')
                rendered, _ = render_language(project, prepared, lang, target,
                                              variant=ARCHIVE_VARIANT, embedded=embedded)
                pages, attached = rendered.pages, [each.name for each in embedded]
                title = prepared.composed[lang].title
                web = page_files(prepared.composed[lang].web, pages, target.stat().st_size)
                review = form_bytes(review_form(prepared, lang))
                journal.add(reads)
                if store is not None:
                    store.pdfs.put(store.depends.remember(store.plan(edition, lang, item),
                                                          reads), target, pages, attached,
                                   web, review)
            _fsync_file(target)
            entries.append({
                'name': name, 'lang': lang, **({'document': item} if item else {}),
                'title': title or _archived_title(target),
                'sha256': sha256_file(target), 'size': target.stat().st_size, 'pages': pages,
                'attachments': attached,
                'web': _write_web(staging, web_folder(target).name, web),
                'review': _write_review(staging, target, review),
            })
    return entries, reused, journal


def _write_web(staging: Path, folder: str, web: dict[str, bytes]) -> dict:
    """A document's web edition written into the revision being assembled, on the disk
    before the revision appears; its manifest entry."""
    listed = []
    for name, data in sorted(web.items()):
        path = staging / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o755)
        path.write_bytes(data)
        _fsync_file(path)
        listed.append({'name': name, 'sha256': hashlib.sha256(data).hexdigest(),
                       'size': len(data)})
    for written in sorted({(staging / folder / name).parent for name in web}, reverse=True):
        fsync_dir(written)
    return {'folder': folder, 'files': listed}


def _write_review(staging: Path, pdf: Path, review: bytes) -> dict:
    """A document's review form beside its PDF, on the disk; its manifest entry."""
    name = pdf.name.removesuffix('.pdf') + REVIEW_SUFFIX
    path = staging / name
    path.write_bytes(review)
    _fsync_file(path)
    return {'name': name, 'sha256': hashlib.sha256(review).hexdigest(), 'size': len(review)}


def _documents(project: Project, edition: Edition) -> list[str | None]:
    """A batch edition's document keys (its data view's rows); [None] for one document
    per language."""
    if edition.series.for_each is None:
        return [None]
    from reportkit.run.plan import items
    return items(project, BuildRequest(edition.name), True)[0]


def _archived_title(pdf: Path) -> str:
    """The title a PDF taken from the store carries in its metadata."""
    import pikepdf
    with pikepdf.open(pdf) as document:
        return str(document.docinfo.get('/Title', ''))


def _source_data(project: Project, published: dt.date, datasets: list[str]
                 ) -> list[Embedded]:
    """The data files the edition used, as it sees them (the rows published by its date),
    to embed in each archived PDF."""
    from reportkit.data import read as data_stage
    from reportkit.data.known import window
    from reportkit.load.declarations import MAX_DECLARATION_BYTES
    from reportkit.numbers import long_date
    tables = window(data_stage.load_tables(project, datasets), published)
    embedded = []
    for name, table in tables.items():
        if table.frame.empty:   # read, but nothing of it published by the edition's date
            continue
        embedded.append(Embedded(
            table.spec.file, data_stage.windowed_csv(project, table),
            f'{table.spec.title} (the rows published by {long_date(published, "en")}), '
            'as used by this edition'))
    declarations = project.data / 'datasets.toml'
    embedded.append(Embedded('datasets.toml', read_bytes(
        project.root, declarations, what='the dataset declarations',
        shown=project.show(declarations), limit=MAX_DECLARATION_BYTES),
        'Declarations of the data files: columns, types, units'))
    return embedded


def _manifest(edition: Edition, entries: list[dict], inputs: dict, versions: dict) -> dict:
    config = edition.config
    return sign({
        'format': MANIFEST_FORMAT,
        'series': config.series, 'edition': config.id, 'revision': config.revision,
        'status': config.status,
        'publication_date': config.publication_date.isoformat(),
        'published_at': dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        'revision_note': dict(config.revision_note) if config.revision_note else None,
        'pdf_variant': ARCHIVE_VARIANT,
        'files': entries,
        'inputs': inputs,
        'software': versions,
    }, archive_key())                          # signed when REPORT_ARCHIVE_KEY is set


def _fsync_file(path: Path) -> None:
    with open(path, 'rb') as stream:
        os.fsync(stream.fileno())


@dataclass(frozen=True)
class Comparison:
    revision_folder: Path
    same: dict[str, bool]
    """Language -> whether the rebuilt PDF has exactly the archived bytes."""
    changed_inputs: list[str]
    """Inputs added, removed or changed since the revision was published."""
    changed_software: list[str]


def rebuild_and_compare(project: Project, edition_id: str, archive: Path,
                        progress: Progress = quiet) -> Comparison:
    """Rebuild the latest archived revision of ``edition_id`` from the current inputs
    (never from the cache) and compare it, byte for byte, with the archived PDFs."""
    from reportkit.publish.archive import revisions
    edition = load_edition(project, edition_id)
    config = edition.config
    archived = [r for r in revisions(archive.resolve())
                if (r.series, r.edition) == (config.series, config.id)]
    if not archived:
        raise ReportError(f'edition {edition.name} is not in the archive {archive}')
    latest = archived[-1]
    if config.revision != latest.revision:
        raise ReportError(f'reports/{edition_id} is now revision {config.revision}; the '
                          f'archive holds up to revision {latest.revision}, which cannot be '
                          'rebuilt from these inputs')
    languages = list(dict.fromkeys(item['lang'] for item in latest.manifest['files']))
    versions = software()
    with tempfile.TemporaryDirectory(prefix='rebuild-', dir=_scratch(project)) as folder:
        entries, _, journal = _render_all(project, edition, languages, Path(folder), None,
                                          progress)
    inputs = manifest_inputs(journal)
    def which(entry: dict) -> str:   # a language, or a batch document in a language
        return f"{entry['document']} {entry['lang']}" if 'document' in entry else entry['lang']

    archived_files = {which(item): item for item in latest.manifest['files']}
    same = {which(e): e['sha256'] == archived_files.get(which(e), {}).get('sha256')
            for e in entries}
    old = latest.manifest['inputs']
    changed = sorted(name for name in set(old) | set(inputs) if old.get(name) != inputs.get(name))
    old_versions = latest.manifest.get('software', {})
    changed_software = [f'{name} {old_versions.get(name)} -> {versions.get(name)}'
                        for name in sorted(set(old_versions) | set(versions))
                        if old_versions.get(name) != versions.get(name)]
    return Comparison(latest.folder, same, [
        f'{name} ({"added" if name not in old else "removed" if name not in inputs else "changed"})'
        for name in changed], changed_software)


def _scratch(project: Project) -> Path:
    project.build.mkdir(parents=True, exist_ok=True)
    return project.build
