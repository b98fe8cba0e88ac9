"""Stage 2, data (continued): the tables a series prints (``[tables.<name>]`` in its
series.toml), their rows read from the edition's windowed data and worded in one
language. A section places one with ``@table(<name>)``; compose numbers it."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from reportkit.numbers import month_year
from reportkit.typography import for_language

if TYPE_CHECKING:  # pragma: no cover
    from reportkit.data.read import Tables
    from reportkit.load.series import TableColumn, TableSpec


def printed_table(name: str, spec: TableSpec, tables: Tables, lang: str) -> dict:
    """The table as compose places it: anchor, title, columns and rows in ``lang``."""
    table = tables[spec.dataset]
    frame = table.frame
    cells = [_cells(table, column, lang) for column in spec.columns]
    rows = [tuple(column[i] for column in cells) for i in range(len(frame))]
    return {'anchor': f'tbl-{name}', 'css': name, 'title': for_language(spec.title[lang], lang),
            'columns': [{'label': for_language(column.label[lang], lang),
                         'align': column.align} for column in spec.columns],
            'rows': rows, 'note': spec.note[lang] if spec.note else ''}


def _cells(table, column: TableColumn, lang: str) -> list[str]:
    values = table.text(column.column, lang)
    cells = []
    for value in values:
        if not isinstance(value, str) and value != value:   # an empty cell (NaN)
            value = ''
        if column.words:
            value = for_language(column.words[value][lang], lang) if value in column.words \
                else str(value)
        elif column.format == 'month':
            value = _month(value, lang)
        cells.append(str(value))
    return cells


def _month(value, lang: str) -> str:
    """'2015-03-16' or '2015-03' -> 'March 2015' / 'mars 2015'; '2013' stays '2013'."""
    if not isinstance(value, str) or not value:
        return ''
    if len(value) == 4:
        return value
    return month_year(dt.date(int(value[:4]), int(value[5:7]), 1), lang)


def table_problems(name: str, spec: TableSpec, tables: Tables, shown: str) -> list[str]:
    """Why a declared table cannot be printed: an unknown dataset or column, a choice
    value without its words."""
    if spec.dataset not in tables:
        return [f"table '{name}': unknown dataset '{spec.dataset}'"]
    table = tables[spec.dataset]
    problems = []
    for column in spec.columns:
        declared = table.spec.columns.get(column.column)
        if declared is None:
            problems.append(f"table '{name}': dataset '{spec.dataset}' has no column "
                            f"'{column.column}'")
        elif column.words and declared.values:
            missing = [value for value in declared.values if value not in column.words]
            if missing:
                problems.append(f"table '{name}', column '{column.column}': no words for "
                                f"'{missing[0]}'")
    return problems
