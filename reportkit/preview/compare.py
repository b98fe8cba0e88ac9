"""The preview's side-by-side view (``/compare``): each chapter of the document in every
language, next to each other, for translators.

The columns are cut from the preview's own web pages (the chapters a page shows, by
their ids, which are the sections' file names in every language: ``sec-trade``), so
they show exactly what each page shows. Two copies of a chapter on one page would
repeat its ids: each column's ids, and the links to them, get the language's prefix;
its images are asked for from its own page's folder.
"""

from __future__ import annotations

import copy
import io
from xml.etree import ElementTree
from xml.etree.ElementTree import Element

from markupsafe import Markup, escape

REFERRING = ('aria-labelledby', 'aria-describedby', 'for')
PREVIEW_STYLE = '/_preview/preview.css'


def chapters_of(html: bytes) -> tuple[str, dict[str, Element], dict[str, Element]]:
    """A page's ``lang``, its chapters (``section`` elements whose id starts ``sec-``)
    by id, and its notes (``li`` elements ``note-N``) by id."""
    import tinyhtml5

    root = tinyhtml5.parse(io.BytesIO(html), namespace_html_elements=False)
    chapters = {e.get('id'): e for e in root.iter('section')
                if e.get('id', '').startswith('sec-')}
    notes = {e.get('id'): e for e in root.iter('li') if e.get('id', '').startswith('note-')}
    return root.get('lang', ''), chapters, notes


def _with_notes(chapter: Element, notes: dict[str, Element]) -> Element:
    """The chapter and, after it, the notes it calls (a page has them at its end)."""
    called = [a.get('href')[1:] for a in chapter.iter('a')
              if a.get('href', '').startswith('#note-')]
    if not called:
        return chapter
    box = Element('div')
    box.append(chapter)
    listed = ElementTree.SubElement(box, 'ol', {'class': 'compare-notes'})
    for name in called:
        if name in notes:
            item = copy.deepcopy(notes[name])
            item.set('value', name.removeprefix('note-'))
            listed.append(item)
    return box


def _own(element: Element, prefix: str, page) -> str:
    """``element`` as HTML, its ids and links to them prefixed, its files asked for from
    ``page``'s folder, with a mark of their content."""
    for item in element.iter():
        if item.get('id'):
            item.set('id', prefix + item.get('id'))
        for name in REFERRING:
            if item.get(name):
                item.set(name, ' '.join(prefix + ref for ref in item.get(name).split()))
        href = item.get('href', '')
        if href.startswith('#') and len(href) > 1:
            item.set('href', '#' + prefix + href[1:])
        for name in ('src', 'href'):
            value = item.get(name)
            if value and not value.startswith(('#', '/')) and ':' not in value:
                item.set(name, f'/{page.folder}/{page.address(value.removeprefix("./"))}')
    return ElementTree.tostring(element, encoding='unicode', method='html')


def compare_page(pages: list, problem: str | None, version: int, names: dict[str, str],
                 sources: dict[tuple[str, str], str]) -> str:
    """The side-by-side page of the preview's ``pages`` (first language first); ``names``:
    each language's name in itself ('English', 'Français'); ``sources``: the file of each
    (language, chapter id); ``problem``: the message of a failed build, shown above."""
    parsed = [(page, *chapters_of(page.files['index.html'])) for page in pages]
    order = list(dict.fromkeys(anchor for _, _, chapters, _ in parsed for anchor in chapters))
    head = ''.join(f'<th scope="col" lang="{escape(tag)}">{escape(names[page.lang])}</th>'
                   for page, tag, _, _ in parsed)
    rows = []
    for anchor in order:
        cells = []
        for page, tag, chapters, notes in parsed:
            chapter = chapters.get(anchor)
            source = sources.get((page.lang, anchor), '')
            inner = (_own(_with_notes(chapter, notes), f'{page.lang}-', page)
                     if chapter is not None else '<p class="missing">(none in this language)</p>')
            cells.append(f'<td lang="{escape(tag)}"><p class="source" lang="en">'
                         f'<code>{escape(source)}</code></p>{inner}</td>')
        rows.append(f'<tr>{"".join(cells)}</tr>')
    links = ' · '.join(f'<a href="/{escape(page.folder)}/" lang="{escape(tag)}">'
                       f'{escape(names[page.lang])}</a>' for page, tag, _, _ in parsed)
    sheets = ''.join(f'<link rel="stylesheet" href="/{escape(pages[0].folder)}/'
                     f'{escape(pages[0].address(name))}">' for name in _stylesheets(pages[0]))
    title = f'{names[pages[0].lang]} — ' + ' — '.join(names[p.lang] for p in pages[1:])
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>Side by side: {escape(title)}</title>{sheets}'
            f'<link rel="stylesheet" href="{PREVIEW_STYLE}">'
            f'{preview_head("compare", version)}</head>'
            f'<body class="web preview-compare">{problem or ""}'
            f'<main id="main"><h1>Side by side: {escape(title)}</h1>'
            f'<p class="preview-links">Each page alone: {links}</p>'
            f'<table class="compare"><caption>Each section of the document, in every '
            f'language</caption><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody>'
            f'</table></main></body></html>')


def _stylesheets(page) -> list[str]:
    return [name for name in page.files if name.endswith('.css')]


def preview_head(page: str, version: int) -> str:
    """What a preview page carries in its ``head``: its version, the reload script."""
    return (f'<meta name="preview-version" content="{version}" data-page="{escape(page)}">'
            '<script src="/_preview/reload.js" defer></script>')


def problem_banner(problem) -> Markup:
    """A failed build's message, over the last good page: ``problem`` is a
    :class:`~.session.Problem`."""
    items = ''.join(f'<li><code>{escape(line)}</code></li>' for line in problem.lines)
    listed = f'<ul>{items}</ul>' if items else ''
    return Markup(f'<div class="preview-problem" role="alert" lang="en">'
                  f'<p class="preview-problem-title">This page shows the last version that '
                  f'built. Fix this and save: the page updates by itself.</p>'
                  f'<p><code>{escape(problem.summary)}</code></p>{listed}</div>')
