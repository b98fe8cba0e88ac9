"""Phase 1 of a build: one document's stages 1 to 5 (load, data, narrative, charts,
compose) in memory, every problem gathered, nothing written.

The result, :class:`Prepared`, holds the composed document of each language, the time
each stage took, and the journal of every file read (:mod:`.files`), which is what the
PDF's cache key and an archive manifest's inputs are made of. The stage modules are
imported when first needed: pandas only when the data has to be read, matplotlib only
when a chart has to be drawn.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from reportkit.errors import ReportError, raise_all
from reportkit.files import Journal, recording
from reportkit.numbers import long_date
from reportkit.project import Project

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    from reportkit.load.config import EditionConfig
    from reportkit.compose.document import Composed
    from reportkit.load.edition import Edition
    from reportkit.safety.worker import Worker

STAGES = ['Reading the edition', 'Checking the data', 'Writing out the narrative',
          'Drawing the charts', 'Composing the document', 'Rendering the PDF']
RENDERED = 'Rendered'
"""The stage a batch document's progress names when its render is done."""

Progress = Callable[[int, str, str], None]
"""progress(step, stage name, detail) — step counts from 1 to len(STAGES)."""


def quiet(step: int, stage: str, detail: str) -> None:
    pass


@dataclass
class BuildRequest:
    edition: str
    """The edition's full name, ``<series>/<edition>``."""
    languages: list[str] | None = None
    out: Path | None = None
    """Exact PDF path (one language only)."""
    html: Path | None = None
    """Also write the composed HTML here, with its assets beside it."""
    out_dir: Path | None = None
    item: str | None = None
    """A batch series' document: the key of its row (a state's code)."""
    only: list[str] | None = None
    """A batch edition's documents to build (default: all)."""
    formats: tuple[str, ...] = ('pdf',)
    """What is written of each document: 'pdf', 'web' (the web edition, beside its PDF)."""
    review: bool = False
    """Composed to be compared (``diff``), never rendered: an out-of-date translation
    is marked pending, as in a draft, even in a final edition; a figure not in the cache
    is described (its words and rows), not drawn."""
    forms: bool = False
    """Keep what a review form needs besides the composed document (the values each
    section printed): ``publish`` archives the forms; ``review`` implies it."""


def output_name(config: EditionConfig, lang: str, item: str | None = None) -> str:
    """Descriptive file name: series, edition, the document's key in a batch, language,
    revision (and DRAFT)."""
    key = f'-{item.lower()}' if item else ''
    name = f'{config.series}-{config.id}{key}-{lang}-r{config.revision}'
    return name + ('-DRAFT.pdf' if config.status == 'draft' else '.pdf')


@dataclass
class Prepared:
    """An edition checked and composed in memory, ready to render (phase 1 done)."""

    request: BuildRequest
    edition: 'Edition'
    composed: dict[str, 'Composed']
    timings: dict[str, float]
    reads: Journal = field(default_factory=Journal)
    """Every file phase 1 read (by the containment rule), with its digest."""
    datasets: list[str] = field(default_factory=list)
    """The datasets the document shows data from."""
    uses: dict = field(default_factory=dict)
    """The values its narrative read (:class:`~reportkit.data.values.Used`)."""
    shown: dict = field(default_factory=dict)
    """lang -> section -> what its narrative printed of each value it read
    (``exports[2015]`` -> ``US$577.2 billion``), for a review of what changed."""


def prepare(project: Project, request: BuildRequest, progress: Progress = quiet,
            cache: Path | None = None, spare_core: bool = False) -> Prepared:
    """Phase 1: everything read, checked and composed in memory, per language.

    With a ``cache`` folder, the data view and the charts come from it when their inputs
    are unchanged (``check`` and ``publish`` compute everything). With a ``spare_core``,
    when the data has to be read, matplotlib loads in a second process meanwhile, and the
    charts are drawn there."""
    drawer: list[Worker] = []   # the chart drawer, once started
    try:
        with recording() as journal:
            prepared = _prepare(project, request, progress, cache, spare_core, drawer)
        prepared.reads = journal
        return prepared
    finally:
        for worker in drawer:
            worker.stop()


