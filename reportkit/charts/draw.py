"""Stage 3, charts: chart definitions + the series of the data view -> SVG figures (real
text, house style).

Definitions live with each series (``reports/<series>/charts.toml``); the house style,
shared by every series, in ``charts/house.mplstyle``.
Every figure carries its number (given later, by order of appearance), title, source
line, alt text and the data table that the annex prints.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from reportkit.errors import ChartError
from reportkit.files import MB, checked, listing, read_bytes, write_atomically
from reportkit.numbers import decimal, month_year
from reportkit.project import Project
from reportkit.typography import for_language

if TYPE_CHECKING:  # pragma: no cover
    from reportkit.charts.specs import ChartSpec
    from reportkit.data.view import Series
    from reportkit.safety.worker import Worker

_PACKAGE = Path(__file__).resolve().parent.parent
CODE = [_PACKAGE / name for name in ('charts/draw.py', 'numbers.py', 'typography.py')]
"""The code that decides how a chart looks: part of each chart's cache key."""


def _pyplot():
    """matplotlib, imported only when a chart has to be drawn (it takes half a second)."""
    import matplotlib
    matplotlib.use('svg')  # NOTE: before pyplot is imported; no display on servers.
    import matplotlib.pyplot as plt
    return matplotlib, plt


@dataclass(frozen=True)
class Chart:
    """A drawn figure in one language."""

    id: str
    svg: bytes
    title: str
    source: str
    alt: str
    columns: list[str]
    rows: list[tuple[str, str]]
    """The data drawn, formatted for the language: (label, value)."""


_FONTS_ADDED: dict[Path, list[str]] = {}
"""The project whose fonts matplotlib was given, and their files (a process, e.g. the
test suite, may build from several projects)."""
MAX_STYLE_BYTES = 64 * 1024
MAX_FONT_BYTES = 20 * MB


def _use_house_style(project: Project, plt) -> None:
    if list(_FONTS_ADDED) != [project.root]:
        from matplotlib import font_manager
        manager = font_manager.fontManager
        fonts = [str(_checked(project, font, MAX_FONT_BYTES, 'font'))
                 for font in _fonts(project)]
        # Forget another project's fonts: their family names would stand for files that
        # may be gone, or be other files.
        earlier = {name for names in _FONTS_ADDED.values() for name in names}
        manager.ttflist = [entry for entry in manager.ttflist if entry.fname not in earlier]
        for font in fonts:
            manager.addfont(font)   # (clears matplotlib's cache of font choices)
        _FONTS_ADDED.clear()
        _FONTS_ADDED[project.root] = fonts
    plt.style.use(str(_checked(project, _style(project), MAX_STYLE_BYTES, 'chart style')))


def _style(project: Project) -> Path:
    return project.charts / 'house.mplstyle'


def _fonts(project: Project) -> list[Path]:
    return listing(project.root, project.templates / 'fonts', '*.ttf')


def _checked(project: Project, path: Path, limit: int, kind: str) -> Path:
    """``path`` resolved, by the containment rule (matplotlib opens it itself)."""
    try:
        return checked(project.root, path, what=f'the {kind} {path.name}',
                       shown=project.show(path), limit=limit, error=ChartError)
    except FileNotFoundError:
        raise ChartError('not found', path=project.show(path)) from None


def draw_chart(project: Project, chart_id: str, spec: ChartSpec, series: Series,
               lang: str, shown: str, look: str = '') -> Chart:
    """Draw one figure for ``lang`` from its series. With ``look``
    (:func:`style_digest`), the unmarked drawing of a kind that marks the document's own
    x is made once in this process for every document that shares it."""
    fmt = value_format(lang, spec.digits)
    if spec.kind in MARKED:
        svg = _mark(_unmarked(project, spec, series, lang, look), spec.kind,
                    len(series.xs), series.highlight)
    else:
        svg = _svg(project, spec, series, lang)
    ys, labels = series.ys, series.labels
    rows = [(label, fmt(y)) for label, y in zip(labels, ys)]
    values = {**_summary(labels, ys, fmt, spec, series.period), **series.context}
    if series.highlight is not None:
        values['value'] = fmt(ys[series.highlight])
    texts = {}
    for name in ('title', 'alt', 'source'):
        texts[name] = _format(getattr(spec, name)[lang], values, chart_id, f'{name}.{lang}',
                              shown)
    title, alt, source = texts['title'], texts['alt'], texts['source']
    return Chart(chart_id, svg, for_language(title, lang),
                 for_language(source, lang), for_language(alt, lang),
                 [for_language(c, lang) for c in spec.columns[lang]], rows)


