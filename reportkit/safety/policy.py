"""What a contributor's text may hold, wherever it comes from: a section's title, the
edition's settings, a chart's words, a data cell.

Markup in such text is never interpreted (the templates escape it); what this policy
refuses is what could still mislead a reader or break a document: control characters
(a NUL, an escape, a form feed), Unicode line and paragraph separators (which break a
header line or a message), bidirectional overrides that make text read differently from
what it is, and text far longer than its place on the page.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import unquote, urlsplit

from pydantic import AfterValidator

from reportkit.errors import ContentError, ReportError
from reportkit.files import inside, read_bytes

TITLE_CHARACTERS = 300
"""A title or a label fits on a few lines of a cover or a caption (the longest real one
is about 90 characters)."""
TEXT_CHARACTERS = 2_000
"""A paragraph of the settings (an address line, a revision note, an alt text)."""

BIDI_CONTROLS = frozenset('\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069')
"""Embeddings, overrides and isolates: they reorder what a reader sees."""
ALLOWED_FORMAT = frozenset('\u00ad\u200b\u200c\u200d\u2060')
"""Format characters a text may hold: soft hyphen, zero-width space, (non-)joiners,
word joiner."""


_NOT_PLAIN = re.compile(r'[^\x20-\x7e]')


def problem_in(text: str, limit: int, *, lines: bool = False) -> str | None:
    """Why ``text`` breaks the policy, or None. ``lines``: line breaks and tabs are
    allowed (a body of text rather than a title)."""
    if len(text) > limit:
        return f'is {len(text):,} characters long; at most {limit:,} are allowed here'
    for found in _NOT_PLAIN.finditer(text):   # printable ASCII needs no look-up
        char, index = found.group(), found.start()
        if lines and char in '\n\t':
            continue
        category = unicodedata.category(char)
        if char in BIDI_CONTROLS:
            return (f'holds a bidirectional control character (U+{ord(char):04X}) at '
                    f'character {index + 1}, which reorders the text a reader sees')
        if category in ('Cc', 'Zl', 'Zp') or (category == 'Cf' and char not in ALLOWED_FORMAT):
            return (f'holds a control character (U+{ord(char):04X}) at character '
                    f'{index + 1}; remove it (it may come from copying out of another '
                    'program)')
    return None


def _checker(limit: int):
    def check(text: str) -> str:
        problem = problem_in(text, limit)
        if problem:
            raise ValueError(f'the text {problem}')
        return text
    return check


Title = Annotated[str, AfterValidator(_checker(TITLE_CHARACTERS))]
"""A title or label in a declaration (pydantic type)."""
Text = Annotated[str, AfterValidator(_checker(TEXT_CHARACTERS))]
"""A sentence or short paragraph in a declaration (pydantic type)."""


# --- the narrative: one check over markdown-it's whole token stream -----------------------

MAX_FOOTNOTES = 200
"""Footnote calls in one section (the most in a real one is 6)."""
MAX_CALLS_PER_NOTE = 3
"""Each call of a footnote prints the whole note at the foot of its page (real sections
call a note at most twice): a note called a thousand times would lay out a thousand
copies."""
BODY_CHARACTERS = 2_000_000
LONGEST_WORD = 200
"""Characters without a space (the longest real ones, addresses in footnotes, have about
100). A longer run is broken across lines by the stylesheet, at a cost that grows with
the square of its length: 240,000 of them kept WeasyPrint busy for over 5 minutes."""
LONG_WORD = re.compile(r'\S{%d,}' % (LONGEST_WORD + 1))
NOTE_TOKENS = frozenset({'footnote_open', 'footnote_close', 'footnote_anchor',
                         'paragraph_open', 'paragraph_close', 'inline'})
"""What a footnote may hold: paragraphs of text (no headings, lists, tables or figures)."""
NAMELESS_ALT = frozenset({'image', 'picture', 'photo', 'figure', 'chart', 'map'})
IMAGE_BYTES = 10 * 1024 * 1024
"""An image file for a page is at most a few MB."""


@dataclass
class Found:
    """What the check learned on the way: images to ship, internal links to resolve."""

    images: list[tuple[bytes, str, str]] = field(default_factory=list)
    """(content, asset name, the file as shown) of each image."""
    links: list[tuple[str, int | None]] = field(default_factory=list)
    """(target id, line) of each ``#id`` link."""


