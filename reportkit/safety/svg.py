"""SVG drawings checked to be inert and cheap to draw before WeasyPrint draws them.

WeasyPrint parses an SVG with expat and draws it by recursion, following every ``<use>``
and ``url(#…)`` again: a few kilobytes of nested references, entities or style rules
keep it busy for minutes, and a script, an event handler or a reference to another file
must never reach a report. So the tree is parsed with no entities and nesting capped,
whatever runs, fetches or animates is refused, and the cost of drawing it is counted,
references expanded, before it is drawn. A refusal is a ValueError with one plain line;
the caller adds the file and line.
"""

from __future__ import annotations

import re
from typing import NamedTuple
from xml.etree import ElementTree
from xml.parsers import expat

import tinycss2

MAX_SVG_WORK = 20_000
"""Drawing an SVG may cost this many elements, counting what each ``<use>`` or
``url(#…)`` draws again, letters of text, path data and the costs below. One costs about
0.1 ms in WeasyPrint 70 on this project's machine: about 2 s in all. Charts from
matplotlib cost 500–6,000 (a 1,000-point scatter plot 4,500)."""

MAX_SVG_DEPTH = 50
"""Levels of nesting, references followed: WeasyPrint draws by recursion (a frame or more
a level, 1,000 in all); drawing programs rarely nest groups 15 deep."""

# Costs measured in WeasyPrint 70, in drawn elements: every distinct id referred to is
# found by scanning the document (200 elements scanned cost 1), every style rule is tried
# on every element drawn (200 tries cost 1), every element copies the attributes of its
# ancestors (1,000 copies cost 1), path data and style attributes are parsed each time
# they are drawn (200 and 100 characters cost 1), each letter of text is laid out alone.
_LOOKUP, _RULE, _ATTRIBUTE, _PATH_CHARS, _STYLE_CHARS = 200, 200, 1_000, 200, 100

FORBIDDEN = {'script', 'foreignObject', 'iframe', 'embed', 'object', 'handler', 'listener',
             'image', 'feImage', 'set', 'animate', 'animateColor', 'animateMotion',
             'animateTransform', 'discard'}
"""SVG elements that run code, show other files (the renderer reads project files only,
no ``data:`` address, so an ``<image>`` could never show) or animate."""
TEXT_TAGS = {'text', 'tspan', 'textPath', 'tref', 'a'}
DRAWN_ONCE = {'clip-path', 'mask', 'filter'}
"""Properties that refer to an id and are not inherited (WeasyPrint's NOT_INHERITED)."""
SVG_ROOT = '{http://www.w3.org/2000/svg}svg'
_FRAGMENT = re.compile(r'\s*#([\w.:-]+)\s*')
_URL = re.compile(r'url\(\s*([^)]*?)\s*\)', re.I)
_NUMBER = re.compile(r'[-+]?(?:\d*\.\d+|\d+\.?)(?:[eE][-+]?\d+)?')
_SIMPLE_SELECTOR = re.compile(r'(\*|[A-Za-z][\w-]*)?([.#][A-Za-z_][\w-]*)*')


def parse(data: bytes) -> ElementTree.Element:
    """The tree, parsed by expat as WeasyPrint does, but with no entities (a DOCTYPE with
    an internal subset is refused, which also refuses every entity declaration), nothing
    read from outside the file, and nesting and size capped while parsing."""
    builder, depth, count = ElementTree.TreeBuilder(), 0, 0
    parser = expat.ParserCreate(namespace_separator='}')
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def start(tag, attributes):
        nonlocal depth, count
        depth, count = depth + 1, count + 1
        if depth > MAX_SVG_DEPTH or count > MAX_SVG_WORK:
            raise ValueError(_too_deep() if depth > MAX_SVG_DEPTH else _too_big())
        builder.start(_clark(tag), {_clark(k): v for k, v in attributes.items()})

    def end(tag):
        nonlocal depth
        depth -= 1
        builder.end(_clark(tag))

    def doctype(_name, _system, _public, internal_subset):
        if internal_subset:
            raise ValueError('the SVG declares entities (<!DOCTYPE … [ … ]>), which can '
                             'expand without limit: remove the <!DOCTYPE> block')

    def entity(*_):
        raise ValueError('the SVG uses an entity (&name;) it does not define: write the '
                         'text it stands for')

    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.CharacterDataHandler, parser.StartDoctypeDeclHandler = builder.data, doctype
    parser.EntityDeclHandler = parser.SkippedEntityHandler = entity
    parser.ExternalEntityRefHandler = entity
    try:
        parser.Parse(data, True)
    except expat.ExpatError as error:
        raise ValueError(f'the SVG is not well-formed XML (line {error.lineno}: '
                         f'{expat.ErrorString(error.code)}): save it again from the '
                         'drawing program') from None
    root = builder.close()
    if root.tag == 'svg':
        raise ValueError('the SVG does not declare xmlns="http://www.w3.org/2000/svg" on '
                         'its <svg> element: save it again from the drawing program')
    if root.tag != SVG_ROOT:
        raise ValueError(f'the file is XML but not an SVG drawing (it starts with '
                         f'<{_local(root.tag)}>): save it as SVG, PNG or JPEG')
    return root



