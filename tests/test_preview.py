"""The live preview (``make_report.py preview``), all real: the command in its own process
on a free loopback port, a copy of the project whose files are edited as an editor saves
them, Debian's chromium (Playwright) showing the page, and Ctrl-C to stop it.

One preview of the 2015 edition serves the module's tests in turn; each test puts back
what it changed and waits until the preview has built it again."""

from __future__ import annotations

import http.client
import os
import re
import socket
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from .browser import axe_violations, browser, sideways_overflow
from .conftest import copy_project, replace
from .previewing import PreviewProcess, save, save_by_rename

EN, FR = 'beyond-the-border-2015-en-r1-DRAFT', 'beyond-the-border-2015-fr-r1-DRAFT'
TRADE = 'reports/beyond-the-border/2015/en/trade.md'
FIRST_SENTENCE = 'The second area of cooperation aims'
NEW = 'A sentence the writer has just saved, number {n}.'


@pytest.fixture(scope='module')
def running(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp('preview') / 'project')
    # Writers edit a draft: a final whose English changes is refused until its French is
    # brought up to date (translations), which is not what these tests are about.
    replace(project / 'reports/beyond-the-border/2015/edition.toml',
            'status = "final"', 'status = "draft"')
    preview = PreviewProcess(project, '2015')
    preview.project = project
    try:
        yield preview
    finally:
        children = _children(preview.process.pid)
        assert children, 'the preview keeps a renderer ready'
        listening = http.client.HTTPConnection('127.0.0.1', preview.port, timeout=30)
        listening.request('GET', f'/_preview/events?page={EN}')   # a tab still open
        assert listening.getresponse().status == 200
        started = time.monotonic()
        status = preview.stop()
        assert time.monotonic() - started < 8, 'Ctrl-C waited for the open tab'
        listening.close()
        assert not [pid for pid in children if Path(f'/proc/{pid}').exists()
                    and 'Z' not in Path(f'/proc/{pid}/stat').read_text().split()[2]], children
        assert status == 0, ''.join(preview.lines)
        assert 'preview stopped' in ''.join(preview.lines)
        assert 'Traceback' not in ''.join(preview.lines)
        # Nothing left behind: no hidden part files, no staging folders (what any build
        # keeps in build/ stays: its cache and the bundled fonts' configuration).
        kept = {'cache', 'fonts.conf', 'fontconfig-cache'}
        left = [p.name for p in (project / 'build').iterdir() if p.name not in kept]
        assert left == [], left
        assert not list((project / 'build').rglob('*.part'))


def _children(pid: int) -> list[int]:
    return [int(child) for task in Path(f'/proc/{pid}/task').iterdir()
            for child in (task / 'children').read_text().split()]


@contextmanager
def edited(preview: PreviewProcess, relative: str, old: str, new: str, *, in_place=True):
    """The file changed (``old`` -> ``new``) and put back afterwards; waits for the
    preview to build each."""
    path = preview.project / relative
    original = path.read_text(encoding='utf-8')
    assert old in original, f'fixture drift: {old!r} not in {relative}'
    builds = preview.status()['builds']
    (save if in_place else save_by_rename)(path, original.replace(old, new, 1))
    preview.wait_for(lambda s: s['builds'] > builds, what=f'a build after {relative} changed')
    try:
        yield path
    finally:
        builds = preview.status()['builds']
        save(path, original)
        preview.wait_for(lambda s: s['builds'] > builds and s['problem'] is None,
                         what=f'{relative} put back')


def opened(chromium, url: str, width: int, height: int = 900):
    """``url`` in a new page of that width; its context lets the test's axe-core in past
    the preview's Content-Security-Policy (which lets no inline script run)."""
    context = chromium.new_context(viewport={'width': width, 'height': height},
                                   bypass_csp=True)
    page = context.new_page()
    page.goto(url, wait_until='load')
    return page


def page_text(preview: PreviewProcess, folder: str = EN) -> str:
    code, headers, body = preview.request(f'/{folder}/')
    assert code == 200 and headers['content-type'].startswith('text/html'), (code, body[:300])
    return body.decode('utf-8')


