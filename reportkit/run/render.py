"""Phase 2 of the build, rendering: a document composed in memory (:mod:`.prepare`) to a
hidden file beside its target, which the build renames into place once every document
rendered.

A batch renders in warm renderers (:func:`render_all`): each is a fork of the build that
has WeasyPrint loaded, and renders one document after another, keeping what WeasyPrint
and its libraries learnt from the earlier ones (fonts, shaping, style sheets); each
render is under the budget of :mod:`~reportkit.safety.budget`, and a renderer that
overruns it is killed, with a message naming the document, and replaced.
"""

from __future__ import annotations

import datetime as dt
import os
import queue
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from reportkit import files   # files.write_atomically, looked up when called (tests replace it)
from reportkit.errors import ReportError, RenderError, raise_all
from reportkit.files import Journal
from reportkit.project import Project
from reportkit.render.pdf import PDF_VARIANT
from reportkit.run.prepare import Prepared, output_name

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
    page: object = None
    """Its web page as composed (:class:`~reportkit.compose.web.WebPage`), when asked for."""
    web: Path | None = None
    """Where its web edition was written (a folder beside the PDF)."""


def render_to_part(project: Project, prepared: Prepared, target: Path,
                   renderer: Worker | None = None, owner: int | None = None,
                   keep: bool = False):
    """Render one document to a hidden file beside its target; (temp path, result). The
    file is named after its ``owner``, the build that renames it (default: this process),
    and what killed builds left beside the target is removed first. The ``renderer`` is
    stopped afterwards unless told to ``keep`` it (for the next document)."""
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
                                              name=target.name, keep=keep)
    except ReportError as error:
        Path(temp).unlink(missing_ok=True)
        return error
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    timings = {**prepared.timings, **rendered.timings}
    return temp, BuildResult(prepared.edition.name, lang, target, rendered.pages, rendered.size,
                             time.perf_counter() - started, html_copy, timings,
                             reads=prepared.reads, item=prepared.request.item,
                             page=prepared.composed[lang].web)


def render_language(project: Project, prepared: Prepared, lang: str, target: Path | None, *,
                    variant: str = PDF_VARIANT, embedded: list[Embedded] | None = None,
                    html: Path | None = None, renderer: Worker | None = None,
                    name: str | None = None, keep: bool = False
                    ) -> tuple[Rendered, Path | None]:
    """Write one language's composed document to a private folder and render it to
    ``target`` (in the ``renderer`` process, or in a fork of this one: under the render
    budget either way). Each render has its own folder, so builds running at once never
    share one; the folders that killed builds left are removed first. A renderer's
    documents go one after another to its own folder, where the fonts keep their
    address: it loads them once for all its documents that have the same fonts and
    stylesheets."""
    from reportkit.render.pdf import render_in
    from reportkit.safety.worker import remove_abandoned, staging_prefix

    project.build.mkdir(parents=True, exist_ok=True)
    remove_abandoned(project.build)
    # A renderer kept for more documents renders them in its own folder (one stopped
    # after this document takes its folder with it: this one has a folder of its own).
    own = renderer.folder if renderer is not None and renderer.alive and keep else None
    staging = own or Path(tempfile.mkdtemp(prefix=staging_prefix(), dir=project.build))
    composed = prepared.composed[lang]
    try:
        if own is not None:
            _empty(own)
        html_path = composed.write(staging)
        published = prepared.edition.config.publication_date
        options = dict(allowed=[staging], fonts_dir=project.templates / 'fonts',
                       scratch=project.build, variant=variant, embedded=embedded,
                       created=dt.datetime(published.year, published.month, published.day),
                       name=name or (target.name if target is not None
                                     else output_name(prepared.edition.config, lang,
                                                      prepared.request.item)),
                       fonts_key=_fonts_key(own, composed) if own else None)
        try:
            rendered = render_in(renderer, html_path, keep_renderer=keep, **options)
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
        if own is None:
            shutil.rmtree(staging, ignore_errors=True)
    return rendered, html_copy


def _empty(folder: Path) -> None:
    """Remove what the last document left in a renderer's folder (made again if gone)."""
    folder.mkdir(parents=True, exist_ok=True)
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _fonts_key(folder: Path, composed) -> str | None:
    """What the fonts WeasyPrint loads for a document depend on: their address (the
    renderer's folder), the fonts and the stylesheets that declare them (``@font-face``).
    None (load them anew) for a document that declares fonts in its own HTML."""
    from reportkit.files import digest_of
    from reportkit.inputs import key

    if '@font-face' in composed.html:
        return None
    return key('fonts', str(folder), {
        name: digest_of(data) for name, data in composed.assets.items()
        if name.startswith('fonts/') or (name.endswith('.css') and b'@font-face' in data)})


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


