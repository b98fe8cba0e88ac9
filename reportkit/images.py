"""Images a writer shows in a section, checked by their content before WeasyPrint sees them.

WeasyPrint trusts an image: it decodes a PNG of any size (Pillow only warns), draws a
truncated one half black (it sets ``LOAD_TRUNCATED_IMAGES``), and draws an SVG's nested
``<use>`` for minutes. So the type is read from the content, the pixels are counted from
the header before anything is decoded, a PNG or JPEG must decode completely, and an SVG
must be inert and cost a bounded amount of drawing. A refusal is a ValueError with one
plain line; the caller adds the file and line.
"""

from __future__ import annotations

import io
import re
import struct
import warnings
import zlib
from contextlib import contextmanager
from pathlib import PurePath
from typing import NamedTuple
from xml.etree import ElementTree
from xml.parsers import expat

import tinycss2
from PIL import Image, ImageFile

MAX_PIXELS = 25_000_000
"""Pixels of a PNG or JPEG. A letter page at 300 dpi is 8.4 megapixels, a 6000 × 4000
camera photo 24. WeasyPrint needs about 8 bytes a pixel to embed a PNG (measured: +190 MB
at 24 MP, +350 MB at 40 MP), so this keeps a build near the README's 400 MB."""

MAX_SVG_WORK = 20_000
"""Drawing an SVG may cost this many elements, counting what each ``<use>`` or
``url(#…)`` draws again, letters of text, path data and the costs below. One costs about
0.1 ms in WeasyPrint 70 on this project's machine: about 2 s in all. Charts from
matplotlib cost 500–6,000 (a 1,000-point scatter plot 4,500)."""

MAX_SVG_DEPTH = 50
"""Levels of nesting, references followed: WeasyPrint draws by recursion (a frame or more
a level, 1,000 in all); drawing programs rarely nest groups 15 deep."""

MAX_JPEG_SCANS = 100
"""Scans of a progressive JPEG: each is a pass over every pixel, and cameras and editors
write about ten (djpeg has ``-maxscans`` against the same attack)."""

# Costs measured in WeasyPrint 70, in drawn elements: every distinct id referred to is
# found by scanning the document (200 elements scanned cost 1), every style rule is tried
# on every element drawn (200 tries cost 1), every element copies the attributes of its
# ancestors (1,000 copies cost 1), path data and style attributes are parsed each time
# they are drawn (200 and 100 characters cost 1), each letter of text is laid out alone.
_LOOKUP, _RULE, _ATTRIBUTE, _PATH_CHARS, _STYLE_CHARS = 200, 200, 1_000, 200, 100

EXTENSIONS = {'.png': 'png', '.jpg': 'jpeg', '.jpeg': 'jpeg', '.svg': 'svg'}
SHOWN = {'png': 'a PNG image', 'jpeg': 'a JPEG image', 'svg': 'an SVG drawing'}
RENAME = {'png': '.png', 'jpeg': '.jpg', 'svg': '.svg'}
OTHER_TYPES = [(0, b'GIF8', 'a GIF image'), (0, b'II*\0', 'a TIFF image'),
               (0, b'MM\0*', 'a TIFF image'), (8, b'WEBP', 'a WebP image'),
               (0, b'BM', 'a BMP image'), (4, b'ftyp', 'a HEIC or AVIF image'),
               (0, b'\0\0\0\x0cjP  ', 'a JPEG 2000 image'), (0, b'%PDF', 'a PDF document'),
               (0, b'%!PS', 'a PostScript file'), (0, b'\x1f\x8b', 'a compressed file')]
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
_JPEG_MARKER = re.compile(rb'\xff[^\x00\xd0-\xd7]')


