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

import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from reportkit import files   # files.write_atomically, looked up when called (tests replace it)
from reportkit.errors import ReportError, RenderError, problems_of, raise_all, unique
from reportkit.run.plan import Document, depends, label, plan, weight
from reportkit.run.slices import Slices
from reportkit.run.prepare import RENDERED, STAGES, BuildRequest, Prepared, Progress, prepare, quiet
from reportkit.run.render import BuildResult, render_all
from reportkit.project import Project
from reportkit.render.pdf import PDF_VARIANT  # render.py imports WeasyPrint only when rendering

if TYPE_CHECKING:  # pragma: no cover
    from reportkit.safety.worker import Worker


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
    # stopped below if there is nothing to render here).
    renderer = None
    if jobs > 1 and (project.templates / 'fonts').is_dir():
        renderer = start_renderer(project.templates / 'fonts', project.build)
    rendered: dict[int, tuple[Path, BuildResult]] = {}
    try:
        from reportkit.cache import PdfCache

        documents = plan(project, requests, use_cache)
        cache = PdfCache(project.build / 'cache' / 'pdf')
        cache_dir = project.build / 'cache' if use_cache else None
        hits = {id(d): hit for d in documents if d.key and (hit := cache.get(d.key))
                and (d.web is None or hit.web is not None)}
        todo = [d for d in documents if hits.get(id(d)) is None]
        # The biggest documents first, so that parallel workers finish together.
        todo.sort(key=lambda d: -weight(project, d))
        if planned is not None:
            planned(len(documents), len(todo))
        # A batch's renderers are forks of this process, which loads WeasyPrint once for
        # all of them while the documents are checked: a second load, in the speculative
        # renderer, would only take a core from the checking.
        if renderer and (not todo or dask or len(todo) > 2 * jobs):
            renderer.stop()
            renderer = None
        if todo:
            rendered = _run(project, todo, progress, cache_dir, jobs, cache, renderer, dask)
        return [_put_in_place(document, hits.get(id(document)), rendered, progress, started)
                for document in documents]
    finally:
        if renderer:
            renderer.stop()
        for temp, result in rendered.values():
            Path(temp).unlink(missing_ok=True)
            if result.web is not None:
                shutil.rmtree(result.web, ignore_errors=True)


def _put_in_place(document: Document, hit, rendered: dict, progress: Progress,
                  started: float) -> BuildResult:
    """A document's PDF and web folder renamed into place (rendered, or copied from the
    cache ``hit``): only what its request's formats ask for."""
    wants_pdf, staged, temp = 'pdf' in document.request.formats, None, None
    try:
        if hit is not None:
            progress(6, STAGES[5], f'{label(document)} {document.lang}: unchanged, '
                                   'from the cache')
            result = BuildResult(document.request.edition, document.lang, document.target,
                                 hit.pages, hit.path.stat().st_size,
                                 time.perf_counter() - started, cached=True,
                                 item=document.request.item)
            if wants_pdf:
                files.write_atomically(document.target, hit.path.read_bytes(), durable=True)
            if document.web is not None:
                from reportkit.cache import PdfCache
                staged = files.stage_folder(PdfCache.web_files(hit), document.web)
        else:
            temp, result = rendered.pop(id(document))
            staged, result.web = result.web, None
            if wants_pdf:
                os.replace(temp, document.target)
        if staged is not None:
            files.replace_folder(staged, document.web)
            staged, result.web = None, document.web
        return result
    except OSError as error:
        raise RenderError(f'cannot write {document.target if staged is None else document.web}'
                          f': {error.strerror or error}') from None
    finally:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
        if staged is not None:
            shutil.rmtree(staged, ignore_errors=True)


def _run(project: Project, todo: list[Document], progress: Progress,
         cache_dir: Path | None, jobs: int, cache, renderer: Worker | None,
         dask: str | None = None) -> dict[int, tuple[Path, BuildResult]]:
    """Phase 1 for every document, then phase 2; in ``jobs`` processes when > 1 (while
    the ``renderer`` loads WeasyPrint, which then renders the first document, and the
    next ones if this process has not loaded it for more renderers by then), or as
    tasks of the Dask cluster at ``dask``."""
    requests = [d.request for d in todo]
    prepared_all: list[Prepared | None] = [None] * len(todo)
    if dask:
        from reportkit.run.cluster import run_on_cluster
        outputs = run_on_cluster(project, todo, dask, cache_dir, progress)
    else:
        if jobs > 1 and len(todo) > 1:
            checked = _prepare_in_parallel(project, todo, progress, cache_dir, jobs)
        else:
            checked, seen = [], {}
            for request in requests:
                checked.append(_prepare_quietly(project, request, cache_dir, progress,
                                                renderer is not None))
                _share_assets(checked[-1], seen)
        prepared_all = _gather(checked, todo)
        outputs = _render(project, prepared_all, todo, cache, progress, jobs, renderer)
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
        web = _stage_web(document, temp, result)
        if document.plan:
            put = {'pages': result.pages, 'web': web if not document.request.out else None}
            cache.put(remembered.remember(document.plan, result.reads), Path(temp), **put)
            if document.view is not None and prepared is not None:
                cache.put(slices.remember(document.plan, result.reads, document.view,
                                          document.lang, document.request.item,
                                          prepared.uses), Path(temp), **put)
            if not result.cached and prepared is not None:
                cache.put(content_key(prepared, document.target.name), Path(temp), **put)
    return done


