"""Stage 5, render: composed HTML -> tagged PDF with WeasyPrint, strictly and offline.

- Fonts: WeasyPrint sees only the project's bundled fonts (a private Fontconfig
  configuration), so output never depends on the fonts a machine happens to have.
- Strict: every WeasyPrint warning or error fails the build, with its message.
- Contained: the URL fetcher serves only files inside the document's folder and the
  project; any other address is refused and fails the build.
- Atomic: the PDF is written to a temporary file beside the target, then renamed.
"""

from __future__ import annotations

import dataclasses
import datetime
import gc
import io
import logging
import mimetypes
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from reportkit.errors import RenderError
from reportkit.files import write_atomically

if TYPE_CHECKING:  # pragma: no cover
    from reportkit.safety.worker import Worker

PDF_VARIANT = 'pdf/ua-1'
"""Tagged, accessible PDF (PDF/UA-1): structure tree, /Lang, DisplayDocTitle."""
ARCHIVE_VARIANT = 'pdf/a-3a'
"""Archived copies: PDF/A-3 level A (tagged, Unicode text) with the source data
embedded as files (PDF/A-3 allows any embedded file, with its AFRelationship)."""


@dataclass(frozen=True)
class Embedded:
    """A file to embed in the PDF (PDF/A-3 attachment)."""

    name: str
    data: bytes
    description: str
    relationship: str = 'Source'

FONTCONFIG_TEMPLATE = '''<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<!-- Written by the report pipeline: only the project's bundled fonts are visible. -->
<fontconfig>
  <dir>{fonts}</dir>
  <cachedir>{cache}</cachedir>
</fontconfig>
'''


def use_bundled_fonts(fonts_dir: Path, scratch: Path) -> None:
    """Point Fontconfig at the bundled fonts only; call before WeasyPrint renders."""
    scratch.mkdir(parents=True, exist_ok=True)
    conf = scratch / 'fonts.conf'
    text = FONTCONFIG_TEMPLATE.format(fonts=fonts_dir.resolve(),
                                      cache=(scratch / 'fontconfig-cache').resolve())
    if not conf.exists() or conf.read_text() != text:
        conf.write_text(text)
    os.environ['FONTCONFIG_FILE'] = str(conf)


class _Collect(logging.Handler):
    """Keeps every WeasyPrint record at WARNING or above."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f'{record.levelname.lower()}: {record.getMessage()}')


@dataclass(frozen=True)
class Rendered:
    path: Path | None
    pages: int
    size: int
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds spent in WeasyPrint's layout and in writing the PDF."""
    data: bytes = field(default=b'', repr=False)
    """The PDF itself."""


