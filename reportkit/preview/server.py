"""The preview's web server (starlette, run by uvicorn on 127.0.0.1 only).

It serves a :class:`~.session.Preview` from memory, never from the disk: a page's
address is its folder's name (as ``build --format web`` names it), and a file is served
only when the page has a file of that name, so that no path (``/../../etc/passwd``)
reaches anything else: whatever is not a page, one of its files, its PDF or the
preview's own parts is 404.

- ``/<folder>/`` a page, with the preview's parts added: the reload script, the preview
  bar, and over the page the message of a build that failed;
- ``/<folder>/<file>`` the page's files; ``/<pdf>`` its PDF, rendered when asked for;
- ``/compare`` every language side by side;
- ``/_preview/events`` server-sent events: each page's version, whenever it changes;
- ``/_preview/status`` what the preview is showing (JSON).
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import re
import socket
import threading
from pathlib import Path

from markupsafe import escape
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from reportkit.errors import ReportError
from reportkit.preview.compare import PREVIEW_STYLE, compare_page, preview_head, problem_banner
from reportkit.preview.session import Preview

STATIC = Path(__file__).parent / 'static'
OWN = {'reload.js': 'text/javascript; charset=utf-8', 'preview.css': 'text/css; charset=utf-8'}
SECURITY = {
    # The page's own files and the preview's script, nothing else; no frames, no forms.
    'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
}
KEEPALIVE_SECONDS = 15
MAIN, BODY = re.compile(r'<main[\s>]'), re.compile(r'<body[^>]*>')
OWN_FILE = re.compile(r'(\s(?:src|href)=")([^"#?:]+)(")')
"""An attribute that names a file by a relative address (the page's own files)."""


class Hub:
    """The event streams open now, and how to wake them from the building thread."""

    def __init__(self, preview: Preview) -> None:
        self.preview = preview
        self.loop: asyncio.AbstractEventLoop | None = None
        self.queues: set[asyncio.Queue] = set()
        self.closing = False
        preview.listeners.append(self.changed)

    def changed(self) -> None:
        loop = self.loop
        if loop is not None and not loop.is_closed():
            for queue in list(self.queues):
                loop.call_soon_threadsafe(queue.put_nowait, None)


def page_html(preview: Preview, page) -> bytes:
    """A page as the preview serves it: the reload script in its head, the preview bar
    and the last problem (if any) just before its ``main`` (after the skip link and the
    header, so that the skip link stays the first thing the keyboard reaches), and its
    files asked for with a mark of their content (:meth:`~.session.Page.address`)."""
    html = page.files['index.html'].decode('utf-8')
    html = OWN_FILE.sub(lambda m: m.group(1) + page.address(m.group(2)) + m.group(3), html)
    head = (f'<link rel="stylesheet" href="{PREVIEW_STYLE}">'
            f'{preview_head(page.folder, preview.version_of(page.folder))}')
    html = html.replace('</head>', head + '</head>', 1)
    own = _bar(preview) + _problem(preview)
    main = MAIN.search(html)
    if main is not None:
        html = html[:main.start()] + own + html[main.start():]
    else:
        html = BODY.sub(lambda m: m.group(0) + own, html, count=1)
    return html.encode('utf-8')


def _bar(preview: Preview) -> str:
    compare = (' <a href="/compare">All languages side by side</a>'
               if len(preview.pages) > 1 else '')
    return (f'<aside class="preview-bar" lang="en" aria-label="Preview">'
            f'<span>Preview of {escape(preview.edition)}'
            f'{" " + escape(preview.item) if preview.item else ""}: it updates '
            f'as you save.</span>{compare}</aside>')


def _problem(preview: Preview) -> str:
    return str(problem_banner(preview.problem)) if preview.problem is not None else ''


def _nothing_yet(preview: Preview) -> Response:
    """No build has succeeded yet: the problem alone (or, before the first build ends,
    a page that reloads when it does)."""
    body = _problem(preview) or '<p>The preview is being built…</p>'
    html = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>Preview of {escape(preview.edition)}</title>'
            f'<link rel="stylesheet" href="{PREVIEW_STYLE}">'
            f'{preview_head("", preview.version_of(""))}</head><body>'
            f'<main id="main"><h1>Preview of {escape(preview.edition)}</h1>{body}</main>'
            f'</body></html>')
    return _html(html.encode('utf-8'), status=503 if preview.problem is None else 200)


def _html(data: bytes, status: int = 200) -> Response:
    return Response(data, status, headers=SECURITY, media_type='text/html; charset=utf-8')


def _not_found() -> Response:
    return Response('Not found: the preview serves only the pages of its document and '
                    'their files.\n', 404, headers=SECURITY, media_type='text/plain')


