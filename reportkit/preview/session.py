"""What a preview shows: one document's web pages, built again from the current inputs
each time they change, and the problem that stopped the last build, if one did.

A :class:`Preview` builds through the build's own phase 1 (:func:`~reportkit.run.prepare.
prepare`: every file read through the containment rule, every check of ``build``), one
language at a time, the language being read first, so that its page is ready before the
others are built. Nothing is written: the pages are held in memory and served from there.
A build that fails keeps the last good pages, and its problem is shown over them; the
server never stops on a bad input.

The pages' PDF is rendered only when asked for (:meth:`Preview.pdf`), in a renderer
kept warm, and from the build's cache when the document is unchanged.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from reportkit.errors import ReportError, problems_of
from reportkit.project import Project
from reportkit.run.prepare import BuildRequest, Prepared, output_name, prepare


@dataclass
class Page:
    """One language's preview page, as last built."""

    lang: str
    folder: str
    """Its folder's name, as ``build --format web`` names it: the page's address."""
    pdf: str
    """Its PDF's name, beside the folder (the page's "PDF version" link)."""
    files: dict[str, bytes]
    """index.html and every file it uses."""
    prepared: Prepared
    version: int


@dataclass
class Problem:
    """Why the last build failed: its summary and each problem, as the command line
    prints them (file, line, what is wrong)."""

    summary: str
    lines: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, error: ReportError) -> 'Problem':
        found = problems_of(error)
        if len(found) == 1 and found[0] is error:
            return cls(str(error))
        return cls(error.message, [str(problem) for problem in found])

    def __str__(self) -> str:
        return '\n'.join([self.summary, *(f'  - {line}' for line in self.lines)])


