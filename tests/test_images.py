"""Images a writer shows: the type by content, and every hostile image refused in bounds.

Each file is made here, with Pillow, matplotlib or by hand (PNG chunks with their CRCs,
JPEG markers, SVG text). Every call of ``check_image`` is measured: it must answer within
SECONDS and MEMORY_MB (bounds, not benchmarks; ``pytest -s`` prints the figures).
"""

from __future__ import annotations

import gc
import io
import re
import struct
import time
import tracemalloc
import warnings
import zlib

import pytest
from PIL import Image, ImageFile

from reportkit.safety import images
from reportkit.safety import svg as svg_module
from reportkit.safety.images import check_image

SECONDS = 2.0
MEMORY_MB = 100
"""Bounds for one call: the peak of Python's heap (tracemalloc), and the peak resident
memory of the process above what it held before the call, which also counts Pillow's
own buffers (decoding the 40,000 × 40,000 bomb would take 200 MB to 1.6 GB)."""


def _status(key: str) -> float:
    """A figure of /proc/self/status, in MB."""
    with open('/proc/self/status') as status:
        return int(re.search(rf'{key}:\s+(\d+) kB', status.read())[1]) / 1024


def _peak_start() -> float:
    """Where the call's peak resident memory is measured from: Linux restarts the peak
    (VmHWM) on request, and then it is the RSS now; where that is not allowed, the peak
    so far (a weaker bound: only growth past it shows)."""
    try:
        with open('/proc/self/clear_refs', 'w') as clear:
            clear.write('5')
    except OSError:
        return _status('VmHWM')
    return _status('VmRSS')


def measured(data: bytes, name: str):
    """``check_image(data, name)``: its answer (a type, or the ValueError), in bounds."""
    gc.collect()
    rss_before = _peak_start()
    tracemalloc.start()
    start = time.perf_counter()
    try:
        outcome = check_image(data, name)
    except ValueError as error:
        outcome = error
    seconds = time.perf_counter() - start
    heap = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    rss = _status('VmHWM') - rss_before
    print(f'\n{name} ({len(data):,} bytes): {seconds:.3f} s, {heap:.1f} MB heap peak, '
          f'+{rss:.0f} MB RSS peak -> {outcome}')
    assert seconds < SECONDS, f'{seconds:.2f} s'
    assert heap < MEMORY_MB, f'{heap:.0f} MB'
    assert rss < MEMORY_MB, f'+{rss:.0f} MB RSS'
    return outcome


def refused(data: bytes, name: str) -> str:
    """The one-line message of a refusal."""
    outcome = measured(data, name)
    assert isinstance(outcome, ValueError), f'accepted as {outcome!r}'
    assert '\n' not in str(outcome)
    return str(outcome)


# Raster files -----------------------------------------------------------------------

def saved(image: Image.Image, kind: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, kind, **options)
    return buffer.getvalue()


def photo(size=(300, 200), mode='RGB') -> Image.Image:
    """An image with detail in it (noise compresses badly, like a photo)."""
    return Image.effect_noise(size, 60).convert(mode)


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack('>I', len(body)) + kind + body + \
        struct.pack('>I', zlib.crc32(kind + body))


