"""A document's review form: what a reviewer compares of it, as plain data.

Made from the composed document (stage 5), one per document and language: each
chapter's sentences (its footnotes among them), the values its narrative printed
(``exports[2015]`` -> ``US$577.2 billion``), and each figure's and table's rows as
printed. The archive keeps it beside each PDF (``<document>.review.json``), so that a
revision can be compared later without running the code that made it; read back from the
archive (which others may write), it is validated before use (:func:`read_form`).
"""

from __future__ import annotations

import io
import json
import re
from typing import Annotated
from xml.etree.ElementTree import Element

from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reportkit.errors import ReportError

FORMAT = 1
SUFFIX = '.review.json'
MAX_FORM_BYTES = 16 * 1024 * 1024

_BLOCKS = {'p', 'li', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'dt', 'dd', 'blockquote',
           'div', 'section', 'ul', 'ol', 'dl', 'aside', 'header', 'footer', 'nav'}
_REPORTED_APART = {'figure', 'table', 'script', 'style', 'template'}
"""Figures and tables are compared by their rows; the rest is not text."""
_SPACES = re.compile(r'[\s\u00a0\u202f\u2009]+')
_END = re.compile(r'[.!?…](?:\s?["”»’)\]])*\s+')
_ABBREVIATION = re.compile(r'(?:^|\s)(?:(?:[A-Za-z]\.)+|Mr|Mrs|Ms|Dr|St|No|M|Mme|p|pp|vol)\.?$')


class _Numbered(BaseModel):
    """A figure or a table: its rows as printed, each a list of cells."""

    model_config = ConfigDict(strict=True, extra='forbid', frozen=True)

    id: str
    number: int
    title: str
    rows: list[list[str]]


class Figure(_Numbered):
    alt: str = ''
    source: str = ''


class Table(_Numbered):
    columns: list[str]


class Section(BaseModel):
    model_config = ConfigDict(strict=True, extra='forbid', frozen=True)

    id: str
    label: str
    title: str
    sentences: list[str]
    values: dict[str, str]
    pending: bool = False


class Form(BaseModel):
    """``<document>.review.json``, format 1."""

    model_config = ConfigDict(strict=True, extra='forbid', frozen=True)

    format: Annotated[int, Field(ge=1, le=FORMAT)]
    document: str
    lang: str
    title: str
    sections: list[Section]
    figures: list[Figure]
    tables: list[Table]


def review_form(prepared, lang: str) -> Form:
    """The review form of ``prepared``'s document in ``lang``. A section's values are
    those its text shows (a value read to compute another, or a set read whole to find
    its latest year, is not listed)."""
    composed = prepared.composed[lang]
    shown = prepared.shown.get(lang, {})
    sections = []
    for chapter in composed.chapters:
        key = chapter['anchor'].removeprefix('sec-')
        sentences = sentences_of(str(chapter['html']))
        text = ' '.join(sentences)
        printed = {name: value for name, value in shown.get(key, {}).items()
                   if _shows(text, value)}
        sections.append(Section(id=key, label=_plain(chapter['label']),
                                title=_plain(chapter['title']), sentences=sentences,
                                values=printed, pending=chapter['pending']))
    figures = [Figure(id=f['id'], number=f['number'], title=_plain(f['title']),
                      alt=_plain(f['alt']), source=_plain(f['source']),
                      rows=[[_plain(cell) for cell in row] for row in f['rows']])
               for f in composed.figures]
    tables = [Table(id=t.get('anchor', ''), number=t['number'], title=_plain(t['title']),
                    columns=[_plain(c['label']) for c in t['columns']],
                    rows=[[_plain(cell) for cell in row] for row in t['rows']])
              for t in composed.tables if t.get('css') != 'chart-data']
    name = prepared.edition.name + (f' {prepared.request.item}' if prepared.request.item else '')
    return Form(format=FORMAT, document=name, lang=lang, title=_plain(composed.title),
                sections=sections, figures=figures, tables=tables)


def form_bytes(form: Form) -> bytes:
    """The form as it is archived: the same form, the same bytes."""
    return json.dumps(form.model_dump(), ensure_ascii=False, sort_keys=True,
                      indent=1).encode('utf-8') + b'\n'


def read_form(data: bytes, shown: str) -> Form:
    """A form read back (from the archive), validated; else a ReportError naming it."""
    try:
        return Form.model_validate(json.loads(data.decode('utf-8')))
    except (ValueError, RecursionError) as error:
        if isinstance(error, ValidationError):
            first = error.errors()[0]
            where = '.'.join(str(part) for part in first['loc'])
            message = f"{where}: {first['msg']}" if where else first['msg']
        else:
            message = str(error)
        raise ReportError(f'not a valid review form: {message}'[:300], path=shown) from None


def sentences_of(html: str) -> list[str]:
    """The sentences of a chapter's HTML, in reading order: each paragraph, item and
    heading cut into sentences, a footnote's text after the paragraph that calls it."""
    import tinyhtml5

    root = tinyhtml5.parse(io.StringIO(f'<!DOCTYPE html><body>{html}</body>'),
                           namespace_html_elements=False)
    body = root.find('body')
    texts: list[str] = []
    _block(body if body is not None else root, texts)
    return [sentence for text in texts for sentence in split_sentences(text)]


def _block(element: Element, texts: list[str]) -> None:
    """``element``'s own text (without its nested blocks) into ``texts``, then its notes,
    then its nested blocks'."""
    nested: list[str] = []
    notes: list[str] = []
    own = _inline(element, nested, notes)
    texts.extend(text for text in [own, *notes] if text)
    texts.extend(nested)


def _inline(element: Element, nested: list[str], notes: list[str]) -> str:
    parts = [element.text or '']
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ''
        if tag in _REPORTED_APART or not tag:
            pass
        elif tag == 'span' and 'footnote' in (child.get('class') or '').split():
            notes.append(_normal(''.join(child.itertext())))
        elif tag in _BLOCKS:
            _block(child, nested)
        elif tag == 'br':
            parts.append(' ')
        else:
            parts.append(_inline(child, nested, notes))
        parts.append(child.tail or '')
    return _normal(''.join(parts))


def split_sentences(text: str) -> list[str]:
    """``text`` cut after each full stop, question or exclamation mark that a capital,
    a digit or an opening quote follows (not after ``U.S.`` or ``M.``)."""
    sentences, start = [], 0
    for end in _END.finditer(text):
        before, after = text[start:end.start() + 1], text[end.end():end.end() + 2]
        if not after or not (after[0].isupper() or after[0].isdigit() or after[0] in '«“"('):
            continue
        if _ABBREVIATION.search(before):
            continue
        sentences.append(text[start:end.end()].strip())
        start = end.end()
    rest = text[start:].strip()
    return sentences + ([rest] if rest else [])


def _shows(text: str, value: str) -> bool:
    """Whether ``text`` shows ``value`` whole (``3.7 billion`` is not in ``33.7 billion``)."""
    if not value:
        return False
    return re.search(rf'(?<![\w.,]){re.escape(value)}(?![\w]|[.,]\d)', text) is not None


def _normal(text: str) -> str:
    return _SPACES.sub(' ', text).strip()


def _plain(value) -> str:
    """A title or a cell as plain text (a template's Markup unescaped)."""
    if isinstance(value, Markup):
        value = value.striptags()
    return _normal(str(value))
