"""Stage 2, data: ``data/*.csv`` -> validated, typed tables (pandas), windowed per edition.

Every data file is declared in ``data/datasets.toml`` with its columns, types, units,
ranges and key. A file that does not match is an error naming the file, the line and
the column; every problem in a file is reported together.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from typing import Annotated, Literal

import pandas as pd
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from reportkit.load.declarations import load_declarations
from reportkit.errors import DataError, ReportError, raise_all
from reportkit.files import MB, read_bytes, read_text
from reportkit.safety.policy import Title, problem_in
from reportkit.project import Project

MAX_ROWS = 20_000
"""Larger files are refused: no report table or chart needs more, and WeasyPrint
lays out long tables slowly (about 3–4 ms a row)."""
MAX_PROBLEMS_PER_FILE = 20
MAX_FILE_BYTES = 20 * MB
"""20,000 rows of a few hundred bytes each."""
MAX_CELL_CHARACTERS = 10_000
"""A cell is a number, a date or a sentence (the longest real one is about 300)."""
DATA_FILE = r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}\.csv$'


def _file_name(name: str) -> str:
    if not re.fullmatch(DATA_FILE, name):
        raise ValueError(f"{name[:60]!r} is not the name of a .csv file in data/: a name, "
                         "not a path (no folders, no '..')")
    return name


class Column(BaseModel):
    model_config = ConfigDict(extra='forbid', frozen=True)

    type: Literal['int', 'float', 'text', 'month', 'date', 'choice']
    required: bool = True
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    values: list[str] | None = None
    unit: str | None = None
    languages: list[Annotated[str, Field(pattern=r'^[a-z]{2,3}$')]] | None = None
    """Text in several languages: one column per language in the file (``name_en``…)."""
    required_when: dict[str, str] | None = None
    """An optional column that must be filled when other columns have these values
    (a completion date, when the status is 'completed')."""


class Later(BaseModel):
    """How an edition sees a row dated after its cut-off: ``column`` dates the row,
    ``set`` gives the values shown instead (e.g. still in progress, no date)."""

    model_config = ConfigDict(extra='forbid', frozen=True)

    column: str
    set: dict[str, str]


class Released(BaseModel):
    """When a dataset's rows can first be cited (:mod:`.known`): ``months_after_period``
    months after the row's period ends, or from the row's own date in ``column``."""

    model_config = ConfigDict(extra='forbid', frozen=True)

    months_after_period: int | None = Field(default=None, ge=0, le=120)
    column: str | None = None

    @model_validator(mode='after')
    def _one(self) -> 'Released':
        if (self.months_after_period is None) == (self.column is None):
            raise ValueError("give one of 'months_after_period' (e.g. 2) and 'column' "
                             '(a date column)')
        return self


class DatasetSpec(BaseModel):
    model_config = ConfigDict(extra='forbid', frozen=True)

    file: Annotated[str, AfterValidator(_file_name)]
    """The file's name in data/ (a name, not a path: no folders, no '..')."""
    title: Title
    key: list[str] = Field(min_length=1)
    period: str | None = None
    released: Released | None = None
    """When its rows can first be cited: required with a ``period``."""
    later: Later | None = None
    columns: dict[str, Column]

    @model_validator(mode='after')
    def _names(self) -> 'DatasetSpec':
        named = list(self.key) + ([self.period] if self.period else [])
        if self.later:
            named += [self.later.column, *self.later.set]
        if self.released and self.released.column:
            named.append(self.released.column)
        unknown = [name for name in named if name not in self.columns]
        if unknown:
            raise ValueError(f"names a column that is not declared: '{unknown[0]}'")
        if self.period and self.released is None:
            raise ValueError("a dataset with a 'period' must say when its rows are "
                             "published: released = { months_after_period = N } (N months "
                             'after the period ends) or released = { column = "date" } '
                             "(each row from its own date)")
        dated = [self.released.column] if self.released and self.released.column else []
        for name in dated + ([self.later.column] if self.later else []):
            if self.columns[name].type not in ('date', 'month', 'int'):
                raise ValueError(f"'{name}' dates the rows, so it must be a date, a month "
                                 'or a year (int) column')
        for name in dated:
            if not self.columns[name].required:
                raise ValueError(f"'{name}' says when each row was published, so every "
                                 'row must have it (it cannot be required = false)')
        return self

    def file_columns(self) -> dict[str, Column]:
        """The columns as the file has them (a column in several languages is several)."""
        expanded = {}
        for name, column in self.columns.items():
            if column.languages:
                for lang in column.languages:
                    expanded[f'{name}_{lang}'] = column
            else:
                expanded[name] = column
        return expanded


