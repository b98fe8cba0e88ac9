"""The build: run the stages in order for one edition and write its PDFs.

Phase 1 reads and checks everything (edition, data, narrative, charts, document) in
memory; phase 2 writes. A problem found in phase 1 leaves every output untouched.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import charts as charts_stage
from . import compose as compose_stage
from . import data as data_stage
from . import facts, narrative
from .errors import ReportError, RenderError, raise_all
from .i18n import load_messages, missing_messages
from .load import Edition, load_edition
from .project import Project
from .render import PDF_VARIANT, Embedded, Rendered, render_pdf

STAGES = ['Reading the edition', 'Checking the data', 'Writing out the narrative',
          'Drawing the charts', 'Composing the document', 'Rendering the PDF']

Progress = Callable[[int, str, str], None]
"""progress(step, stage name, detail) — step counts from 1 to len(STAGES)."""


def quiet(step: int, stage: str, detail: str) -> None:
    pass


@dataclass
class BuildRequest:
    edition: str
    languages: list[str] | None = None
    out: Path | None = None
    """Exact PDF path (one language only)."""
    html: Path | None = None
    """Also write the composed HTML here, with its assets beside it."""
    out_dir: Path | None = None


@dataclass
class BuildResult:
    edition: str
    lang: str
    pdf: Path
    pages: int
    size: int
    seconds: float
    html: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)


def output_name(edition: Edition, lang: str) -> str:
    """Descriptive file name: series, edition, language, revision (and DRAFT)."""
    config = edition.config
    name = f'{config.series}-{config.id}-{lang}-r{config.revision}'
    return name + ('-DRAFT.pdf' if config.status == 'draft' else '.pdf')


@dataclass
class Prepared:
    """An edition checked and composed in memory, ready to render (phase 1 done)."""

    request: BuildRequest
    edition: Edition
    composed: dict[str, 'compose_stage.Composed']
    timings: dict[str, float]


def prepare(project: Project, request: BuildRequest, progress: Progress = quiet) -> Prepared:
    """Phase 1: everything read, checked and composed in memory, per language."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = timings.get(name, 0.0) + now - clock
        clock = now

    ed = request.edition
    progress(1, STAGES[0], f'reports/{ed}')
    # Stages 1 and 2 gather their problems, so that everything missing (a section, a
    # data cell, a translation) is listed at once.
    problems: list[ReportError] = []
    edition = load_edition(project, ed, request.languages, problems)
    languages = list(edition.sections)
    if request.out and len(languages) > 1:
        raise ReportError('--out names one file, but the edition has several languages; '
                          'add --lang, or use --out-dir')
    lap('load')

    progress(2, STAGES[1], f'{ed}: data/ through {edition.config.data_through}')
    all_tables = data_stage.load_tables(project, gather=problems)
    tables = data_stage.window(all_tables, edition.config.data_through)
    specs = charts_stage.load_chart_specs(project)
    unreadable = frozenset(data_stage.load_specs(project)) - set(all_tables)
    problems += charts_stage.chart_problems(
        specs, edition.config.figures, tables, languages,
        project.show(project.charts / 'charts.toml'), unreadable)
    for lang in languages:
        problems += missing_messages(project, lang)
    raise_all(problems, f'edition {ed}: inputs are missing or wrong')
    lap('data')

    progress(3, STAGES[2], f"{ed}: {', '.join(languages)}")
    fragments = {}
    problems = []
    for lang in languages:
        context = facts.narrative_context(tables, edition.config.year,
                                          edition.config.data_through, lang, all_tables)
        fragments[lang] = []
        for section in edition.sections[lang]:
            try:
                text = narrative.expand(section, context)
                fragments[lang].append(narrative.convert(section, text, project))
            except ReportError as error:
                problems.append(error)
    raise_all(problems, f'edition {edition.id}: the narrative has problems')
    lap('narrative')

    progress(4, STAGES[3], f'{ed}: {len(edition.config.figures)} figures')
    drawn = {lang: charts_stage.draw_charts(project, specs, edition.config.figures, tables, lang)
             for lang in languages}
    lap('charts')

    progress(5, STAGES[4], f"{ed}: {', '.join(languages)}")
    composed = {}
    for lang in languages:
        messages = load_messages(project, lang)
        composed[lang] = compose_stage.compose(project, edition, lang, fragments[lang],
                                               drawn[lang], tables, messages)
        messages.check()
    lap('compose')
    return Prepared(request, edition, composed, timings)