def check(root: ElementTree.Element) -> None:
    """Refuse a parsed drawing that runs, fetches or animates anything, or that costs more
    than MAX_SVG_WORK elements to draw (ValueError with a plain one-line reason)."""
    if _svg_work(root) > MAX_SVG_WORK:
        raise ValueError(_too_big())


def _clark(name: str) -> str:
    """expat's 'uri}local' as ElementTree's '{uri}local'."""
    return '{' + name if '}' in name else name


def _local(tag: str) -> str:
    return tag.rpartition('}')[2]


def _too_deep() -> str:
    return (f'the SVG nests more than {MAX_SVG_DEPTH} levels deep (groups or <use> inside '
            'one another); simplify the drawing')


def _too_big() -> str:
    return (f'the SVG expands to more than {MAX_SVG_WORK:,} elements (nested <use>, '
            'repeated references or long text); simplify the drawing')


def _svg_work(root: ElementTree.Element) -> float:
    """Refuse what runs, fetches or animates; the cost of drawing the rest, in elements
    (module constants). Each element's own cost is added up before any CSS is parsed,
    so a huge file is refused before it can be slow to check."""
    ids: dict[str, ElementTree.Element] = {}
    refs: dict[ElementTree.Element, list[tuple[str, str]]] = {root: []}
    own: dict[ElementTree.Element, float] = {}
    names: set[str] = set()
    rules, total = 0, 0.0
    for element in root.iter():
        local = _local(element.tag)
        if local in FORBIDDEN:
            raise ValueError(f'the SVG contains <{local}>, which a report cannot show or '
                             'run: remove it from the drawing')
        own[element] = _own_cost(element, local)
        total += own[element]
        if total > MAX_SVG_WORK:
            raise ValueError(_too_big())
        if element is not root:  # WeasyPrint looks ids up below the root only
            ids.setdefault(element.get('id'), element)
        names.update(element.keys())
        found = refs.setdefault(element, [])
        for key, value in element.items():
            _attribute(key, value, found)
        if local == 'style':
            rules += _stylesheet(element.text or '', refs[root])
    ids.pop(None, None)
    expansion = _Expansion(ids, refs, own, lookup=len(own) / _LOOKUP)
    drawn = expansion.size(root, 1)
    targets = {ident for found in refs.values() for _, ident in found if ident in ids}
    return drawn.cost * (1 + rules / _RULE + len(names) / _ATTRIBUTE) + \
        len(targets) * expansion.lookup


def _attribute(key: str, value: str, found: list[tuple[str, str]]) -> None:
    """Refuse event handlers and references out of the file; note those inside it."""
    name = _local(key)
    if name.lower().startswith('on'):
        raise ValueError(f'the SVG has an event handler ({name}=…), which a report cannot '
                         'run: remove it from the drawing')
    if name == 'href':
        if not (match := _FRAGMENT.fullmatch(value)):
            raise ValueError(_outside(value))
        found.append(('href', match[1]))
    elif key.startswith('{'):
        return  # another program's attribute (inkscape:…): WeasyPrint never reads it
    elif name != 'style':
        _property(name, value, found)
    elif re.search(r'url|\\|clip-path|mask|filter|marker', value, re.I):
        for declaration in tinycss2.parse_blocks_contents(value, skip_comments=True):
            if declaration.type == 'declaration':
                _property(declaration.lower_name,
                          tinycss2.serialize(declaration.value).strip(), found)


def _property(name: str, value: str, found: list[tuple[str, str]], each: bool = False) -> None:
    """Note the ids a property refers to, by how often WeasyPrint draws them: 'once'
    (clip-path, mask, filter), for 'each' element below (fill, stroke: inherited), or at
    every 'vertex' (markers). A reference out of the file is refused."""
    how = 'vertex' if name.startswith('marker') else \
        'once' if name in DRAWN_ONCE and not each else 'each'
    urls = [url.strip('\'"') for url in _URL.findall(value)]
    for url in urls:
        if not (match := _FRAGMENT.fullmatch(url)):
            raise ValueError(_outside(url))
        found.append((how, match[1]))
    if not urls and (how == 'vertex' or name in DRAWN_ONCE) and '#' in value:
        found.append((how, value.partition('#')[2]))  # WeasyPrint reads '#x' as url(#x)