def check_image(data: bytes, name: str) -> str:
    """The image's type ('png', 'jpeg' or 'svg') when ``data`` is a complete, bounded image
    that WeasyPrint can show; otherwise raises ValueError with a plain one-line reason
    that a non-programmer can act on (the caller adds the file and line).

    ``name`` is the file's name: its extension must agree with the content."""
    suffix = PurePath(name).suffix
    expected = EXTENSIONS.get(suffix.lower())
    kind, root = _content_type(data, expected)
    if kind != expected:
        ends = f'ends in {suffix}' if expected else 'does not end in .png, .jpg or .svg'
        raise ValueError(f'the file is {SHOWN[kind]}, but its name {ends}: rename it to '
                         f'{RENAME[kind]}')
    if kind == 'svg':
        if _svg_work(root) > MAX_SVG_WORK:
            raise ValueError(_too_big())
        return kind
    if kind == 'png':
        _pixels(*struct.unpack('>II', data[16:24]))
        _png_chunks(data)
    else:
        _jpeg_markers(data)
    _decode(data, kind)
    return kind


def _content_type(data: bytes, expected: str | None):
    """('png' | 'jpeg' | 'svg', the SVG's parsed root or None), from the bytes alone."""
    if data.startswith(b'\x89PNG\r\n\x1a\n'):
        if data[8:16] != b'\0\0\0\x0dIHDR' or len(data) < 33:
            raise _damaged('PNG', 'it has no header')
        return 'png', None
    if data.startswith(b'\xff\xd8\xff'):
        return 'jpeg', None
    wanted = f', not {expected.upper()}' if expected else ''
    for offset, signature, what in OTHER_TYPES:
        if data[offset:offset + len(signature)] == signature:
            raise ValueError(f'the file is {what}{wanted}: save it as PNG or JPEG')
    unknown = ValueError(f'the file is not {SHOWN.get(expected, "an image")} (its content '
                         'is not PNG, JPEG or SVG): save it again as PNG, JPEG or SVG')
    if not (data.lstrip(b'\xef\xbb\xbf \t\r\n').startswith(b'<')
            or data.startswith((b'\xff\xfe', b'\xfe\xff'))):
        raise unknown
    try:
        return 'svg', _parse_svg(data)
    except ValueError:
        if expected == 'svg':
            raise
        raise unknown from None


def _pixels(width: int, height: int) -> None:
    """Refuse an image over MAX_PIXELS, by the size its header states."""
    if width == 0 or height == 0:
        raise ValueError('the image is damaged: its header says it has no pixels')
    if width * height > MAX_PIXELS:
        mp = width * height / 1e6
        shown = f'{mp:,.0f}' if mp >= 100 else f'{mp:.1f}'
        raise ValueError(f'the image is {width:,} × {height:,} pixels ({shown} megapixels); '
                         f'at most {MAX_PIXELS // 10**6} megapixels can be shown: scale it '
                         'down (300 dpi is plenty for print)')


def _damaged(kind: str, why: str) -> ValueError:
    return ValueError(f'the {kind} file is damaged or incomplete ({why}): export or save '
                      'it again')


def _png_chunks(data: bytes) -> None:
    """Every chunk whole, with a right checksum, up to IEND, and pixel data for every
    row: WeasyPrint draws the missing rows of a cut PNG black without a word, and
    Pillow too accepts a compressed stream that ends early. Data past the last row is
    not inflated (as Pillow ignores it): a zlib bomb there costs nothing."""
    view, pos, rows, inflater = memoryview(data), 8, 0, zlib.decompressobj()
    needed = _png_size(data)
    while True:
        length = int.from_bytes(view[pos:pos + 4], 'big')
        end = pos + 12 + length
        if pos + 12 > len(data) or end > len(data):
            raise _damaged('PNG', 'it ends before its last part')
        if zlib.crc32(view[pos + 4:end - 4]) != int.from_bytes(view[end - 4:end], 'big'):
            raise _damaged('PNG', 'a checksum does not match')
        if view[pos + 4:pos + 8] == b'IEND':
            break
        if view[pos + 4:pos + 8] == b'IDAT':
            rows += _inflated(inflater, view[pos + 8:end - 4], needed - rows)
        pos = end
    if rows < needed:
        raise _damaged('PNG', 'its pixel data stops before the last row')