def make_app(preview: Preview, hub: Hub) -> Starlette:
    async def serve(request: Request) -> Response:
        path = request.url.path
        if path == '/':
            first = preview.first
            return RedirectResponse(f'/{first.folder}/' if first else '/_preview/waiting')
        if path == '/_preview/waiting':
            return _nothing_yet(preview) if preview.first is None else RedirectResponse('/')
        if path.startswith('/_preview/') and path[10:] in OWN:
            return Response((STATIC / path[10:]).read_bytes(), headers=SECURITY,
                            media_type=OWN[path[10:]])
        if path == '/compare':
            return await _compare(preview)
        folder, _, rest = path[1:].partition('/')
        page = preview.pages.get(folder)
        if page is not None:
            if rest in ('', 'index.html'):
                return _html(page_html(preview, page))
            if rest in page.files:
                kind = mimetypes.guess_type(rest)[0] or 'application/octet-stream'
                return Response(page.files[rest], headers=SECURITY, media_type=kind)
            return _not_found()
        if not rest and any(p.pdf == folder for p in preview.pages.values()):
            return await _pdf(preview, folder)
        return _not_found()

    async def events(request: Request) -> Response:
        folder = request.query_params.get('page', '')
        return StreamingResponse(_stream(hub, folder), media_type='text/event-stream',
                                 headers={**SECURITY, 'X-Accel-Buffering': 'no'})

    async def status(request: Request) -> Response:
        return JSONResponse({
            'edition': preview.edition, 'item': preview.item, 'builds': preview.builds,
            'version': preview.version,
            'pages': {p.folder: {'lang': p.lang, 'version': preview.version_of(p.folder)}
                      for p in preview.pages.values()},
            'problem': str(preview.problem) if preview.problem else None,
            'pdf': {'renders': preview.pdfs.renders, 'ahead': preview.pdfs.ahead}},
            headers=SECURITY)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        hub.loop = asyncio.get_running_loop()
        yield

    return Starlette(routes=[Route('/_preview/events', events),
                             Route('/_preview/status', status),
                             Route('/{path:path}', serve)],
                     middleware=[Middleware(TrustedHostMiddleware,
                                            allowed_hosts=['127.0.0.1', 'localhost'])],
                     lifespan=lifespan)


async def _stream(hub: Hub, folder: str):
    """The versions of the page ``folder``: at once, then each time it changes."""
    queue: asyncio.Queue = asyncio.Queue()
    hub.queues.add(queue)
    try:
        sent = hub.preview.version_of(folder)
        yield f'retry: 500\nevent: version\ndata: {sent}\n\n'
        quiet = 0.0
        while not hub.closing:
            try:
                await asyncio.wait_for(queue.get(), timeout=0.5)
            except asyncio.TimeoutError:
                quiet += 0.5
                if quiet >= KEEPALIVE_SECONDS:
                    quiet = 0.0
                    yield ': still here\n\n'
                continue
            now = hub.preview.version_of(folder)
            if now != sent:
                sent = now
                yield f'event: version\ndata: {now}\n\n'
    finally:
        hub.queues.discard(queue)


async def _compare(preview: Preview) -> Response:
    from reportkit.run.prepare import own_name

    pages = list(preview.pages.values())
    if len(pages) < 2:
        return _html(b'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>'
                     b'Side by side</title></head><body><main><h1>Side by side</h1><p>This '
                     b'document has one language (or only one has built so far).</p></main>'
                     b'</body></html>', status=404 if preview.first is None else 200)
    names = {page.lang: own_name(page.prepared.edition.series.locales[page.lang])
             for page in pages}
    sources = {(page.lang, f'sec-{section.id}'): section.shown for page in pages
               for section in page.prepared.edition.sections[page.lang]}
    html = compare_page(pages, _problem(preview), preview.version_of('compare'), names,
                        sources)
    return _html(html.encode('utf-8'))


async def _pdf(preview: Preview, name: str) -> Response:
    import anyio.to_thread

    try:
        made = await anyio.to_thread.run_sync(preview.pdf, name)
    except ReportError as error:
        text = escape(str(error))
        return _html(f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>No '
                     f'PDF</title></head><body><main><h1>The PDF cannot be made now</h1>'
                     f'<pre>{text}</pre></main></body></html>'.encode('utf-8'), status=409)
    if made is None:
        return _not_found()
    data, later = made   # (kept in the cache once the reader has it)
    return Response(data, headers={**SECURITY, 'Content-Disposition': f'inline; filename="{name}"'},
                    media_type='application/pdf',
                    background=BackgroundTask(later) if later else None)


def loopback_socket(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:``port`` (0: a free port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(('127.0.0.1', port))
    except OSError as error:
        sock.close()
        raise ReportError(f'cannot listen on 127.0.0.1:{port}: {error.strerror or error} '
                          '(give another port with --port N, or --port 0 for any free one)'
                          ) from None
    sock.listen(64)
    return sock


class Server:
    """uvicorn serving the preview in a thread of its own (the main thread watches the
    files and builds)."""

    def __init__(self, preview: Preview, port: int) -> None:
        import uvicorn

        self.hub = Hub(preview)
        self.socket = loopback_socket(port)
        config = uvicorn.Config(make_app(preview, self.hub), log_level='warning',
                                lifespan='on', timeout_graceful_shutdown=2,
                                access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run,
                                        kwargs={'sockets': [self.socket]},
                                        name='preview server', daemon=True)

    @property
    def address(self) -> str:
        host, port = self.socket.getsockname()[:2]
        return f'http://{host}:{port}/'

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.hub.closing = True
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self.socket.close()
