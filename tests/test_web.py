"""The web edition (build --format web): the same content as the PDF, its links, its
folder written whole, the same bytes each time, the cache, and its gate. The pages in a
real browser, with axe-core: test_web_browser.py."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pikepdf
import pytest
import tinyhtml5

from reportkit.cli import main
from tests.conftest import replace

NUMBER = re.compile(r'\d+(?:[.,\u00a0\u202f]\d+)*')
FURNITURE = ('nav.skip', 'header.site', 'footer.site', 'p.pdf-version', 'nav.on-this-page',
             'dl.date-modified', 'p.note-back')
"""The web page's own parts (not the document's content)."""
INLINE = {'a', 'span', 'em', 'strong', 'sup', 'sub', 'abbr', 'time', 'code', 'b', 'i'}
PRINT_ONLY_BOOKMARKS = {'Contents', 'List of figures', 'List of tables',
                        'Table des matières', 'Liste des figures', 'Liste des tableaux'}


def folder_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob('*')) if p.is_file()}


def parsed(page: Path):
    return tinyhtml5.parse(page.read_bytes().decode('utf-8'), namespace_html_elements=False)


def _classes(element) -> set[str]:
    return set(element.get('class', '').split())


def _matches(element, selector: str) -> bool:
    tag, _, cls = selector.partition('.')
    return element.tag == tag and cls in _classes(element)


def page_text(root, leave_out: tuple[str, ...]) -> str:
    """The text of the page's body without the parts ``leave_out`` names (tag.class)."""
    out: list[str] = []

    def walk(element):
        if not isinstance(element.tag, str) or any(_matches(element, s) for s in leave_out):
            out.append(element.tail or '')
            return
        gap = '' if element.tag in INLINE else ' '   # cells and blocks are apart
        out.append(gap + (element.text or ''))
        for child in element:
            walk(child)
        out.append(gap + (element.tail or ''))

    body = root.find('body')
    walk(body)
    return ' '.join(''.join(out).split())


def pdf_body_text(pdf: Path) -> str:
    """The PDF's text without its running heads and page numbers (the page margins are
    cropped off), its footnote calls or its contents pages (print furniture: page numbers;
    the page numbers its notes in the same order)."""
    import pdfplumber

    texts = []
    with pdfplumber.open(pdf) as document:
        for page in document.pages:
            top = 24 / 25.4 * 72   # print.css: @page margin 24 mm
            body = page.crop((0, top, page.width, page.height - top)) \
                if page.page_number > 1 else page
            # Footnote calls (6.5 pt superscripts) would run into the number before them.
            body = body.filter(lambda o: not (o.get('object_type') == 'char' and
                                              o['size'] < 7 and o['text'].isdigit()))
            text = body.extract_text() or ''
            if re.match(r'\s*(Contents|Table des matières)\b', text):
                continue
            texts.append(text)
    joined = '\n'.join(texts).replace('\u2010\n', '').replace('-\n', '-')
    return ' '.join(joined.split())


def numbers(text: str) -> set[str]:
    """Every number of ``text``, as digits (thousands and decimal separators dropped)."""
    return {re.sub(r'\D', '', n) for n in NUMBER.findall(text)}


def svg_numbers(folder: Path) -> set[str]:
    """The numbers the charts print (axis labels, values): text in the SVG images."""
    found = set()
    for svg in (folder / 'charts').glob('*.svg'):
        found |= numbers(' '.join(re.findall(r'<text[^>]*>([^<]*)</text>', svg.read_text())))
    return found


def bookmarks(pdf: Path) -> set[str]:
    with pikepdf.open(pdf) as document, document.open_outline() as outline:
        found, stack = set(), list(outline.root)
        while stack:
            item = stack.pop()
            found.add(' '.join(item.title.split()))
            stack.extend(item.children)
    return found - PRINT_ONLY_BOOKMARKS


# --- the sample, built once -------------------------------------------------------------

@pytest.fixture(scope='module')
def sample(web_sample) -> Path:
    return web_sample


PAGES = ['beyond-the-border-2015-en-r1', 'beyond-the-border-2015-fr-r1',
         'state-trade-2016-mi-en-r1', 'state-trade-2016-mi-fr-r1',
         'state-trade-2016-dc-fr-r1', 'state-trade-2022-tx-en-r1']


