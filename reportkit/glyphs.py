"""Which characters the bundled fonts can show.

WeasyPrint draws a character that no font has as an empty box (".notdef") and says so
without naming the file or line it came from. The narrative is checked against the
fonts' character maps instead, so that the message names the section and line.

Reading the maps needs fontTools (0.1 s to import): the set is cached in
``build/cache/glyphs/``, keyed by the fonts' digests.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
from pathlib import Path

from .errors import ContentError
from .files import MB, listing, read_bytes
from .project import Project
from .render import write_atomically

MAX_FONT_BYTES = 20 * MB


def coverage(project: Project, cache: Path | None = None) -> frozenset[int]:
    """The code points at least one bundled font (``templates/fonts/*.ttf``) maps."""
    fonts = {}
    for path in listing(project.root, project.templates / 'fonts', '*.ttf'):
        fonts[path.name] = read_bytes(project.root, path, what=f'the font {path.name}',
                                      shown=project.show(path), limit=MAX_FONT_BYTES,
                                      error=ContentError)
    digest = hashlib.sha256()
    for name, data in sorted(fonts.items()):
        digest.update(name.encode() + b'\0' + hashlib.sha256(data).digest())
    stored = cache / 'glyphs' / f'{digest.hexdigest()}.json' if cache else None
    if stored is not None:
        try:
            return frozenset(json.loads(stored.read_text(encoding='ascii')))
        except (OSError, ValueError, TypeError):
            pass
    covered = _read_maps(fonts)
    if stored is not None:
        write_atomically(stored, json.dumps(sorted(covered)).encode('ascii'))
    return covered


def _read_maps(fonts: dict[str, bytes]) -> frozenset[int]:
    from fontTools.ttLib import TTFont, TTLibError

    covered: set[int] = set()
    for name, data in fonts.items():
        try:
            covered |= set(TTFont(io.BytesIO(data), lazy=True)['cmap'].getBestCmap() or ())
        except (TTLibError, KeyError, AssertionError, ValueError, struct.error) as error:
            raise ContentError(f'the font {name} cannot be read ({error})',
                               path=f'templates/fonts/{name}') from None
    return frozenset(covered)

