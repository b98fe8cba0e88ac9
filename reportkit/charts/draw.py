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

from reportkit.charts import kinds
from reportkit.charts.marks import mark
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
CODE = [_PACKAGE / name for name in ('charts/draw.py', 'charts/kinds.py', 'charts/marks.py',
                                     'numbers.py', 'typography.py')]
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
    if spec.kind in MARKED:
        svg = mark(_unmarked(project, spec, series, lang, look), spec.kind,
                   len(series.xs), series.highlight)
    else:
        svg = _svg(project, spec, series, lang)
    return describe_chart(chart_id, spec, series, lang, shown, svg)


def describe_chart(chart_id: str, spec: ChartSpec, series: Series, lang: str, shown: str,
                   svg: bytes = b'') -> Chart:
    """The figure's words and data (title, alt text, source, rows) for ``lang``; with
    ``svg``, its drawing (without, for a review of what changed: matplotlib is not
    needed)."""
    fmt = value_format(lang, spec.digits)
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
            kinds.hbar(ax, series, fmt, tick_fmt)
            ax.set_xlabel(spec.y_label[lang])
        elif spec.kind == 'tiles':
            kinds.tiles(fig, ax, series, fmt)
        elif spec.kind == 'points':
            kinds.points(ax, series, fmt, tick_fmt)
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


MARKED = ('hbar', 'tiles')
"""The kinds that mark a batch document's own x. They are drawn unmarked, once for every
document whose chart shows the same data (a map: the whole batch; a division's bars: its
states), and each document's SVG is that drawing with its own bar or tile marked."""
_UNMARKED: dict[str, bytes] = {}
"""Unmarked drawings made by this process, by :func:`chart_key` (a few dozen kept)."""
_UNMARKED_KEPT = 64


_SHARED: list[Path] = []
"""The folder where the processes that check a batch's documents share their unmarked
drawings (:func:`share_drawings`), if any."""


def share_drawings(folder: Path | None) -> None:
    """Let the processes forked from here on share their unmarked drawings in ``folder``
    (a private, temporary folder of the build's; None: each process draws its own)."""
    _SHARED[:] = [folder] if folder is not None else []


def _unmarked(project: Project, spec: ChartSpec, series: Series, lang: str,
              look: str) -> bytes:
    """The drawing of ``series`` with no x marked; made once per process and ``look``
    (once per build when the processes share them)."""
    plain = dataclasses.replace(series, highlight=None, context={})
    key = chart_key('unmarked', spec, plain, lang, look) if look else ''
    svg = _UNMARKED.get(key)
    if svg is None:
        if key and _SHARED:
            _pyplot()   # loaded first, rather than waiting for another process's drawing
            svg = _drawn_once(_SHARED[0] / f'{key}.svg',
                              lambda: _svg(project, spec, plain, lang))
        else:
            svg = _svg(project, spec, plain, lang)
        if key:
            while len(_UNMARKED) >= _UNMARKED_KEPT:
                del _UNMARKED[next(iter(_UNMARKED))]
            _UNMARKED[key] = svg
    return svg


def _drawn_once(path: Path, draw: Callable[[], bytes]) -> bytes:
    """The drawing at ``path``, drawn by the first process that needs it while the
    others wait for it (a lock per drawing: filelock's flock)."""
    from filelock import FileLock

    with FileLock(f'{path}.lock', poll_interval=0.01):
        if path.is_file():
            return path.read_bytes()
        svg = draw()
        write_atomically(path, svg)
        return svg


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
                drawer: Worker | None = None, shown: str = '', drawing: bool = True
                ) -> Callable[[], dict[str, dict[str, Chart]]]:
    """Draw every wanted figure in every language of ``series`` (lang -> chart -> series;
    definitions and data were checked in stage 2). Returns the function that gives the
    figures (lang -> chart -> figure), once drawn.

    With a ``cache`` folder, a figure is drawn again only when its definition, its series,
    the house style, the fonts, the drawing code or matplotlib changed. With a ``drawer``
    (:func:`start_drawer`), the figures are drawn there, while this process goes on.
    Without ``drawing``, a figure not in the cache is only described (its SVG empty)."""
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
    if not drawing:
        for (lang, chart_id, _), each in zip(todo, work):
            drawn[lang, chart_id] = describe_chart(*each[:5])
        todo = []
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
    from reportkit.files import digest_of
    from reportkit.inputs import code_digests, software

    digest = hashlib.sha256(software()['matplotlib'].encode() + b'\0')
    code = code_digests()
    for path in CODE:
        digest.update(code[f'reportkit/{path.relative_to(_PACKAGE).as_posix()}'].encode())
    for path, limit, kind in [(_style(project), MAX_STYLE_BYTES, 'chart style'),
                              *((font, MAX_FONT_BYTES, 'font') for font in _fonts(project))]:
        try:
            data = read_bytes(project.root, path, what=f'the {kind} {path.name}',
                              shown=project.show(path), limit=limit, error=ChartError)
        except FileNotFoundError:
            raise ChartError('not found', path=project.show(path)) from None
        digest.update(digest_of(data).encode())
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