def _svg(project: Project, spec: ChartSpec, series: Series, lang: str) -> bytes:
    """The figure itself, as SVG."""
    xs, ys = series.xs, series.ys
    fmt = value_format(lang, spec.digits)
    _, plt = _pyplot()
    from matplotlib.ticker import FuncFormatter, MaxNLocator
    _use_house_style(project, plt)
    fig, ax = plt.subplots()
    try:
        # Ticks at whole numbers print without decimals; others with one.
        tick_fmt = FuncFormatter(lambda v, _: decimal(v, lang, 0 if float(v).is_integer() else 1))
        if spec.kind == 'line':
            px, py = [], []
            for i, (x, y) in enumerate(zip(xs, ys)):
                if i and int(x) - int(xs[i - 1]) > 1:
                    px.append(math.nan)
                    py.append(math.nan)
                px.append(int(x))
                py.append(y)
            ax.plot(px, py, marker='o', markersize=2.5)
            ax.set_ylim(bottom=0)
            ax.set_xlim(int(xs[0]) - 0.5, int(xs[-1]) + 0.5)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=10))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: str(int(v))))
            ax.yaxis.set_major_formatter(tick_fmt)
        elif spec.kind == 'bar':
            bars = ax.bar([str(x) for x in xs], ys, width=0.6)
            ax.bar_label(bars, labels=[fmt(y) for y in ys], padding=2, fontsize=8)
            ax.yaxis.set_major_formatter(tick_fmt)
            ax.margins(y=0.12)
            # Few bars keep the width they have among five, rather than filling the frame.
            spare = max(0.0, (5 - len(xs)) / 2)
            ax.set_xlim(-0.6 - spare, len(xs) - 0.4 + spare)
        elif spec.kind == 'hbar':
            _hbar(ax, series, fmt, tick_fmt)
            ax.set_xlabel(spec.y_label[lang])
        elif spec.kind == 'tiles':
            _tiles(fig, ax, series, fmt)
        elif spec.kind == 'points':
            when = [_decimal_year(x) for x in xs]
            ax.plot(when, ys, linestyle='none', marker='o', markersize=5)
            for i, (w, y) in enumerate(zip(when, ys)):
                # Milestones close in time: label the earlier to the left, the later
                # to the right, so that the labels never overlap.
                near_next = i + 1 < len(when) and when[i + 1] - w < 1
                near_prev = i > 0 and w - when[i - 1] < 1
                offset, align = ((-6, 0), 'right') if near_next else \
                    ((6, 0), 'left') if near_prev else ((0, 7), 'center')
                ax.annotate(fmt(y), (w, y), textcoords='offset points', xytext=offset,
                            ha=align, va='bottom' if align == 'center' else 'center',
                            fontsize=7.5)
            ax.set_ylim(0, max(ys) * 1.18)
            # Year ticks stop at the last data year: no tick for a year the data
            # does not reach (an edition never shows a year after its cut-off).
            lo, hi = math.floor(min(when)), math.floor(max(when))
            step = max(1, math.ceil((hi - lo + 1) / 12))
            ax.set_xlim(lo - 0.5, max(when) + 0.5)
            ax.set_xticks(list(range(hi, lo - 1, -step))[::-1])
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: str(int(v))))
            ax.yaxis.set_major_formatter(tick_fmt)
        if spec.kind not in ('hbar', 'tiles'):
            ax.set_ylabel(spec.y_label[lang])
            if spec.x_label[lang]:
                ax.set_xlabel(spec.x_label[lang])
        buffer = io.BytesIO()
        fig.savefig(buffer, format='svg', metadata={'Date': None, 'Creator': None})
    finally:
        plt.close(fig)

    return buffer.getvalue()