def test_a_save_shows_in_the_open_page_at_the_place_being_read(running):
    with browser() as chromium:
        pages = []
        for _ in range(2):   # two browsers open at once: both update
            context = chromium.new_context(viewport={'width': 1280, 'height': 900})
            page = context.new_page()
            page.goto(running.address, wait_until='load')
            pages.append(page)
        reader = pages[0]
        reader.evaluate("document.getElementById('sec-law-enforcement').scrollIntoView()")
        before = reader.evaluate("document.getElementById('sec-law-enforcement')"
                                 ".getBoundingClientRect().top")
        assert reader.url.endswith(f'/{EN}/')
        assert reader.evaluate("document.querySelectorAll('script[src=\"/_preview/reload.js\"]')"
                               ".length") == 1
        sentence = NEW.format(n=1)
        for page in pages:
            page.evaluate('window.loadedOnce = true')   # (gone if the page loads again)
        with edited(running, TRADE, FIRST_SENTENCE, f'{sentence} {FIRST_SENTENCE}'):
            for page in pages:   # no page.reload(): the page updates itself
                page.get_by_text(sentence).wait_for(timeout=15_000)
            time.sleep(0.3)
            after = reader.evaluate("document.getElementById('sec-law-enforcement')"
                                    ".getBoundingClientRect().top")
            assert abs(after - before) < 80, (before, after)
            # Updated in place: the style sheets and fonts were not loaded again.
            assert all(page.evaluate('window.loadedOnce === true') for page in pages)
        for page in pages:
            page.get_by_text(sentence).wait_for(state='detached', timeout=15_000)
            page.context.close()


def test_a_change_of_style_loads_the_page_again_with_the_new_style(running):
    with browser() as chromium:
        page = opened(chromium, running.address, 1280)
        page.evaluate("document.getElementById('sec-law-enforcement').scrollIntoView()")
        page.evaluate('window.loadedOnce = true')
        colour = "getComputedStyle(document.body).backgroundColor"
        assert page.evaluate(colour) == 'rgb(255, 255, 255)'
        with edited(running, 'templates/web.css', 'background: #fff;', 'background: #fdfdf0;'):
            page.wait_for_function(f"{colour} === 'rgb(253, 253, 240)'", timeout=15_000)
            assert page.evaluate('window.loadedOnce') is None   # loaded again, as a whole
            top = page.evaluate("document.getElementById('sec-law-enforcement')"
                                ".getBoundingClientRect().top")
            assert abs(top) < 80, top   # at the place being read
        page.wait_for_function(f"{colour} === 'rgb(255, 255, 255)'", timeout=15_000)


def test_a_problem_shows_in_the_page_with_file_and_line_until_fixed(running):
    with browser() as chromium:
        page = opened(chromium, running.address, 375, 800)
        with edited(running, TRADE, '{{ goods_trade[year] }}', '{{ goods_trade_typo[year] }}'):
            banner = page.locator('.preview-problem')
            banner.wait_for(timeout=15_000)
            message = banner.inner_text()
            assert re.search(rf'{re.escape(TRADE)}:\d+', message), message
            assert 'goods_trade_typo' in message
            assert page.get_by_text(FIRST_SENTENCE).count() == 1   # the last good version
            # A plain request carries it too (where no script runs), and so does the
            # French page, which is built from the same data.
            assert 'goods_trade_typo' in page_text(running)
            assert running.process.poll() is None   # the server goes on
            assert sideways_overflow(page) <= 0
            assert axe_violations(page) == []
            status = running.status()
            assert 'goods_trade_typo' in status['problem']
        banner.wait_for(state='detached', timeout=15_000)
        assert 'preview-problem' not in page_text(running)


