"""Chart definitions (``reports/<series>/charts.toml``, as the series names it): what
each figure draws and its words in every language, checked against the data and the
edition before anything is drawn."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from reportkit.load.declarations import line_in_table, load_declarations
from reportkit.errors import ChartError
from reportkit.safety.policy import Text, Title
from reportkit.project import Project

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    from reportkit.data.read import Tables
    from reportkit.load.edition import Edition


class ChartSpec(BaseModel):
    model_config = ConfigDict(extra='forbid', frozen=True)

    kind: Literal['line', 'bar', 'hbar', 'points', 'tiles']
    """tiles: a tile-grid map, one square per x, at the row and column that the ``names``
    dataset's columns ``tiles`` give it, shaded by ``y``."""
    dataset: str
    x: str
    y: str
    where: dict[str, str] = Field(default_factory=dict)
    names: str | None = None
    """Dataset giving each x value's name per language (its key is the x value, its
    ``name`` column is declared with languages), e.g. state codes -> state names."""
    top: int | None = Field(default=None, ge=1, le=60)
    latest: str | None = None
    """Only the rows where this column has its largest value (the latest year)."""
    tiles: list[str] = Field(default_factory=list, max_length=2)
    """For a tile map: the ``names`` columns of each square's row and column."""
    highlight: bool = False
    """In a batch document, its own bar or tile is drawn apart (and named)."""
    group: str | None = None
    """In a batch document, only the rows whose ``names`` row has the same value in
    this column as the document's (its region)."""
    group_name: str | None = None
    """The ``names`` column (with languages) that names a group, for {group}."""
    y_scale: float = Field(default=1, gt=0)
    digits: int = Field(default=1, ge=0, le=3)
    title: dict[str, Title]
    y_label: dict[str, Title]
    x_label: dict[str, Title]
    source: dict[str, Text]
    alt: dict[str, Text]
    columns: dict[str, list[Title]]


def chart_file(project: Project, edition: Edition) -> Path | None:
    """The series' chart definitions (None: the series draws no charts)."""
    name = edition.series.charts
    return edition.series_folder / name if name else None


def load_chart_specs(project: Project, edition: Edition) -> dict[str, ChartSpec]:
    path = chart_file(project, edition)
    if path is None:
        return {}
    return load_declarations(project.root, path, project.show(path), ChartSpec, ChartError,
                             'chart definitions')


def chart_problems(specs: dict[str, ChartSpec], wanted: list[str], tables: Tables,
                   languages: list[str], shown: str,
                   unreadable: frozenset[str] = frozenset(), text: str = '') -> list[ChartError]:
    """Every problem that would stop the wanted charts from being drawn in ``languages``.

    Charts of ``unreadable`` datasets (whose files have problems already reported) are
    checked for their words only.
    """
    problems = []
    for chart_id in wanted:
        def at(key: str | None, chart_id=chart_id) -> int | None:
            return line_in_table(text, chart_id, [key] if key else []) if text else None

        spec = specs.get(chart_id)
        if spec is None:
            problems.append(ChartError(f"figure '{chart_id}' is not defined "
                                       f"(defined: {', '.join(sorted(specs))})", path=shown))
            continue
        table = tables.get(spec.dataset)
        if spec.dataset in unreadable or (spec.names or '') in unreadable:
            table = None
        elif table is None:
            problems.append(ChartError(f"[{chart_id}] unknown dataset '{spec.dataset}' "
                                       '(not declared in data/datasets.toml)', path=shown,
                                       line=at('dataset')))
        if table is None:
            problems += _missing_words(chart_id, spec, languages, shown, at)
            continue
        if spec.names is not None:
            names = tables.get(spec.names)
            if names is None or 'name' not in names.spec.columns:
                problems.append(ChartError(f"[{chart_id}] 'names': no dataset '{spec.names}' "
                                           "with a 'name' column", path=shown,
                                           line=at('names')))
            else:
                codes = set(table.frame[spec.x]) - set(names.frame[names.spec.key[0]])
                if codes:
                    problems.append(ChartError(
                        f"[{chart_id}] {names.shown} has no name for "
                        + ', '.join(sorted(map(str, codes))), path=shown, line=at('names')))
        for key, column in [('x', spec.x), ('y', spec.y),
                            *(('where', c) for c in spec.where),
                            *((('latest', spec.latest),) if spec.latest else ())]:
            if column not in table.spec.columns:
                problems.append(ChartError(
                    f"[{chart_id}] dataset '{spec.dataset}' has no column '{column}'",
                    path=shown, line=at(key)))
        problems += _grouping_problems(chart_id, spec, tables, shown, at)
        problems += _missing_words(chart_id, spec, languages, shown, at)
    return problems