def _inflated(inflater, compressed, wanted: int) -> int:
    """Bytes ``compressed`` inflates to, up to ``wanted``, 1 MB at a time (never all in
    memory)."""
    total = 0
    try:
        while compressed and not inflater.eof and total < wanted:
            total += len(inflater.decompress(compressed, 1 << 20))
            compressed = inflater.unconsumed_tail
    except zlib.error as error:
        raise _damaged('PNG', f'its pixel data is corrupt: {error}') from None
    return total


def _png_size(data: bytes) -> int:
    """Bytes of pixel data the PNG's header calls for: filter byte and pixels of each
    row, in each of the 7 passes when interlaced."""
    width, height, depth, color, _, _, interlace = struct.unpack('>IIBBBBB', data[16:29])
    bits = depth * {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(color, 1)
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4),
              (1, 0, 2, 2), (0, 1, 1, 2)] if interlace else [(0, 0, 1, 1)]
    size = 0
    for x, y, dx, dy in passes:
        across, down = -(-(width - x) // dx), -(-(height - y) // dy)
        if across > 0 and down > 0:
            size += down * (1 + (across * bits + 7) // 8)
    return size


def _jpeg_markers(data: bytes) -> None:
    """Walk the JPEG's markers to its end (EOI): its size against MAX_PIXELS before any
    decoding, a coding PDF readers can show, a bounded number of scans."""
    pos, frame, scans = 2, False, 0
    while True:
        if pos + 2 > len(data) or data[pos] != 0xFF:
            raise _damaged('JPEG', 'it ends before its end marker')
        marker = data[pos + 1]
        if marker == 0xD9:
            if not frame:
                raise _damaged('JPEG', 'it has no image header')
            return
        if marker == 0xFF or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 1 if marker == 0xFF else 2  # fill byte, or a marker without length
            continue
        length = int.from_bytes(data[pos + 2:pos + 4], 'big')
        if length < 2 or pos + 2 + length > len(data):
            raise _damaged('JPEG', 'it ends in the middle of a part')
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if length < 11:
                raise _damaged('JPEG', 'its header is cut short')
            if marker not in (0xC0, 0xC1, 0xC2) or data[pos + 4] != 8:
                raise ValueError('the JPEG uses a lossless, arithmetic or 12-bit coding '
                                 'that PDF readers cannot show: save it as a standard JPEG')
            height, width = struct.unpack('>HH', data[pos + 5:pos + 9])
            _pixels(width, height)
            frame = True
        pos += 2 + length
        if marker == 0xDA:
            scans += 1
            if not frame:
                raise _damaged('JPEG', 'its pixels come before its header')
            if scans > MAX_JPEG_SCANS:
                raise ValueError(f'the JPEG has more than {MAX_JPEG_SCANS} scans: save it '
                                 'again as a standard (baseline) JPEG')
            found = _JPEG_MARKER.search(data, pos)
            pos = found.start() if found else len(data)


@contextmanager
def _strict_pillow():
    """Pillow as strict as it gets: any warning (DecompressionBombWarning among them) is
    an error, and so is a truncated file, although WeasyPrint, once imported, sets
    ``LOAD_TRUNCATED_IMAGES`` for the whole process."""
    saved = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('error')
            yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = saved


def _decode(data: bytes, kind: str) -> None:
    """Decode every pixel once, as WeasyPrint will (the pixel cap has passed)."""
    try:
        with _strict_pillow(), Image.open(io.BytesIO(data), formats=[kind.upper()]) as image:
            if kind == 'jpeg':  # reads every coefficient, keeps 1/64 of the pixels
                image.draft(image.mode, (image.width // 8 or 1, image.height // 8 or 1))
            image.load()
    # Pillow reports bad data as OSError, SyntaxError, ValueError, struct.error, a
    # warning...: whichever it is, the image cannot be shown.
    except Exception as error:  # noqa: BLE001
        raise _damaged(kind.upper(), str(error) or type(error).__name__) from None


def _parse_svg(data: bytes) -> ElementTree.Element:
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