def build(project: Project, request: BuildRequest, progress: Progress = quiet) -> list[BuildResult]:
    """Build the requested edition; returns one result per language written."""
    return build_many(project, [request], progress)


def build_many(project: Project, requests: list[BuildRequest],
               progress: Progress = quiet) -> list[BuildResult]:
    """Check and compose every requested edition first, then render them all.

    A problem in any edition stops the run before any PDF is written.
    """
    prepared = [prepare(project, request, progress) for request in requests]
    targets = [(p.edition.id, lang, _target(project, p.request, p.edition, lang))
               for p in prepared for lang in p.composed]
    seen: dict[Path, str] = {}
    for edition_id, lang, target in targets:
        if target in seen:
            raise ReportError(f'{edition_id} ({lang}) and {seen[target]} would both be '
                              f'written to {project.show(target)}')
        seen[target] = f'{edition_id} ({lang})'
    results = []
    for item in prepared:
        results += render(project, item, progress)
    return results


def render(project: Project, prepared: Prepared, progress: Progress = quiet) -> list[BuildResult]:
    """Phase 2: write each language's document and render its PDF."""
    started = time.perf_counter()
    request, edition, timings = prepared.request, prepared.edition, prepared.timings
    results = []
    for lang in prepared.composed:
        progress(6, STAGES[5], f'{edition.id} {lang}')
        clock = time.perf_counter()
        target = _target(project, request, edition, lang)
        rendered, html_copy = render_language(project, prepared, lang, target,
                                              html=request.html)
        lap = time.perf_counter() - clock
        results.append(BuildResult(edition.id, lang, rendered.path, rendered.pages,
                                   rendered.size, time.perf_counter() - started, html_copy,
                                   {**timings, 'render': lap}))
    return results


def render_language(project: Project, prepared: Prepared, lang: str, target: Path, *,
                    variant: str = PDF_VARIANT, embedded: list[Embedded] | None = None,
                    html: Path | None = None) -> tuple[Rendered, Path | None]:
    """Write one language's composed document to a private folder and render it to
    ``target``. Each render has its own folder, so builds running at once never share
    one."""
    project.build.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f'{prepared.edition.id}-{lang}-',
                                    dir=project.build))
    try:
        html_path = prepared.composed[lang].write(staging)
        published = prepared.edition.config.publication_date
        try:
            rendered = render_pdf(html_path, target, allowed=[staging],
                                  fonts_dir=project.templates / 'fonts',
                                  scratch=project.build, variant=variant, embedded=embedded,
                                  created=dt.datetime(published.year, published.month,
                                                      published.day))
        except OSError as error:
            raise RenderError(f'cannot write {target}: {error.strerror or error}') from None
        html_copy = _copy_html(staging, html) if html else None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return rendered, html_copy


def _target(project: Project, request: BuildRequest, edition: Edition, lang: str) -> Path:
    if request.out:
        return request.out.resolve()
    folder = request.out_dir or project.dist
    return (folder / output_name(edition, lang)).resolve()


def _copy_html(staging: Path, html: Path) -> Path:
    """Copy the composed document: ``html`` plus its assets in the same folder."""
    html = html.resolve()
    folder = html.parent
    folder.mkdir(parents=True, exist_ok=True)
    for item in staging.rglob('*'):
        if item.is_file() and item.name != 'index.html':
            target = folder / item.relative_to(staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(item, target)
    shutil.copyfile(staging / 'index.html', html)
    return html