def _stylesheet(text: str, found: list[tuple[str, str]]) -> int:
    """Check a <style> element; its number of selectors. A rule may match any element, so
    its references count for every element. Selectors must be simple (type, .class, #id,
    *): combinators and pseudo-classes can make matching take exponential time."""
    selectors = 0
    for rule in tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True):
        if rule.type == 'at-rule' and rule.lower_at_keyword in ('import', 'font-face'):
            raise ValueError(f"the SVG's <style> loads another file (@{rule.at_keyword}): "
                             'remove it from the drawing')
        if rule.type != 'qualified-rule':
            continue  # WeasyPrint ignores it
        for group in tinycss2.serialize(rule.prelude).split(','):
            if not group.strip() or not _SIMPLE_SELECTOR.fullmatch(group.strip()):
                raise ValueError(f"the SVG's <style> uses the selector '{group.strip()}'; "
                                 'only simple ones (path, .class, #id, *) are allowed: '
                                 'export the drawing with styles on the elements')
            selectors += 1
        for declaration in tinycss2.parse_blocks_contents(rule.content, skip_comments=True):
            if declaration.type == 'declaration':
                _property(declaration.lower_name,
                          tinycss2.serialize(declaration.value).strip(), found, each=True)
    return selectors


def _outside(address: str) -> str:
    shown = address if len(address) <= 60 else address[:57] + '...'
    return (f"the SVG refers to '{shown}'; a drawing may only refer to its own parts "
            '(#id), not to other files or addresses: embed or remove it')


class _Drawn(NamedTuple):
    cost: float     # elements drawn for it, references expanded
    count: int      # elements in it, which an inherited fill or stroke reaches
    vertices: int   # path vertices in it, at each of which a marker is drawn
    height: int     # levels of nesting, itself included


class _Expansion:
    """The cost of drawing elements as WeasyPrint does: a ``<use>`` draws its target
    again, a ``url(#…)`` draws a pattern, clip path, mask or marker again (a pattern looks
    its ids up again, ``lookup`` each). Memoised per element, so checking a hostile file
    costs about its size; a loop of references and too deep a nesting are errors."""

    def __init__(self, ids, refs, own, lookup: float) -> None:
        self.ids, self.refs, self.own, self.lookup = ids, refs, own, lookup
        self.markers = any(how == 'vertex' for found in refs.values() for how, _ in found)
        self.memo: dict[ElementTree.Element, _Drawn] = {}
        self.open: set[ElementTree.Element] = set()

    def size(self, element: ElementTree.Element, depth: int) -> _Drawn:
        known = self.memo.get(element)
        if depth + (known.height if known else 1) - 1 > MAX_SVG_DEPTH:
            raise ValueError(_too_deep())
        if known:
            return known
        if element in self.open:
            raise ValueError(f"the SVG's references go round in a loop (through "
                             f"#{element.get('id')}): break the loop")
        self.open.add(element)
        cost, count, height = self.own[element], 1, 1
        vertices = _vertices(element) if self.markers else 0
        targets = [(how, target) for how, ident in self.refs[element]
                   if (target := self.ids.get(ident)) is not None]
        parts = [('child', child, self.size(child, depth + 1)) for child in element] + \
            [(how, target, self.size(target, depth + 1)) for how, target in targets]
        for how, _, part in parts:
            height = max(height, part.height + 1)
            if how in ('child', 'href'):
                cost, count, vertices = cost + part.cost, count + part.count, \
                    vertices + part.vertices
        times = {'child': 0, 'href': 0, 'once': 1, 'each': count, 'vertex': vertices}
        for how, target, part in parts:
            again = 1 + self.lookup if 'pattern' in _local(target.tag).lower() else 1
            cost += part.cost * times[how] * again
        if cost > MAX_SVG_WORK:
            raise ValueError(_too_big())
        self.open.discard(element)
        self.memo[element] = _Drawn(cost, count, vertices, height)
        return self.memo[element]


def _own_cost(element: ElementTree.Element, local: str) -> float:
    """Drawing one element, as 1 plus its path data, style attribute and letters."""
    cost = 1 + len(element.get('d' if local == 'path' else 'points', '')) / _PATH_CHARS
    cost += len(element.get('style', '')) / _STYLE_CHARS
    if local == 'style':
        cost += len(element.text or '') / _STYLE_CHARS
    if local in TEXT_TAGS:
        texts = [element.text, *(child.tail for child in element)]
        cost += sum(len(' '.join(text.split())) for text in texts if text)
    return cost


def _vertices(element: ElementTree.Element) -> int:
    """Vertices of a path, polyline or polygon (at most), of a line, or none."""
    local = _local(element.tag)
    if local == 'line':
        return 2
    if local not in ('path', 'polyline', 'polygon'):
        return 0
    data = element.get('d' if local == 'path' else 'points', '')
    return sum(1 for _ in _NUMBER.finditer(data)) // 2 + 1