def _prepare(project: Project, request: BuildRequest, progress: Progress,
             cache: Path | None, spare_core: bool, drawer: list[Worker]) -> Prepared:
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = timings.get(name, 0.0) + now - clock
        clock = now

    # The libraries of stages 1-5 (Jinja, Babel, markdown-it…); pandas is imported only
    # when the data has to be read, matplotlib only when a chart has to be drawn,
    # WeasyPrint only when rendering.
    from reportkit.charts import draw as charts_stage
    from reportkit.charts.specs import load_chart_specs
    from reportkit.compose import compose as compose_stage
    from reportkit.narrative import markdown as narrative
    from reportkit.charts.specs import chart_file
    from reportkit.data.values import Used, narrative_context
    from reportkit.compose.access import check_document
    from reportkit.data.view import data_view
    from reportkit.compose.i18n import catalogue_path, load_messages, missing_messages
    from reportkit.load.edition import load_edition
    lap('libraries')

    ed = request.edition
    progress(1, STAGES[0], f'reports/{ed}' + (f' {request.item}' if request.item else ''))
    # Stages 1 and 2 gather their problems, so that everything missing (a section, a
    # data cell, a translation) is listed at once.
    problems: list[ReportError] = []
    edition = load_edition(project, ed, request.languages, problems)
    languages = list(edition.sections)
    if request.out and len(languages) > 1:
        raise ReportError('--out names one file, but the edition has several languages; '
                          'add --lang, or use --out-dir')
    if not problems:
        edition = _with_pending(project, edition, languages, problems, request.review)
    lap('load')

    progress(2, STAGES[1], f'{ed}: data/ as published by '
                           f'{edition.config.publication_date.isoformat()}')
    specs = load_chart_specs(project, edition)

    def load_matplotlib_meanwhile() -> None:
        if spare_core and edition.config.figures:
            drawer.append(charts_stage.start_drawer(project))

    view, found = data_view(project, edition, languages, specs, cache,
                            on_miss=load_matplotlib_meanwhile)
    problems += found
    for lang in languages:
        problems += missing_messages(project, lang)
    # Problems with the sections or the data stop here; problems with the charts' or the
    # templates' words are reported together with those of the narrative, which does not
    # depend on them.
    charts_shown = project.show(chart_file(project, edition) or edition.series_folder)
    catalogues = {project.show(catalogue_path(project, lang)) for lang in languages}
    deferred = [p for p in problems if p.path == charts_shown or p.path in catalogues]
    if view is None or len(deferred) < len(problems):
        raise_all(problems, f'edition {ed}: inputs are missing or wrong')
    item = document_item(edition, view, request.item)
    # (The view may serve more languages: a batch's view, made for all of them.)
    series = {lang: by_id for lang, by_id in view.series_of(item).items() if lang in languages}
    figures = None
    if drawer and not deferred:   # the drawer draws while the narrative is written out
        figures = charts_stage.draw_charts(project, specs, edition.config.figures,
                                           series, cache / 'charts' if cache else None,
                                           drawer[0], shown=charts_shown)
    lap('data')

    progress(3, STAGES[2], f"{ed}: {', '.join(languages)}")
    fragments = {}
    used = Used()   # which values the narrative reads (a batch document's own slice)
    keep_shown = request.review or request.forms   # and, for a review form, where
    problems = deferred
    for lang in languages:
        context = narrative_context(used.track(view.values[lang]), lang,
                                    {'year': edition.config.year,
                                     'published': long_date(edition.config.publication_date, lang),
                                     **view.document(item, lang)})
        fragments[lang] = []
        for section in edition.sections[lang]:
            used.place = (lang, section.id) if keep_shown else None
            try:
                text = narrative.expand(section, context)
                fragments[lang].append(narrative.convert(section, text, project))
            except ReportError as error:
                problems.append(error)
    used.place = None
    raise_all(problems, f'edition {edition.id}: inputs are missing or wrong')
    shown = {lang: {section.id: used.shown((lang, section.id), view.values[lang])
                    for section in edition.sections[lang]} for lang in languages} \
        if keep_shown else {}
    lap('narrative')

    progress(4, STAGES[3], f'{ed}: {len(edition.config.figures)} figures')
    if figures is None:
        figures = charts_stage.draw_charts(project, specs, edition.config.figures,
                                           series, cache / 'charts' if cache else None,
                                           shown=charts_shown, drawing=not request.review)
    drawn = figures()
    lap('charts')

    progress(5, STAGES[4], f"{ed}: {', '.join(languages)}")
    composed = {}
    problems = []
    for lang in languages:
        messages = load_messages(project, lang)
        composed[lang] = compose_stage.compose(project, edition, lang, fragments[lang],
                                               drawn[lang], view.rows[lang], messages,
                                               view.document(item, lang), view.rows_of(item),
                                               web_links(edition.config, edition.series, lang,
                                                         request))
        messages.check()
        problems += check_document(composed[lang].html,
                                   f'edition {ed} ({lang}), composed document')
    raise_all(problems, f'edition {ed}: the document fails the accessibility check')
    lap('compose')
    return Prepared(request, edition, composed, timings, datasets=view.datasets,
                    uses=used.as_dict(), shown=shown)