def contained_fetcher(allowed: list[Path], refused: list[str]):
    """A URL fetcher that serves local files under ``allowed`` folders, nothing else."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    roots = [root.resolve() for root in allowed]

    class ContainedFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            parsed = urlparse(url)
            if parsed.scheme == 'file':
                path = Path(unquote(parsed.path)).resolve()
                inside = any(path.is_relative_to(root) for root in roots)
                if inside and path.is_file():
                    kind = mimetypes.guess_type(path.name)[0] or 'application/octet-stream'
                    return URLFetcherResponse(url, path.read_bytes(),
                                              headers={'Content-Type': kind})
                reason = 'missing' if inside else 'outside the project'
                refused.append(f'{url} ({reason})')
                raise ValueError(f'refused: {url} is {reason}')
            refused.append(f'{url} (only files inside the project may be used)')
            raise ValueError(f'refused: {url}')

    return ContainedFetcher()


def render_pdf(html_path: Path, target: Path | None, *, allowed: list[Path],
               fonts_dir: Path, scratch: Path, variant: str = PDF_VARIANT,
               embedded: list[Embedded] | None = None,
               created: datetime.datetime | None = None, name: str | None = None,
               fonts_key: str | None = None) -> Rendered:
    """Render ``html_path`` to ``target`` (replaced only when the render succeeds and
    the PDF passes the accessibility gate; ``target`` None: write nothing, the PDF is in
    the result).

    ``embedded`` files are attached with the date ``created`` (for the same bytes on
    every run). ``name`` names the PDF in messages (default: the target's name).
    Documents with the same ``fonts_key`` (their fonts and stylesheets, at the same
    address) share the fonts WeasyPrint loaded for the first, in this process: the same
    bytes, a tenth faster. None: the fonts are loaded for this document alone."""
    from reportkit.compose.access import check_pdf
    failed: list = []

    def gate(document, pdf) -> None:
        shown = name or (target.name if target else html_path.parent.name)
        failed.extend(check_pdf(pdf, shown, display_title=variant == PDF_VARIANT))

    loading = time.perf_counter()
    use_bundled_fonts(fonts_dir, scratch)
    import weasyprint
    loading = time.perf_counter() - loading

    logger = logging.getLogger('weasyprint')
    handler = _Collect()
    logger.addHandler(handler)
    previous_level = logger.level
    logger.setLevel(logging.WARNING)
    refused: list[str] = []
    try:
        html = weasyprint.HTML(filename=str(html_path),
                               url_fetcher=contained_fetcher(allowed, refused))
        attachments = [
            weasyprint.Attachment(file_obj=io.BytesIO(item.data), name=item.name,
                                  description=item.description, created=created,
                                  modified=created, relationship=item.relationship)
            for item in embedded or []]
        # Everything loaded so far (pandas, matplotlib, the composed document) lives as
        # long as the process: keep the garbage collector from walking it again and again
        # during layout, which allocates many short-lived objects.
        gc.freeze()
        clock = time.perf_counter()
        document = html.render(font_config=_fonts(fonts_key), pdf_variant=variant)
        layout = time.perf_counter() - clock
        data = document.write_pdf(pdf_variant=variant, attachments=attachments or None,
                                  finisher=gate)
    finally:
        gc.unfreeze()
        logger.removeHandler(handler)
        logger.setLevel(previous_level)
    problems = [f'refused to load {url}' for url in refused] + \
        _with_stylesheets(handler.messages, html_path.parent)
    if problems:
        listing = '\n'.join(f'  {problem}' for problem in dict.fromkeys(problems))
        raise RenderError(f'WeasyPrint reported {len(problems)} problem'
                          f'{"s" if len(problems) != 1 else ""}; no PDF was written:\n'
                          f'{listing}')
    if failed:
        listing = '\n'.join(f'  {problem.message}' for problem in failed)
        raise RenderError(f'the PDF fails the accessibility check; it was not written:\n'
                          f'{listing}')
    if target is not None:
        write_atomically(target, data, durable=True)
    return Rendered(target, len(document.pages), len(data),
                    {'weasyprint': loading, 'layout': layout,
                     'write': time.perf_counter() - clock - layout}, data)


_FONTS: list = []
"""[(fonts_key, FontConfiguration)]: the fonts of this process's last documents."""


def _fonts(key: str | None):
    """WeasyPrint's fonts for a document: those of the documents before it when they
    had the same ``key``, else loaded anew."""
    from weasyprint.text.fonts import FontConfiguration

    if key is None:
        return FontConfiguration()
    if not _FONTS or _FONTS[0][0] != key:
        _FONTS[:] = [(key, FontConfiguration())]
    return _FONTS[0][1]


def _with_stylesheets(messages: list[str], folder: Path) -> list[str]:
    """WeasyPrint's messages about CSS ("Ignored `colr: red` at 132:5") name a line but no
    file: each stylesheet of the document is parsed again on its own (only when there are
    messages) to say which file the line is in."""
    if not messages:
        return messages
    import weasyprint

    logger = logging.getLogger('weasyprint')
    found: dict[str, str] = {}
    for sheet in sorted(folder.glob('*.css')):
        handler = _Collect()
        logger.addHandler(handler)
        try:
            weasyprint.CSS(filename=str(sheet))
        except Exception:   # noqa: BLE001 - a sheet WeasyPrint cannot parse says so itself
            pass
        finally:
            logger.removeHandler(handler)
        for message in handler.messages:
            found.setdefault(message, str(sheet))
    return [f'{found[m]}: {m}' if m in found else m for m in messages]


def start_renderer(fonts_dir: Path, scratch: Path) -> Worker:
    """A :class:`~.worker.Worker` that loads WeasyPrint, to :func:`render_in` later.

    Loading WeasyPrint takes most of a second, as long as reading, checking and composing
    a document: a build with one document to render starts the renderer first, so that
    both run side by side on two cores, and stops it unused when the document turns out
    to be unchanged."""
    import tempfile

    from reportkit.safety.worker import Worker, staging_prefix

    use_bundled_fonts(fonts_dir, scratch)   # before the fork: the renderer inherits it
    # Its documents are written one after another to the same folder: the fonts keep
    # their address, and the renderer loads them once (see render_pdf's fonts_key).
    return Worker(load_weasyprint, 'rendering',
                  Path(tempfile.mkdtemp(prefix=staging_prefix(), dir=scratch)))


def render_in(renderer: Worker | None, html_path: Path, *, keep_renderer: bool = False,
              **options) -> Rendered:
    """:func:`render_pdf` of ``html_path`` in the ``renderer``, which is stopped
    afterwards unless told to keep it, or (None) in a fork of this process; writing no
    file (the PDF is in the result).

    Either way the render runs in a child process, under the budget of :mod:`.budget`: it
    limits its own memory, and is killed at the time limit. Overstepping either is a
    one-line error naming the document."""
    from reportkit.safety.budget import Budget
    from reportkit.safety.worker import OverTime, Stopped, call_in_fork

    shown = options.get('name') or html_path.parent.name
    try:
        budget = Budget.from_environment()
        if renderer is None:
            use_bundled_fonts(options['fonts_dir'], options['scratch'])
            load_weasyprint()   # here: this fork and every later one start with it loaded
            answer = call_in_fork(_render_here, html_path, options, budget, name='rendering')
        else:
            answer = renderer.submit(_render_here, html_path, options, budget).result
        return answer(timeout=budget.seconds)
    except OverTime:
        raise budget.over_time(shown) from None
    except MemoryError:
        raise budget.over_memory(shown) from None
    except Stopped as error:
        raise budget.exceeded(shown, error.status) or error from None
    finally:
        if renderer is not None and not keep_renderer:
            renderer.stop()


_LOADING = 0.0
"""Seconds the renderer took to load WeasyPrint."""


_MEANWHILE: list = []
"""The thread loading WeasyPrint in this process, if :func:`load_weasyprint_meanwhile`
started one."""


def load_weasyprint_meanwhile() -> None:
    """Start loading WeasyPrint in a thread of this process, while it waits for others
    (the renderers forked later start with it loaded); :func:`load_weasyprint` waits
    for it."""
    import sys
    import threading

    if 'weasyprint' not in sys.modules and not _MEANWHILE:
        thread = threading.Thread(target=_load, name='loading WeasyPrint', daemon=True)
        _MEANWHILE.append(thread)
        thread.start()


def load_weasyprint() -> None:
    """WeasyPrint and what renders with it, loaded in this process."""
    while _MEANWHILE:   # being loaded already: wait for it (in a fork: it is not there)
        _MEANWHILE.pop().join()
    _load()


def _load() -> None:
    global _LOADING
    started = time.perf_counter()
    import weasyprint  # noqa: F401
    from weasyprint.text.fonts import FontConfiguration  # noqa: F401

    from reportkit.compose.access import check_pdf  # noqa: F401
    _LOADING = time.perf_counter() - started


def _render_here(html_path: Path, options: dict, budget=None) -> Rendered:
    if budget is not None:   # in the child process that renders, never in the build's
        budget.limit_this_process()
    rendered = render_pdf(html_path, None, **options)
    return dataclasses.replace(rendered, timings={**rendered.timings, 'weasyprint': _LOADING})