class NarrativeCheck:
    """Every rule of the narrative policy, over every token markdown-it produced (body,
    footnotes, tables, spans): raw HTML, links, images, headings, tables, footnotes and
    the characters of the text. Problems are gathered with the file and line."""

    def __init__(self, section, project, first_line: int) -> None:
        self.section, self.project, self.first_line = section, project, first_line
        self.problems: list[ReportError] = []
        self.found = Found()
        self.where: list | None = None
        self.calls = 0

    def fail(self, message: str, token_map=None) -> None:
        token_map = token_map or self.where
        line = self.first_line + token_map[0] if token_map else None
        self.problems.append(ContentError(message, path=self.section.shown, line=line))

    def run(self, tokens: list) -> None:
        level, in_note, in_head, heading_open = 1, False, False, False
        for index, token in enumerate(tokens):
            self.where = token.map or self.where
            kind = token.type
            if kind == 'footnote_open':
                in_note = True
            elif kind == 'footnote_close':
                in_note = False
            elif in_note and kind not in NOTE_TOKENS and not kind.endswith('_close') \
                    and kind != 'html_block':
                self.fail('a footnote may hold only paragraphs of text (found a '
                          f"{kind.replace('_open', '').replace('_', ' ')})")
            heading_open = kind == 'heading_open' or (heading_open and kind != 'heading_close')
            in_head = kind == 'thead_open' or (in_head and kind != 'thead_close')
            if kind in ('html_block', 'html_inline'):
                self._raw_html(token)
            elif kind == 'heading_open' and not in_note:
                level = self._heading(token, level)
            elif kind == 'table_open':
                self._table_caption(tokens, index)
            elif kind == 'inline':
                if heading_open and not token.content.strip():
                    self.fail('a heading without text')
                elif in_head and not token.content.strip():
                    self.fail('a table column has no heading: give every column of the first '
                              'row a heading (screen readers announce it with each cell)')
                self._inline(token.children or [])

    def _raw_html(self, token) -> None:
        self.fail('raw HTML is not allowed in the narrative; write Markdown instead '
                  f'(found {token.content.strip()[:40]!r})')

    def _heading(self, token, level: int) -> int:
        new = int(token.tag[1])
        if new == 1:
            self.fail("'#' headings are reserved for the section title (front matter); "
                      "start with '##'", token.map)
        elif new > level + 1:
            self.fail(f"heading level skipped: '{'#' * new}' follows "
                      f"'{'#' * level}' (use '{'#' * (level + 1)}')", token.map)
        return new

    def _table_caption(self, tokens: list, index: int) -> None:
        close = next(i for i in range(index, len(tokens)) if tokens[i].type == 'table_close')
        after = tokens[close + 1:close + 3]
        if not (len(after) == 2 and after[0].type == 'paragraph_open'
                and after[1].content.startswith(CAPTION_PREFIX)
                and after[1].content[len(CAPTION_PREFIX):].strip()):
            self.fail(f"a table needs a caption: write a line '{CAPTION_PREFIX} what the "
                      "table shows' right after the table, after an empty line",
                      tokens[index].map)

    def _inline(self, children: list) -> None:
        html = False
        for position, child in enumerate(children):
            if child.type == 'html_inline':
                if not html:   # once a paragraph: '<b>' and '</b>' are one problem
                    self._raw_html(child)
                html = True
            elif child.type == 'link_open':
                self._link(child, children, position)
            elif child.type == 'image':
                self._image(child)
            elif child.type == 'footnote_ref':
                self._footnote_call(child.meta)
            elif child.type in ('text', 'code_inline'):
                self._characters(child.content)

    def _footnote_call(self, meta: dict) -> None:
        self.calls += 1
        if self.calls == MAX_FOOTNOTES + 1:
            self.fail(f'more than {MAX_FOOTNOTES} footnote calls in one section; split the '
                      'section')
        if meta.get('subId', 0) == MAX_CALLS_PER_NOTE:
            self.fail(f"footnote [^{meta.get('label')}] is called more than "
                      f'{MAX_CALLS_PER_NOTE} times: each call prints the whole note again; '
                      'write another footnote')

    def _link(self, child, children: list, position: int) -> None:
        href = child.attrs.get('href', '')
        if href.startswith('#') and len(href) > 1:
            line = self.first_line + self.where[0] if self.where else None
            self.found.links.append((href[1:], line))
        elif not href.startswith('mailto:'):
            self.fail(f"link to '{href[:80]}' is not allowed: links may only point inside "
                      "the report (#id) or be mailto: addresses")
        end = next(i for i in range(position, len(children))
                   if children[i].type == 'link_close')
        if not ''.join(c.content for c in children[position + 1:end]).strip():
            self.fail(f"the link to '{href[:80]}' has no text: write [what it leads "
                      f'to]({href[:80]})')

    def _characters(self, text: str) -> None:
        problem = problem_in(text, BODY_CHARACTERS, lines=True)
        if problem:
            self.fail(f'the text {problem}')
        long_word = LONG_WORD.search(text)
        if long_word:
            self.fail(f'{len(long_word[0]):,} characters without a space '
                      f'({long_word[0][:20]!r}…): at most {LONGEST_WORD} fit, broken, on '
                      'the lines of a page')

    def _alt_text(self, alt: str, src: str, path) -> None:
        """Raises ContentError when the alt text is missing or only names the file."""
        line = self.first_line + self.where[0] if self.where else None
        shown_src = src[:80] + ('…' if len(src) > 80 else '')
        if not alt:
            raise ContentError(f"image '{shown_src}' has no alt text: write ![what the image "
                               f'shows]({shown_src})', path=self.section.shown, line=line)
        if alt.lower() in {src.lower(), path.name.lower(), path.stem.lower(), *NAMELESS_ALT}:
            raise ContentError(f"image '{shown_src}': the alt text {alt!r} does not say what "
                               'the image shows', path=self.section.shown, line=line)

    def _image(self, token) -> None:
        src = token.attrs.get('src', '')
        alt = ''.join(child.content for child in token.children or []).strip()
        shown_src = src[:80] + ('…' if len(src) > 80 else '')
        what = f"image '{shown_src}'"
        parsed = urlsplit(src)
        if parsed.scheme or src.startswith('//'):
            self.fail(f'{what} is not allowed: images must be files inside the project '
                      '(no http://, https://, file:// or other addresses)')
            return
        if src.startswith('/'):
            self.fail(f'{what} is not allowed: use a path relative to the section file, not '
                      'an absolute path')
            return
        path = self.section.path.parent / unquote(src)
        line = self.first_line + self.where[0] if self.where else None
        from reportkit.safety.images import check_image   # Pillow: only when a section shows an image
        try:
            inside(self.project.root, path, what=what, shown=self.section.shown,
                   error=ContentError, line=line)
            if not os.path.lexists(path):
                raise FileNotFoundError
            self._alt_text(alt, src, path)
            data = read_bytes(self.project.root, path, what=what, shown=self.section.shown,
                              limit=IMAGE_BYTES, error=ContentError, line=line)
            kind = check_image(data, path.name)
        except FileNotFoundError:
            self.fail(f'{what} not found')
            return
        except ContentError as error:
            self.problems.append(error)
            return
        except ValueError as error:
            self.fail(f'{what}: {error}')
            return
        asset = f'img/{hashlib.sha256(data).hexdigest()[:16]}.{kind}'
        token.meta['asset'] = asset
        self.found.images.append((data, asset, self.project.show(path)))


