"""The web editions in the real browser: a sample (the 2015 report, three trade profiles,
each in English and French) built once through the command line, each page opened from
its folder in Debian's chromium at 1280 and 375 px wide. Each test gathers every problem
it finds in its page and names them all at once."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import lxml.html
import pytest
from pypdf import PdfReader


from .browser import (axe_violations, broken_images, browser, open_page, page_scripts,
                      screenshot, sideways_overflow)

PAGES = [f'{document}-{lang}-r1'
         for document in ('beyond-the-border-2015', 'state-trade-2016-mi', 'state-trade-2016-dc',
                          'state-trade-2022-tx')
         for lang in ('en', 'fr')]
SCREENSHOTS = {'beyond-the-border-2015-en-r1', 'state-trade-2016-mi-en-r1'}
WIDE, NARROW = 1280, 375
OTHER = {'en': 'fr', 'fr': 'en'}
SPACE = '[ \u00a0\u202f]'
UNIT = {'en': 'KB', 'fr': 'Ko'}


@pytest.fixture(scope='module')
def built(web_sample) -> Path:
    return web_sample


@pytest.fixture(scope='module')
def chromium():
    with browser() as launched:
        yield launched


def language(stem: str) -> str:
    return stem.split('-')[-2]   # beyond-the-border-2015-en-r1


def path_of(url: str) -> Path:
    assert url.startswith('file://'), f'not a file of the sample: {url}'
    return Path(unquote(urlparse(url).path)).resolve()


def opened(chromium, built: Path, stem: str, width: int):
    index = built / stem / 'index.html'
    assert index.is_file(), f'{stem}/index.html was not built: {sorted(built.iterdir())}'
    return open_page(chromium, index, width)


@pytest.mark.parametrize('stem', PAGES)
def test_wide(chromium, built, stem):
    """At 1280 px: no script of its own, everything loaded from its folder, its links
    (language, PDF, internal, notes) lead where they say, and axe finds nothing."""
    page, outside = opened(chromium, built, stem, WIDE)
    try:
        scripts = page_scripts(page)   # before axe is injected
        problems = [f'{scripts} script element(s) or event-handler attribute(s)'] if scripts else []
        problems += loading_problems(page, outside)
        problems += anchor_problems(page) + note_problems(page)
        problems += toggle_problems(page, built, stem) + pdf_problems(page, built, stem)
        if stem in SCREENSHOTS:
            problems += screenshot_problems(page, f'{stem}-{WIDE}')
        problems += axe_problems(page, WIDE)
    finally:
        page.context.close()
    assert not problems, f'{stem} at {WIDE} px:\n' + '\n'.join(problems)


@pytest.mark.parametrize('stem', PAGES)
def test_narrow(chromium, built, stem):
    """At 375 px (a phone): everything loaded from its folder, no sideways scrolling, and
    axe finds nothing."""
    page, outside = opened(chromium, built, stem, NARROW)
    try:
        problems = loading_problems(page, outside)
        overflow = sideways_overflow(page)
        if overflow > 0:
            problems.append(f'scrolls sideways by {overflow} px; wider than the viewport: '
                            + ', '.join(too_wide(page)))
        problems += [f'broken over lines: {text!r}' for text in broken_identifiers(page)]
        if stem in SCREENSHOTS:
            problems += screenshot_problems(page, f'{stem}-{NARROW}')
        problems += axe_problems(page, NARROW)
    finally:
        page.context.close()
    assert not problems, f'{stem} at {NARROW} px:\n' + '\n'.join(problems)


def broken_identifiers(page) -> list[str]:
    """The identifiers (catalogue number, ISBN) the page shows on more than one line: a
    reader copies or reads out a number whole."""
    return page.evaluate("""() => [...document.querySelectorAll('.identifiers dd')]
        .filter(dd => {
            const range = document.createRange();
            range.selectNodeContents(dd);
            return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size > 1;
        })
        .map(dd => dd.textContent)""")


def loading_problems(page, outside: list[str]) -> list[str]:
    problems = [f'asked for a file outside its folder (aborted): {url}' for url in outside]
    return problems + [f'image did not load: {src}' for src in broken_images(page)]


def too_wide(page) -> list[str]:
    """The outermost elements whose right edge passes the viewport's, outside any box that
    scrolls or clips them (a wide table in its scrolling box is fine), for the message."""
    return page.evaluate("""() => {
        const past = e => e.getBoundingClientRect().right > window.innerWidth + 0.5;
        const clipped = e => {
            for (let up = e.parentElement; up && up !== document.body; up = up.parentElement)
                if (getComputedStyle(up).overflowX !== 'visible') return true;
            return false;
        };
        return [...document.body.querySelectorAll('*')]
            .filter(e => past(e) && !past(e.parentElement) && !clipped(e))
            .slice(0, 10)
            .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                      + [...e.classList].map(c => '.' + c).join('')
                      + ` (right edge ${Math.round(e.getBoundingClientRect().right)} px)`);
    }""")


def axe_problems(page, width: int) -> list[str]:
    return [f"axe at {width} px: {v['id']} ({v['impact']}): {v['help']}; "
            f"{len(v['targets'])} element(s): {', '.join(v['targets'][:8])}"
            for v in axe_violations(page)]


def anchor_problems(page) -> list[str]:
    """Every ``a[href^="#"]`` names exactly one element of the page."""
    missing = page.evaluate("""() => [...document.querySelectorAll('a[href^="#"]')]
        .map(a => a.getAttribute('href'))
        .filter(href => [...document.querySelectorAll('[id]')]
            .filter(e => e.id === decodeURIComponent(href.slice(1))).length !== 1)""")
    return [f'internal link {href} has no single target on the page' for href in missing]


def note_problems(page) -> list[str]:
    """Every note call leads to a note whose back link leads to that call, and every note
    of the notes section has its call."""
    problems = page.evaluate("""() => {
        const problems = [], called = new Set();
        for (const call of document.querySelectorAll('sup.note-call a')) {
            const href = call.getAttribute('href') || '';
            const note = href.startsWith('#') && document.getElementById(href.slice(1));
            if (!note) { problems.push(`note call ${href} leads to no note`); continue; }
            called.add(note);
            const back = [...note.querySelectorAll('a')]
                .filter(a => call.id && a.getAttribute('href') === '#' + call.id);
            if (back.length !== 1)
                problems.push(`note ${href} has ${back.length} back link(s) to its call` +
                              ` (id ${JSON.stringify(call.id)})`);
        }
        for (const note of document.querySelectorAll('section.notes li'))
            if (!called.has(note)) problems.push(`note ${note.id || '(no id)'} has no call`);
        return problems;
    }""")
    return problems


def toggle_problems(page, built: Path, stem: str) -> list[str]:
    """The language toggle leads to the other language's page, tagged with its language."""
    lang, other = language(stem), OTHER[language(stem)]
    problems = []
    own = page.evaluate('document.documentElement.lang')
    if own.split('-')[0] != lang:
        problems.append(f'html[lang] is {own!r}, not {lang}')
    links = page.eval_on_selector_all('nav.language-toggle a', """links => links.map(a => (
        {href: a.href, lang: a.getAttribute('lang'), hreflang: a.getAttribute('hreflang')}))""")
    if len(links) != 1:
        return problems + [f'{len(links)} links in nav.language-toggle, not one']
    link = links[0]
    expected = built / stem.replace(f'-{lang}-r1', f'-{other}-r1') / 'index.html'
    target = path_of(link['href'])
    if target != expected.resolve():
        return problems + [f'language toggle leads to {target}, not {expected}']
    if not target.is_file():
        return problems + [f'language toggle leads to {target}, which does not exist']
    their = lxml.html.parse(str(target)).getroot().get('lang') or ''
    if their.split('-')[0] != other:
        problems.append(f'the {other} page has html[lang] {their!r}')
    for attribute in ('lang', 'hreflang'):
        if link[attribute] != their:
            problems.append(f'language toggle has {attribute}={link[attribute]!r}, '
                            f'the page it leads to {their!r}')
    return problems


