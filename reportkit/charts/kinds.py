"""Stage 3, charts (continued): how a chart of each kind that needs more than a line of
matplotlib is drawn (dated points, ranked bars, a tile-grid map), in the house style
that :mod:`.draw` has set."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from reportkit.data.view import Series


OTHERS = '#26374a'
"""Every bar but the document's own (house colour; its own: :data:`.marks.HIGHLIGHT`)."""
SHADES = ['#e4e9ef', '#b5c3d3', '#7d93ad', '#4a6585', '#26374a']
"""Five shades for a tile map, lightest for the smallest values."""


def points(ax, series: Series, fmt, tick_fmt) -> None:
    """Dated milestones as points, each with its value, on a time axis in years."""
    from matplotlib.ticker import FuncFormatter

    xs, ys = series.xs, series.ys
    when = [decimal_year(x) for x in xs]
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
    # does not reach (an edition never shows a year after what it could know).
    lo, hi = math.floor(min(when)), math.floor(max(when))
    step = max(1, math.ceil((hi - lo + 1) / 12))
    ax.set_xlim(lo - 0.5, max(when) + 0.5)
    ax.set_xticks(list(range(hi, lo - 1, -step))[::-1])
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: str(int(v))))
    ax.yaxis.set_major_formatter(tick_fmt)


def hbar(ax, series: Series, fmt, tick_fmt) -> None:
    """Ranked bars, largest on top, unmarked (see :func:`.marks.mark`). Every label is laid out
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


def tiles(fig, ax, series: Series, fmt) -> None:
    """A tile-grid map: one square per x at its (row, column), shaded by value in five
    classes of equal counts (a legend gives each range), every tile with its code, so the
    map reads without colour; unmarked (see :func:`.marks.mark`)."""
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


def decimal_year(month: str) -> float:
    """'2014-07' -> 2014.5: a month's place on an axis in years."""
    return int(month[:4]) + (int(month[5:7]) - 1) / 12
