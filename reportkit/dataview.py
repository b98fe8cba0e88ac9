"""Stage 2, data (continued): from the validated tables, everything the later stages take
from ``data/``, as plain Python values, per language:

- the values the narrative may print (:mod:`facts`);
- the rows of the tables the report prints;
- the series each chart draws, with its labels in the language.

Nothing in a :class:`DataView` is a pandas object, so it can be kept: it is cached in
``build/cache/data/``, keyed by the edition's years and figures, the pipeline's code, the
library versions and the digests of every file its reading opened (the data files and
their declarations, the chart definitions). A build whose data
did not change (an edit to the narrative, a new translation) takes the view from there and
never loads pandas. The cache file is a pickle of the pipeline's own classes, written by
the build in the project's build folder; a file that cannot be read is recomputed.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .errors import ChartError, DataError, ReportError, unique
from .files import write_atomically
from .project import Project

if TYPE_CHECKING:  # pragma: no cover
    from .chartspecs import ChartSpec
    from .config import EditionConfig
    from .data import Table, Tables


@dataclass(frozen=True)
class Series:
    """What one chart draws, in one language."""

    xs: list
    """The x values as the data has them: years (int), months ('2014-12') or codes."""
    ys: list[float]
    """The y values, divided by the chart's ``y_scale``."""
    labels: list[str]
    """Each x as the language shows it (a state's name, 'December 2014')."""
    period: str = ''
    """The last data year of a yearly dataset ('' otherwise)."""


@dataclass
class DataView:
    """Everything an edition takes from ``data/``, per language."""

    values: dict[str, dict] = field(default_factory=dict)
    """lang -> the values a section may print (without the helper functions)."""
    rows: dict[str, dict[str, list[tuple]]] = field(default_factory=dict)
    """lang -> printed table -> its rows, as data (translated words come at compose)."""
    series: dict[str, dict[str, Series]] = field(default_factory=dict)
    """lang -> chart -> its series (empty when the chart definitions have problems)."""
    datasets: list[str] = field(default_factory=list)
    """The datasets the values, rows and series were taken from (what an archived PDF
    embeds as its source data)."""


def data_view(project: Project, config: EditionConfig, languages: list[str],
              specs: dict[str, ChartSpec], cache: Path | None = None,
              on_miss: Callable[[], None] | None = None
              ) -> tuple[DataView | None, list[ReportError]]:
    """The edition's view of ``data/`` in ``languages``, and every problem found.

    The view is None when the data itself has problems. When only the chart definitions
    have problems, the view has no series (the narrative can still be checked).
    ``on_miss()`` is called before the data is read (the view was not in the cache)."""
    from .files import note, recording

    plan = _plan(config, languages) if cache is not None else ''
    if cache is not None:
        hit = _depends(project, cache).lookup(plan)
        view = _cached(cache, hit[0]) if hit else None
        if view is not None:
            note(hit[1])   # the data files stand behind this view: they are inputs
            return view, []
    if on_miss is not None:
        on_miss()
    with recording() as journal:
        view, problems = _extract(project, config, languages, specs)
    if cache is not None and view is not None and not problems:
        _store(cache, _depends(project, cache).remember(plan, journal), view)
    return view, problems


def _extract(project: Project, config: EditionConfig, languages: list[str],
             specs: dict[str, ChartSpec]) -> tuple[DataView | None, list[ReportError]]:
    from . import data as data_stage   # pandas: only when the data has to be read
    from . import facts
    from .chartspecs import chart_problems

    problems: list[ReportError] = []
    all_tables = data_stage.load_tables(project, gather=problems)
    tables = _Used(data_stage.window(all_tables, config.data_through))
    unreadable = frozenset(data_stage.load_specs(project)) - set(all_tables)
    chart_file = project.charts / 'charts.toml'
    chart_shown = project.show(chart_file)
    chart_issues = chart_problems(specs, config.figures, tables, languages, chart_shown,
                                  unreadable, _declaration_text(project, chart_file))
    if unreadable or problems:
        return None, problems + chart_issues
    view = DataView()
    for lang in languages:
        view.values[lang] = facts.narrative_values(tables, config.year, config.data_through,
                                                   lang, all_tables)
        try:
            view.rows[lang] = {name: rows(tables, lang) for name, rows in TABLES.items()}
        except DataError as error:
            problems.append(error)
    if not chart_issues:
        for lang in languages:
            view.series[lang] = {}
            for chart_id in config.figures:
                try:
                    view.series[lang][chart_id] = chart_series(specs[chart_id], tables, lang,
                                                               chart_id, chart_shown)
                except ChartError as error:
                    problems.append(error)
    view.datasets = sorted(tables.used)
    problems = unique(problems) + chart_issues
    return (None if any(isinstance(p, DataError) for p in problems) else view), problems