@pytest.mark.parametrize('name', PAGES)
def test_the_page_carries_every_heading_and_number_of_the_pdf_and_no_other(sample, name):
    folder, pdf = sample / name, sample / f'{name}.pdf'
    root = parsed(folder / 'index.html')
    pdf_text = pdf_body_text(pdf)
    # Headings: each of the page's (its own furniture aside) is in the PDF's text, and each
    # bookmark of the PDF is a heading of the page.
    headings = [' '.join(''.join(h.itertext()).split()) for h in root.iter()
                if isinstance(h.tag, str) and re.fullmatch(r'h[1-6]', h.tag)]
    furniture = {'On this page', 'Sur cette page', 'Notes'}
    content = [h for h in headings if h not in furniture]
    assert len(content) >= 5
    missing = [h for h in content if h not in pdf_text]
    assert not missing, f'headings of the page not in the PDF: {missing}'
    absent = bookmarks(pdf) - set(content)
    assert not absent, f'bookmarks of the PDF that are no heading of the page: {absent}'
    # Numbers, both ways: the charts' own text (an image on the page, vector text in the
    # PDF) counts as the page's; a chart's text version is its data, which a PDF profile
    # shows as the chart only.
    page_all = numbers(page_text(root, FURNITURE))
    page_own = numbers(page_text(root, FURNITURE + ('details.text-version',)))
    pdf_numbers = numbers(pdf_text)
    assert len(pdf_numbers) >= 10
    assert not page_own - pdf_numbers, f'numbers only on the page: {page_own - pdf_numbers}'
    only_pdf = pdf_numbers - page_all - svg_numbers(folder)
    assert not only_pdf, f'numbers only in the PDF: {sorted(only_pdf)[:20]}'


def test_a_number_changed_in_the_page_would_be_caught(sample):
    """The parity check above sees a number that differs (it can fail)."""
    root = parsed(sample / PAGES[0] / 'index.html')
    text = page_text(root, FURNITURE).replace('577.2', '577.3', 1)
    assert '5773' in numbers(text) - numbers(pdf_body_text(sample / f'{PAGES[0]}.pdf'))


@pytest.mark.parametrize('name', PAGES)
def test_every_link_leads_somewhere(sample, name):
    page = sample / name / 'index.html'
    root = parsed(page)
    ids = {e.get('id') for e in root.iter() if isinstance(e.tag, str) and e.get('id')}
    links = [a.get('href') for a in root.iter('a')]
    inside = [h[1:] for h in links if h.startswith('#')]
    assert inside and not [h for h in inside if h not in ids]
    outside = [h for h in links if not h.startswith('#')]
    pdf = (page.parent / '../' / f'{name}.pdf').resolve()
    assert f'../{name}.pdf' in outside and pdf.read_bytes().startswith(b'%PDF')
    toggles = [a for a in root.iter('a') if a.get('hreflang')]
    assert len(toggles) == 1
    other = (page.parent / toggles[0].get('href')).resolve()
    assert other.is_file() and other.parent.name != name
    assert parsed(other).get('lang') == toggles[0].get('lang') == toggles[0].get('hreflang')
    for src in [e.get('src') for e in root.iter() if isinstance(e.tag, str) and e.get('src')] + \
            [link.get('href') for link in root.iter('link') if link.get('rel') == 'stylesheet']:
        target = (page.parent / src).resolve()
        assert target.is_relative_to(page.parent) and target.is_file(), src


def test_the_pdf_link_says_its_pages_and_size(sample):
    for name, words in ((PAGES[0], ('PDF version', 'pages', 'KB')),
                        (PAGES[3], ('Version PDF', 'pages', 'Ko'))):
        pdf = sample / f'{name}.pdf'
        with pikepdf.open(pdf) as document:
            pages = len(document.pages)
        kb = f'{round(pdf.stat().st_size / 1024):,}'.replace(',', '\u202f')
        text = page_text(parsed(sample / name / 'index.html'), ())
        assert f'{words[0]} ({pages} {words[1]}, {kb} {words[2]})' in text.replace(
            '\u00a0', '\u202f'), name


