"""Stage 5 for the web: the composed document -> its web page (HTML), in memory.

The page is made from the very document the PDF is rendered from, not written again:
its body is parsed (tinyhtml5, as a browser parses it) and given the web's
presentation, then set in the page furniture of ``web.html.j2`` (a series may have its
own). What changes is presentation only:

- parts marked ``print-only`` (the contents with page numbers, the page's draft mark)
  are left out: the page has "On this page" and a draft banner instead;
- the title is the one ``h1``: the headings after it move down a level;
- a footnote, set at the foot of its page in print, becomes a numbered note at the end
  of the page, with links both ways;
- each chart is followed by its text version, its data table in a ``details`` element;
- a table sits in a box of its own that scrolls sideways on a narrow screen.

The PDF's page count and size are not known until it is rendered: the page holds a
marker for them (:attr:`WebPage.marker`) that :mod:`reportkit.render.web` fills in.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass, field
from xml.etree import ElementTree
from xml.etree.ElementTree import Element

from markupsafe import Markup

PRINT_ONLY = 'print-only'
HEADING = re.compile(r'^h([1-6])$')


@dataclass(frozen=True)
class OtherPage:
    """The same document's page in another language (the language toggle)."""

    lang_tag: str
    name: str
    """The language's name in itself: 'Français', 'English'."""
    href: str


@dataclass(frozen=True)
class WebLinks:
    """Where a page's links lead: its PDF, and its pages in the other languages (each a
    folder beside this page's folder)."""

    pdf: str
    """The PDF's file name, beside the page's folder."""
    locale: str
    """The page's own locale (for its numbers)."""
    others: list[OtherPage] = field(default_factory=list)


@dataclass
class WebPage:
    """A document's web page before its PDF is rendered."""

    html: str
    """With :attr:`marker` where the PDF's pages and size go."""
    files: dict[str, bytes]
    """Relative name -> content: every file the page uses (styles, fonts, charts, images)."""
    marker: str
    """Made from the digest of the composed document, which no text of it can contain."""
    locale: str
    words: dict[str, str]
    """'page', 'pages', 'KB' in the page's language, and 'on request' (what a preview's
    link says of the PDF it renders when opened)."""


WEB_STYLESHEET = 'web.css'
PRINT_FILES = ('print.css', 'labels.css')
"""Assets of the composed document that only its PDF uses."""


def web_page(env, context: dict, html: str, assets: dict[str, bytes], chapters: list[dict],
             text_versions: dict[str, str], links: WebLinks, template: str,
             stylesheets: dict[str, bytes], _) -> WebPage:
    """The page of a composed document (``html``, ``assets``, ``chapters``), in the
    furniture of ``template`` with the compose ``context`` of the document.
    ``stylesheets``: the web's own (name -> content), the shared one first; ``_``:
    gettext for the page's language."""
    cover, body, notes, titles = web_body(html, text_versions, _)
    # "On this page" says each chapter's heading as the page shows it.
    chapters = [{'anchor': c['anchor'], 'title': titles.get(c['anchor'], c['title'])}
                for c in chapters]
    marker = f"[[pdf-{hashlib.sha256(html.encode('utf-8')).hexdigest()[:20]}]]"
    page = env.get_template(template).render({
        **context, 'cover': Markup(cover), 'body': Markup(body), 'notes': notes,
        'on_this_page': chapters, 'pdf': links.pdf, 'pdf_facts': marker,
        'other_pages': links.others, 'stylesheets': list(stylesheets)})
    files = {name: _with_fallback_fonts(data) if name.endswith('.svg') else data
             for name, data in assets.items()
             if name not in PRINT_FILES and name not in context['stylesheets']}
    words = {'page': _('page'), 'pages': _('pages'), 'KB': _('KB'),
             'on request': _('made when you open it')}
    return WebPage(page, {**files, **stylesheets}, marker, links.locale, words)


SVG_FONT = re.compile(rb"font-family: ?'([^']+)'")


def _with_fallback_fonts(svg: bytes) -> bytes:
    """A chart shown as an image cannot use the page's fonts: where the reader has no
    Noto Sans, its text falls back to a sans-serif face, not to the browser's serif."""
    return SVG_FONT.sub(rb"font-family: '\1', 'Helvetica Neue', Arial, sans-serif", svg)


