"""Stage 2, data (continued): from the validated tables, everything the later stages take
from ``data/``, as plain Python values, per language:

- the values the narrative may print (:mod:`values`, as the series declares them);
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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from reportkit.errors import ChartError, DataError, ReportError, unique
from reportkit.files import Journal, write_atomically
from reportkit.project import Project
from reportkit.data.tables import printed_table, table_problems
from reportkit.data.values import Record, declared_values

if TYPE_CHECKING:  # pragma: no cover
    from reportkit.charts.specs import ChartSpec
    from reportkit.data.read import Tables
    from reportkit.load.edition import Edition
    from reportkit.load.series import ForEach


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
    highlight: int | None = None
    """The index of the document's own x (a batch document's state), drawn apart."""
    tiles: list[tuple[int, int]] = field(default_factory=list)
    """For a tile map: each x's (row, column) in the grid."""
    context: dict = field(default_factory=dict)
    """What the chart's words may name about the document: {name}, {value}, {rank},
    {group}."""


@dataclass
class DataView:
    """Everything an edition takes from ``data/``, per language."""

    values: dict[str, dict] = field(default_factory=dict)
    """lang -> the values a section may print (without the helper functions)."""
    rows: dict[str, dict[str, dict]] = field(default_factory=dict)
    """lang -> printed table -> the table (title, columns, rows) in that language."""
    series: dict[str, dict[str, Series]] = field(default_factory=dict)
    """lang -> chart -> its series (empty when the chart definitions have problems)."""
    datasets: list[str] = field(default_factory=list)
    """The datasets the values, rows and series were taken from (what an archived PDF
    embeds as its source data)."""
    items: list[str] = field(default_factory=list)
    """A batch series' documents: the key of each row of its ``for_each`` dataset."""
    records: dict[str, dict[str, Record]] = field(default_factory=dict)
    """lang -> document key -> its row (``this`` in its narrative and templates)."""
    item_series: dict[str, dict[str, dict[str, Series]]] = field(default_factory=dict)
    """document key -> lang -> chart -> the series drawn for that document."""

    def document(self, item: str | None, lang: str) -> dict:
        """What a batch document's narrative adds: ``doc`` (its key) and ``this``."""
        if item is None:
            return {}
        return {'doc': item, 'this': self.records[lang][item]}

    def rows_of(self, item: str | None) -> dict[str, Record]:
        """A batch document's row in every language (lang -> record)."""
        return {} if item is None else {lang: rows[item] for lang, rows in self.records.items()}

    def series_of(self, item: str | None) -> dict[str, dict[str, Series]]:
        return self.series if item is None else self.item_series.get(item, {})


def data_view(project: Project, edition: Edition, languages: list[str],
              specs: dict[str, ChartSpec], cache: Path | None = None,
              on_miss: Callable[[], None] | None = None
              ) -> tuple[DataView | None, list[ReportError]]:
    """The edition's view of ``data/`` in ``languages``, and every problem found.

    The view is None when the data itself has problems. When only the chart definitions
    have problems, the view has no series (the narrative can still be checked).
    ``on_miss()`` is called before the data is read (the view was not in the cache)."""
    from reportkit.files import note, recording

    recent = _recent(project, edition, languages, cache)
    if recent is not None:
        note(recent[1])   # the data files stand behind this view: they are inputs
        return recent[0], []
    plan = _plan(edition, languages) if cache is not None else ''
    if cache is not None:
        hit = _depends(project, cache).lookup(plan)
        view = _cached(cache, hit[0]) if hit else None
        if view is not None:
            note(hit[1])
            _remember(edition, languages, cache, view, hit[1])
            return view, []
    if on_miss is not None:
        on_miss()
    with recording() as journal:
        view, problems = _extract(project, edition, languages, specs)
    if view is not None and not problems:
        _remember(edition, languages, cache, view, journal)
        if cache is not None:
            _store(cache, _depends(project, cache).remember(plan, journal), view)
    return view, problems


_RECENT: list[tuple[tuple, frozenset[str], DataView, Journal]] = []
"""The views this process made or took from the cache last: (what it is for, but for
its languages, and the cache folder it is in; its languages; the view; the files behind
it). Every document of a batch is served by the same view, here (and in the workers
forked after it was made) with no reading at all, cache or not; a lookup checks that the
files behind it are unchanged."""
_RECENT_KEPT = 2


def _recent(project: Project, edition: Edition, languages: list[str], cache: Path | None):
    """(view, journal) made before in this process for this edition in (at least)
    ``languages``, with this ``cache``, if the files behind it are unchanged."""
    from reportkit.files import unchanged

    wanted, plan = set(languages), (_plan(edition, []), cache)
    for made_for, langs, view, journal in _RECENT:
        if made_for == plan and wanted <= langs and unchanged(project.root, journal):
            return view, journal
    return None