def _with_pending(project: Project, edition: Edition, languages: list[str],
                  problems: list[ReportError], review: bool = False) -> Edition:
    """The edition, its out-of-date translations marked (a draft), or each refused (a
    final: an official edition says in every language the same thing)."""
    import dataclasses

    from reportkit.errors import ContentError
    from reportkit.load.translations import stale_sections

    stale = stale_sections(project, edition, languages)   # (the sections read already)
    if edition.config.status == 'final' and not review:
        problems += [ContentError(f"the translation of section '{s.id}' is out of date with "
                                  'its source, and a final edition cannot be built with it: '
                                  'bring it up to date, then run translations '
                                  f'{edition.name} --done {s.id}', path=s.shown) for s in stale]
        return edition
    return dataclasses.replace(edition, pending=frozenset((s.lang, s.id) for s in stale))


def web_links(config: EditionConfig, series, lang: str, request: BuildRequest):
    """Where a document's web page links to (its PDF, its pages in the other languages),
    when its web edition is asked for: each a sibling of the page's folder, named as
    :func:`output_name` names them."""
    if 'web' not in request.formats:
        return None
    from reportkit.compose.web import OtherPage, WebLinks

    def folder(other: str) -> str:
        return output_name(config, other, request.item).removesuffix('.pdf')

    others = [OtherPage(series.lang_tag(other), own_name(series.locales[other]),
                        f'../{folder(other)}/index.html')
              for other in config.languages if other != lang]
    pdf = request.out.name if request.out else output_name(config, lang, request.item)
    return WebLinks(pdf, series.locales[lang], others)


def own_name(locale: str) -> str:
    """A language's name in itself, as a language toggle shows it: 'Français'."""
    from babel import Locale

    name = Locale.parse(locale).language_name
    return name[:1].upper() + name[1:]


def document_item(edition: Edition, view, item: str | None) -> str | None:
    """The batch document asked for, checked against the series' rows (None for a
    series of single documents)."""
    if edition.series.for_each is None:
        if item is not None:
            raise ReportError(f'edition {edition.name} is one document per language: it '
                              f'has no document {item!r} (--only is for batch series)')
        return None
    if item not in view.items:
        shown = ', '.join(view.items[:8]) + ('…' if len(view.items) > 8 else '')
        raise ReportError(f'edition {edition.name} has no document {str(item)[:20]!r} '
                          f'(its documents: {shown})')
    return item
