"""Images a writer shows in a section, checked by their content before WeasyPrint sees them.

WeasyPrint trusts an image: it decodes a PNG of any size (Pillow only warns), draws a
truncated one half black (it sets ``LOAD_TRUNCATED_IMAGES``), and draws an SVG's nested
``<use>`` for minutes. So the type is read from the content, the pixels are counted from
the header before anything is decoded, a PNG or JPEG must decode completely, and an SVG
must be inert and cost a bounded amount of drawing (checked in ``svg``). A refusal is a
ValueError with one plain line; the caller adds the file and line.
"""

from __future__ import annotations

import io
import re
import struct
import warnings
import zlib
from contextlib import contextmanager
from pathlib import PurePath

from PIL import Image, ImageFile

from reportkit.safety import svg

MAX_PIXELS = 25_000_000
"""Pixels of a PNG or JPEG. A letter page at 300 dpi is 8.4 megapixels, a 6000 × 4000
camera photo 24. WeasyPrint needs about 8 bytes a pixel to embed a PNG (measured: +190 MB
at 24 MP, +350 MB at 40 MP), so this keeps a build near the README's 400 MB."""

MAX_JPEG_SCANS = 100
"""Scans of a progressive JPEG: each is a pass over every pixel, and cameras and editors
write about ten (djpeg has ``-maxscans`` against the same attack)."""

EXTENSIONS = {'.png': 'png', '.jpg': 'jpeg', '.jpeg': 'jpeg', '.svg': 'svg'}
SHOWN = {'png': 'a PNG image', 'jpeg': 'a JPEG image', 'svg': 'an SVG drawing'}
RENAME = {'png': '.png', 'jpeg': '.jpg', 'svg': '.svg'}
OTHER_TYPES = [(0, b'GIF8', 'a GIF image'), (0, b'II*\0', 'a TIFF image'),
               (0, b'MM\0*', 'a TIFF image'), (8, b'WEBP', 'a WebP image'),
               (0, b'BM', 'a BMP image'), (4, b'ftyp', 'a HEIC or AVIF image'),
               (0, b'\0\0\0\x0cjP  ', 'a JPEG 2000 image'), (0, b'%PDF', 'a PDF document'),
               (0, b'%!PS', 'a PostScript file'), (0, b'\x1f\x8b', 'a compressed file')]
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
        svg.check(root)
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
        return 'svg', svg.parse(data)
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

