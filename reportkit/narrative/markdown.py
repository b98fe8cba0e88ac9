"""Narrative sections: Jinja expressions (sandboxed) then Markdown -> HTML fragments.

Policy (see README, "Writing the narrative"):
- Expressions: ``{{ ... }}`` in a sandbox with only the values of :mod:`values`; an unknown
  name or any reach for Python internals stops the build with the file and line.
- Markdown: CommonMark with footnotes and pipe tables. Raw HTML is refused (write
  Markdown); links may only point inside the document (``#id``) or be ``mailto:``;
  images must be files inside the project and carry alt text.
- Directives, each alone on a line: ``@figure(id)``, ``@table(id)``, ``@chart-data``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import jinja2
import markupsafe
from jinja2.sandbox import SecurityError
from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from mdit_py_plugins.attrs import attrs_plugin
from mdit_py_plugins.footnote import footnote_plugin

from reportkit.errors import ContentError, raise_all
from reportkit.typography import LANGUAGES
from reportkit.load.edition import Section
from reportkit.safety.policy import CAPTION_PREFIX, NarrativeCheck
from reportkit.project import Project
from reportkit.typography import for_language

DIRECTIVE = re.compile(r'^@(figure|table)\(([a-z0-9][a-z0-9-]*)\)\s*$|^@(chart-data)\s*$')


@dataclass(frozen=True)
class Placement:
    """Where a directive stands: what it asks for, and its line in the section file."""

    kind: str
    id: str
    line: int


@dataclass
class Fragment:
    """A section converted to HTML, with placeholders where directives stood."""

    section: Section
    html: str
    headings: list[tuple[int, str, str]] = field(default_factory=list)
    """(level, id, text) of each heading inside the body."""
    placements: list[Placement] = field(default_factory=list)
    images: list[tuple[bytes, str, str]] = field(default_factory=list)
    """(content, asset name, the file as shown) of each image the section shows."""
    links: list[tuple[str, int | None]] = field(default_factory=list)
    """(target id, line) of each link inside the report."""


def placeholder(kind: str, ident: str) -> str:
    """The marker a directive leaves in the HTML (raw HTML can't be typed by writers)."""
    return f'<!--{kind}:{ident}-->'


def expand(section: Section, context: dict) -> str:
    """Evaluate the section's ``{{ ... }}`` expressions in the bounded sandbox
    (:mod:`.sandbox`: no reach into Python, and bounded work, output and time)."""
    from reportkit.safety.sandbox import LimitExceeded, render, template_line

    def at(error: BaseException) -> int | None:
        line = template_line(error)
        return None if line is None else section.body_line + line - 1

    try:
        return render(section.body, context)
    except jinja2.TemplateSyntaxError as error:
        raise ContentError(f'expression error: {error.message}', path=section.shown,
                           line=section.body_line + (error.lineno or 1) - 1) from None
    except SecurityError as error:
        raise ContentError(f'not allowed in the narrative: {error}', path=section.shown,
                           line=at(error)) from None
    except jinja2.UndefinedError as error:
        raise ContentError(f'unknown value: {error.message} (see README, "Values '
                           'from the data")', path=section.shown, line=at(error)) from None
    except LimitExceeded as error:
        raise ContentError(f'too much work for the narrative: {error}', path=section.shown,
                           line=at(error)) from None
    except (TypeError, ValueError, ArithmeticError, LookupError) as error:
        raise ContentError(f'expression error: {error}', path=section.shown,
                           line=at(error)) from None


def _directive_rule(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    begin = state.bMarks[start] + state.tShift[start]
    text = state.src[begin:state.eMarks[start]]
    match = DIRECTIVE.match(text)
    if not match:
        return False
    if not silent:
        token = state.push('directive', '', 0)
        token.meta = {'kind': match[1] or match[3], 'id': match[2] or 'all'}
        token.map = [start, start + 1]
    state.line = start + 1
    return True


def _markdown() -> MarkdownIt:
    md = MarkdownIt('commonmark', {'html': True, 'linkify': False, 'typographer': False})
    # Parse every link and image, whatever its address, so that our own checks can refuse
    # file:, javascript: and the like with a message (markdown-it would silently leave
    # them as text).
    md.validateLink = lambda url: True
    md.use(footnote_plugin, inline=False).enable('table')
    # [words in the other language]{lang=en}: the only attribute a writer may set.
    md.use(attrs_plugin, spans=True, allowed=['lang'])
    md.block.ruler.before('paragraph', 'directive', _directive_rule)
    return md


MARKDOWN = _markdown()


def convert(section: Section, text: str, project: Project) -> Fragment:
    """Markdown (already expanded) -> HTML fragment; problems carry the file line."""
    env: dict = {}
    tokens = MARKDOWN.parse(text, env)
    fragment = Fragment(section, '')
    check = NarrativeCheck(section, project, section.body_line)
    _set_typography(tokens, section, check)
    check.run(tokens)
    raise_all(check.problems, f'{section.shown}: the section cannot be converted')
    fragment.images = check.found.images
    fragment.links = check.found.links
    for token in tokens:
        if token.type == 'directive':
            fragment.placements.append(Placement(token.meta['kind'], token.meta['id'],
                                                 section.body_line + token.map[0]))
    notes, body = _take_notes(tokens, env)
    fragment.html = _render(_with_captions(body), notes, env, section, fragment)
    return fragment


def _set_typography(tokens: list, section: Section, check: NarrativeCheck) -> None:
    """Typography follows the language of each passage: the section's, or the one a
    span names ([words]{lang=en})."""
    for token in tokens:
        check.where = token.map or check.where
        languages = [section.lang]
        for child in token.children or []:
            if child.type == 'span_open':
                lang = child.attrs.get('lang', languages[-1])
                if lang not in LANGUAGES:
                    check.fail(f"{{lang={lang}}}: the language must be one of "
                               f"{', '.join(LANGUAGES)}")
                    lang = languages[-1]
                languages.append(str(lang))
            elif child.type == 'span_close':
                languages.pop()
            elif child.type == 'text':
                child.content = for_language(child.content, languages[-1])


def _take_notes(tokens: list, env: dict) -> tuple[dict[int, str], list]:
    """Footnotes are set where they are called (CSS float: footnote): each definition's
    inline HTML by note id, and the tokens without the footnote block."""
    notes: dict[int, str] = {}
    body, note_id, inner, in_block = [], None, [], False
    for token in tokens:
        if token.type == 'footnote_block_open':
            in_block = True
        elif token.type == 'footnote_block_close':
            in_block = False
        elif not in_block:
            body.append(token)
        elif token.type == 'footnote_open':
            note_id, inner = token.meta['id'], []
        elif token.type == 'footnote_close':
            notes[note_id] = ' '.join(
                MARKDOWN.renderer.render(t.children or [], MARKDOWN.options, env)
                for t in inner if t.type == 'inline')
        else:
            inner.append(token)
    return notes, body


def _with_captions(body: list) -> list:
    """The 'Table: …' paragraph after a Markdown table becomes its caption."""
    out, skip = [], 0
    for index, token in enumerate(body):
        if skip:
            skip -= 1
            continue
        out.append(token)
        if token.type == 'table_close':
            opening = next(t for t in reversed(out) if t.type == 'table_open')
            caption = body[index + 2]
            first = caption.children[0]
            first.content = first.content[len(CAPTION_PREFIX):].lstrip()
            opening.meta['caption'] = caption
            skip = 3
    return out


def _render(body: list, notes: dict[int, str], env: dict, section: Section,
            fragment: Fragment) -> str:
    heading_ids: dict[str, int] = {}
    renderer = MARKDOWN.renderer

    def render_heading_open(tokens_, idx, options, env_):
        token = tokens_[idx]
        text = tokens_[idx + 1].content
        slug = f"{section.id}-{_slug(text)}"
        heading_ids[slug] = heading_ids.get(slug, 0) + 1
        if heading_ids[slug] > 1:
            slug += f'-{heading_ids[slug]}'
        fragment.headings.append((int(token.tag[1]), slug, text))
        return f'<{token.tag} id="{slug}">'

    def render_footnote_ref(tokens_, idx, options, env_):
        return f'<span class="footnote">{notes[tokens_[idx].meta["id"]]}</span>'

    def render_directive(tokens_, idx, options, env_):
        meta = tokens_[idx].meta
        return placeholder(meta['kind'], meta['id']) + '\n'

    def render_image(tokens_, idx, options, env_):
        token = tokens_[idx]
        alt = renderer.renderInlineAsText(token.children or [], options, env_)
        return (f'<img src="assets/{token.meta["asset"]}" '
                f'alt="{markupsafe.escape(alt)}">')

    def render_table_open(tokens_, idx, options, env_):
        caption = tokens_[idx].meta['caption']
        inner = renderer.render(caption.children or [], options, env_)
        return f'<table class="narrative">\n<caption>{inner}</caption>\n'

    rules = {'heading_open': render_heading_open, 'footnote_ref': render_footnote_ref,
             'directive': render_directive, 'image': render_image,
             'table_open': render_table_open}
    saved = {name: renderer.rules.get(name) for name in rules}
    renderer.rules.update(rules)
    try:
        return renderer.render(body, MARKDOWN.options, env)
    finally:
        for name, rule in saved.items():
            if rule is None:
                renderer.rules.pop(name, None)
            else:
                renderer.rules[name] = rule


def _slug(text: str) -> str:
    """An id from a heading: 'Cybersécurité' -> 'cybersecurite'."""
    plain = ''.join(c for c in unicodedata.normalize('NFKD', text)
                    if not unicodedata.combining(c))
    slug = re.sub(r'[^a-z0-9]+', '-', plain.lower()).strip('-')
    return slug[:40].rstrip('-') or 'section'
