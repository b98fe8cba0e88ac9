"""A batch document's own bar or tile: each chart that marks it is drawn once, unmarked,
for every document that shares its data, and marked in the SVG per document."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reportkit.charts import draw, marks
from reportkit.charts.specs import load_chart_specs
from reportkit.data.view import data_view
from reportkit.load.edition import load_edition
from reportkit.project import Project

from .conftest import ROOT

PROJECT = Project.at(ROOT)


@pytest.fixture(scope='module')
def drawn():
    """Every 2016 profile's two charts in English, drawn as the build draws them."""
    edition = load_edition(PROJECT, 'state-trade/2016', ['en'])
    specs = load_chart_specs(PROJECT, edition)
    view, problems = data_view(PROJECT, edition, ['en'], specs)
    assert problems == []
    look = draw.style_digest(PROJECT)
    draw._UNMARKED.clear()
    charts, series = {}, {}
    for state in view.items:
        for chart_id in edition.config.figures:
            one = view.item_series[state]['en'][chart_id]
            series[state, chart_id] = one
            charts[state, chart_id] = draw.draw_chart(PROJECT, chart_id, specs[chart_id],
                                                      one, 'en', 'charts.toml', look)
    return charts, series, len(draw._UNMARKED)


def group_style(svg: str, gid: str) -> str:
    """The first style inside the group ``gid``."""
    match = re.search(rf'<g id="{gid}">\s*<(?:path|text)[^>]*?style="([^"]*)"', svg)
    assert match, gid
    return match.group(1)


def test_each_document_marks_its_own_x_and_no_other(drawn):
    charts, series, _ = drawn
    for (state, chart_id), chart in charts.items():
        svg, one = chart.svg.decode(), series[state, chart_id]
        mine = one.highlight
        assert one.xs[mine] == state
        accent = 'stroke: #af3c43' if chart_id.startswith('map') else 'fill: #af3c43'
        assert svg.count(marks.HIGHLIGHT) == 1, (state, chart_id)
        assert accent in group_style(svg, f'mark-{mine}'), (state, chart_id)
        for i in range(len(one.xs)):
            bold = 'font-weight: 700' in group_style(svg, f'label-{i}')
            assert bold == (i == mine), (state, chart_id, i)


def test_the_unmarked_drawings_are_made_once_per_map_and_division(drawn):
    """One map for the 51 states, one bar chart for each of the nine divisions: 10
    drawings for 102 charts."""
    charts, series, made = drawn
    divisions = {tuple(series[state, 'region-2016'].xs) for state, chart in charts
                 if chart == 'region-2016'}
    assert len(divisions) == 9
    assert made == 1 + 9


def test_a_division_keeps_one_frame_whichever_state_is_marked(drawn):
    """Each label is laid out bold, as the marked one will be: the longest name marked
    (District of Columbia, in its division) still fits, and the frame does not move."""
    charts, series, _ = drawn
    frames: dict[tuple, set] = {}
    for (state, chart_id), chart in charts.items():
        size = re.search(rb'<svg[^>]*width="([\d.]+)pt" height="([\d.]+)pt"', chart.svg)
        frames.setdefault((chart_id, tuple(series[state, chart_id].xs)), set()).add(
            size.groups())
    assert all(len(sizes) == 1 for sizes in frames.values())


def test_a_drawing_without_the_element_to_mark_is_an_error_not_a_wrong_chart():
    with pytest.raises(marks.ChartError, match='no element mark-3 to mark'):
        marks.mark(b'<svg><g id="mark-1"><path style="fill: #fff"/></g></svg>', 'hbar', 5, 3)


def _draw_every_chart(folder: str, counts: str, backwards: bool) -> dict:
    """(In a fork.) Every profile's charts in English, as a worker of a parallel batch
    draws them, sharing unmarked drawings in ``folder``; each drawing made is counted in
    the file ``counts``. Returns each chart's SVG digest."""
    import hashlib

    edition = load_edition(PROJECT, 'state-trade/2016', ['en'])
    specs = load_chart_specs(PROJECT, edition)
    view, _ = data_view(PROJECT, edition, ['en'], specs)
    look = draw.style_digest(PROJECT)
    draw._UNMARKED.clear()
    real = draw._svg

    def counted(*args):
        with open(counts, 'a', encoding='utf-8') as stream:
            stream.write('drawn\n')
        return real(*args)

    draw._svg = counted
    draw.share_drawings(Path(folder))
    made = {}
    for state in (reversed(view.items) if backwards else view.items):
        for chart_id in edition.config.figures:
            chart = draw.draw_chart(PROJECT, chart_id, specs[chart_id],
                                    view.item_series[state]['en'][chart_id], 'en',
                                    'charts.toml', look)
            made[state, chart_id] = hashlib.sha256(chart.svg).hexdigest()
    return made


def test_the_workers_of_a_batch_draw_each_unmarked_drawing_once_between_them(drawn,
                                                                          tmp_path):
    """Two processes checking a batch at once, one from each end: the 10 drawings are
    made once in all, and every chart is the one a process drawing alone makes."""
    import concurrent.futures as futures
    import hashlib
    import multiprocessing

    charts, _, _ = drawn
    counts = tmp_path / 'counts'
    with futures.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context('fork')) as pool:
        runs = [pool.submit(_draw_every_chart, str(tmp_path), str(counts), backwards)
                for backwards in (False, True)]
        made = [run.result() for run in runs]
    assert counts.read_text().count('drawn') == 1 + 9
    alone = {key: hashlib.sha256(chart.svg).hexdigest() for key, chart in charts.items()}
    assert made[0] == made[1] == alone
