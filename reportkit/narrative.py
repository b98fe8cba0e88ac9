"""Narrative sections: Jinja expressions (sandboxed) then Markdown -> HTML fragments.

Policy (see README, "Writing the narrative"):
- Expressions: ``{{ ... }}`` in a sandbox with only the values of :mod:`facts`; an unknown
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
from pathlib import Path
from urllib.parse import unquote, urlparse

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from mdit_py_plugins.attrs import attrs_plugin
from mdit_py_plugins.footnote import footnote_plugin

from .errors import ContentError, ReportError, raise_all
from .config import LANGUAGES
from .load import Section
from .project import Project
from .typography import for_language

DIRECTIVE = re.compile(r'^@(figure|table)\(([a-z0-9][a-z0-9-]*)\)\s*$|^@(chart-data)\s*$')
IMAGE_TYPES = {'.png', '.jpg', '.jpeg', '.svg'}


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
    images: list[tuple[Path, str]] = field(default_factory=list)
    """(source file, asset name) of each image the section shows."""


def placeholder(kind: str, ident: str) -> str:
    """The marker a directive leaves in the HTML (raw HTML can't be typed by writers)."""
    return f'<!--{kind}:{ident}-->'


class _Undefined(jinja2.StrictUndefined):
    """As strict as StrictUndefined, with messages that say why a value is missing."""

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        missing = getattr(self._undefined_obj, '_missing', None)
        if callable(missing) and self._undefined_name is not None and \
                self._undefined_hint is None:
            return missing(self._undefined_name)
        return super()._undefined_message


def expand(section: Section, context: dict) -> str:
    """Evaluate the section's ``{{ ... }}`` expressions in the sandbox."""
    env = ImmutableSandboxedEnvironment(
        undefined=_Undefined, autoescape=False, keep_trailing_newline=True)
    try:
        return env.from_string(section.body).render(context)
    except jinja2.TemplateSyntaxError as error:
        raise ContentError(f'expression error: {error.message}', path=section.shown,
                           line=section.body_line + (error.lineno or 1) - 1) from None
    except SecurityError as error:
        raise ContentError(f'not allowed in the narrative: {error}', path=section.shown,
                           line=_template_line(error, section)) from None
    except jinja2.UndefinedError as error:
        raise ContentError(f'unknown value: {error.message} (see README, "Values '
                           'from the data")', path=section.shown,
                           line=_template_line(error, section)) from None
    except (TypeError, ValueError, ZeroDivisionError, KeyError, IndexError) as error:
        raise ContentError(f'expression error: {error}', path=section.shown,
                           line=_template_line(error, section)) from None


def _template_line(error: BaseException, section: Section) -> int | None:
    tb, line = error.__traceback__, None
    while tb is not None:
        # Jinja rewrites tracebacks so template lines appear as frames of '<template>'.
        if tb.tb_frame.f_code.co_filename == '<template>':
            line = tb.tb_lineno
        tb = tb.tb_next
    return None if line is None else section.body_line + line - 1


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
    problems: list[ReportError] = []
    offset = section.body_line

    def fail(message: str, token_map) -> None:
        line = offset + token_map[0] if token_map else None
        problems.append(ContentError(message, path=section.shown, line=line))

    # Typography follows the language of each passage: the section's, or the one a
    # span names ([words]{lang=en}).
    where = None
    for token in tokens:
        where = token.map or where
        languages = [section.lang]
        for child in token.children or []:
            if child.type == 'span_open':
                lang = child.attrs.get('lang', languages[-1])
                if lang not in LANGUAGES:
                    fail(f"{{lang={lang}}}: the language must be one of "
                         f"{', '.join(LANGUAGES)}", where)
                    lang = languages[-1]
                languages.append(str(lang))
            elif child.type == 'span_close':
                languages.pop()
            elif child.type == 'text':
                child.content = for_language(child.content, languages[-1])

    # Footnotes are set where they are called (CSS float: footnote), so collect
    # each definition's inline HTML and drop the block at the end.
    notes: dict[int, str] = {}
    body, i = [], 0
    while i < len(tokens):
        token = tokens[i]
        if token.type == 'footnote_block_open':
            depth_end = next(j for j in range(i, len(tokens))
                             if tokens[j].type == 'footnote_block_close')
            note_id, inner = None, []
            for t in tokens[i + 1:depth_end]:
                if t.type == 'footnote_open':
                    note_id, inner = t.meta['id'], []
                elif t.type == 'footnote_close':
                    notes[note_id] = ' '.join(
                        MARKDOWN.renderer.render(t2.children or [], MARKDOWN.options, env)
                        for t2 in inner if t2.type == 'inline')
                else:
                    inner.append(t)
            i = depth_end + 1
            continue
        body.append(token)
        i += 1

    last_map = None
    level = 1
    in_head = False
    heading_open = False
    for token in body:
        last_map = token.map or last_map
        if token.type in ('heading_open', 'heading_close'):
            heading_open = token.type == 'heading_open'
        if token.type in ('html_block', 'html_inline'):
            fail('raw HTML is not allowed in the narrative; write Markdown instead '
                 f'(found {token.content.strip()[:40]!r})', last_map)
        elif token.type == 'heading_open':
            new = int(token.tag[1])
            if new == 1:
                fail("'#' headings are reserved for the section title (front matter); "
                     "start with '##'", token.map)
            elif new > level + 1:
                fail(f"heading level skipped: '{'#' * new}' follows "
                     f"'{'#' * level}' (use '{'#' * (level + 1)}')", token.map)
            level = new
        elif token.type == 'directive':
            fragment.placements.append(Placement(token.meta['kind'], token.meta['id'],
                                                 offset + token.map[0]))
        elif token.type == 'thead_open':
            in_head = True
        elif token.type == 'thead_close':
            in_head = False
        elif token.type == 'inline' and heading_open and not token.content.strip():
            fail('a heading without text', last_map)
        elif token.type == 'inline' and in_head and not token.content.strip():
            fail('a table column has no heading: give every column of the first row a '
                 'heading (screen readers announce it with each cell)', last_map)
        for child in token.children or []:
            if child.type == 'html_inline':
                fail('raw HTML is not allowed in the narrative; write Markdown instead '
                     f'(found {child.content.strip()[:40]!r})', last_map)
            elif child.type == 'link_open':
                href = child.attrs.get('href', '')
                if not (href.startswith('#') or href.startswith('mailto:')):
                    fail(f"link to '{href}' is not allowed: links may only point inside "
                         "the report (#id) or be mailto: addresses", last_map)
                children = token.children or []
                start = children.index(child)
                end = next(i for i in range(start, len(children))
                           if children[i].type == 'link_close')
                if not ''.join(c.content for c in children[start + 1:end]).strip():
                    fail(f"the link to '{href}' has no text: write [what it leads to]({href})",
                         last_map)
            elif child.type == 'image':
                _check_image(child, section, project, fragment, fail, last_map)
    raise_all(problems, f'{section.shown}: the section cannot be converted')

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
        name = token.meta['asset']
        return f'<img src="assets/{name}" alt="{jinja2.utils.markupsafe.escape(alt)}">'

    rules = {'heading_open': render_heading_open, 'footnote_ref': render_footnote_ref,
             'directive': render_directive, 'image': render_image}
    saved = {name: renderer.rules.get(name) for name in rules}
    renderer.rules.update(rules)
    try:
        fragment.html = renderer.render(body, MARKDOWN.options, env)
    finally:
        for name, rule in saved.items():
            if rule is None:
                renderer.rules.pop(name, None)
            else:
                renderer.rules[name] = rule
    return fragment


def _check_image(token, section: Section, project: Project, fragment: Fragment,
                 fail, where) -> None:
    src = token.attrs.get('src', '')
    alt = ''.join(child.content for child in token.children or [])
    parsed = urlparse(src)
    if parsed.scheme or src.startswith('//'):
        fail(f"image '{src}' is not allowed: images must be files inside the project "
             '(no http://, https://, file:// or other addresses)', where)
        return
    if src.startswith('/'):
        fail(f"image '{src}' is not allowed: use a path relative to the section file, "
             'not an absolute path', where)
        return
    path = (section.path.parent / unquote(src)).resolve()
    if not project.contains(path):
        fail(f"image '{src}' is outside the project; copy it into the project first", where)
        return
    if not path.is_file():
        fail(f"image '{src}' not found", where)
        return
    if path.suffix.lower() not in IMAGE_TYPES:
        fail(f"image '{src}': only {', '.join(sorted(IMAGE_TYPES))} files can be shown",
             where)
        return
    if not alt.strip():
        fail(f"image '{src}' has no alt text: write ![what the image shows]({src})", where)
        return
    if alt.strip().lower() in {src.lower(), path.name.lower(), path.stem.lower(), 'image',
                               'picture', 'photo', 'figure', 'chart', 'map'}:
        fail(f"image '{src}': the alt text {alt.strip()!r} does not say what the image "
             'shows', where)
        return
    asset = f'img/{project.show(path).replace("/", "_")}'
    token.meta['asset'] = asset
    fragment.images.append((path, asset))


def _slug(text: str) -> str:
    """An id from a heading: 'Cybersécurité' -> 'cybersecurite'."""
    plain = ''.join(c for c in unicodedata.normalize('NFKD', text)
                    if not unicodedata.combining(c))
    slug = re.sub(r'[^a-z0-9]+', '-', plain.lower()).strip('-')
    return slug[:40].rstrip('-') or 'section'