NO_GLYPH = re.compile(r'\.notdef glyph rendered for Unicode string unsupported by fonts: '
                      r'"(.*?)" \(U\+[0-9A-F]+\)')
"""WeasyPrint's message for text no bundled font can show; it names no file."""


def glyph_problems(message: str, sections: list) -> list[ReportError]:
    """Where each character of WeasyPrint's ".notdef" warnings in ``message`` stands in
    ``sections`` (its first place: the file and line), so that the writer can find it;
    empty unless the message holds nothing else and every character was found (then
    WeasyPrint's own message is the better one)."""
    problems, seen = [], set()
    for found in NO_GLYPH.finditer(message):
        for char in found[1]:
            if char in seen:
                continue
            seen.add(char)
            place = _first_place(char, sections)
            if place is None:
                return []
            problems.append(ContentError(
                f"the bundled fonts have no glyph for '{char}' (U+{ord(char):04X}): it "
                'would print as a box; use another character', path=place[0], line=place[1]))
    others = [line for line in message.splitlines()[1:] if not NO_GLYPH.search(line)]
    return [] if others else problems


def _first_place(char: str, sections: list) -> tuple[str, int] | None:
    for section in sections:
        if char in section.title or char in section.short_title:
            return section.shown, 2
        index = section.body.find(char)
        if index >= 0:
            return section.shown, section.body_line + section.body.count('\n', 0, index)
    return None


CAPTION_PREFIX = 'Table:'
"""A paragraph right after a Markdown table that starts so is the table's caption."""