def _remember(edition: Edition, languages: list[str], cache: Path | None, view: DataView,
              journal: Journal) -> None:
    _RECENT.insert(0, ((_plan(edition, []), cache), frozenset(languages), view, journal))
    del _RECENT[_RECENT_KEPT:]


def _extract(project: Project, edition: Edition, languages: list[str],
             specs: dict[str, ChartSpec]) -> tuple[DataView | None, list[ReportError]]:
    from reportkit.data import read as data_stage  # pandas: only when the data has to be read
    from reportkit.data.known import window
    from reportkit.charts.specs import chart_file, chart_problems

    config, series = edition.config, edition.series
    problems: list[ReportError] = []
    all_tables = data_stage.load_tables(project, series.datasets, gather=problems)
    tables = _Used(window(all_tables, config.publication_date))
    unreadable = frozenset(series.datasets) - set(all_tables)
    path = chart_file(project, edition)
    chart_shown = project.show(path) if path else edition.series_shown
    chart_issues = chart_problems(specs, config.figures, tables, languages, chart_shown,
                                  unreadable, _declaration_text(project, path) if path else '')
    problems += _declared_problems(edition, all_tables, unreadable)
    if unreadable or problems:
        return None, problems + chart_issues
    view = DataView()
    for lang in languages:
        try:
            view.values[lang] = declared_values(edition.values, tables, lang,
                                                config.publication_date, all_tables)
            view.rows[lang] = {name: printed_table(name, spec, tables, lang)
                               for name, spec in series.tables.items()}
        except DataError as error:
            problems.append(error)
    if series.for_each:
        # Every language's row: a document names its other-language edition too.
        view.items, view.records = _documents(series.for_each, tables, series.languages)
    if not chart_issues:
        made: dict = {}
        for item in (view.items or [None]):
            drawn = view.series if item is None else view.item_series.setdefault(item, {})
            for lang in languages:
                drawn[lang] = {}
                for chart_id in config.figures:
                    try:
                        drawn[lang][chart_id] = chart_series(specs[chart_id], tables, lang,
                                                             chart_id, chart_shown, item,
                                                             made)
                    except ChartError as error:
                        problems.append(error)
    view.datasets = sorted(tables.used)
    problems = unique(problems) + chart_issues
    return (None if any(isinstance(p, DataError) for p in problems) else view), problems


def _declared_problems(edition: Edition, tables: Tables,
                       unreadable: frozenset[str]) -> list[ReportError]:
    """Values and tables that name a dataset or a column the data does not have."""
    problems = []
    declared = [(name, spec, edition.config_shown if name in edition.config.values
                 else edition.series_shown) for name, spec in edition.values.items()]
    for name, spec, shown in declared:
        if spec.dataset in unreadable and spec.dataset in edition.series.datasets:
            continue
        if spec.dataset not in tables:
            problems.append(DataError(f"value '{name}': the series does not read the "
                                      f"dataset '{spec.dataset}' (add it to 'datasets')",
                                      path=shown))
            continue
        columns = tables[spec.dataset].spec.columns
        named = [spec.column, spec.key, spec.latest, (spec.sort or '').lstrip('-') or None,
                 *spec.fields.values(), *spec.where]
        for column in named:
            if column and column not in columns:
                problems.append(DataError(f"value '{name}': dataset '{spec.dataset}' has "
                                          f"no column '{column}'", path=shown))
        for field_name, names in spec.names.items():
            if names not in tables and names not in unreadable:
                problems.append(DataError(f"value '{name}': 'names.{field_name}' names the "
                                          f"dataset '{names}', which the series does not "
                                          'read', path=shown))
    for name, spec in edition.series.tables.items():
        if spec.dataset not in unreadable:
            problems += [DataError(problem, path=edition.series_shown)
                         for problem in table_problems(name, spec, tables, '')]
    return problems


def _documents(for_each: ForEach, tables: Tables, languages: list[str]):
    """(keys, lang -> key -> record) of a batch series' documents."""
    table = tables[for_each.dataset]
    key = table.spec.key[0]
    items = [str(value) for value in table.frame[key]]
    records = {}
    for lang in languages:
        columns = {name: table.text(name, lang) for name in table.spec.columns}
        records[lang] = {item: Record({name: _plain(values.iloc[i])
                                       for name, values in columns.items()})
                         for i, item in enumerate(items)}
    return items, records


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
    from reportkit.load.declarations import MAX_DECLARATION_BYTES
    from reportkit.files import read_text
    return read_text(project.root, path, what='the chart definitions',
                     shown=project.show(path), limit=MAX_DECLARATION_BYTES, error=ChartError)