class Preview:
    """The pages of one document (an edition, or a batch edition's ``item``), in each of
    its languages: ``lang`` first."""

    def __init__(self, project: Project, edition: str, lang: str | None = None,
                 item: str | None = None) -> None:
        self.project, self.edition, self.item = project, project.resolve(edition), item
        self.preferred = lang
        self.languages: list[str] = [lang] if lang else []
        """The edition's languages, the one asked for first (read again at each build)."""
        self.pages: dict[str, Page] = {}
        """Folder name -> its page."""
        self.problem: Problem | None = None
        self.version = 0
        """Counts the changes of what the preview shows (a page, or the problem)."""
        self._problem_version = 0
        self.builds = 0
        """Builds done (each of every language)."""
        self.lock = threading.RLock()
        """Held by a build and a PDF render: one at a time (phase 1 journals its reads
        per process)."""
        self.listeners: list[Callable[[], None]] = []
        """Called (from the building thread) after each change of what is shown."""
        self._renderer = None
        self._renders = 0

    def _read_languages(self) -> None:
        from reportkit.load.edition import load_edition_config

        config = load_edition_config(self.project, self.edition)[0]
        first = self.preferred or config.languages[0]
        if first not in config.languages:
            raise ReportError(f"edition {self.edition} has no language {first!r} (its "
                              f"languages: {', '.join(config.languages)}); preview it with "
                              f"--lang {config.languages[0]}")
        self.languages = [first, *(other for other in config.languages if other != first)]

    @property
    def first(self) -> Page | None:
        """The page of the language asked for, when one was ever built."""
        return self.page_of(self.languages[0]) if self.languages else None

    def version_of(self, folder: str) -> int:
        """What a page served now would say of itself: the version of its content, or the
        newer one of a problem shown over it. Any other page (the side-by-side view, the
        page shown before the first build) changes with every change."""
        page = self.pages.get(folder)
        if page is None:
            return self.version
        return max(page.version, self._problem_version)

    def page_of(self, lang: str) -> Page | None:
        return next((p for p in self.pages.values() if p.lang == lang), None)

    def rebuild(self) -> float:
        """Build every language again from the current inputs (the first language first,
        and its change announced before the others are built); returns the seconds taken."""
        started = time.perf_counter()
        with self.lock:
            problem = None
            try:
                self._read_languages()
                for lang in self.languages:
                    changed = self._build(lang)
                    if lang == self.languages[0] and self.problem is not None:
                        self.problem, changed = None, True   # fixed: the message goes
                        self._problem_version = self._next()
                    if changed:
                        self._tell()
            except ReportError as error:
                problem = Problem.of(error)
            except Exception as error:   # noqa: BLE001 - a bug: said in the page, kept running
                problem = Problem(f'internal error: {type(error).__name__}: {error} '
                                  '(build the edition with --debug for the details)')
            if problem is not None and str(problem) != str(self.problem):
                self.problem = problem
                self._problem_version = self._next()
                self._tell()
            self.builds += 1   # (counted once it is done: what it made is shown now)
        return time.perf_counter() - started

    def _next(self) -> int:
        self.version += 1
        return self.version

    def _tell(self) -> None:
        for listener in list(self.listeners):
            listener()

    def _build(self, lang: str) -> bool:
        """One language's page; True when it differs from the one shown."""
        from reportkit.render.web import page_files, web_folder

        request = BuildRequest(self.edition, [lang], item=self.item, formats=('web',))
        prepared = prepare(self.project, request, cache=self.project.build / 'cache')
        config = prepared.edition.config
        pdf = output_name(config, lang, self.item)
        folder = web_folder(Path(pdf)).name
        files = page_files(prepared.composed[lang].web, None, None)
        old = self.pages.get(folder)
        if old is not None and old.files == files:
            old.prepared = prepared
            return False
        for name in [name for name, page in self.pages.items() if page.lang == lang]:
            del self.pages[name]   # (a new revision or status renames the folder)
        self.pages[folder] = Page(lang, folder, pdf, files, prepared, self._next())
        return True

    # -- The PDF, on request --------------------------------------------------------

    def pdf(self, name: str) -> tuple[bytes, Callable[[], None] | None] | None:
        """The PDF of the page whose PDF is ``name``, rendered from its current state (or
        taken from the build's cache when that state was rendered before), and what is
        left to do once it is sent (put it in the cache), if anything; None when no page
        has that PDF. A problem shown now is raised instead: the PDF would not be the
        current state."""
        from reportkit.cache import PdfCache
        from reportkit.run.build import content_key
        from reportkit.run.render import render_language

        with self.lock:
            if self.problem is not None:
                raise ReportError(str(self.problem))
            page = next((p for p in self.pages.values() if p.pdf == name), None)
            if page is None:
                return None
            cache = PdfCache(self.project.build / 'cache' / 'pdf')
            key = content_key(page.prepared, name)
            hit = cache.get(key)
            if hit is not None:
                return hit.path.read_bytes(), None
            rendered, _ = render_language(self.project, page.prepared, page.lang, None,
                                          renderer=self._warm_renderer(), name=name, keep=True)
            self._renders += 1
            return rendered.data, lambda: self._keep(cache, key, rendered)

    def _keep(self, cache, key: str, rendered) -> None:
        """The PDF put in the build's cache (through a hidden file, as the build does)."""
        with self.lock:
            self._put(cache, key, rendered)

    def _put(self, cache, key: str, rendered) -> None:
        import os
        import tempfile

        from reportkit.safety.worker import part_prefix

        self.project.build.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=part_prefix('preview.pdf'), suffix='.part',
                                        dir=self.project.build)
        try:
            with os.fdopen(handle, 'wb') as stream:
                stream.write(rendered.data)
            cache.put(key, Path(temp), rendered.pages)
        except OSError:
            pass   # a cache that cannot be written is only slower
        finally:
            Path(temp).unlink(missing_ok=True)

    def start_renderer(self) -> None:
        """Load WeasyPrint in a renderer process now, so that the first PDF asked for
        does not wait for it."""
        with self.lock:
            self._warm_renderer()

    def _warm_renderer(self):
        from reportkit.render.pdf import start_renderer
        from reportkit.run.render import RENDERS_PER_RENDERER

        if self._renderer is not None and (not self._renderer.alive
                                           or self._renders >= RENDERS_PER_RENDERER):
            self._renderer.stop()
            self._renderer = None
        if self._renderer is None:
            self._renderer = start_renderer(self.project.templates / 'fonts',
                                            self.project.build)
            self._renders = 0
        return self._renderer

    def close(self) -> None:
        with self.lock:
            if self._renderer is not None:
                self._renderer.stop()
                self._renderer = None