def test_notes_and_text_versions(sample):
    root = parsed(sample / PAGES[0] / 'index.html')
    calls = [a for a in root.iter('a') if a.get('id', '').startswith('note-ref-')]
    notes = [li for li in root.iter('li') if li.get('id', '').startswith('note-')]
    pdf_text = pdf_body_text(sample / f'{PAGES[0]}.pdf')
    assert len(calls) == len(notes) >= 10
    for number, (call, note) in enumerate(zip(calls, notes), start=1):
        assert call.get('href') == f'#note-{number}' and note.get('id') == f'note-{number}'
        back = next(a for a in note.iter('a'))
        assert back.get('href') == f'#note-ref-{number}'
        first_words = ' '.join(''.join(note.find('p').itertext()).split()[:6])
        assert first_words in pdf_text    # the note's words are the PDF's footnote's
    figures = [f for f in root.iter('figure')]
    details = [d for d in root.iter('details') if 'text-version' in _classes(d)]
    assert len(figures) == len(details) == 4
    for figure, version in zip(figures, details):
        assert figure.find('img').get('alt') and version.find('.//table') is not None
        assert version.find('.//th[@scope="col"]') is not None


def test_the_page_has_one_h1_and_no_script(sample):
    for name in PAGES:
        text = (sample / name / 'index.html').read_text(encoding='utf-8')
        root = parsed(sample / name / 'index.html')
        assert len(root.findall('.//h1')) == 1, name
        assert '<script' not in text.lower() and 'javascript:' not in text.lower()
        assert not [name for e in root.iter() if isinstance(e.tag, str)
                    for name in e.attrib if name.lower().startswith('on')]
        assert 'print.css' not in text and (sample / name / 'web.css').is_file()


# --- the folder: whole, reproducible, cached, checked --------------------------------------

def build_tiny(project: Path, out: Path, *more: str) -> int:
    return main(['--project', str(project), 'build', '2020', '--out-dir', str(out), *more])


TINY = 'ferry-log-2020-en-r1-DRAFT'


def test_a_web_only_build_writes_the_folder_and_no_pdf(tiny_project, tmp_path, capsys):
    out = tmp_path / 'out'
    assert build_tiny(tiny_project, out, '--format', 'web') == 0
    assert sorted(p.name for p in out.iterdir()) == [TINY]
    said = capsys.readouterr().err
    assert f'{TINY}/index.html (the web edition)' in said and '.pdf (' not in said
    page = (out / TINY / 'index.html').read_text(encoding='utf-8')
    # A draft says so where a reader sees it; a one-language edition has no toggle.
    banner = parsed(out / TINY / 'index.html').find('.//div[@class="draft-banner"]')
    assert banner is not None and 'DRAFT' in ''.join(banner.itertext())
    assert 'language-toggle' not in page and 'hreflang' not in page
    assert re.search(r'PDF version \(\d+ pages, \d+ KB\)', page)


def test_the_same_inputs_give_the_same_bytes_and_the_cache_gives_them_again(
        tiny_project, tmp_path, capsys):
    first, second = tmp_path / 'a', tmp_path / 'b'
    assert build_tiny(tiny_project, first, '--format', 'pdf,web', '--no-cache') == 0
    assert build_tiny(tiny_project, second, '--format', 'pdf,web', '--no-cache') == 0
    made = folder_files(first / TINY)
    assert made == folder_files(second / TINY)
    assert {'index.html', 'web.css', 'fonts/OFL.txt', 'charts/riders.svg'} <= set(made)
    capsys.readouterr()
    assert build_tiny(tiny_project, second, '--format', 'pdf,web') == 0   # fills the cache
    assert build_tiny(tiny_project, second, '--format', 'pdf,web') == 0
    said = capsys.readouterr().err.splitlines()
    assert f'wrote {second / TINY}/index.html (the web edition, unchanged)' in said
    assert folder_files(second / TINY) == made
    assert (second / f'{TINY}.pdf').read_bytes() == (first / f'{TINY}.pdf').read_bytes()


