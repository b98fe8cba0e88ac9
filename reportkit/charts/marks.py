"""Stage 3, charts (continued): a batch document's own bar or tile, marked in a chart
drawn once for every document that shares its data.

A chart of a kind that marks (:data:`~.draw.MARKED`) is drawn unmarked by matplotlib,
which names each bar or tile ``mark-N`` and each label ``label-N`` (its ``gid``, written
as the SVG group's id). Each document's SVG is that drawing with the styles of its own
elements changed: nothing else of the drawing is touched, and no text of the data is
read or written here.
"""

from __future__ import annotations

from reportkit.errors import ChartError

HIGHLIGHT = '#af3c43'
"""The document's own bar or tile (the house accent colour)."""
_MARKS = {'hbar': {'fill': HIGHLIGHT}, 'tiles': {'stroke': HIGHLIGHT, 'stroke-width': '2.2'}}


def mark(svg: bytes, kind: str, count: int, highlight: int | None) -> bytes:
    """``svg`` with x number ``highlight`` marked: its bar in the accent colour, or its
    tile outlined in it; its label bold, every other label regular. Only the styles of
    the elements this module named (``mark-N``, ``label-N``: matplotlib's gid) change."""
    text = svg.decode('utf-8')
    if highlight is not None:
        text = restyle(text, f'mark-{highlight}', _MARKS[kind])
    for i in range(count):
        bold = i == highlight
        if bold or kind == 'hbar':   # a tile's label is regular unless marked
            text = restyle(text, f'label-{i}', {'font-weight': '700' if bold else None})
    return text.encode('utf-8')


def restyle(text: str, gid: str, changes: dict[str, str | None]) -> str:
    """``text`` with the first ``style`` inside the group ``gid`` changed: each property
    of ``changes`` set (a new one first, as matplotlib orders them) or, given None,
    removed."""
    start = text.find(f'<g id="{gid}">')
    begin = text.find('style="', start) + len('style="') if start >= 0 else -1
    end = text.find('"', begin) if begin >= len('style="') else -1
    if end < 0:
        raise ChartError(f'the drawing has no element {gid} to mark (a matplotlib '
                         'version that writes SVG differently?)')
    styles = dict(part.split(': ', 1) for part in text[begin:end].split('; ') if part)
    new = {name: value for name, value in changes.items() if name not in styles}
    for name, value in styles.items():
        new[name] = changes[name] if name in changes else value
    kept = '; '.join(f'{name}: {value}' for name, value in new.items() if value is not None)
    return text[:begin] + kept + text[end:]
