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
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .archive import (LOCK_WAIT_SECONDS, MANIFEST, MANIFEST_FORMAT, fsync_dir, locked,
                      remove_unfinished, revision_folder, write_index)
from .build import BuildRequest, Progress, output_name, prepare, quiet, render_language
from .cache import PdfCache
from .compose import full_title_of
from .errors import ReportError
from .inputs import digests, input_files, key, sha256_file, software
from .load import Edition, load_edition
from .project import Project
from .render import ARCHIVE_VARIANT, Embedded


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
    archive = archive.resolve()
    folder = revision_folder(archive, config.series, config.id, config.revision)
    with locked(archive, lock_wait):
        if folder.exists():
            raise ReportError(
                f'edition {edition_id} revision {config.revision} is already in the archive '
                f'({folder}); an archived revision never changes. To correct it, raise '
                f'revision to {config.revision + 1} and add a revision_note in '
                f'{edition.config_shown}')
        folder.parent.mkdir(parents=True, exist_ok=True)
        remove_unfinished(archive)
        languages = list(config.languages)
        files = input_files(project, edition_id, languages)
        inputs = digests(files)
        versions = software()
        cache = PdfCache(project.build / 'cache' / 'archive')
        keys = {lang: key('archive', ARCHIVE_VARIANT, lang, inputs, versions)
                for lang in languages}

        staging = Path(tempfile.mkdtemp(prefix=f'.r{config.revision}-', dir=folder.parent))
        os.chmod(staging, 0o755)
        try:
            entries, reused = _render_all(project, edition, languages, staging, cache,
                                          keys, progress)
            manifest = _manifest(edition, entries, inputs, versions)
            _write_durably(staging / MANIFEST,
                           json.dumps(manifest, indent=2, ensure_ascii=False).encode() + b'\n')
            fsync_dir(staging)
            os.rename(staging, folder)        # the revision appears, complete
            fsync_dir(folder.parent)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        index = write_index(project, archive)
    return Published(folder, manifest, reused, index)


def _render_all(project: Project, edition: Edition, languages: list[str], staging: Path,
                cache: PdfCache | None, keys: dict[str, str], progress: Progress):
    config = edition.config
    entries, reused = [], []
    missing = [lang for lang in languages if cache is None or cache.get(keys[lang]) is None]
    prepared = prepare(project, BuildRequest(config.id, missing), progress) if missing else None
    embedded = _source_data(project, config.data_through) if missing else []
    for lang in languages:
        name = output_name(config, lang)
        target = staging / name
        hit = cache.get(keys[lang]) if cache is not None else None
        if hit is not None:
            shutil.copyfile(hit.path, target)
            pages, attached = hit.pages, hit.attachments
            reused.append(lang)
        else:
            progress(6, 'Rendering the archival PDF (PDF/A-3a)', f'{config.id} {lang}')
            rendered, _ = render_language(project, prepared, lang, target,
                                          variant=ARCHIVE_VARIANT, embedded=embedded)
            pages, attached = rendered.pages, [item.name for item in embedded]
            if cache is not None:
                cache.put(keys[lang], target, pages, attached)
        _fsync_file(target)
        entries.append({
            'name': name, 'lang': lang,
            'title': full_title_of(config.title[lang], config.subtitle[lang], lang),
            'sha256': sha256_file(target), 'size': target.stat().st_size, 'pages': pages,
            'attachments': attached,
        })
    return entries, reused


def _source_data(project: Project, cutoff: int) -> list[Embedded]:
    """The data files as the edition sees them, to embed in each archived PDF."""
    from . import data as data_stage
    tables = data_stage.window(data_stage.load_tables(project), cutoff)
    embedded = []
    for name, table in tables.items():
        embedded.append(Embedded(
            table.spec.file, data_stage.windowed_csv(project, table),
            f'{table.spec.title} (rows up to {cutoff}), as used by this edition'))
    declarations = project.data / 'datasets.toml'
    embedded.append(Embedded('datasets.toml', declarations.read_bytes(),
                             'Declarations of the data files: columns, types, units'))
    return embedded


def _manifest(edition: Edition, entries: list[dict], inputs: dict, versions: dict) -> dict:
    config = edition.config
    return {
        'format': MANIFEST_FORMAT,
        'series': config.series, 'edition': config.id, 'revision': config.revision,
        'status': config.status,
        'publication_date': config.publication_date.isoformat(),
        'published_at': dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        'revision_note': dict(config.revision_note) if config.revision_note else None,
        'data_through': config.data_through,
        'pdf_variant': ARCHIVE_VARIANT,
        'files': entries,
        'inputs': inputs,
        'software': versions,
    }


def _write_durably(path: Path, data: bytes) -> None:
    with open(path, 'wb') as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())


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
    from .archive import revisions
    archived = [r for r in revisions(archive.resolve()) if r.edition == edition_id]
    if not archived:
        raise ReportError(f'edition {edition_id} is not in the archive {archive}')
    latest = archived[-1]
    edition = load_edition(project, edition_id)
    config = edition.config
    if config.revision != latest.revision:
        raise ReportError(f'reports/{edition_id} is now revision {config.revision}; the '
                          f'archive holds up to revision {latest.revision}, which cannot be '
                          'rebuilt from these inputs')
    languages = [item['lang'] for item in latest.manifest['files']]
    inputs = digests(input_files(project, edition_id, languages))
    versions = software()
    with tempfile.TemporaryDirectory(prefix='rebuild-', dir=_scratch(project)) as folder:
        entries, _ = _render_all(project, edition, languages, Path(folder), None, {},
                                 progress)
    archived_files = {item['lang']: item for item in latest.manifest['files']}
    same = {e['lang']: e['sha256'] == archived_files[e['lang']]['sha256'] for e in entries}
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