def test_only_the_documents_own_files_are_served(running):
    page = page_text(running)
    assert 'class="preview-bar"' in page
    for path in ('/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', f'/{EN}/../../etc/passwd',
                 f'/{EN}/..%2f..%2fetc%2fpasswd', f'/{EN}//etc/passwd', '/etc/passwd',
                 f'/{EN}/charts/../../../../etc/passwd', '/reports/beyond-the-border/2015/'
                 'edition.toml', f'/{EN}/index.html/..', '/_preview/../make_report.py',
                 '/_preview/session.py'):
        code, _, body = running.request(path)
        assert code == 404, (path, code)
        assert b'root:' not in body and b'[project]' not in body, path
    code, _, _ = running.request(f'/{EN}/', host='attacker.example')
    assert code == 400   # a page another site's name points at this port is refused
    code, headers, body = running.request(f'/{EN}/web.css')
    assert code == 200 and headers['content-type'].startswith('text/css') and body
    assert "script-src" in headers['content-security-policy'] or \
        "default-src 'self'" in headers['content-security-policy']


def test_a_burst_of_saves_makes_one_build_and_a_rename_save_is_seen(running):
    path = running.project / TRADE
    original = path.read_text(encoding='utf-8')
    running.wait_for(lambda s: s['problem'] is None)
    time.sleep(0.5)
    builds = running.status()['builds']
    try:
        for n in range(10):   # ten saves within 100 ms
            save(path, original.replace(FIRST_SENTENCE, f'{NEW.format(n=n)} {FIRST_SENTENCE}'))
            time.sleep(0.01)
        running.wait_for(lambda s: s['builds'] > builds)
        time.sleep(1.5)
        assert running.status()['builds'] == builds + 1
        assert NEW.format(n=9) in page_text(running)
        builds += 1
        save_by_rename(path, original.replace(FIRST_SENTENCE, f'Renamed into place. {FIRST_SENTENCE}'))
        running.wait_for(lambda s: s['builds'] > builds)
        running.wait_for(lambda s: 'Renamed into place.' in page_text(running), timeout=10)
        # Deleted, then written again (the document cannot build meanwhile).
        os.remove(path)
        running.wait_for(lambda s: s['problem'] is not None and 'trade' in s['problem'])
        assert 'Renamed into place.' in page_text(running)   # still the last good version
        save(path, original)
        running.wait_for(lambda s: s['problem'] is None)
        assert 'Renamed into place.' not in page_text(running)
    finally:
        save(path, original)


def test_pdf_of_the_current_state_on_request(running):
    from pypdf import PdfReader
    import io

    sentence = NEW.format(n=42)
    with edited(running, TRADE, FIRST_SENTENCE, f'{sentence} {FIRST_SENTENCE}'):
        # (A build the previous test's last save started may be the one just counted.)
        running.wait_for(lambda s: sentence in page_text(running), what='the edit shown')
        page = page_text(running)
        link = re.search(r'<a href="\.\./([^"]+\.pdf)" type="application/pdf">([^<]+)</a>', page)
        assert link and 'made when you open it' in link.group(2), link
        code, headers, first = running.request(f'/{link.group(1)}')
        assert code == 200 and headers['content-type'] == 'application/pdf', first[:200]
        text = ' '.join(page.extract_text() for page in PdfReader(io.BytesIO(first)).pages)
        def squeezed(words: str) -> str:   # (a line may break a word with a hyphen)
            return re.sub(r'[\s\-\u00ad\u2010]', '', words)
        assert squeezed(sentence) in squeezed(text)
        code, _, again = running.request(f'/{link.group(1)}')   # unchanged: from the cache
        assert code == 200 and again == first
    code, _, body = running.request('/beyond-the-border-2015-en-r9.pdf')
    assert code == 404