@dataclass(frozen=True)
class Table:
    """One validated data file."""

    name: str
    spec: DatasetSpec
    shown: str
    frame: pd.DataFrame
    lines: list[int]
    """File line number of each row of ``frame`` (same order)."""

    def text(self, column: str, lang: str) -> pd.Series:
        """A column in ``lang``: ``column_<lang>`` for columns declared with languages."""
        if self.spec.columns[column].languages:
            return self.frame[f'{column}_{lang}']
        return self.frame[column]

    def period_year(self) -> pd.Series:
        """The year each row belongs to (from its ``period`` column)."""
        column = self.spec.period
        if column is None:
            raise DataError(f"dataset '{self.name}' has no period column")
        values = self.frame[column]
        if self.spec.columns[column].type == 'int':
            return values.astype('int64')
        return values.map(lambda value: int(str(value)[:4]))


Tables = dict[str, Table]


def load_specs(project: Project) -> dict[str, DatasetSpec]:
    path = project.data / 'datasets.toml'
    return load_declarations(project.root, path, project.show(path), DatasetSpec, DataError,
                             'dataset declarations')


def load_tables(project: Project, names: list[str] | None = None,
                gather: list[ReportError] | None = None) -> Tables:
    """Read and validate the named datasets (default: all declared ones).

    Problems are raised together, or added to ``gather`` (the tables that could be read
    are then returned, so that later checks can still run on them).
    """
    specs = load_specs(project)
    problems: list[ReportError] = []
    tables: Tables = {}
    for name in names or list(specs):
        if name not in specs:
            problems.append(DataError(f"unknown dataset '{name}'",
                                      path=project.show(project.data / 'datasets.toml')))
            continue
        try:
            tables[name] = read_table(project, name, specs[name])
        except ReportError as error:
            problems.append(error)
    if gather is not None:
        gather.extend(problems)
    else:
        raise_all(problems, 'data files do not match data/datasets.toml')
    return tables