def grouped(number: int, lang: str) -> str:
    """A pattern for ``number`` as the page's language writes it: 1,234 / 1 234 (a no-break
    or a narrow no-break space)."""
    digits = re.escape(f'{number:,}')
    return digits if lang == 'en' else digits.replace(',', '[\u00a0\u202f]')


def pdf_problems(page, built: Path, stem: str) -> list[str]:
    """The PDF link leads to the PDF, and says its real page count and size."""
    links = page.eval_on_selector_all('p.pdf-version a',
                                      'links => links.map(a => [a.href, a.textContent])')
    if len(links) != 1:
        return [f'{len(links)} links in p.pdf-version, not one']
    href, text = links[0]
    target, expected = path_of(href), (built / f'{stem}.pdf').resolve()
    if target != expected:
        return [f'PDF link leads to {target}, not {expected}']
    if not target.is_file() or not target.read_bytes().startswith(b'%PDF'):
        return [f'PDF link leads to {target}, which is no PDF (or does not exist)']
    lang, pages = language(stem), len(PdfReader(target).pages)
    kilobytes = round(target.stat().st_size / 1024)
    word = 'page' if pages == 1 else 'pages'
    facts = (rf'\({grouped(pages, lang)}{SPACE}{word},{SPACE}'
             rf'{grouped(kilobytes, lang)}{SPACE}{UNIT[lang]}\)')
    if not re.search(facts, text):
        return [f'PDF link says {text!r}; the PDF has {pages} {word} and {kilobytes} {UNIT[lang]}']
    return []


def screenshot_problems(page, name: str) -> list[str]:
    path = screenshot(page, name)
    size = path.stat().st_size if path.is_file() else 0
    return [] if size > 10 * 1024 else [f'screenshot {path} is {size} bytes, not over 10 KB']


@pytest.fixture(scope='module')
def served(built):
    """The sample's folder served by a real web server on a loopback port."""
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(built))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f'http://127.0.0.1:{server.server_address[1]}'
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize('stem', ['beyond-the-border-2015-fr-r1', 'state-trade-2022-tx-en-r1'])
def test_served_by_a_web_server_it_shows_everything(chromium, served, stem):
    """From a web server as from the disk: every file the page loads comes from its own
    folder there, and its PDF and language links answer."""
    from urllib.request import urlopen

    folder = f'{served}/{stem}/'
    outside: list[str] = []
    context = chromium.new_context(viewport={'width': WIDE, 'height': 900})

    def route(route):
        if route.request.url.startswith(folder):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route('**/*', route)
    try:
        page = context.new_page()
        answer = page.goto(folder + 'index.html', wait_until='load')
        page.evaluate('document.fonts.ready.then(() => true)')
        assert answer.status == 200
        assert not outside and not broken_images(page)
        assert page.evaluate("[...document.fonts].filter(f => f.status === 'loaded').length") >= 2
        links = [page.eval_on_selector(selector, 'a => a.href')
                 for selector in ('p.pdf-version a', 'nav.language-toggle a')]
    finally:
        context.close()
    assert all(link.startswith(served) for link in links)
    with urlopen(links[0]) as pdf, urlopen(links[1]) as other:
        assert pdf.read(5) == b'%PDF-' and b'<html lang=' in other.read(200)