def value_format(lang: str, digits: int):
    """How a chart prints a value: with ``digits`` decimals, and a value too small to
    show as anything but zero as '<0.1', never as a misleading 0.0."""
    smallest = 10 ** -digits

    def fmt(value: float) -> str:
        if value and abs(value) < smallest / 2:
            return '<' + decimal(smallest, lang, digits)
        return decimal(value, lang, digits)
    return fmt


HIGHLIGHT, OTHERS = '#af3c43', '#26374a'
"""The document's own bar or tile, and the others (house colours)."""
SHADES = ['#e4e9ef', '#b5c3d3', '#7d93ad', '#4a6585', '#26374a']
"""Five shades for a tile map, lightest for the smallest values."""


def _hbar(ax, series: Series, fmt, tick_fmt) -> None:
    """Ranked bars, largest on top, unmarked (see :func:`_mark`). Every label is laid out
    bold, as wide as the one that will be marked: the figure's frame is the same whichever
    bar is the document's own, and that bar's label always fits."""
    ys, labels = series.ys, series.labels
    bars = ax.barh(labels[::-1], ys[::-1], height=0.6, color=OTHERS)
    ax.bar_label(bars, labels=[fmt(y) for y in ys[::-1]], padding=3, fontsize=8)
    for bar, tick, i in zip(bars, ax.get_yticklabels(), range(len(ys) - 1, -1, -1)):
        bar.set_gid(f'mark-{i}')
        tick.set_gid(f'label-{i}')
        tick.set_fontweight('bold')
    ax.grid(axis='y', visible=False)
    ax.grid(axis='x', visible=True)
    ax.xaxis.set_major_formatter(tick_fmt)
    ax.margins(x=0.1)
    ax.tick_params(axis='y', length=0)