def read_table(project: Project, name: str, spec: DatasetSpec) -> Table:
    """Read one CSV file and check it against its declaration."""
    path = project.data / spec.file
    shown = project.show(path)
    try:
        text = read_text(project.root, path, what=f"the data file of '{name}'", shown=shown,
                         limit=MAX_FILE_BYTES, error=DataError)
    except FileNotFoundError:
        raise DataError('data file not found', path=shown) from None
    reader = _Rows(text, shown)
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        raise DataError('file is empty: expected a header row with the columns '
                        + ', '.join(spec.file_columns()), path=shown, line=1)
    header = [cell.strip() for cell in header]
    columns = spec.file_columns()
    missing = [column for column in columns if column not in header]
    unknown = [column for column in header if column not in columns]
    if missing or unknown or len(set(header)) != len(header):
        parts = []
        if missing:
            parts.append('missing column' + ('s ' if len(missing) > 1 else ' ')
                         + ', '.join(f"'{c}'" for c in missing))
        if unknown:
            parts.append('unexpected column' + ('s ' if len(unknown) > 1 else ' ')
                         + ', '.join(f"'{c}'" for c in unknown))
        if len(set(header)) != len(header):
            parts.append('a column name appears twice')
        raise DataError('; '.join(parts), path=shown, line=1)

    problems: list[ReportError] = []
    records, lines = [], []
    seen: dict[tuple, int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(records) >= MAX_ROWS:
            raise DataError(f'more than {MAX_ROWS:,} rows: too large for a report table '
                            '(split or summarise the data first)', path=shown, line=line)
        if len(row) != len(header):
            problems.append(DataError(f'expected {len(header)} cells, found {len(row)}',
                                      path=shown, line=line))
            continue
        record = {}
        for column, cell in zip(header, row):
            try:
                record[column] = _convert(cell.strip(), columns[column])
            except ValueError as error:
                problems.append(DataError(f"column '{column}': {error}", path=shown,
                                          line=line))
        key = tuple(record.get(column) for column in spec.key)
        problems += _required_when(record, columns, shown, line)
        if len(record) == len(header):
            if key in seen:
                described = ', '.join(f'{c}={v}' for c, v in zip(spec.key, key))
                problems.append(DataError(f'duplicate row for {described} '
                                          f'(first on line {seen[key]})',
                                          path=shown, line=line))
            else:
                seen[key] = line
            records.append(record)
            lines.append(line)
        if len(problems) >= MAX_PROBLEMS_PER_FILE:
            break
    if not records and not problems:
        raise DataError('file has a header but no data rows', path=shown, line=2)
    raise_all(problems, f'{shown}: the data does not match its declaration')
    frame = pd.DataFrame.from_records(records, columns=header)
    return Table(name, spec, shown, frame, lines)


def _required_when(record: dict, columns: dict[str, Column], shown: str,
                   line: int) -> list[DataError]:
    problems = []
    for name, column in columns.items():
        when = column.required_when or {}
        if when and record.get(name) in (None, '') and all(
                record.get(other) == value for other, value in when.items()):
            condition = ' and '.join(f"{other} is '{value}'" for other, value in when.items())
            problems.append(DataError(f"column '{name}' is empty, but it must be filled "
                                      f'when {condition}', path=shown, line=line))
    return problems


class _Rows:
    """The rows of a CSV text; a malformed row (a cell over the size limit, a stray
    quote) is an error naming its line."""

    def __init__(self, text: str, shown: str) -> None:
        self._reader = csv.reader(io.StringIO(text, newline=''))
        self._shown = shown

    @property
    def line_num(self) -> int:
        return self._reader.line_num

    def __iter__(self):
        return self

    def __next__(self) -> list[str]:
        try:
            row = next(self._reader)
        except csv.Error as error:
            message = f'the row cannot be read as CSV ({error})'
            if 'field larger than field limit' in str(error):
                message = (f'a cell is more than {csv.field_size_limit():,} characters long; '
                           f'at most {MAX_CELL_CHARACTERS:,} are allowed')
            raise DataError(message, path=self._shown, line=self._reader.line_num) from None
        for cell in row:
            if len(cell) > MAX_CELL_CHARACTERS:
                raise DataError(f'a cell is {len(cell):,} characters long; at most '
                                f'{MAX_CELL_CHARACTERS:,} are allowed', path=self._shown,
                                line=self._reader.line_num)
        return row


def _convert(cell: str, column: Column):
    if cell == '':
        if column.languages:
            raise ValueError('empty: the translation is missing')
        if column.required:
            raise ValueError('empty, but a value is required')
        return None
    kind = column.type
    if kind in ('int', 'float'):
        text = cell.replace(',', '') if re.fullmatch(r'-?[\d,]+(\.\d+)?', cell) else cell
        try:
            value = int(text) if kind == 'int' else float(text)
        except ValueError:
            noun = 'a whole number' if kind == 'int' else 'a number'
            raise ValueError(f"'{cell}' is not {noun}") from None
        if value != value or value in (float('inf'), float('-inf')):
            raise ValueError(f"'{cell}' is not a number")
        if column.min is not None and value < column.min:
            raise ValueError(f'{cell} is below the minimum {column.min:g}')
        if column.max is not None and value > column.max:
            raise ValueError(f'{cell} is above the maximum {column.max:g}')
        return value
    if kind == 'month':
        if not re.fullmatch(r'\d{4}-(0[1-9]|1[0-2])', cell):
            raise ValueError(f"'{cell}' is not a month (YYYY-MM)")
        return cell
    if kind == 'date':
        try:
            if re.fullmatch(r'\d{4}', cell):
                pass
            elif re.fullmatch(r'\d{4}-\d{2}', cell):
                dt.date.fromisoformat(cell + '-01')
            else:
                dt.date.fromisoformat(cell)
        except ValueError:
            raise ValueError(f"'{cell}' is not a date (YYYY-MM-DD, YYYY-MM or YYYY)") from None
        return cell
    if kind == 'choice':
        if cell not in (column.values or []):
            allowed = ', '.join(f"'{v}'" for v in column.values or [])
            raise ValueError(f"'{cell}' is not one of {allowed}")
        return cell
    if column.pattern and not re.fullmatch(column.pattern, cell):
        raise ValueError(f"'{cell}' does not match the expected form {column.pattern}")
    problem = problem_in(cell, MAX_CELL_CHARACTERS)   # text a page will print
    if problem:
        raise ValueError(f'the text {problem}')
    return cell


def windowed_csv(project: Project, table: Table) -> bytes:
    """The rows of ``table`` as its file holds them (same cells, same header), for
    embedding the data an edition shows into its archived PDF."""
    path = project.data / table.spec.file
    raw = read_bytes(project.root, path, what=f"the data file of '{table.name}'",
                     shown=table.shown, limit=MAX_FILE_BYTES, error=DataError)
    reader = csv.reader(io.StringIO(raw.decode('utf-8-sig'), newline=''))
    keep = set(table.lines)
    lines = [reader.line_num for row in reader if any(cell.strip() for cell in row)][1:]
    if set(lines) <= keep:
        return raw      # the whole file: embed it byte for byte
    reader = csv.reader(io.StringIO(raw.decode('utf-8-sig'), newline=''))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\n')
    writer.writerow(next(reader))
    for row in reader:
        if reader.line_num in keep:
            writer.writerow(row)
    return out.getvalue().encode('utf-8')