def png_by_hand(width: int, height: int, bit_depth: int, color_type: int,
                rows: bytes | None = None, interlace: int = 0) -> bytes:
    """A PNG from its chunks. Without ``rows``: every row zero, compressed as a stream so
    that a 40,000 × 40,000 image costs a few MB to make."""
    ihdr = struct.pack('>IIBBBBB', width, height, bit_depth, color_type, 0, 0, interlace)
    if rows is None:
        row = 1 + (width * bit_depth + 7) // 8
        compressor, block = zlib.compressobj(9), bytes(row * 1000)
        rows = b''.join(compressor.compress(block) for _ in range(height // 1000))
        rows += compressor.compress(bytes(row * (height % 1000))) + compressor.flush()
    else:
        rows = zlib.compress(rows)
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', rows) + \
        chunk(b'IEND', b'')


@pytest.fixture(scope='module')
def png_bomb() -> bytes:
    """40,000 × 40,000 pixels of 1 bit: 200 MB of rows in a file of about 200 KB (as 8-bit
    grey it is the 1.4 MB file that decodes to 1.6 GB; the header is what matters)."""
    return png_by_hand(40_000, 40_000, 1, 0)


def with_jpeg_size(data: bytes, width: int, height: int) -> bytes:
    """A real JPEG whose frame header (SOF0) states another size."""
    at = data.index(b'\xff\xc0')
    return data[:at + 5] + struct.pack('>HH', height, width) + data[at + 9:]


@pytest.mark.parametrize('name, data, kind', [
    ('photo.png', lambda: saved(photo(), 'PNG'), 'png'),
    ('alpha.png', lambda: saved(photo(mode='RGBA'), 'PNG'), 'png'),
    ('palette.png', lambda: saved(photo().quantize(16), 'PNG'), 'png'),
    ('grey16.png', lambda: saved(photo(mode='I;16'), 'PNG'), 'png'),
    ('photo.jpg', lambda: saved(photo(), 'JPEG'), 'jpeg'),
    ('Photo.JPEG', lambda: saved(photo(), 'JPEG', progressive=True), 'jpeg'),
    ('grey.jpeg', lambda: saved(photo(mode='L'), 'JPEG'), 'jpeg'),
    ('print.jpg', lambda: saved(photo(mode='CMYK'), 'JPEG'), 'jpeg'),
])
def test_good_raster_images_pass_with_their_type(name, data, kind):
    assert measured(data(), name) == kind


def test_the_pixel_cap_is_inclusive_and_decoding_up_to_it_stays_in_bounds():
    at_cap = saved(Image.new('1', (5_000, 5_000)), 'PNG')   # exactly 25 megapixels
    assert measured(at_cap, 'full-page.png') == 'png'
    over = saved(Image.new('1', (5_001, 5_000)), 'PNG')
    assert refused(over, 'over.png') == (
        'the image is 5,001 × 5,000 pixels (25.0 megapixels); at most 25 megapixels can '
        'be shown: scale it down (300 dpi is plenty for print)')


@pytest.mark.parametrize('name, data, message', [
    ('map.png', lambda: saved(photo(), 'GIF'),
     'the file is a GIF image, not PNG: save it as PNG or JPEG'),
    ('map.png', lambda: saved(photo(), 'TIFF'),
     'the file is a TIFF image, not PNG: save it as PNG or JPEG'),
    ('map.jpg', lambda: saved(photo(), 'WEBP'),
     'the file is a WebP image, not JPEG: save it as PNG or JPEG'),
    ('map.png', lambda: saved(photo(), 'BMP'),
     'the file is a BMP image, not PNG: save it as PNG or JPEG'),
    ('map.png', lambda: saved(photo(), 'JPEG'),
     'the file is a JPEG image, but its name ends in .png: rename it to .jpg'),
    ('map.jpg', lambda: saved(photo(), 'PNG'),
     'the file is a PNG image, but its name ends in .jpg: rename it to .png'),
    ('map.svg', lambda: saved(photo(), 'PNG'),
     'the file is a PNG image, but its name ends in .svg: rename it to .png'),
    ('map.png', lambda: svg('<rect width="1" height="1"/>'),
     'the file is an SVG drawing, but its name ends in .png: rename it to .svg'),
    ('map.gif', lambda: saved(photo(), 'PNG'),
     'the file is a PNG image, but its name does not end in .png, .jpg or .svg: rename '
     'it to .png'),
    ('map.png', lambda: b'<html><body>404 Not Found</body></html>',
     'the file is not a PNG image (its content is not PNG, JPEG or SVG): save it again '
     'as PNG, JPEG or SVG'),
    ('map.jpg', lambda: b'',
     'the file is not a JPEG image (its content is not PNG, JPEG or SVG): save it again '
     'as PNG, JPEG or SVG'),
])
def test_the_type_is_read_from_the_content_and_must_match_the_name(name, data, message):
    assert refused(data(), name) == message


def test_a_truncated_png_is_refused():
    data = saved(photo(), 'PNG')
    assert refused(data[:len(data) // 2], 'half.png') == (
        'the PNG file is damaged or incomplete (it ends before its last part): export or '
        'save it again')


def test_a_png_with_a_changed_byte_is_refused():
    data = bytearray(saved(photo(), 'PNG'))
    data[len(data) // 2] ^= 0xFF
    assert refused(bytes(data), 'flipped.png') == (
        'the PNG file is damaged or incomplete (a checksum does not match): export or '
        'save it again')


ROWS = b''.join(b'\0' + bytes(range(256)) * 3 for _ in range(200))
"""Pixel data of a 256 × 200 RGB image: a filter byte and 768 bytes a row."""


def test_a_png_whose_pixel_data_stops_at_half_the_rows_is_refused():
    # Every chunk whole, CRCs right, the compressed stream properly ended, but it holds
    # 100 rows of 200: Pillow accepts it and fills the rest black.
    data = png_by_hand(256, 200, 8, 2, rows=ROWS[:len(ROWS) // 2])
    assert refused(data, 'short.png') == (
        'the PNG file is damaged or incomplete (its pixel data stops before the last '
        'row): export or save it again')


def test_an_interlaced_png_needs_all_seven_passes():
    # Adam7 of 256 × 200 RGB: 2,425 + 2,425 + 4,825 + 9,650 + 19,250 + 38,500 + 76,900
    # bytes, against 153,800 for the same image not interlaced. Pillow decodes it.
    assert measured(png_by_hand(256, 200, 8, 2, rows=ROWS), 'plain.png') == 'png'
    full = png_by_hand(256, 200, 8, 2, rows=bytes(153_975), interlace=1)
    assert measured(full, 'adam7.png') == 'png'
    short = png_by_hand(256, 200, 8, 2, rows=bytes(153_974), interlace=1)
    assert 'stops before the last row' in refused(short, 'adam7-short.png')


def test_a_png_cut_inside_its_compressed_stream_is_refused_even_as_weasyprint_sets_pillow(
        monkeypatch):
    # WeasyPrint sets LOAD_TRUNCATED_IMAGES for the whole process when it is imported.
    monkeypatch.setattr(ImageFile, 'LOAD_TRUNCATED_IMAGES', True)
    cut = zlib.compress(ROWS)[:400]
    data = png_by_hand(256, 200, 8, 2, rows=b'')
    data = data.replace(chunk(b'IDAT', zlib.compress(b'')), chunk(b'IDAT', cut))
    assert 'stops before the last row' in refused(data, 'cut-stream.png')
    assert measured(saved(photo(), 'PNG'), 'photo.png') == 'png'
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # WeasyPrint's setting left as it was


def test_compressed_data_past_the_last_row_is_not_inflated(monkeypatch):
    # 200 rows, then 200 MB of zeros in the same stream (a zlib bomb past the image,
    # which Pillow ignores): checking inflates the rows and stops there.
    compressor = zlib.compressobj(9)
    stream = compressor.compress(ROWS) + b''.join(
        compressor.compress(bytes(10**7)) for _ in range(20)) + compressor.flush()
    data = png_by_hand(256, 200, 8, 2, rows=b'').replace(
        chunk(b'IDAT', zlib.compress(b'')), chunk(b'IDAT', stream))
    inflated, decompressobj = [], zlib.decompressobj

    class Counting:
        def __init__(self):
            self.inner = decompressobj()

        def decompress(self, data, limit):
            out = self.inner.decompress(data, limit)
            inflated.append(len(out))
            return out

        def __getattr__(self, name):
            return getattr(self.inner, name)

    monkeypatch.setattr(images.zlib, 'decompressobj', Counting)
    assert measured(data, 'tail-bomb.png') == 'png'
    assert len(ROWS) <= sum(inflated) <= len(ROWS) + 2**20


def test_pixel_data_pillow_cannot_decode_is_refused():
    # Whole, checksums right, every byte there, but row filter 9 does not exist.
    rows = b''.join(b'\x09' + bytes(768) for _ in range(200))
    assert refused(png_by_hand(256, 200, 8, 2, rows=rows), 'filter.png') == (
        'the PNG file is damaged or incomplete (unrecognized data stream contents when '
        'reading image file): export or save it again')


def test_a_truncated_jpeg_is_refused():
    data = saved(photo(), 'JPEG')
    assert refused(data[:len(data) // 2], 'half.jpg') == (
        'the JPEG file is damaged or incomplete (it ends before its end marker): export '
        'or save it again')


def test_a_png_bomb_is_refused_from_its_header_without_a_warning(png_bomb, capfd):
    assert len(png_bomb) < 2_000_000
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        message = refused(png_bomb, 'bomb.png')
    assert message == (
        'the image is 40,000 × 40,000 pixels (1,600 megapixels); at most 25 megapixels '
        'can be shown: scale it down (300 dpi is plenty for print)')
    assert caught == []
    printed = capfd.readouterr()
    with capfd.disabled():
        print(printed.out, end='')  # the figures, for pytest -s
    assert 'DecompressionBomb' not in printed.err


def test_a_jpeg_stating_a_huge_size_is_refused_from_its_header():
    data = with_jpeg_size(saved(photo(), 'JPEG'), 65_000, 65_000)
    assert refused(data, 'huge.jpg') == (
        'the image is 65,000 × 65,000 pixels (4,225 megapixels); at most 25 megapixels '
        'can be shown: scale it down (300 dpi is plenty for print)')


def test_a_jpeg_coding_pdf_readers_cannot_show_is_refused():
    data = saved(photo(), 'JPEG')
    lossless = data.replace(b'\xff\xc0', b'\xff\xc3', 1)  # SOF3: lossless Huffman
    assert refused(lossless, 'lossless.jpg') == (
        'the JPEG uses a lossless, arithmetic or 12-bit coding that PDF readers cannot '
        'show: save it as a standard JPEG')


def test_a_jpeg_whose_header_is_cut_short_is_refused():
    data = saved(photo(), 'JPEG')
    at = data.index(b'\xff\xc0')
    end = at + 2 + int.from_bytes(data[at + 2:at + 4], 'big')
    short = data[:at] + b'\xff\xc0\x00\x04\x08\x00' + data[end:]
    assert refused(short, 'short.jpg') == (
        'the JPEG file is damaged or incomplete (its header is cut short): export or save '
        'it again')


def test_a_jpeg_with_endless_scans_is_refused():
    data = saved(photo(), 'JPEG', progressive=True)
    scan = data.index(b'\xff\xda')
    end = data.index(b'\xff\xda', scan + 2)  # one whole scan: header and its data
    data = data[:scan] + data[scan:end] * 200 + data[scan:]
    assert refused(data, 'scans.jpg') == (
        'the JPEG has more than 100 scans: save it again as a standard (baseline) JPEG')


def test_pillow_warnings_become_refusals_and_are_never_printed(monkeypatch, capfd):
    # Pillow warns above MAX_IMAGE_PIXELS (and raises above twice it); lowered so that
    # it warns for these 10,000 pixels, the warning must become the refusal.
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 6_000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        message = refused(saved(photo((100, 100)), 'PNG'), 'warned.png')
    assert message.startswith('the PNG file is damaged or incomplete (Image size')
    assert caught == []
    printed = capfd.readouterr()
    with capfd.disabled():
        print(printed.out, end='')
    assert printed.err == ''


# SVG ---------------------------------------------------------------------------------

def svg(body: str, attributes: str = '', head: str = '') -> bytes:
    return (f'{head}<svg xmlns="http://www.w3.org/2000/svg" '
            f'xmlns:xlink="http://www.w3.org/1999/xlink" width="200" height="100" '
            f'{attributes}>{body}</svg>').encode()


DRAWING = svg('''
  <style>path { stroke-linejoin: round } .axis, #title { fill: #333 }</style>
  <defs>
    <linearGradient id="sky"><stop offset="0" stop-color="#fff"/><stop offset="1"/>
    </linearGradient>
    <clipPath id="frame"><rect width="180" height="80"/></clipPath>
    <marker id="arrow" markerWidth="4" markerHeight="4" orient="auto">
      <path d="M0 0 L4 2 L0 4 z"/></marker>
    <symbol id="dot"><circle r="2"/></symbol>
    <pattern id="hatch" width="4" height="4" patternUnits="userSpaceOnUse">
      <path d="M0 4 L4 0" stroke="#000"/></pattern>
  </defs>
  <g inkscape:label="Layer 1" xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"
     clip-path="url(#frame)">
    <rect width="180" height="80" fill="url(#sky)"/>
    <rect x="10" width="20" height="30" style="fill: url('#hatch'); stroke: #000"/>
    <path class="axis" d="M10 70 L170 70" marker-end="url(#arrow)" stroke="#000"/>
    <use xlink:href="#dot" x="40" y="40"/><use href="#dot" x="60" y="30"/>
    <text id="title" x="10" y="95">Crossings &amp; trade, 2015 (é)</text>
  </g>''', head='<?xml version="1.0" standalone="no"?>\n<!DOCTYPE svg PUBLIC '
               '"-//W3C//DTD SVG 1.1//EN" '
               '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n')


def test_a_drawing_with_references_styles_and_a_doctype_passes():
    assert measured(DRAWING, 'drawing.svg') == 'svg'


@pytest.fixture(scope='module')
def matplotlib_chart() -> bytes:
    """A busy chart as the project draws them: glyphs, markers, hatches, clip paths."""
    import matplotlib
    matplotlib.use('svg')
    import matplotlib.pyplot as plt
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 4))
    years = list(range(2002, 2016))
    for marker in 'os^D':
        left.plot(years, [(y * 7 + ord(marker)) % 13 for y in years], marker + '-',
                  label=f'Series {marker}')
    left.scatter([2003 + i / 50 for i in range(500)], [(i * 37) % 13 for i in range(500)],
                 s=3)
    left.legend()
    left.set_title('Two-way goods trade, 2002–2015 (US$ billions)')
    bars = right.bar([str(y) for y in years], range(14), hatch='//')
    right.bar_label(bars)
    right.grid(True)
    buffer = io.BytesIO()
    fig.savefig(buffer, format='svg', metadata={'Date': None, 'Creator': None})
    plt.close(fig)
    return buffer.getvalue()


def test_a_matplotlib_chart_passes_with_room_to_spare(matplotlib_chart, monkeypatch):
    assert matplotlib_chart.count(b'<use ') > 500
    # Still passes with a third of the cap: a normal chart is far from it.
    monkeypatch.setattr(svg_module, 'MAX_SVG_WORK', svg_module.MAX_SVG_WORK // 3)
    assert measured(matplotlib_chart, 'chart.svg') == 'svg'


def laughs(levels: int = 10, uses: int = 10) -> bytes:
    """Billion laughs with <use>: each level uses the one below ``uses`` times."""
    groups = ''.join(f'<g id="l{level}">' + f'<use href="#l{level - 1}"/>' * uses + '</g>'
                     for level in range(1, levels + 1))
    return svg(f'<defs><path id="l0" d="M0 0 L1 1"/>{groups}</defs>'
               f'<use href="#l{levels}"/>')


TOO_BIG = ('the SVG expands to more than 20,000 elements (nested <use>, repeated '
           'references or long text); simplify the drawing')
TOO_DEEP = ('the SVG nests more than 50 levels deep (groups or <use> inside one '
            'another); simplify the drawing')


def many_ids(count: int = 2_000) -> bytes:
    """Few elements, but WeasyPrint scans the whole file again for each distinct id (it
    takes 4 s to draw this one)."""
    return svg('<defs>' + ''.join(f'<path id="p{i}" d="M0 0"/>' for i in range(count))
               + '</defs>' + ''.join(f'<use href="#p{i}"/>' for i in range(count)))


@pytest.mark.parametrize('case, data, message', [
    ('use-laughs', lambda: laughs(), TOO_BIG),
    ('use-laughs-xlink', lambda: laughs().replace(b' href=', b' xlink:href='), TOO_BIG),
    ('many-ids', many_ids, TOO_BIG),
    ('markers', lambda: svg(
        '<marker id="m">' + '<circle r="1"/>' * 10 + '</marker><path marker-mid="url(#m)" '
        'd="M0 0 ' + 'L1 1 ' * 3_000 + '"/>'), TOO_BIG),
    ('inherited-pattern', lambda: svg(
        '<pattern id="p" width="4" height="4">' + '<rect width="1" height="1"/>' * 50 +
        '</pattern><g fill="url(#p)">' + '<rect width="1" height="1"/>' * 500 + '</g>'),
     TOO_BIG),
    ('stylesheet-marker', lambda: svg(
        '<style>* { marker: url(#m) }</style><marker id="m">' + '<circle r="1"/>' * 20 +
        '</marker>' + '<path d="M0 0 L1 1 L2 2 L3 3"/>' * 300), TOO_BIG),
    ('long-text', lambda: svg('<defs><text id="t">' + 'Beyond the Border ' * 60 +
                              '</text></defs>' + '<use href="#t"/>' * 30), TOO_BIG),
    ('deep-groups', lambda: svg('<g>' * 60 + '<rect/>' + '</g>' * 60), TOO_DEEP),
    ('deep-uses', lambda: svg('<defs><rect id="u0"/>' + ''.join(
        f'<g id="u{i}"><use href="#u{i - 1}"/></g>' for i in range(1, 60)) +
        '</defs><use href="#u59"/>'), TOO_DEEP),
    ('use-cycle', lambda: svg('<g id="a"><use href="#b"/></g><g id="b"><use href="#a"/></g>'),
     "the SVG's references go round in a loop (through #a): break the loop"),
    ('use-itself', lambda: svg('<use id="u" href="#u"/>'),
     "the SVG's references go round in a loop (through #u): break the loop"),
    ('pattern-cycle', lambda: svg(
        '<pattern id="p"><rect fill="url(#q)"/></pattern>'
        '<pattern id="q"><rect fill="url(#p)"/></pattern><rect fill="url(#p)"/>'),
     "the SVG's references go round in a loop (through #p): break the loop"),
    ('script', lambda: svg('<script>alert(document.cookie)</script>'),
     'the SVG contains <script>, which a report cannot show or run: remove it from the '
     'drawing'),
    ('foreign-object', lambda: svg('<foreignObject><p xmlns="http://www.w3.org/1999/xhtml">'
                                   'hi</p></foreignObject>'),
     'the SVG contains <foreignObject>, which a report cannot show or run: remove it from '
     'the drawing'),
    ('embedded-image', lambda: svg('<image href="data:image/png;base64,iVBORw0KGgo="/>'),
     'the SVG contains <image>, which a report cannot show or run: remove it from the '
     'drawing'),
    ('onload', lambda: svg('<rect/>', attributes='onload="alert(1)"'),
     'the SVG has an event handler (onload=…), which a report cannot run: remove it from '
     'the drawing'),
    ('onclick', lambda: svg('<rect onClick="alert(1)"/>'),
     'the SVG has an event handler (onClick=…), which a report cannot run: remove it from '
     'the drawing'),
    ('external-use', lambda: svg('<use xlink:href="http://example.org/icons.svg#flag"/>'),
     "the SVG refers to 'http://example.org/icons.svg#flag'; a drawing may only refer to "
     'its own parts (#id), not to other files or addresses: embed or remove it'),
    ('file-use', lambda: svg('<use href="../../secret.svg#a"/>'),
     "the SVG refers to '../../secret.svg#a'; a drawing may only refer to its own parts "
     '(#id), not to other files or addresses: embed or remove it'),
    ('javascript-link', lambda: svg('<a href="javascript:alert(1)"><text>x</text></a>'),
     "the SVG refers to 'javascript:alert(1)'; a drawing may only refer to its own parts "
     '(#id), not to other files or addresses: embed or remove it'),
    ('external-fill', lambda: svg('<rect fill="url(http://example.org/p.svg#p)"/>'),
     "the SVG refers to 'http://example.org/p.svg#p'; a drawing may only refer to its own "
     'parts (#id), not to other files or addresses: embed or remove it'),
    ('escaped-style-url', lambda: svg(r'<rect style="fill: u\72l(file:///etc/passwd)"/>'),
     "the SVG refers to 'file:///etc/passwd'; a drawing may only refer to its own parts "
     '(#id), not to other files or addresses: embed or remove it'),
    ('style-import', lambda: svg('<style>@import url(http://example.org/a.css);</style>'),
     "the SVG's <style> loads another file (@import): remove it from the drawing"),
    ('style-font-face', lambda: svg('<style>@font-face { font-family: X; '
                                    'src: url(x.woff) }</style>'),
     "the SVG's <style> loads another file (@font-face): remove it from the drawing"),
    ('complex-selector', lambda: svg('<style>g g g g g path { fill: red }</style>'),
     "the SVG's <style> uses the selector 'g g g g g path'; only simple ones (path, "
     '.class, #id, *) are allowed: export the drawing with styles on the elements'),
    ('entity-laughs', lambda: svg('<text>&l9;</text>', head='<!DOCTYPE svg [<!ENTITY l0 '
                                  '"ha">' + ''.join(f'<!ENTITY l{i} "' + f'&l{i - 1};' * 10
                                                    + '">' for i in range(1, 10)) + ']>'),
     'the SVG declares entities (<!DOCTYPE … [ … ]>), which can expand without limit: '
     'remove the <!DOCTYPE> block'),
    ('external-entity', lambda: svg('<text>&x;</text>', head='<!DOCTYPE svg [<!ENTITY x '
                                    'SYSTEM "file:///etc/passwd">]>'),
     'the SVG declares entities (<!DOCTYPE … [ … ]>), which can expand without limit: '
     'remove the <!DOCTYPE> block'),
    ('entity-from-dtd', lambda: svg('<text>&x;</text>', head='<!DOCTYPE svg SYSTEM '
                                    '"http://example.org/evil.dtd">'),
     'the SVG uses an entity (&name;) it does not define: write the text it stands for'),
    ('not-xml', lambda: svg('<g><rect></g>'),
     'the SVG is not well-formed XML (line 1: mismatched tag): save it again from the '
     'drawing program'),
    ('no-namespace', lambda: b'<svg width="10" height="10"><rect/></svg>',
     'the SVG does not declare xmlns="http://www.w3.org/2000/svg" on its <svg> element: '
     'save it again from the drawing program'),
    ('html', lambda: b'<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
     'the file is XML but not an SVG drawing (it starts with <html>): save it as SVG, '
     'PNG or JPEG'),
])
def test_hostile_svg_is_refused_in_bounds(case, data, message):
    data = data()
    assert len(data) < 100_000  # small files: the danger is in what they expand to
    assert refused(data, f'{case}.svg') == message


def test_the_use_bomb_is_within_the_cap_one_level_down():
    # The same shape, 3 levels of 10: 1,111 uses, well inside the cap, so the refusal
    # above is about the expansion, not the form.
    assert measured(laughs(levels=3), 'laughs-3.svg') == 'svg'
