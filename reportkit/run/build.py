"""The build: run the stages in order for each document (an edition in one language)
and write its PDF.

Phase 1 (:mod:`.prepare`) reads and checks everything (edition, data, narrative,
charts, document) in memory for every document of the run; phase 2 renders. A problem found in phase 1
leaves every output untouched, and PDFs are renamed into place only when all of them
rendered.

Work already done is not done again: a PDF whose inputs (every file its last build
read, the code, the software, the PDF variant) are unchanged is taken from
``build/cache/``, and so is a
chart whose definition, data and style are unchanged. ``use_cache=False`` forces
everything. With ``jobs`` > 1, documents are checked and rendered in parallel, each in
its own process.

The stage modules are imported when first needed, so that a build with nothing to do
never loads pandas, matplotlib or WeasyPrint. With two cores or more, WeasyPrint starts
loading in a second process before anything else (see :func:`~.render.start_renderer`),
and matplotlib in a third while the data is read, when charts have to be drawn.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from reportkit import files   # files.write_atomically, looked up when called (tests replace it)
from reportkit.errors import ReportError, RenderError, problems_of, raise_all, unique
from reportkit.files import Journal
from reportkit.run.plan import Document, depends, label, plan, weight
from reportkit.run.slices import Slices
from reportkit.run.prepare import STAGES, BuildRequest, Prepared, Progress, output_name, prepare, quiet
from reportkit.project import Project
from reportkit.render.pdf import PDF_VARIANT  # render.py imports WeasyPrint only when rendering

if TYPE_CHECKING:  # pragma: no cover
    from reportkit.render.pdf import Embedded, Rendered
    from reportkit.safety.worker import Worker

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
    cached: bool = False
    """True when the PDF was taken from the cache (its inputs had not changed)."""
    reads: Journal | None = None
    """Every file the build read for this PDF (its cache key and manifest inputs)."""
    item: str | None = None
    """A batch document's key (a state's code)."""


def build(project: Project, request: BuildRequest, progress: Progress = quiet,
          **options) -> list[BuildResult]:
    """Build the requested edition; returns one result per language written."""
    return build_many(project, [request], progress, **options)


def build_many(project: Project, requests: list[BuildRequest], progress: Progress = quiet,
               *, use_cache: bool = True, jobs: int = 1,
               planned: Callable[[int, int], None] | None = None,
               dask: str | None = None) -> list[BuildResult]:
    """Check and compose every requested document first, then render them all.

    A problem in any document stops the run before any PDF is written; the problems of
    every document are reported together. ``planned(documents, to_build)`` is told how
    many documents the run has and how many are not in the cache (for a progress bar).
    With ``dask`` (a scheduler's address), the documents are built on that cluster.
    """
    from reportkit.render.pdf import start_renderer

    started = time.perf_counter()
    # First of all, WeasyPrint starts loading in a second process (the speculation is
    # stopped below if there is not exactly one document to render).
    renderer = None
    if jobs > 1 and (project.templates / 'fonts').is_dir():
        renderer = start_renderer(project.templates / 'fonts', project.build)
    rendered: dict[int, tuple[Path, BuildResult]] = {}
    try:
        from reportkit.cache import PdfCache

        documents = plan(project, requests, use_cache)
        cache = PdfCache(project.build / 'cache' / 'pdf')
        cache_dir = project.build / 'cache' if use_cache else None
        hits = {id(d): cache.get(d.key) for d in documents if d.key}
        todo = [d for d in documents if hits.get(id(d)) is None]
        # The biggest documents first, so that parallel workers finish together.
        todo.sort(key=lambda d: -weight(project, d))
        if planned is not None:
            planned(len(documents), len(todo))
        if renderer and (len(todo) != 1 or dask):
            renderer.stop()
            renderer = None
        if todo:
            rendered = _run(project, todo, progress, cache_dir, jobs, cache, renderer, dask)
        results = []
        for document in documents:
            hit = hits.get(id(document))
            if hit is not None:
                progress(6, STAGES[5], f'{label(document)} {document.lang}: unchanged, '
                                       'from the cache')
                try:
                    files.write_atomically(document.target, hit.path.read_bytes(),
                                           durable=True)
                except OSError as error:
                    raise RenderError(f'cannot write {document.target}: '
                                      f'{error.strerror or error}') from None
                results.append(BuildResult(document.request.edition, document.lang, document.target,
                                           hit.pages, document.target.stat().st_size,
                                           time.perf_counter() - started, cached=True,
                                           item=document.request.item))
            else:
                temp, result = rendered.pop(id(document))
                try:
                    os.replace(temp, document.target)
                except OSError as error:
                    Path(temp).unlink(missing_ok=True)
                    raise RenderError(f'cannot write {document.target}: '
                                      f'{error.strerror or error}') from None
                results.append(result)
        return results
    finally:
        if renderer:
            renderer.stop()
        for temp, _ in rendered.values():
            Path(temp).unlink(missing_ok=True)


def _run(project: Project, todo: list[Document], progress: Progress,
         cache_dir: Path | None, jobs: int, cache, renderer: Worker | None,
         dask: str | None = None) -> dict[int, tuple[Path, BuildResult]]:
    """Phase 1 for every document, then phase 2; in ``jobs`` processes when > 1 (one
    document: phase 1 here while the ``renderer`` loads WeasyPrint, phase 2 there), or
    as tasks of the Dask cluster at ``dask``."""
    requests = [d.request for d in todo]
    prepared_all: list[Prepared | None] = [None] * len(todo)
    if dask:
        from reportkit.run.cluster import run_on_cluster
        outputs = run_on_cluster(project, todo, dask, cache_dir, progress)
    elif jobs > 1 and len(todo) > 1:
        import concurrent.futures as futures
        import multiprocessing

        # Fork after the heavy libraries are imported: every worker starts warm.
        import weasyprint  # noqa: F401
        from reportkit.charts import draw as charts  # noqa: F401
        from reportkit.compose import compose  # noqa: F401
        from reportkit.data import read as data  # noqa: F401
        from reportkit.data import view as dataview  # noqa: F401
        from reportkit.narrative import markdown as narrative  # noqa: F401
        from reportkit.data import values  # noqa: F401
        from reportkit.safety.worker import die_with_parent, stopped_on_error
        context = multiprocessing.get_context('fork')
        # The workers die with the build; on any exception (Ctrl-C, SIGTERM) they are
        # killed at once, and what they had written removed.
        folders = {project.build, *(document.target.parent for document in todo)}
        with futures.ProcessPoolExecutor(min(jobs, len(todo)), mp_context=context,
                                         initializer=die_with_parent,
                                         initargs=(os.getpid(),)) as pool, \
                stopped_on_error(pool, folders):
            running = {pool.submit(_prepare_quietly, project, request, cache_dir): document
                       for request, document in zip(requests, todo)}
            checked = {}
            for done in futures.as_completed(running):
                document = running[done]
                checked[id(document)] = done.result()
                failed = isinstance(checked[id(document)], ReportError)
                progress(5, 'Checked and composed' if not failed else 'Problems found',
                         f'{label(document)} {document.lang}')
            prepared_all = _gather([checked[id(d)] for d in todo], todo)
            finished = _reusable(project, prepared_all, todo, cache, progress)
            running = {pool.submit(_render_quietly, project, prepared, document.target, None,
                                   os.getpid()): document
                       for prepared, document in zip(prepared_all, todo)
                       if id(document) not in finished}
            for done in futures.as_completed(running):
                document = running[done]
                finished[id(document)] = done.result()
                progress(6, 'Rendered', f'{label(document)} {document.lang}')
            outputs = [finished[id(d)] for d in todo]
    else:
        prepared_all = _gather([_prepare_quietly(project, request, cache_dir, progress,
                                                 renderer is not None)
                                for request in requests], todo)
        reused = _reusable(project, prepared_all, todo, cache, progress)
        outputs = []
        for prepared, document in zip(prepared_all, todo):
            if id(document) in reused:
                outputs.append(reused[id(document)])
                continue
            progress(6, STAGES[5], f'{label(document)} {document.lang}')
            outputs.append(_render_quietly(project, prepared, document.target, renderer))
    errors = [problem for output in outputs if isinstance(output, ReportError)
              for problem in problems_of(output)]
    done = {}
    for document, output in zip(todo, outputs):
        if not isinstance(output, ReportError):
            done[id(document)] = output
    if errors:
        for temp, _ in done.values():
            Path(temp).unlink(missing_ok=True)
        raise_all(errors, 'no PDF was written')
    remembered, slices = depends(project), Slices(project)
    for document, prepared in zip(todo, prepared_all):
        temp, result = done[id(document)]
        if document.plan:
            cache.put(remembered.remember(document.plan, result.reads), Path(temp), result.pages)
            if document.view is not None and prepared is not None:
                cache.put(slices.remember(document.plan, result.reads, document.view,
                                          document.lang, document.request.item,
                                          prepared.uses), Path(temp), result.pages)
            if not result.cached and prepared is not None:
                cache.put(content_key(prepared, document.target.name), Path(temp),
                          result.pages)
    return done


def content_key(prepared: Prepared, name: str) -> str:
    """What goes into the renderer for a document: its composed HTML and every asset,
    the PDF's name and date, the variant, the code and the software. Two builds whose
    documents compose to the same bytes render the same PDF."""
    from reportkit.inputs import code_digests, key, software

    composed = next(iter(prepared.composed.values()))
    assets = {name: hashlib.sha256(data).hexdigest()
              for name, data in sorted(composed.assets.items())}
    return key('rendered', PDF_VARIANT, name, str(prepared.edition.config.publication_date),
               hashlib.sha256(composed.html.encode()).hexdigest(), assets, software(),
               code_digests())


def _reusable(project: Project, prepared_all: list[Prepared], todo: list[Document], cache,
              progress: Progress) -> dict[int, tuple[str, BuildResult]]:
    """The documents whose composed content was rendered before (a change elsewhere in
    the data left them as they were): their PDFs copied beside their targets, unrendered."""
    from reportkit.safety.worker import part_prefix

    reused = {}
    for prepared, document in zip(prepared_all, todo):
        if not document.plan or prepared.request.html:
            continue
        hit = cache.get(content_key(prepared, document.target.name))
        if hit is None:
            continue
        document.target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=part_prefix(document.target.name),
                                        suffix='.part', dir=document.target.parent)
        with os.fdopen(handle, 'wb') as stream:
            stream.write(hit.path.read_bytes())
        progress(6, 'Unchanged content, not rendered again',
                 f'{label(document)} {document.lang}')
        reused[id(document)] = (temp, BuildResult(
            prepared.edition.name, document.lang, document.target, hit.pages,
            Path(temp).stat().st_size, 0.0, None, dict(prepared.timings), cached=True,
            reads=prepared.reads, item=document.request.item))
    return reused


def _gather(results, todo: list[Document]) -> list[Prepared]:
    """Every document's phase 1, or every problem of every document at once."""
    prepared, problems = [], []
    for result in results:
        if isinstance(result, ReportError):
            problems.extend(problems_of(result))
        else:
            prepared.append(result)
    if problems:
        editions = sorted({d.request.edition for d in todo})
        which = (f'edition {editions[0]}' if len(editions) == 1
                 else f"editions {', '.join(editions)}")
        raise_all(unique(problems), f'{which}: inputs have problems; nothing was written')
    return prepared


def _prepare_quietly(project: Project, request: BuildRequest, cache_dir: Path | None,
                     progress: Progress = quiet, spare_core: bool = False):
    try:
        return prepare(project, request, progress, cache_dir, spare_core)
    except ReportError as error:
        return error


def _render_quietly(project: Project, prepared: Prepared, target: Path,
                    renderer: Worker | None = None, owner: int | None = None):
    """Render one document to a hidden file beside its target; (temp path, result). The
    file is named after its ``owner``, the build that renames it (default: this process),
    and what killed builds left beside the target is removed first."""
    from reportkit.safety.worker import part_prefix, remove_abandoned

    started = time.perf_counter()
    lang = next(iter(prepared.composed))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_abandoned(target.parent)
        handle, temp = tempfile.mkstemp(prefix=part_prefix(target.name, owner),
                                        suffix='.part', dir=target.parent)
        os.close(handle)
    except OSError as error:
        return RenderError(f'cannot write to {target.parent}: {error.strerror or error}')
    try:
        rendered, html_copy = render_language(project, prepared, lang, Path(temp),
                                              html=prepared.request.html, renderer=renderer,
                                              name=target.name)
    except ReportError as error:
        Path(temp).unlink(missing_ok=True)
        return error
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    timings = {**prepared.timings, **rendered.timings}
    return temp, BuildResult(prepared.edition.name, lang, target, rendered.pages, rendered.size,
                             time.perf_counter() - started, html_copy, timings,
                             reads=prepared.reads, item=prepared.request.item)


def render_language(project: Project, prepared: Prepared, lang: str, target: Path | None, *,
                    variant: str = PDF_VARIANT, embedded: list[Embedded] | None = None,
                    html: Path | None = None, renderer: Worker | None = None,
                    name: str | None = None) -> tuple[Rendered, Path | None]:
    """Write one language's composed document to a private folder and render it to
    ``target`` (in the ``renderer`` process, or in a fork of this one: under the render
    budget either way). Each render has its own folder, so builds running at once never
    share one; the folders that killed builds left are removed first."""
    from reportkit.render.pdf import render_in
    from reportkit.safety.worker import remove_abandoned, staging_prefix

    project.build.mkdir(parents=True, exist_ok=True)
    remove_abandoned(project.build)
    staging = Path(tempfile.mkdtemp(prefix=staging_prefix(), dir=project.build))
    try:
        html_path = prepared.composed[lang].write(staging)
        published = prepared.edition.config.publication_date
        options = dict(allowed=[staging], fonts_dir=project.templates / 'fonts',
                       scratch=project.build, variant=variant, embedded=embedded,
                       created=dt.datetime(published.year, published.month, published.day),
                       name=name or (target.name if target is not None
                                     else output_name(prepared.edition.config, lang,
                                                      prepared.request.item)))
        try:
            rendered = render_in(renderer, html_path, **options)
            if target is not None:
                files.write_atomically(target, rendered.data, durable=True)
        except RenderError as error:   # say which input, not which temporary file
            from reportkit.safety.policy import glyph_problems
            raise_all(glyph_problems(error.message, prepared.edition.sections[lang]),
                      'characters the bundled fonts cannot show')
            raise RenderError(prepared.composed[lang].named(error.message, staging),
                              path=error.path, line=error.line) from None
        except OSError as error:
            raise RenderError(f'cannot write {target}: {error.strerror or error}') from None
        html_copy = _copy_html(staging, html) if html else None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return rendered, html_copy


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
