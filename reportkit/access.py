"""Accessibility gates: the composed document before rendering, the PDF after.

Before: the document has a title and a language; every image has alt text; every
figure a caption; every table a caption and a header row whose cells say something;
headings have text and never skip a level; links have text.
After: the PDF is tagged (structure tree, marked content), declares its language, shows
its title in the window bar (PDF/UA), embeds every font with a ToUnicode map (text can
be extracted and read aloud), and has an outline (bookmarks).

Each gate returns every problem it finds; the build stops with all of them.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from .errors import RenderError, ReportError

HEADING = re.compile(r'^h([1-6])$')


class _Walker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.stack: list[tuple[str, dict]] = []
        self.html_lang = None
        self.title = None
        self.text: list[str] = []          # text collected for the element being read
        self.collecting: str | None = None
        self.last_heading = 0
        self.table: dict | None = None
        self.figure: dict | None = None
        self.link: dict | None = None

    # --- structure ------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs) -> None:
        attributes = {name: value or '' for name, value in attrs}
        self.stack.append((tag, attributes))
        if tag == 'html':
            self.html_lang = attributes.get('lang', '').strip()
        elif tag == 'title':
            self._collect('title')
        elif tag == 'img':
            alt = attributes.get('alt')
            src = attributes.get('src', '')
            if alt is None or not alt.strip():
                self.problems.append(f"image {src!r} has no alt text")
            elif alt.strip().lower() in {src.lower(), src.rsplit('/', 1)[-1].lower(),
                                         'image', 'figure', 'chart', 'graph'}:
                self.problems.append(f'image {src!r}: the alt text {alt!r} does not '
                                     'describe it')
            self.stack.pop()  # void element
        elif HEADING.match(tag):
            self._collect(tag)
        elif tag == 'table':
            self.table = {'caption': None, 'header': [], 'id': attributes.get('id', ''),
                          'in_head': False, 'first_row': True, 'row_th': []}
        elif tag == 'caption' and self.table is not None:
            self._collect('caption')
        elif tag == 'thead' and self.table is not None:
            self.table['in_head'] = True
        elif tag == 'th' and self.table is not None and self.table['in_head']:
            self._collect('th')
        elif tag == 'figure':
            self.figure = {'caption': None, 'images': 0}
        elif tag == 'figcaption' and self.figure is not None:
            self._collect('figcaption')
        elif tag == 'a':
            self.link = {'href': attributes.get('href', ''), 'label':
                         attributes.get('aria-label', '')}
            self._collect('a')
        elif tag in ('br', 'meta', 'link', 'hr', 'input', 'col', 'wbr', 'source'):
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            open_tag, _ = self.stack.pop()
            if open_tag == tag:
                break
        text = self._finish(tag)
        if tag == 'title':
            self.title = text
        elif HEADING.match(tag):
            level = int(tag[1])
            if not text:
                self.problems.append(f'an empty <{tag}> heading')
            if self.last_heading and level > self.last_heading + 1:
                self.problems.append(f'heading level skipped: <{tag}> {text!r} follows '
                                     f'<h{self.last_heading}>')
            self.last_heading = level
        elif tag == 'caption' and self.table is not None:
            self.table['caption'] = text
        elif tag == 'th' and self.table is not None and self.table['in_head']:
            self.table['header'].append(text)
        elif tag == 'thead' and self.table is not None:
            self.table['in_head'] = False
        elif tag == 'table' and self.table is not None:
            name = self.table['id'] or 'a table'
            if not self.table['caption']:
                self.problems.append(f'{name} has no caption')
            if not self.table['header']:
                self.problems.append(f'{name} has no header row')
            elif not all(self.table['header']):
                self.problems.append(f'{name}: a header cell of its header row is empty')
            self.table = None
        elif tag == 'figcaption' and self.figure is not None:
            self.figure['caption'] = text
        elif tag == 'figure' and self.figure is not None:
            if not self.figure['caption']:
                self.problems.append('a figure has no caption')
            self.figure = None
        elif tag == 'a' and self.link is not None:
            if not text and not self.link['label']:
                self.problems.append(f"a link to {self.link['href']!r} has no text")
            self.link = None

    def handle_data(self, data: str) -> None:
        if self.collecting:
            self.text.append(data)

    # --- text of the element being read ----------------------------------------------
    def _collect(self, tag: str) -> None:
        if self.collecting is None:
            self.collecting, self.text = tag, []

    def _finish(self, tag: str) -> str:
        if self.collecting != tag:
            return ''
        self.collecting = None
        return ' '.join(''.join(self.text).split())


def check_document(html: str, shown: str) -> list[ReportError]:
    """The gate before rendering, on the composed HTML (``shown`` names it in messages)."""
    walker = _Walker()
    walker.feed(html)
    walker.close()
    problems = list(walker.problems)
    if not walker.html_lang:
        problems.insert(0, 'the document declares no language (<html lang>)')
    if not walker.title or not re.search(r'\w', walker.title):
        problems.insert(0, 'the document has no title')
    return [ReportError(f'accessibility: {problem}', path=shown) for problem in problems]


def check_pdf(pdf, shown: str, *, display_title: bool = True) -> list[ReportError]:
    """The gate after rendering, on the PDF as WeasyPrint is about to write it (its
    pydyf object graph, given to a ``finisher``): nothing is parsed again, so the gate
    costs next to nothing."""
    def deref(value):
        if isinstance(value, bytes) and value.endswith(b' R'):
            return pdf.objects[int(value.split()[0])]
        return value

    def text(value) -> str:
        return str(getattr(deref(value), 'string', '') or '').strip()

    problems = []
    catalog = pdf.catalog
    if 'StructTreeRoot' not in catalog:
        problems.append('the PDF is not tagged (no structure tree)')
    mark = deref(catalog.get('MarkInfo')) or {}
    if str(mark.get('Marked')) != 'true':
        problems.append('the PDF is not marked as tagged (MarkInfo /Marked)')
    if not text(catalog.get('Lang')):
        problems.append('the PDF declares no language (/Lang)')
    if display_title:
        prefs = deref(catalog.get('ViewerPreferences')) or {}
        if str(prefs.get('DisplayDocTitle')) != 'true':
            problems.append('the PDF does not show its title in the window bar '
                            '(DisplayDocTitle)')
    if not text(pdf.info.get('Title')):
        problems.append('the PDF has no title in its metadata')
    outlines = deref(catalog.get('Outlines')) or {}
    if 'First' not in outlines:
        problems.append('the PDF has no outline (bookmarks)')
    for font in pdf.objects:
        if not isinstance(font, dict) or font.get('Type') != '/Font' or \
                font.get('Subtype') == '/CIDFontType2':
            continue  # a descendant font is checked through its parent
        name = font.get('BaseFont', b'?')
        name = name.decode() if isinstance(name, bytes) else str(name)
        descendant = deref(font['DescendantFonts'][0]) if 'DescendantFonts' in font else font
        descriptor = deref(descendant.get('FontDescriptor')) or {}
        if font.get('Subtype') != '/Type3' and not any(
                key in descriptor for key in ('FontFile', 'FontFile2', 'FontFile3')):
            problems.append(f'font {name} is not embedded')
        if 'ToUnicode' not in font:
            problems.append(f'font {name} has no ToUnicode map (its text cannot be '
                            'extracted or read aloud)')
    return [RenderError(f'accessibility: {problem}', path=shown) for problem in problems]
