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

import io
import re
from typing import Iterator
from xml.etree.ElementTree import Element

from reportkit.errors import RenderError, ReportError

HEADING = re.compile(r'^h([1-6])$')
GENERIC_ALT = {'image', 'figure', 'chart', 'graph'}


def check_document(html: str, shown: str) -> list[ReportError]:
    """The gate before rendering, on the composed HTML (``shown`` names it in messages).

    The HTML is parsed as a browser (and WeasyPrint) parses it, by tinyhtml5 (WeasyPrint's
    own parser, WHATWG rules): elements left open, misnested or implied are where the
    renderer will see them. Problems are listed in document order."""
    return [ReportError(f'accessibility: {problem}', path=shown)
            for problem in _document_problems(_parsed(html))]


def _parsed(html: str) -> Element:
    import tinyhtml5   # comes with WeasyPrint; loaded only when a document is checked

    # A str could be taken for a file name: the parser is given a stream.
    return tinyhtml5.parse(io.StringIO(html), namespace_html_elements=False)


def _document_problems(root: Element) -> list[str]:
    problems = []
    title = root.find('.//title')     # an HTML title: SVG's own are namespaced
    if title is None or not re.search(r'\w', _text(title)):
        problems.append('the document has no title')
    if not root.get('lang', '').strip():
        problems.append('the document declares no language (<html lang>)')
    return problems + _element_problems(root)


SCHEME = re.compile(r'^[a-zA-Z][a-zA-Z0-9+.-]*:|^//|^/')


def check_web_page(html: str, shown: str) -> list[ReportError]:
    """The gate on a web page before it is written: the document's gate, and what a web
    page needs besides: one ``h1``; each link to another language's page in that
    language (``lang`` = ``hreflang``); every link inside the page leads to an id of it;
    no script of any kind; every file it loads lies in its own folder."""
    root = _parsed(html)
    problems = _document_problems(root)
    if len(root.findall('.//h1')) != 1:
        problems.append(f"the page has {len(root.findall('.//h1'))} <h1> headings, not one "
                        '(its title)')
    ids = {element.get('id') for element in root.iter() if element.get('id')}
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        problems += _web_element_problems(element, ids)
    return [ReportError(f'accessibility: {problem}', path=shown) for problem in problems]


def _web_element_problems(element: Element, ids: set[str]) -> list[str]:
    tag, href = element.tag, element.get('href')
    problems = []
    if tag in ('script', 'iframe', 'object', 'embed', 'form', 'base') or \
            any(name.lower().startswith('on') for name in element.attrib):
        problems.append(f'<{tag}>: a web page carries no script, frame, form or handler')
    if element.get('hreflang') and element.get('lang') != element.get('hreflang') \
            and tag == 'a':
        problems.append(f'the link to {href!r} leads to a page in {element.get("hreflang")!r} '
                        'but its text is not marked as that language (lang)')
    if tag == 'a' and href is not None:
        if href.startswith('#') and href[1:] not in ids:
            problems.append(f'the link to {href!r} leads nowhere on the page')
        elif href.lower().startswith('javascript:'):
            problems.append(f'a link runs a script ({href[:40]!r})')
    loaded = element.get('src') if tag != 'a' else None
    if tag == 'link' and element.get('rel') == 'stylesheet':
        loaded = href
    if loaded is not None and (SCHEME.match(loaded) or '..' in loaded.split('/')):
        problems.append(f'<{tag}> loads {loaded[:60]!r}, outside the page\'s folder')
    return problems


def _element_problems(root: Element) -> list[str]:
    """What the images, headings, tables, figures and links of ``root`` lack."""
    problems: list[str] = []
    last_heading = 0
    for element, leaving in _walk(root):
        tag = element.tag
        if tag == 'img' and not leaving:
            problems += _image_problems(element)
        elif not leaving:
            continue
        elif HEADING.match(tag):
            level, text = int(tag[1]), _text(element)
            if not text:
                problems.append(f'an empty <{tag}> heading')
            if last_heading and level > last_heading + 1:
                problems.append(f'heading level skipped: <{tag}> {text!r} follows '
                                f'<h{last_heading}>')
            last_heading = level
        elif tag == 'table':
            problems += _table_problems(element)
        elif tag == 'figure':
            caption = element.find('figcaption')
            if caption is None or not _text(caption):
                problems.append('a figure has no caption')
        elif tag == 'a' and not _text(element) and not element.get('aria-label'):
            problems.append(f"a link to {element.get('href', '')!r} has no text")
    return problems


def _walk(root: Element) -> Iterator[tuple[Element, bool]]:
    """(element, False) on entering each HTML element and (element, True) on leaving it,
    in document order; without recursion, however deep the document nests."""
    stack = [(root, False)]
    while stack:
        element, leaving = stack.pop()
        if not isinstance(element.tag, str):    # a comment
            continue
        yield element, leaving
        if not leaving:
            stack.append((element, True))
            stack.extend((child, False) for child in reversed(element))


def _image_problems(image: Element) -> list[str]:
    alt, src = image.get('alt'), image.get('src', '')
    if alt is None or not alt.strip():
        return [f'image {src!r} has no alt text']
    if alt.strip().lower() in {src.lower(), src.rsplit('/', 1)[-1].lower(), *GENERIC_ALT}:
        return [f'image {src!r}: the alt text {alt!r} does not describe it']
    return []


def _table_problems(table: Element) -> list[str]:
    name = table.get('id', '') or 'a table'
    caption = table.find('caption')
    header = [_text(cell) for cell in table.iterfind('thead/tr/th')]
    problems = []
    if caption is None or not _text(caption):
        problems.append(f'{name} has no caption')
    if not header:
        problems.append(f'{name} has no header row')
    elif not all(header):
        problems.append(f'{name}: a header cell of its header row is empty')
    return problems


def _text(element: Element) -> str:
    """The text of ``element`` and everything in it, its white space collapsed."""
    return ' '.join(''.join(element.itertext()).split())


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