def test_a_page_the_gate_refuses_is_named_and_nothing_is_written(tiny_project, tmp_path,
                                                                  capsys):
    out = tmp_path / 'out'
    assert build_tiny(tiny_project, out, '--format', 'pdf,web') == 0
    before = folder_files(out)
    own = tiny_project / 'reports' / 'ferry-log' / 'templates'
    own.mkdir()
    template = (tiny_project / 'templates' / 'web.html.j2').read_text(encoding='utf-8')
    (own / 'web.html.j2').write_text(template.replace(
        '</main>', '</main><script src="https://example.org/x.js"></script>'
                   '<img src="../../secret.png" alt="A secret">'), encoding='utf-8')
    capsys.readouterr()
    assert build_tiny(tiny_project, out, '--format', 'pdf,web') == 1
    err = capsys.readouterr().err
    assert 'the web page (web.html.j2): accessibility: <script>: a web page carries no ' \
           'script' in err
    assert "<img> loads '../../secret.png', outside the page's folder" in err
    assert 'Traceback' not in err
    assert folder_files(out) == before


def test_check_runs_the_web_page_gate_too(tiny_project, capsys):
    own = tiny_project / 'reports' / 'ferry-log' / 'templates'
    own.mkdir()
    template = (tiny_project / 'templates' / 'web.html.j2').read_text(encoding='utf-8')
    (own / 'web.html.j2').write_text(template.replace('<h2 id="on-this-page-title">',
                                                      '<h1 id="on-this-page-title">', 1)
                                     .replace('</h2>\n  <ul>', '</h1>\n  <ul>', 1),
                                     encoding='utf-8')
    assert main(['--project', str(tiny_project), 'check', '2020']) == 1
    err = capsys.readouterr().err
    assert 'the page has 2 <h1> headings, not one (its title)' in err
    assert not (tiny_project / 'dist').exists()


def test_a_failure_while_writing_leaves_the_previous_folder_as_it_was(
        tiny_project, tmp_path, monkeypatch, capsys):
    from reportkit import files

    out = tmp_path / 'out'
    assert build_tiny(tiny_project, out, '--format', 'web') == 0
    before = folder_files(out / TINY)
    replace(tiny_project / 'reports' / 'ferry-log' / '2020' / 'en' / 'summary.md',
            'ferr', 'FERR')
    real = files.replace_folder

    def fails(staged: Path, target: Path) -> None:
        (staged / 'index.html').write_text('half')   # what a reader must never see
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(files, 'replace_folder', fails)
    assert build_tiny(tiny_project, out, '--format', 'web') == 1
    assert 'No space left on device' in capsys.readouterr().err
    assert folder_files(out / TINY) == before
    assert sorted(p.name for p in out.iterdir()) == [TINY]   # no staging folder left
    monkeypatch.setattr(files, 'replace_folder', real)
    assert build_tiny(tiny_project, out, '--format', 'web') == 0
    assert folder_files(out / TINY) != before


def test_an_unknown_format_is_one_line(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(['build', '2015', '--format', 'html'])
    assert stopped.value.code == 2
    assert "'html': give pdf, web or pdf,web" in capsys.readouterr().err


def test_the_pdf_facts_in_each_language():
    from reportkit.compose.web import WebPage
    from reportkit.render.web import page_files

    def facts(locale: str, words: dict, pages: int, size: int) -> str:
        page = WebPage('<p>PDF ([[pdf-x]]) [[pdf-x]]</p>', {'web.css': b''}, '[[pdf-x]]',
                       locale, words)
        files = page_files(page, pages, size)
        assert set(files) == {'index.html', 'web.css'}
        return files['index.html'].decode()

    english = {'page': 'page', 'pages': 'pages', 'KB': 'KB'}
    french = {'page': 'page', 'pages': 'pages', 'KB': 'Ko'}
    assert facts('en_CA', english, 1, 300) == '<p>PDF (1 page, 1 KB) 1 page, 1 KB</p>'
    assert facts('en_CA', english, 26, 1_263_000) == \
        '<p>PDF (26 pages, 1,233 KB) 26 pages, 1,233 KB</p>'
    assert facts('fr_CA', french, 2, 1_263_000).startswith('<p>PDF (2 pages, 1\u00a0233 Ko)')
