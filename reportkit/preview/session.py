"""What a preview shows: one document's web pages, built again from the current inputs
each time they change, and the problem that stopped the last build, if one did.

A :class:`Preview` builds through the build's own phase 1 (:func:`~reportkit.run.prepare.
prepare`: every file read through the containment rule, every check of ``build``), one
language at a time, the language being read first, so that its page is ready before the
others are built. Nothing is written: the pages are held in memory and served from there.
A build that fails keeps the last good pages, and its problem is shown over them; the
server never stops on a bad input.

The pages' PDF is rendered when asked for (:meth:`Preview.pdf`), in a renderer kept
warm, from the build's cache when the document is unchanged, and, once asked for,
ahead of the next request after each change (:mod:`.pdfs`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from reportkit.errors import ReportError, problems_of
from reportkit.preview.pdfs import Pdfs
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

    def address(self, name: str) -> str:
        """How the page asks for its file ``name``: with a mark of the file's content
        (``charts/trade.svg?v=…``), so that a page updated in place fetches a chart or
        style sheet again when, and only when, it changed. Anything that is not one of
        the page's files is left as it is."""
        from reportkit.files import digest_of

        data = self.files.get(name)
        if data is None or name == 'index.html':
            return name
        return f'{name}?v={digest_of(data)[:12]}'


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
        """Held by a build (phase 1 journals its reads per process) and while the pages
        are looked at from another thread."""
        self.listeners: list[Callable[[], None]] = []
        """Called (from the building thread) after each change of what is shown."""
        self.pdfs = Pdfs(project)

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
        self.pdfs.changed(pdf, prepared, lang)
        return True

    # -- The PDF, on request (pdfs.py) ---------------------------------------------

    def pdf(self, name: str) -> tuple[bytes, Callable[[], None] | None] | None:
        """The PDF of the page whose PDF is ``name``, of its current state (rendered, ahead
        or now, or taken from the build's cache), and what is left to do once it is sent,
        if anything; None when no page has that PDF. A problem shown now is raised
        instead: the PDF would not be the current state. A build may run meanwhile."""
        with self.lock:
            if self.problem is not None:
                raise ReportError(str(self.problem))
            page = next((p for p in self.pages.values() if p.pdf == name), None)
            if page is None:
                return None
            prepared = page.prepared
        return self.pdfs.get(name, prepared, page.lang)

    def start_renderer(self) -> None:
        """Load WeasyPrint in a renderer process now, so that the first PDF asked for
        does not wait for it."""
        with self.pdfs.lock:
            self.pdfs.warm_renderer()

    def close(self) -> None:
        self.pdfs.close()