class _Used(dict):
    """The tables, remembering which of them were looked up."""

    def __init__(self, tables: dict) -> None:
        super().__init__(tables)
        self.used: set[str] = set()

    def __getitem__(self, name: str):
        self.used.add(name)
        return super().__getitem__(name)


def _declaration_text(project: Project, path: Path) -> str:
    """The chart definitions' text, for the lines of messages (read and checked before)."""
    from .declarations import MAX_DECLARATION_BYTES
    from .files import read_text
    return read_text(project.root, path, what='the chart definitions',
                     shown=project.show(path), limit=MAX_DECLARATION_BYTES, error=ChartError)


def chart_series(spec: ChartSpec, tables: Tables, lang: str, chart_id: str,
                 shown: str) -> Series:
    """The points of one chart from the (windowed) tables."""
    from .charts import x_label

    table = tables[spec.dataset]
    frame = table.frame
    for column, value in spec.where.items():
        frame = frame[frame[column] == value]
    frame = frame.dropna(subset=[spec.y])
    if spec.kind == 'hbar':
        frame = frame.sort_values(spec.y, ascending=False).head(spec.top or 10)
    else:
        frame = frame.sort_values(spec.x)
    if frame.empty:
        raise ChartError(f"[{chart_id}] no data to draw within the edition's years",
                         path=shown)
    xs = [_plain(x) for x in frame[spec.x]]
    ys = [float(value) / spec.y_scale for value in frame[spec.y]]
    if spec.names is not None:
        names = tables[spec.names]
        lookup = dict(zip(names.frame[names.spec.key[0]], names.text('name', lang)))
        labels = [str(lookup[x]) for x in xs]
    else:
        labels = [x_label(x, spec, lang) for x in xs]
    period = str(int(frame[table.spec.period].max())) if table.spec.period == 'year' else ''
    return Series(xs, ys, labels, period)


def _plain(value):
    """A numpy scalar as the Python value (so that a view never needs numpy to load)."""
    return value.item() if hasattr(value, 'item') else value


def _initiatives_rows(tables: Tables, lang: str) -> list[tuple]:
    """(id, area, title, lead, status, completed) of every initiative, in ``lang``."""
    table: Table = tables['initiatives']
    frame = table.frame
    titles, leads = table.text('title', lang), table.text('lead', lang)
    rows = []
    for i, r in enumerate(frame.itertuples()):
        if r.status == 'completed' and not isinstance(r.completed, str):
            raise DataError("status is 'completed' but the 'completed' date is empty "
                            '(give at least the year)', path=table.shown, line=table.lines[i])
        rows.append((r.id, r.area, str(titles.iloc[i]), str(leads.iloc[i]), r.status,
                     r.completed if isinstance(r.completed, str) else ''))
    return rows


TABLES = {'initiatives': _initiatives_rows}
"""The tables a section may place (``@table(initiatives)``): name -> its rows."""


def _plan(config: EditionConfig, languages: list[str]) -> str:
    """What a view is made for: the edition's years and figures, in its languages, by
    this code and these libraries (the files it reads are its dependencies)."""
    from .inputs import code_digests, key, software

    return key('data', config.id, config.year, config.data_through, list(config.figures),
               sorted(languages), software(), code_digests())


def _depends(project: Project, cache: Path):
    from .cache import Depends
    return Depends(cache / 'data', project.root)


def _cached(cache: Path, key: str) -> DataView | None:
    try:
        with (cache / 'data' / f'{key}.pickle').open('rb') as stream:
            view = pickle.load(stream)
    except Exception:   # missing, truncated or from other code: computed again
        return None
    return view if isinstance(view, DataView) else None


def _store(cache: Path, key: str, view: DataView) -> None:
    write_atomically(cache / 'data' / f'{key}.pickle',
                     pickle.dumps(view, protocol=pickle.HIGHEST_PROTOCOL))