def _stage_web(document: Document, temp: str, result: BuildResult) -> dict | None:
    """The files of a document's web page, now that its PDF's pages and size are known,
    staged beside its place (``result.web``); None when it is not asked for."""
    if document.web is None:
        return None
    from reportkit.render.web import page_files

    web = page_files(result.page, result.pages, Path(temp).stat().st_size)
    try:
        result.web = files.stage_folder(web, document.web)
    except OSError as error:
        raise RenderError(f'cannot write {document.web}: {error.strerror or error}') from None
    return web


def _prepare_in_parallel(project: Project, todo: list[Document], progress: Progress,
                         cache_dir: Path | None, jobs: int) -> list:
    """Phase 1 of every document in ``jobs`` forks of this process: each document's
    :class:`Prepared`, or its problem."""
    import multiprocessing

    # Fork after the libraries of phase 1 are imported: every worker starts warm.
    from reportkit.charts import draw as charts
    from reportkit.compose import compose  # noqa: F401
    from reportkit.data import read as data  # noqa: F401
    from reportkit.data import view as dataview  # noqa: F401
    from reportkit.narrative import markdown as narrative  # noqa: F401
    from reportkit.data import values  # noqa: F401
    from reportkit.safety.worker import staging_prefix
    context = multiprocessing.get_context('fork')
    # The workers die with the build; on any exception (Ctrl-C, SIGTERM) they are
    # killed at once, and what they had written removed. They draw each chart that marks
    # the document's own row once between them, in a private folder.
    folders = {project.build, *(document.target.parent for document in todo)}
    project.build.mkdir(parents=True, exist_ok=True)
    shared = Path(tempfile.mkdtemp(prefix=staging_prefix(), dir=project.build))
    charts.share_drawings(shared)
    try:
        return _prepare_in_pool(project, todo, progress, cache_dir, jobs, context, folders)
    finally:
        charts.share_drawings(None)
        shutil.rmtree(shared, ignore_errors=True)


def _prepare_in_pool(project: Project, todo: list[Document], progress: Progress,
                     cache_dir: Path | None, jobs: int, context, folders: set[Path]) -> list:
    import concurrent.futures as futures

    from reportkit.safety.worker import die_with_parent, stopped_on_error
    with futures.ProcessPoolExecutor(min(jobs, len(todo)), mp_context=context,
                                     initializer=die_with_parent,
                                     initargs=(os.getpid(),)) as pool, \
            stopped_on_error(pool, folders):
        running = {pool.submit(_prepare_quietly, project, document.request, cache_dir): document
                   for document in todo}
        # The workers are forked: WeasyPrint loads here meanwhile, in a thread, for the
        # renderers to come (forks of this process), and the speculative renderer, if
        # any, renders the first document without waiting for it.
        from reportkit.render.pdf import load_weasyprint_meanwhile
        load_weasyprint_meanwhile()
        checked, seen = {}, {}
        for done in futures.as_completed(running):
            document = running[done]
            checked[id(document)] = done.result()
            failed = isinstance(checked[id(document)], ReportError)
            _share_assets(checked[id(document)], seen)
            progress(5, 'Checked and composed' if not failed else 'Problems found',
                     f'{label(document)} {document.lang}')
    return [checked[id(d)] for d in todo]


def _share_assets(prepared, seen: dict[str, bytes]) -> None:
    """The fonts and images of a batch's documents, held once between them (each
    document read its own copy)."""
    if isinstance(prepared, Prepared):
        for composed in prepared.composed.values():
            composed.share_assets(seen)


def _render(project: Project, prepared_all: list[Prepared], todo: list[Document], cache,
            progress: Progress, jobs: int, renderer: Worker | None) -> list:
    """Phase 2: each document rendered to a hidden file beside its target, or its
    problem, in ``jobs`` warm renderers (:func:`~.render.render_all`), the first of them
    the ``renderer`` already started, if any. A document whose composed content was
    rendered before is copied from the cache instead."""
    finished = _reusable(project, prepared_all, todo, cache, progress)
    left = [i for i, document in enumerate(todo) if id(document) not in finished]
    if left:
        def told(n: int, done: bool) -> None:
            document = todo[left[n]]
            progress(6, RENDERED if done else STAGES[5], f'{label(document)} {document.lang}')

        outputs = render_all(project, [(prepared_all[i], todo[i].target) for i in left],
                             jobs, told, renderer)
        for i, output in zip(left, outputs):
            finished[id(todo[i])] = output
    return [finished[id(d)] for d in todo]


def content_key(prepared: Prepared, name: str) -> str:
    """What goes into the renderer for a document: its composed HTML and every asset,
    the PDF's name and date, the variant, the code and the software. Two builds whose
    documents compose to the same bytes render the same PDF."""
    from reportkit.files import digest_of
    from reportkit.inputs import code_digests, key, software

    composed = next(iter(prepared.composed.values()))
    assets = {name: digest_of(data) for name, data in sorted(composed.assets.items())}
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
            reads=prepared.reads, item=document.request.item,
            page=prepared.composed[document.lang].web))
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