def test_a_pdf_asked_for_is_rendered_ahead_after_each_change(running):
    from pypdf import PdfReader
    import io

    name = 'beyond-the-border-2015-en-r1-DRAFT.pdf'
    assert running.request(f'/{name}')[0] == 200          # asked for once: wanted
    before = running.status()['pdf']
    sentence = NEW.format(n=43)
    with edited(running, TRADE, FIRST_SENTENCE, f'{sentence} {FIRST_SENTENCE}'):
        running.wait_for(lambda s: s['pdf']['ahead'] > before['ahead'], what='a render ahead')
        ahead = running.status()['pdf']
        code, _, data = running.request(f'/{name}')
        assert code == 200
        text = re.sub(r'[\s\-\u00ad\u2010]', '', ' '.join(
            page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))
        assert re.sub(r'[\s\-]', '', sentence) in text
        assert running.status()['pdf']['renders'] == ahead['renders']   # not rendered again


def test_compare_puts_the_languages_side_by_side(running):
    code, _, body = running.request('/compare')
    assert code == 200
    html = body.decode('utf-8')
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), 'ids repeat'
    assert 'en/trade.md' in html and 'fr/trade.md' in html
    french = page_text(running, FR)
    first_french = re.search(r'<section class="chapter[^>]*id="sec-executive-summary".*?<p>([^<]{40})',
                             french, re.S)
    assert first_french and first_french.group(1) in html
    with browser() as chromium:
        for width in (1280, 375):
            page = opened(chromium, running.address + 'compare', width)
            assert page.locator('td[lang="fr-CA"] h2').count() == page.locator(
                'td[lang="en-CA"] h2').count() > 5
            assert sideways_overflow(page) <= 0, width
            broken = page.evaluate("[...document.images].filter(i => !i.naturalWidth).length")
            assert broken == 0
            assert axe_violations(page) == [], width
            page.close()


def test_the_preview_page_passes_the_accessibility_check(running):
    with browser() as chromium:
        for width in (1280, 375):
            page = opened(chromium, running.address, width)
            assert sideways_overflow(page) <= 0, width
            assert axe_violations(page) == [], width
            page.close()


def test_a_profile_previews_in_french_and_follows_its_data(tmp_path):
    project = copy_project(tmp_path / 'project')
    preview = PreviewProcess(project, 'state-trade/2016', '--only', 'MI', '--lang', 'fr')
    try:
        code, headers, _ = preview.request('/')
        assert code == 307 and headers['location'] == '/state-trade-2016-mi-fr-r1/'
        before = page_text(preview, 'state-trade-2016-mi-fr-r1')
        assert '23,7 milliards' in before and '29,7 milliards' not in before
        data = project / 'data' / 'us_state_trade_with_canada_2016.csv'
        charts = "[...document.images].map(i => i.getAttribute('src'))"
        with browser() as chromium:
            page = opened(chromium, preview.address, 1280)
            shown = page.evaluate(charts)
            assert shown and all('?v=' in src for src in shown), shown
            builds = preview.status()['builds']
            save_by_rename(data, data.read_text(encoding='utf-8').replace(
                '2016,Michigan,MI,23712.09183,', '2016,Michigan,MI,29712.09183,', 1))
            preview.wait_for(lambda s: s['builds'] > builds, what='a build after the data changed')
            after = page_text(preview, 'state-trade-2016-mi-fr-r1')
            assert '29,7 milliards' in after and '23,7 milliards' not in after
            # The open page shows the new figure and asks for the charts drawn again
            # (their content changed: so does their address), every one of them loaded.
            page.get_by_text('29,7 milliards').first.wait_for(timeout=15_000)
            now = page.evaluate(charts)
            assert len(now) == len(shown) and set(now) != set(shown), (shown, now)
            page.wait_for_function("[...document.images].every(i => i.complete && i.naturalWidth)",
                                   timeout=15_000)
    finally:
        assert preview.stop() == 0


def test_preview_refuses_what_it_cannot_show(tmp_path):
    project = copy_project(tmp_path / 'project')
    from reportkit.cli import main
    assert main(['--project', str(project), 'preview', 'state-trade/2016', '--only',
                 'MI,TX', '--port', '0']) == 1
    assert main(['--project', str(project), 'preview', '1999', '--port', '0']) == 1
    with socket.socket() as taken:   # a port another program listens on
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(['--project', str(project), 'preview', '2015', '--port', str(port)]) == 1