RENDERS_PER_RENDERER = 32
"""Documents one renderer renders before a fresh one takes over. A renderer keeps what
WeasyPrint's libraries cached, and the fonts of the documents before (see render_pdf's
``fonts_key``), which makes the next render faster, but each document still adds some
3 MB that is never given back: thirty-two keep a renderer under 250 MB (measured:
227-235 MB for two-page profiles) whatever the batch's size. A fresh renderer's first
document takes half as long again as the next (its fonts are loaded anew): sixteen made
a 102-document batch start eight renderers instead of four, 0.4 s of its 12."""


def render_all(project: Project, work: list[tuple[Prepared, Path]], jobs: int,
               told: Callable[[int, bool], None], first: Worker | None = None) -> list:
    """Each (prepared document, target) rendered to a hidden file beside its target, in
    ``jobs`` warm renderers at once; in order, (temp path, result) or the problem.
    ``told(index, finished)`` is called in this thread as each render starts and ends.

    ``first``, a renderer already loaded (the build's speculative one), takes the first
    document at once; the others start when this process has loaded WeasyPrint, and
    take what is left then (none, for a batch of two small documents)."""
    pool = _Renderers(project, work)
    count = max(1, min(jobs, len(work)))
    if first is not None and first.alive:
        pool.started.append(first)   # stopped with the others (at the end, or on Ctrl-C)
    else:
        first = pool.start()   # in the build's thread, before any other
    threads = [threading.Thread(target=pool.serve, args=(first if n == 0 else None,),
                                daemon=True, name=f'renderer {n + 1}')
               for n in range(count)]
    outputs: list = [None] * len(work)
    try:
        for thread in threads:
            thread.start()
        finished = 0
        while finished < len(work):
            index, output = pool.events.get()
            if index is None:
                raise output
            if output is not None:
                outputs[index] = output
                finished += 1
            told(index, output is not None)
    finally:
        pool.stop()
        for thread in threads:
            thread.join()
    return outputs


class _Renderers:
    """The renderers of :func:`render_all` and the documents they take in turn.

    A renderer is a fork of this process once it has WeasyPrint loaded (loaded when the
    first is started). One that overran its budget, or rendered its share, is replaced by
    a fork made from its own thread, one at a time; the other threads then only wait for
    their renderer or write files, holding none of the locks a fork could inherit
    locked."""

    def __init__(self, project: Project, work: list[tuple[Prepared, Path]]) -> None:
        self.project, self.work = project, work
        self.todo: queue.SimpleQueue = queue.SimpleQueue()
        for index in range(len(work)):
            self.todo.put(index)
        self.events: queue.SimpleQueue = queue.SimpleQueue()  # (index, None: started | output)
        self.started: list[Worker] = []
        self.lock = threading.Lock()
        self.stopping = False

    def start(self) -> Worker | None:
        """A fresh renderer; None when no document is waiting for one (or the pool is
        stopping)."""
        from reportkit.render.pdf import load_weasyprint, start_renderer, use_bundled_fonts

        with self.lock:
            if self.stopping or self.todo.empty():
                return None
            fonts = self.project.templates / 'fonts'
            # Loaded here first: every renderer, a fork of this process, has it.
            use_bundled_fonts(fonts, self.project.build)
            load_weasyprint()
            if self.todo.empty():   # the others took what was left meanwhile
                return None
            renderer = start_renderer(fonts, self.project.build)
            self.started.append(renderer)
            return renderer

    def serve(self, renderer: Worker | None) -> None:
        """(In its own thread.) Render the next document waiting, until none is left;
        ``renderer`` None: in one started first (if documents are still waiting then)."""
        served = 0
        try:
            while True:
                if renderer is None or not renderer.alive or served == RENDERS_PER_RENDERER:
                    if self.todo.empty():
                        return   # (the build stops the renderers)
                    if renderer is not None:
                        renderer.stop()
                    renderer, served = self.start(), 0
                    if renderer is None:
                        return
                try:
                    index = self.todo.get_nowait()
                except queue.Empty:
                    return
                served += 1
                prepared, target = self.work[index]
                self.events.put((index, None))
                self.events.put((index, render_to_part(self.project, prepared, target,
                                                       renderer, keep=True)))
        except BaseException as error:   # noqa: BLE001 - given to the build's thread
            self.events.put((None, error))

    def stop(self) -> None:
        with self.lock:
            self.stopping = True
        for renderer in self.started:
            renderer.stop()
