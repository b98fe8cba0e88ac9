"""A series (``reports/<series>/series.toml``): what the core knows of one publication
series, declared as data rather than written in Python.

A series names its languages and their locales, how its editions and documents are
named, the datasets it reads, the values its narrative may print, the tables it prints,
its chart definitions, and, for a batch series, what one document is (``for_each``: one
per row of a dataset). Its templates (``reports/<series>/templates/``) are looked up
before the shared ones, so a series can replace one partial without copying the rest.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reportkit.files import KB
from reportkit.safety.policy import Title

NAME = r'^[a-z0-9][a-z0-9-]{0,63}$'
"""A series, section or figure name: never a path."""
COLUMN = r'^[a-z][a-z0-9_]{0,63}$'
"""A dataset or column name, as declared in ``data/datasets.toml``."""
MAX_SERIES_BYTES = 256 * KB
SERIES_FILE = 'series.toml'


class _Strict(BaseModel):
    model_config = ConfigDict(extra='forbid', frozen=True, strict=True)


Words = dict[str, Title]
"""A text in every language of the series."""


class ValueSpec(_Strict):
    """A value the narrative may print, taken from a dataset.

    - ``key`` + ``column``: a lookup, ``trade[2015]``;
    - ``key`` + ``fields``: a lookup of records, ``state['MI'].name``;
    - ``fields`` alone: a list of records in ``sort`` order (``top`` of them);
    - ``column`` + ``pick``: one value (the ``max`` of a column, the ``last`` row's);
    - ``fields`` + ``pick``: one record (``first`` or ``last`` of the list).
    """

    dataset: str = Field(pattern=COLUMN)
    column: str | None = Field(default=None, pattern=COLUMN)
    key: str | None = Field(default=None, pattern=COLUMN)
    fields: dict[str, str] = Field(default_factory=dict)
    """Record field -> column."""
    names: dict[str, str] = Field(default_factory=dict)
    """Record field -> a dataset whose key is the field's code and whose ``name`` column
    names it in each language (state codes -> state names)."""
    where: dict[str, str | int] = Field(default_factory=dict)
    """Only the rows whose columns have these values."""
    latest: str | None = Field(default=None, pattern=COLUMN)
    """Only the rows where this column has its largest value (the latest year)."""
    sort: str | None = Field(default=None, pattern=r'^-?[a-z][a-z0-9_]{0,63}$')
    """Order of the rows: a column, '-' first for largest first."""
    top: int | None = Field(default=None, ge=1, le=1000)
    pick: Literal['first', 'last', 'max', 'min'] | None = None
    unit: str | None = Field(default=None, pattern=r'^[a-z_]{1,32}$')
    """How numbers print, instead of their column's unit ('plain': digits only)."""

    @model_validator(mode='after')
    def _shape(self) -> 'ValueSpec':
        if (self.column is None) == (not self.fields):
            raise ValueError("give either 'column' (one value per row) or 'fields' "
                             '(a record per row)')
        if self.key and self.pick:
            raise ValueError("'key' looks values up, 'pick' takes one: give one of them")
        if self.column and not self.key and not self.pick:
            raise ValueError("a 'column' needs a 'key' to look it up by, or a 'pick'")
        if self.fields and self.pick in ('max', 'min'):
            raise ValueError("'pick' of records is 'first' or 'last' (after 'sort')")
        unknown = set(self.names) - set(self.fields)
        if unknown:
            raise ValueError(f"'names' names a field that is not in 'fields': "
                             f"'{sorted(unknown)[0]}'")
        return self


class TableColumn(_Strict):
    """One column of a printed table."""

    column: str = Field(pattern=COLUMN)
    label: Words
    words: dict[str, Words] = Field(default_factory=dict)
    """What each value of a choice column reads as in each language."""
    format: Literal['text', 'month'] = 'text'
    """'month': a date printed as month and year ('2015-03' -> 'March 2015'; a year alone
    stays a year)."""
    align: Literal['', 'num'] = ''


class TableSpec(_Strict):
    """A table a section places with ``@table(<name>)``: the rows of a dataset."""

    dataset: str = Field(pattern=COLUMN)
    title: Words
    columns: list[TableColumn] = Field(min_length=1, max_length=12)
    note: Words | None = None


class ForEach(_Strict):
    """A batch series: one document per row of ``dataset`` (its key names it)."""

    dataset: str = Field(pattern=COLUMN)
    codes: str = Field(default=r'^[A-Za-z0-9]{1,16}$')
    """What a document's key looks like (it is part of file names)."""


class SeriesConfig(_Strict):
    """One publication series."""

    title: Words
    """The series' name in each language (the catalogue of editions shows it)."""
    languages: list[str] = Field(min_length=1)
    locales: dict[str, str]
    """Language -> its locale ('en' -> 'en_CA'): numbers, dates and the document's
    language tag ('en-CA') follow it."""
    editions: str = r'^[0-9]{4}$'
    """What an edition's name looks like (a regular expression)."""
    edition_example: str = '2016'
    datasets: list[str] = Field(min_length=1)
    """The datasets the series reads (nothing else of data/ is read)."""
    charts: str | None = Field(default=None, pattern=r'^[a-z0-9][a-z0-9_-]{0,63}\.toml$')
    """The series' chart definitions, a file beside series.toml."""
    template: str = Field(default='report.html.j2',
                          pattern=r'^[a-z0-9][a-z0-9_-]{0,63}\.html\.j2$')
    """The document's template (the series' templates/ first, then the shared ones)."""
    stylesheets: list[Annotated[str, Field(pattern=r'^[a-z0-9][a-z0-9_-]{0,63}\.css$')]] = \
        Field(default_factory=list, max_length=4)
    """The series' own stylesheets (in its templates/), after the shared print.css."""
    web_template: str = Field(default='web.html.j2',
                              pattern=r'^[a-z0-9][a-z0-9_-]{0,63}\.html\.j2$')
    """The web page's furniture around the composed document (shared by default)."""
    web_stylesheets: list[Annotated[str, Field(pattern=r'^[a-z0-9][a-z0-9_-]{0,63}\.css$')]] \
        = Field(default_factory=list, max_length=4)
    """The series' own stylesheets for its web pages, after the shared web.css."""
    identifiers: list[Literal['catalogue_number', 'isbn']] = ['catalogue_number', 'isbn']
    """What a final edition must have been assigned before it is published."""
    values: dict[str, ValueSpec] = Field(default_factory=dict)
    tables: dict[str, TableSpec] = Field(default_factory=dict)
    for_each: ForEach | None = None

    @model_validator(mode='after')
    def _check(self) -> 'SeriesConfig':
        problems = []
        for lang in self.languages:
            if not re.fullmatch(r'[a-z]{2,3}', lang):
                problems.append(f"languages: '{lang[:20]}' is not a language code (en, fr)")
            elif lang not in self.locales:
                problems.append(f'locales: no locale for {lang}')
        for name, words in self._words():
            for lang in self.languages:
                if lang not in words:
                    problems.append(f'{name}.{lang}: missing translation')
        try:
            re.compile(self.editions)
        except re.error:
            problems.append("editions: not a regular expression")
        if problems:
            raise ValueError('; '.join(problems))
        return self

    def _words(self):
        yield 'title', self.title
        for name, table in self.tables.items():
            yield f'tables.{name}.title', table.title
            for column in table.columns:
                yield f'tables.{name}.{column.column}.label', column.label
                for value, words in column.words.items():
                    yield f'tables.{name}.{column.column}.words.{value}', words

    def lang_tag(self, lang: str) -> str:
        """'en_CA' -> 'en-CA', the document's language tag."""
        return self.locales[lang].replace('_', '-')


def load_series(root: Path, folder: Path, shown: str) -> SeriesConfig:
    """Read and validate ``<folder>/series.toml`` (inside ``root``, the project)."""
    from reportkit.load.config import load_model

    return load_model(root, folder / SERIES_FILE, shown, SeriesConfig,
                      'the series declaration', MAX_SERIES_BYTES,
                      f'{folder.name} is not a series: it has no {SERIES_FILE}')
