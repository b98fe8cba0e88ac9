"""Open our web pages in the real browser (Debian's chromium, driven by Playwright), with
no mock: what a reader's browser loads, what axe-core finds, how the page lays out.

The page is opened from its file, and every request it makes is routed: only files inside
its own folder may load (a web edition is a folder holding ``index.html`` and every file it
uses); anything else, ``http``, ``https`` or a ``file://`` path outside the folder, is
aborted and recorded. ``data:`` URLs are no request (the browser decodes them from the page
itself, so they never reach the route) and leave nothing. JavaScript stays enabled, since
axe-core runs in the page; our pages carry no script of their own (:func:`page_scripts`).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / '.venv' / 'share' / 'axe-core-4.14.1' / 'axe.min.js'
CHROMIUM = '/usr/bin/chromium'
SCREENSHOTS = ROOT / 'build' / 'screenshots'
WCAG_A_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']


@contextmanager
def browser():
    """A launched chromium, closed after."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f'no {CHROMIUM}: run scripts/setup --dev'
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=['--no-sandbox'])
        try:
            yield launched
        finally:
            launched.close()


def inside(url: str, folder: Path) -> bool:
    """Whether ``url`` is a ``file://`` URL of a path inside ``folder`` (resolved)."""
    parsed = urlparse(url)
    if parsed.scheme != 'file' or parsed.netloc not in ('', 'localhost'):
        return False
    path = Path(url2pathname(unquote(parsed.path))).resolve()
    return path == folder or folder in path.parents


def open_page(browser, index_html: Path, width: int, height: int = 900):
    """``index_html`` in a new context of that viewport, loaded, its fonts ready; returns
    (page, the URLs it asked for outside its folder, each aborted). Close it with
    ``page.context.close()``."""
    folder = index_html.resolve().parent
    outside: list[str] = []
    context = browser.new_context(viewport={'width': width, 'height': height})

    def route(route):
        if inside(route.request.url, folder):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route('**/*', route)   # the context's: a popup or a worker is routed too
    page = context.new_page()
    try:
        page.goto(index_html.resolve().as_uri(), wait_until='load')
        page.evaluate('document.fonts.ready.then(() => true)')
    except BaseException:
        context.close()
        raise
    return page, outside


def page_scripts(page) -> int:
    """The page's own script: ``script`` elements, ``on*`` event-handler attributes and
    ``javascript:`` links. Count it before :func:`axe_violations` injects axe."""
    return page.evaluate("""() => {
        const elements = [...document.querySelectorAll('*')];
        const handlers = elements.flatMap(e => [...e.attributes])
            .filter(a => a.name.toLowerCase().startsWith('on')).length;
        const links = [...document.querySelectorAll('[href], [src], [action]')]
            .filter(e => ['href', 'src', 'action'].some(name =>
                (e.getAttribute(name) || '').trim().toLowerCase().startsWith('javascript:')))
            .length;
        return document.querySelectorAll('script').length + handlers + links;
    }""")


def axe_violations(page) -> list[dict]:
    """axe-core's violations of WCAG 2.0 and 2.1, levels A and AA, in the page as it lays
    out now: each its rule (id), impact, help and the elements (CSS selectors) at fault.
    Injects axe into the page (the test's script, not the page's)."""
    assert AXE.is_file(), f'no {AXE}: run scripts/setup --dev'
    page.add_script_tag(path=str(AXE))
    return page.evaluate("""async tags => {
        const results = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
        return results.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            targets: v.nodes.map(node => node.target.flat().join(' '))}));
    }""", WCAG_A_AA)


def sideways_overflow(page) -> int:
    """How far the page scrolls sideways, in CSS pixels (> 0: it does)."""
    return page.evaluate('document.documentElement.scrollWidth - window.innerWidth')


def broken_images(page) -> list[str]:
    """The ``src`` of every ``img`` that did not load."""
    return page.evaluate("""() => [...document.images]
        .filter(img => !(img.complete && img.naturalWidth > 0))
        .map(img => img.getAttribute('src'))""")


def screenshot(page, name: str) -> Path:
    """The whole page as ``build/screenshots/<name>.png``, for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f'{name}.png'
    page.screenshot(path=str(path), full_page=True)
    return path