def _grouping_problems(chart_id: str, spec: ChartSpec, tables: Tables, shown: str,
                       at) -> list[ChartError]:
    """A tile map needs its grid, a group its column: both in the ``names`` dataset."""
    needs = {'tiles': list(spec.tiles), 'group': [spec.group] if spec.group else [],
             'group_name': [spec.group_name] if spec.group_name else []}
    if spec.kind == 'tiles' and len(spec.tiles) != 2:
        return [ChartError(f"[{chart_id}] a tile map needs 'tiles': the two columns of "
                           "'names' that place each square (row, column)", path=shown,
                           line=at('kind'))]
    names = tables.get(spec.names) if spec.names else None
    problems = []
    for key, columns in needs.items():
        if columns and names is None:
            problems.append(ChartError(f"[{chart_id}] '{key}' needs 'names', the dataset "
                                       'whose columns it names', path=shown, line=at(key)))
        elif names is not None:
            problems += [ChartError(f"[{chart_id}] '{key}': dataset '{spec.names}' has no "
                                    f"column '{column}'", path=shown, line=at(key))
                         for column in columns if column not in names.spec.columns]
    return problems


PLACEHOLDERS = {'first_x': '2002', 'first_y': '1.0', 'last_x': '2016', 'last_y': '1.0',
                'max_x': '2014', 'max_y': '1.0', 'min_x': '2009', 'min_y': '1.0', 'count': 15}
"""What a title, alt text or source line may name, with values of the usual size (the
real ones come from the data when the chart is drawn)."""
DOCUMENT_PLACEHOLDERS = {'name': 'District of Columbia', 'value': '1.0', 'rank': 51}
"""What a chart with ``highlight`` may also name: the batch document's own row."""


def _unfillable(chart_id: str, spec: ChartSpec, languages: list[str], shown: str,
                at) -> list[ChartError]:
    """Each chart text whose placeholders cannot be filled (an unknown name, a '{' not
    closed, an attribute, a field wider than a caption), found before anything is drawn."""
    from jinja2.sandbox import SecurityError

    from reportkit.safety.sandbox import format_text
    problems = []
    known = {**PLACEHOLDERS, **(DOCUMENT_PLACEHOLDERS if spec.highlight else {}),
             **({'group': 'East North Central'} if spec.group_name else {})}
    for field_name in ('title', 'alt', 'source'):
        for lang in languages:
            text = getattr(spec, field_name).get(lang)
            try:
                if text:
                    format_text(text, known)
            except (SecurityError, ValueError) as error:
                problems.append(ChartError(f"[{chart_id}] '{field_name}.{lang}': {error}",
                                           path=shown, line=at(field_name)))
    return problems


def _missing_words(chart_id: str, spec: ChartSpec, languages: list[str],
                   shown: str, at=lambda key: None) -> list[ChartError]:
    problems = [ChartError(f"[{chart_id}] '{field_name}.{lang}': missing translation",
                           path=shown, line=at(field_name))
                for field_name in ('title', 'y_label', 'x_label', 'source', 'alt', 'columns')
                for lang in languages if lang not in getattr(spec, field_name)]
    for field_name, why in (('title', 'every figure needs a caption'),
                            ('alt', 'describe what the chart shows, for readers who cannot '
                                    'see it'),
                            ('source', 'say where the data comes from')):
        for lang in languages:
            if lang in getattr(spec, field_name) and not getattr(spec, field_name)[lang].strip():
                problems.append(ChartError(f"[{chart_id}] '{field_name}.{lang}' is empty: {why}",
                                           path=shown, line=at(field_name)))
    problems += _unfillable(chart_id, spec, languages, shown, at)
    for lang in languages:
        headings = spec.columns.get(lang)
        if headings is not None and (len(headings) != 2 or not all(h.strip() for h in headings)):
            problems.append(ChartError(f"[{chart_id}] 'columns.{lang}' needs two headings, "
                                       'for the columns of its data table', path=shown,
                                       line=at('columns')))
    return problems