def web_body(html: str, tables: dict[str, str], _) -> tuple[str, str, list[str], dict]:
    """The composed document's body for the web: its cover (the element ``#cover``, which
    holds the title), the rest, its notes (HTML, in order), and the text of each
    chapter's heading by the chapter's id (its heading's id is ``<id>-title``).

    ``tables``: each figure's text version (HTML) by the figure's id attribute;
    ``_``: gettext for the page's language."""
    body = _parsed_body(html)
    _drop_print_only(body)
    for inner in body.iter('main'):   # the page's furniture has the one <main>
        inner.tag = 'div'
        inner.set('class', 'document')
    _demote_headings(body)
    notes = _take_notes(body, _)
    _add_text_versions(body, tables, _)
    _scroll_tables(body)
    for element in body.iter():
        element.attrib.pop('data-running', None)
    headings = {e.get('id'): ' '.join(''.join(e.itertext()).split())
                for e in body.iter() if HEADING.match(str(e.tag)) and e.get('id')}
    titles = {e.get('id'): headings[f"{e.get('id')}-title"] for e in body.iter('section')
              if f"{e.get('id')}-title" in headings}
    cover = next((child for child in body if child.get('id') == 'cover'), None)
    if cover is not None:
        _remove(body, cover)
        cover.tail = None
    return _html(cover) if cover is not None else '', _inner(body), notes, titles


def _html(element: Element) -> str:
    return ElementTree.tostring(element, encoding='unicode', method='html')


def _inner(element: Element) -> str:
    return (element.text or '') + ''.join(_html(child) for child in element)


def _parsed_body(html: str) -> Element:
    """The ``body`` of ``html`` as a browser (and WeasyPrint) parses it."""
    import tinyhtml5   # comes with WeasyPrint: the parser of the accessibility gate

    return tinyhtml5.parse(io.StringIO(html), namespace_html_elements=False).find('body')


def _drop_print_only(body: Element) -> None:
    for parent in list(body.iter()):
        for child in list(parent):
            if PRINT_ONLY in child.get('class', '').split():
                _remove(parent, child)


def _remove(parent: Element, child: Element) -> None:
    """Remove ``child``, keeping the text that follows it."""
    index = list(parent).index(child)
    if child.tail:
        if index:
            previous = parent[index - 1]
            previous.tail = (previous.tail or '') + child.tail
        else:
            parent.text = (parent.text or '') + child.tail
    parent.remove(child)


def _demote_headings(body: Element) -> None:
    """The first ``h1`` stays the page's one ``h1``; every heading after it moves down a
    level when the document has more than one (a report's chapters are ``h1`` in print)."""
    headings = [e for e in body.iter() if HEADING.match(e.tag)]
    if sum(e.tag == 'h1' for e in headings) < 2:
        return
    first = next(e for e in headings if e.tag == 'h1')
    for element in headings:
        if element is not first:
            element.tag = f'h{min(int(element.tag[1]) + 1, 6)}'


def _take_notes(body: Element, _) -> list[str]:
    """Each footnote replaced by a numbered link to it; the notes' HTML, in order."""
    notes = []
    parents = {child: parent for parent in body.iter() for child in parent}
    for span in [e for e in body.iter('span') if 'footnote' in e.get('class', '').split()]:
        number = len(notes) + 1
        notes.append(Markup(_inner(span)))
        call = Element('sup', {'class': 'note-call'})
        link = ElementTree.SubElement(call, 'a', {'id': f'note-ref-{number}',
                                                  'href': f'#note-{number}'})
        hidden = ElementTree.SubElement(link, 'span', {'class': 'visually-hidden'})
        hidden.text = _('Note') + ' '
        hidden.tail = str(number)
        call.tail = span.tail
        parent = parents[span]
        parent[list(parent).index(span)] = call
    return notes


def _add_text_versions(body: Element, tables: dict[str, str], _) -> None:
    """After each chart, its data table in a ``details`` element."""
    parents = {child: parent for parent in body.iter() for child in parent}
    for figure in [e for e in body.iter('figure') if e.get('id') in tables]:
        details = Element('details', {'class': 'text-version'})
        summary = ElementTree.SubElement(details, 'summary')
        caption = figure.find('figcaption')
        label = caption.find('span') if caption is not None else None
        summary.text = _('Text version') + (
            f" — {''.join(label.itertext()).strip().rstrip('.')}" if label is not None else '')
        details.extend(list(_parsed_body(tables[figure.get('id')])))
        details.tail, figure.tail = figure.tail, '\n'
        parent = parents[figure]
        parent.insert(list(parent).index(figure) + 1, details)


def _scroll_tables(body: Element) -> None:
    """Each table in a box that scrolls sideways when the screen is narrower than the
    table (the page itself never does); the box is named by the table's caption and can
    be reached with the keyboard, to scroll it."""
    parents = {child: parent for parent in body.iter() for child in parent}
    for number, table in enumerate(list(body.iter('table')), start=1):
        parent = parents[table]
        box = Element('div', {'class': 'table-box', 'role': 'region', 'tabindex': '0'})
        caption = table.find('caption')
        if caption is not None:
            caption.set('id', caption.get('id') or f"{table.get('id') or f'table-{number}'}-caption")
            box.set('aria-labelledby', caption.get('id'))
        box.tail, table.tail = table.tail, None
        parent[list(parent).index(table)] = box
        box.append(table)