def chart_series(spec: ChartSpec, tables: Tables, lang: str, chart_id: str,
                 shown: str, item: str | None = None, made: dict | None = None) -> Series:
    """The points of one chart from the (windowed) tables; for a batch document
    (``item``), only its ``group`` and with its own x marked. ``made`` keeps the points
    between the documents of a batch: those of a chart, language and group are found
    once, and only marked per document."""
    names = tables[spec.names] if spec.names else None
    group = None
    if spec.group and item is not None:
        code = names.spec.key[0]
        group = dict(zip(names.frame[code], names.frame[spec.group])).get(item)
    wanted = (chart_id, lang, group, spec.group is not None and item is not None)
    points = made.get(wanted) if made is not None else None
    if points is None:
        points = _points(spec, tables, lang, chart_id, shown, wanted[3], group)
        if made is not None:
            made[wanted] = points
    return _marked(points, spec, names, lang, item)


def _points(spec: ChartSpec, tables: Tables, lang: str, chart_id: str, shown: str,
            grouped: bool, group) -> Series:
    """A chart's points, unmarked; only the ``group``'s when ``grouped``."""
    from reportkit.charts.draw import x_label

    table = tables[spec.dataset]
    frame = table.frame
    for column, value in spec.where.items():
        frame = frame[frame[column] == value]
    frame = frame.dropna(subset=[spec.y])
    if spec.latest:
        frame = frame[frame[spec.latest] == frame[spec.latest].max()]
    names = tables[spec.names] if spec.names else None
    code = names.spec.key[0] if names else None
    if grouped:
        groups = dict(zip(names.frame[code], names.frame[spec.group]))
        frame = frame[frame[spec.x].map(groups) == group]
    if spec.kind == 'hbar':
        frame = frame.sort_values([spec.y, spec.x], ascending=[False, True])
        frame = frame.head(spec.top) if spec.top else frame
    else:
        frame = frame.sort_values(spec.x)
    if frame.empty:
        raise ChartError(f"[{chart_id}] no data published by the edition's date to draw",
                         path=shown)
    xs = [_plain(x) for x in frame[spec.x]]
    ys = [float(value) / spec.y_scale for value in frame[spec.y]]
    if names is not None:
        lookup = dict(zip(names.frame[code], names.text('name', lang)))
        labels = [str(lookup[x]) for x in xs]
    else:
        labels = [x_label(x, spec, lang) for x in xs]
    period = str(int(frame[table.spec.period].max())) if table.spec.period == 'year' else ''
    tiles = []
    if spec.kind == 'tiles':
        where = dict(zip(names.frame[code], zip(names.frame[spec.tiles[0]],
                                                names.frame[spec.tiles[1]])))
        tiles = [(int(where[x][0]), int(where[x][1])) for x in xs]
    return Series(xs, ys, labels, period, None, tiles, {})


def _marked(points: Series, spec: ChartSpec, names, lang: str, item: str | None) -> Series:
    """The points with the document's own x (``item``) marked, and what the chart's words
    may say of it."""
    xs, ys = points.xs, points.ys
    highlight = xs.index(item) if item is not None and item in xs else None
    if highlight is None:
        return points
    context = {'name': points.labels[highlight], 'count': len(xs),
               'rank': 1 + sum(1 for y in ys if y > ys[highlight])}
    if spec.group and spec.group_name:
        code = names.spec.key[0]
        context['group'] = str(names.text(spec.group_name, lang)[
            names.frame[code] == item].iloc[0])
    return replace(points, highlight=highlight, context=context)


def _plain(value):
    """A numpy scalar as the Python value (so that a view never needs numpy to load)."""
    return value.item() if hasattr(value, 'item') else value


def _plan(edition: Edition, languages: list[str]) -> str:
    """What a view is made for: the edition's years and figures, its series' declared
    values, tables and documents, in its languages, by this code and these libraries
    (the files it reads are its dependencies)."""
    from reportkit.inputs import code_digests, key, software

    config, series = edition.config, edition.series
    declared = series.model_dump_json(include={'datasets', 'tables', 'for_each'})
    values = {name: spec.model_dump_json() for name, spec in edition.values.items()}
    return key('data', edition.name, config.year, str(config.publication_date),
               list(config.figures), declared, values, sorted(languages), software(),
               code_digests())


def _depends(project: Project, cache: Path):
    from reportkit.cache import Depends
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