def _tiles(fig, ax, series: Series, fmt) -> None:
    """A tile-grid map: one square per x at its (row, column), shaded by value in five
    classes of equal counts (a legend gives each range), every tile with its code, so the
    map reads without colour; unmarked (see :func:`_mark`)."""
    from matplotlib.patches import Patch, Rectangle

    ranked = sorted(series.ys)
    bounds = [ranked[min(len(ranked) - 1, (len(ranked) * k) // 5)] for k in range(1, 5)]
    shade = lambda y: sum(1 for b in bounds if y >= b)  # noqa: E731
    for i, ((row, col), y) in enumerate(zip(series.tiles, series.ys)):
        level = shade(y)
        ax.add_patch(Rectangle((col, -row), 0.92, 0.92, facecolor=SHADES[level],
                               edgecolor='white', linewidth=0.5, gid=f'mark-{i}'))
        ax.text(col + 0.46, -row + 0.46, str(series.xs[i]), ha='center', va='center',
                fontsize=7, color='white' if level >= 3 else '#1a1a1a', gid=f'label-{i}')
    rows = [r for r, _ in series.tiles]
    cols = [c for _, c in series.tiles]
    ax.set_xlim(min(cols) - 0.1, max(cols) + 1.0)
    ax.set_ylim(-max(rows) - 0.1, -min(rows) + 1.0)
    ax.set_aspect('equal')
    ax.axis('off')
    edges = [ranked[0], *bounds, ranked[-1]]
    # The lowest class is 'under' its upper bound: a lower bound too small for the scale
    # would read '<0.1 – 0.9'.
    labels = [f'< {fmt(edges[1])}'] + [f'{fmt(edges[k])} – {fmt(edges[k + 1])}'
                                       for k in range(1, 5)]
    ax.legend(handles=[Patch(facecolor=SHADES[k], label=labels[k]) for k in range(5)],
              loc='upper left', bbox_to_anchor=(1.0, 1.0), fontsize=7, handlelength=1.2,
              borderaxespad=0.2)


MARKED = ('hbar', 'tiles')
"""The kinds that mark a batch document's own x. They are drawn unmarked, once for every
document whose chart shows the same data (a map: the whole batch; a division's bars: its
states), and each document's SVG is that drawing with its own bar or tile marked."""
_MARKS = {'hbar': {'fill': HIGHLIGHT}, 'tiles': {'stroke': HIGHLIGHT, 'stroke-width': '2.2'}}
_UNMARKED: dict[str, bytes] = {}
"""Unmarked drawings made by this process, by :func:`chart_key` (a few dozen kept)."""
_UNMARKED_KEPT = 64


def _unmarked(project: Project, spec: ChartSpec, series: Series, lang: str,
              look: str) -> bytes:
    """The drawing of ``series`` with no x marked; made once per process and ``look``."""
    plain = dataclasses.replace(series, highlight=None, context={})
    key = chart_key('unmarked', spec, plain, lang, look) if look else ''
    svg = _UNMARKED.get(key)
    if svg is None:
        svg = _svg(project, spec, plain, lang)
        if key:
            while len(_UNMARKED) >= _UNMARKED_KEPT:
                del _UNMARKED[next(iter(_UNMARKED))]
            _UNMARKED[key] = svg
    return svg


def _mark(svg: bytes, kind: str, count: int, highlight: int | None) -> bytes:
    """``svg`` with x number ``highlight`` marked: its bar in the accent colour, or its
    tile outlined in it; its label bold, every other label regular. Only the styles of
    the elements this module named (``mark-N``, ``label-N``: matplotlib's gid) change."""
    text = svg.decode('utf-8')
    if highlight is not None:
        text = _restyle(text, f'mark-{highlight}', _MARKS[kind])
    for i in range(count):
        bold = i == highlight
        if bold or kind == 'hbar':   # a tile's label is regular unless marked
            text = _restyle(text, f'label-{i}', {'font-weight': '700' if bold else None})
    return text.encode('utf-8')


def _restyle(text: str, gid: str, changes: dict[str, str | None]) -> str:
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


def _format(text: str, values: dict, chart_id: str, key: str, shown: str) -> str:
    """A chart text with its placeholders filled, through the sandbox's formatter (only
    names, bounded widths and length)."""
    from jinja2.sandbox import SecurityError

    from reportkit.safety.sandbox import format_text
    try:
        return format_text(text, values)
    except (SecurityError, ValueError) as error:
        raise ChartError(f"[{chart_id}] '{key}': {error}", path=shown) from None


def x_label(x, spec: ChartSpec, lang: str) -> str:
    """An x value as the chart labels it: a year, or 'December 2014' for a month."""
    if spec.kind == 'points':
        return month_year(dt.date(int(x[:4]), int(x[5:7]), 1), lang)
    return str(x)


def _decimal_year(month: str) -> float:
    return int(month[:4]) + (int(month[5:7]) - 1) / 12


def _summary(labels: list[str], ys: list[float], fmt, spec: ChartSpec,
             period: str) -> dict:
    """Values a title or alt text may name; for hbar, last_x is the data year."""
    hi = max(range(len(ys)), key=lambda i: ys[i])
    lo = min(range(len(ys)), key=lambda i: ys[i])
    return {'first_x': labels[0], 'first_y': fmt(ys[0]),
            'last_x': period if spec.kind in ('hbar', 'tiles') else labels[-1],
            'last_y': fmt(ys[-1]),
            'max_x': labels[hi], 'max_y': fmt(ys[hi]), 'min_x': labels[lo],
            'min_y': fmt(ys[lo]), 'count': len(ys)}


def draw_charts(project: Project, specs: dict[str, ChartSpec], wanted: list[str],
                series: dict[str, dict[str, Series]], cache: Path | None = None,
                drawer: Worker | None = None, shown: str = ''
                ) -> Callable[[], dict[str, dict[str, Chart]]]:
    """Draw every wanted figure in every language of ``series`` (lang -> chart -> series;
    definitions and data were checked in stage 2). Returns the function that gives the
    figures (lang -> chart -> figure), once drawn.

    With a ``cache`` folder, a figure is drawn again only when its definition, its series,
    the house style, the fonts, the drawing code or matplotlib changed. With a ``drawer``
    (:func:`start_drawer`), the figures are drawn there, while this process goes on."""
    shown = shown or 'the chart definitions'
    look = style_digest(project)   # also checks the style and fonts the drawer opens
    drawn: dict[tuple[str, str], Chart] = {}
    todo: list[tuple[str, str, str]] = []
    for lang, by_id in series.items():
        for chart_id in wanted:
            key = chart_key(chart_id, specs[chart_id], by_id[chart_id], lang, look)
            chart = _cached(cache, key) if cache is not None else None
            if chart is None:
                todo.append((lang, chart_id, key))
            else:
                drawn[lang, chart_id] = chart
    work = [(chart_id, specs[chart_id], series[lang][chart_id], lang, shown, look)
            for lang, chart_id, _ in todo]
    pending = drawer.submit(draw_on_two_cores, project, work) if drawer and todo else None

    def figures() -> dict[str, dict[str, Chart]]:
        if todo:
            made = pending.result() if pending else draw_several(project, work)
            for (lang, chart_id, key), chart in zip(todo, made):
                drawn[lang, chart_id] = chart
                if cache is not None:
                    _store(cache, key, chart)
        return {lang: {chart_id: drawn[lang, chart_id] for chart_id in wanted}
                for lang in series}

    return figures


def draw_several(project: Project, charts: list[tuple]) -> list[Chart]:
    """:func:`draw_chart` of each (chart id, spec, series, lang, shown, look), in order."""
    return [draw_chart(project, *chart) for chart in charts]


def draw_on_two_cores(project: Project, charts: list[tuple]) -> list[Chart]:
    """In the drawer, once matplotlib is loaded: half of the charts are drawn in a fork of
    the drawer, which inherits matplotlib instead of loading it again."""
    from reportkit.safety.worker import call_in_fork

    half = len(charts) // 2
    theirs = call_in_fork(draw_several, project, charts[half:]) if half else None
    ours = draw_several(project, charts[:half] if half else charts)
    return ours + theirs() if theirs else ours


def start_drawer(project: Project) -> Worker:
    """A :class:`~.worker.Worker` that loads matplotlib and the house style ahead of
    time, while the build reads the data (for :func:`draw_charts`)."""
    from reportkit.safety.worker import Worker

    def preload() -> None:
        _, plt = _pyplot()
        _use_house_style(project, plt)

    return Worker(preload, 'chart-drawing')


def chart_key(chart_id: str, spec: ChartSpec, series: Series, lang: str, look: str) -> str:
    """Digest of everything a drawn chart depends on; ``look`` is :func:`style_digest`."""
    digest = hashlib.sha256()
    for part in (chart_id, lang, look, spec.model_dump_json(),
                 json.dumps(dataclasses.asdict(series), ensure_ascii=False)):
        digest.update(part.encode() + b'\0')
    return digest.hexdigest()


def style_digest(project: Project) -> str:
    """Digest of what every chart shares: the house style, the fonts, the drawing code
    and matplotlib's version (read once per run, not once per chart)."""
    from importlib.metadata import version
    digest = hashlib.sha256(version('matplotlib').encode() + b'\0')
    for path in CODE:
        digest.update(path.read_bytes() + b'\0')
    for path, limit, kind in [(_style(project), MAX_STYLE_BYTES, 'chart style'),
                              *((font, MAX_FONT_BYTES, 'font') for font in _fonts(project))]:
        try:
            data = read_bytes(project.root, path, what=f'the {kind} {path.name}',
                              shown=project.show(path), limit=limit, error=ChartError)
        except FileNotFoundError:
            raise ChartError('not found', path=project.show(path)) from None
        digest.update(data + b'\0')
    return digest.hexdigest()


def _cached(cache: Path, key: str) -> Chart | None:
    try:
        data = json.loads((cache / f'{key}.json').read_text(encoding='utf-8'))
        data['svg'] = data['svg'].encode('utf-8')
        data['rows'] = [tuple(row) for row in data['rows']]
        return Chart(**data)
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _store(cache: Path, key: str, chart: Chart) -> None:
    data = dataclasses.asdict(chart)
    data['svg'] = chart.svg.decode('utf-8')
    write_atomically(cache / f'{key}.json', json.dumps(data, ensure_ascii=False).encode('utf-8'))
