"""Stage 2, data (continued): the values a narrative may print, as its series declares
them (``[values.<name>]`` in series.toml or edition.toml), read from the edition's
windowed tables and formatted for one language.

A writer types ``{{ trade[year] }}``, never the number itself: the value comes
from ``data/`` and prints in the section's language with its unit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reportkit.numbers import Quantity, long_date, month_year

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from reportkit.data.read import Table, Tables
    from reportkit.load.series import ValueSpec


class Values(dict):
    """Values a writer looks up by key (a year, a figure's name), with the reason a key
    is missing, for the message that stops the build. (Attributes start with '_' so that
    no key is shadowed, and the sandbox keeps writers away from them.)"""

    def __init__(self, name: str, values: dict, source: str, published: dt.date,
                 later: dict | None = None) -> None:
        super().__init__(values)
        self._name, self._source, self._published = name, source, published
        self._later = later or {}
        """Keys that exist in the data, but were published after this edition's date ->
        why it cannot show them ('not published until after 2016')."""

    def _missing(self, key) -> str:
        shown = f'{self._name}.{key}' if isinstance(key, str) else f'{self._name}[{key}]'
        dated = f'this edition is dated {long_date(self._published, "en")}'
        years = self and all(isinstance(k, int) for k in self)
        if key in self._later:
            return (f'{shown}: {self._later[key]}; {dated}' +
                    (f' and can show {_ranges(sorted(self))}' if years else ''))
        if years:
            return (f'{shown}: no value for {key} in {self._source}; this edition has '
                    f'{_ranges(sorted(self))} ({dated})')
        return f'{shown}: no such value in {self._source}'


@dataclass(frozen=True)
class Record:
    """One row of a dataset as the narrative sees it: ``record.name``, ``record.exports``."""

    fields: dict

    def __getattr__(self, name: str):
        if name.startswith('_') or name == 'fields':
            raise AttributeError(name)
        try:
            return self.fields[name]
        except KeyError:
            raise AttributeError(f"no field '{name}' (fields: "
                                 f"{', '.join(sorted(self.fields))})") from None

    def __getstate__(self):
        return self.fields

    def __setstate__(self, state) -> None:
        object.__setattr__(self, 'fields', state)


def _ranges(years: list[int]) -> str:
    """[1990, 1995, 1996, 1997] -> '1990, 1995–1997'."""
    parts, start = [], None
    for i, year in enumerate(years):
        if start is None:
            start = year
        if i + 1 == len(years) or years[i + 1] != year + 1:
            parts.append(str(start) if start == year else f'{start}–{year}')
            start = None
    return ', '.join(parts)


def declared_values(specs: dict[str, ValueSpec], tables: Tables, lang: str,
                    published: dt.date, all_tables: Tables | None = None) -> dict:
    """Every declared value in ``lang``, from ``tables`` (windowed to what was published
    by the edition's date, ``published``); ``all_tables`` (unwindowed) lets a message say
    that a key exists but was published later. Plain Python values: they are kept in the
    data cache."""
    return {name: _value(name, spec, tables, lang, published, all_tables)
            for name, spec in specs.items()}


def _value(name: str, spec: ValueSpec, tables: Tables, lang: str, published: dt.date,
           all_tables: Tables | None):
    table = tables[spec.dataset]
    frame = _rows(table, spec)
    if spec.key:
        shown = _formatter(tables, table, spec.column, lang, spec) if spec.column else None
        values = {_plain(row[spec.key]): (shown(row) if shown else
                                          _record(tables, table, spec, row, lang))
                  for _, row in frame.iterrows()}
        return Values(name, values, table.shown, published,
                      _later(all_tables, spec, set(values), published) if all_tables else None)
    if spec.column:
        column = frame[spec.column].dropna()
        if column.empty:   # nothing in the edition's years: a section using it says so
            return None
        if spec.pick in ('max', 'min'):
            row = frame.loc[column.idxmax() if spec.pick == 'max' else column.idxmin()]
        else:
            row = frame.iloc[0 if spec.pick == 'first' else -1]
        return _formatter(tables, table, spec.column, lang, spec)(row)
    records = [_record(tables, table, spec, row, lang) for _, row in frame.iterrows()]
    if spec.pick:
        return (records[0] if spec.pick == 'first' else records[-1]) if records else None
    return records


def _rows(table: Table, spec: ValueSpec) -> pd.DataFrame:
    frame = table.frame
    for column, value in spec.where.items():
        frame = frame[frame[column] == value]
    if spec.latest and len(frame):
        frame = frame[frame[spec.latest] == frame[spec.latest].max()]
    if spec.sort:
        column = spec.sort.lstrip('-')
        frame = frame.sort_values(column, ascending=not spec.sort.startswith('-'),
                                  kind='stable')
    if spec.top:
        frame = frame.head(spec.top)
    return frame


def _record(tables: Tables, table: Table, spec: ValueSpec, row, lang: str) -> Record:
    return Record({field: _formatter(tables, table, column, lang, spec, field)(row)
                   for field, column in spec.fields.items()})


def _formatter(tables: Tables, table: Table, column: str, lang: str, spec: ValueSpec,
               field: str | None = None):
    """How a cell of ``column`` prints in ``lang``: a number with its unit, a month, a
    name from another dataset, a text in the language."""
    declared = table.spec.columns[column]
    if field is not None and field in spec.names:
        names = tables[spec.names[field]]
        lookup = dict(zip(names.frame[names.spec.key[0]], names.text('name', lang)))
        return lambda row: str(lookup.get(row[column], row[column]))
    if declared.languages:
        return lambda row: str(row[f'{column}_{lang}'])
    if declared.type == 'month':
        return lambda row: month_year(dt.date(int(row[column][:4]), int(row[column][5:7]),
                                              1), lang)
    plain = column in table.spec.key or column == table.spec.period
    if declared.type in ('int', 'float') and not plain:
        unit = spec.unit or declared.unit or 'plain'
        return lambda row: Quantity.of(row[column], unit, lang)
    return lambda row: _plain(row[column])


def _later(all_tables: Tables, spec: ValueSpec, shown: set, published: dt.date) -> dict:
    """Keys of the unwindowed table that the edition does not see -> why (published
    after its date)."""
    from reportkit.data.known import later_rows

    table = all_tables[spec.dataset]
    why = dict(later_rows(table, published))
    if not why:
        return {}
    frame = _rows(table, spec)
    return {_plain(key): why[index] for index, key in zip(frame.index, frame[spec.key])
            if index in why and _plain(key) not in shown}


def _plain(value):
    """A numpy scalar as the Python value (so that a view never needs numpy to load)."""
    return value.item() if hasattr(value, 'item') else value


MINUTES_PER_YEAR = 365 * 24 * 60
DAYS_PER_YEAR = 365


def narrative_context(values: dict, lang: str, extra: dict | None = None) -> dict:
    """Everything a section may use: the values, ``extra`` (the edition's year, a batch
    document's ``doc`` and ``this``), and the helpers that compute with them. A helper
    given something that is not a value from the data, or asked to divide by zero, stops
    the build with a message saying so (never an internal error)."""

    def per(annual, divisor: int, name: str) -> Quantity:
        annual = _quantity(annual, name)
        return Quantity(annual.value / divisor, annual.kind, lang)

    def ratio(part, whole, name: str, minus: float) -> Quantity:
        part, whole = _quantity(part, name), _quantity(whole, name)
        if whole.value == 0:
            raise ValueError(f'{name}(): the second value is 0, so there is no percentage')
        return Quantity((part.value - minus * whole.value) / whole.value * 100, 'percent',
                        lang)

    def numbers(values, name: str) -> list[Quantity]:
        if not isinstance(values, dict) or not values:
            raise ValueError(f'{name}() takes a set of values from the data (e.g. '
                             f'exports), not {type(values).__name__}')
        return [_quantity(value, name) for value in values.values()]

    def rank(values, key) -> int:
        """1 for the largest of ``values``, 2 for the next…"""
        mine = _quantity(values[key], 'rank') if key in values else None
        if mine is None:
            raise ValueError(f'rank(): {key!r} is not one of the values')
        return 1 + sum(1 for value in numbers(values, 'rank') if value.value > mine.value)

    def total(values) -> Quantity:
        items = numbers(values, 'total')
        return Quantity(sum(item.value for item in items), items[0].kind, lang)

    def latest(values) -> int:
        """The most recent year of a set of values by year (of a yearly series: the
        latest full year published by the edition's date)."""
        numbers(values, 'latest')   # (all of it is read: which years there are)
        if not all(isinstance(key, int) and not isinstance(key, bool) for key in values):
            raise ValueError("latest() takes a set of values by year (a yearly series' values)")
        return max(values)

    def ordinal(number) -> str:
        from reportkit.numbers import ordinal as spelled
        if not isinstance(number, int) or isinstance(number, bool):
            raise ValueError(f'ordinal() takes a whole number, not {str(number)[:40]!r}')
        return spelled(number, lang)

    return {
        **values, **(extra or {}),
        'pct_change': lambda new, old: ratio(new, old, 'pct_change', 1),
        'share': lambda part, whole: ratio(part, whole, 'share', 0),
        'per_minute': lambda annual: per(annual, MINUTES_PER_YEAR, 'per_minute'),
        'per_day': lambda annual: per(annual, DAYS_PER_YEAR, 'per_day'),
        'rank': rank, 'total': total, 'ordinal': ordinal, 'latest': latest,
        'count': lambda values: len(numbers(values, 'count')),
    }


def _quantity(value, name: str) -> Quantity:
    if not isinstance(value, Quantity):
        raise ValueError(f'{name}() takes values from the data (e.g. a value looked up by '
                         f'year), not {type(value).__name__} {str(value)[:40]!r}')
    return value


class Used:
    """Which values a document's narrative read: per value, the keys it looked up, or
    every key ('*') when it took the whole set (``total(exports)``, a loop)."""

    def __init__(self) -> None:
        self.keys: dict[str, set | str] = {}
        self.place: tuple | None = None
        """Where the narrative is being written out (language, section), while it is."""
        self.by_place: dict[tuple, dict[str, set | str]] = {}

    def track(self, values: dict) -> dict:
        """``values`` with each lookup table replaced by one that records its use."""
        return {name: _Tracked(value, name, self) if isinstance(value, Values) else value
                for name, value in values.items()}

    def note(self, name: str, key=None) -> None:
        _add(self.keys, name, key)
        if self.place is not None:
            _add(self.by_place.setdefault(self.place, {}), name, key)

    def as_dict(self) -> dict:
        return {name: keys if keys == '*' else sorted(keys, key=repr)
                for name, keys in sorted(self.keys.items())}

    def shown(self, place: tuple, values: dict) -> dict[str, str]:
        """What the narrative printed of each value it read at ``place``, as the reader
        sees it: ``{'exports[2015]': 'US$577.2 billion'}`` (a set it took whole,
        key by key)."""
        shown = {}
        for name, keys in sorted(self.by_place.get(place, {}).items()):
            table = values.get(name)
            if not isinstance(table, Values):
                continue
            for key in (dict.keys(table) if keys == '*' else keys):
                if dict.__contains__(table, key):
                    expression = f'{name}.{key}' if isinstance(key, str) else f'{name}[{key}]'
                    shown[expression] = ' '.join(str(dict.__getitem__(table, key)).split())
        return dict(sorted(shown.items()))


def _add(keys: dict[str, set | str], name: str, key) -> None:
    if key is None:
        keys[name] = '*'
    elif keys.get(name) != '*':
        keys.setdefault(name, set()).add(key)


class _Tracked(Values):
    """A :class:`Values` that tells :class:`Used` what is read of it."""

    def __init__(self, values: Values, name: str, used: Used) -> None:
        super().__init__(values._name, dict(values), values._source, values._published,
                         values._later)
        self._used, self._tracked = used, name

    def __getitem__(self, key):
        self._used.note(self._tracked, key)
        return super().__getitem__(key)

    def __contains__(self, key) -> bool:
        self._used.note(self._tracked, key)
        return super().__contains__(key)

    def get(self, key, default=None):
        self._used.note(self._tracked, key)
        return super().get(key, default)

    def _whole(self):
        self._used.note(self._tracked)

    def values(self):
        self._whole()
        return super().values()

    def items(self):
        self._whole()
        return super().items()

    def keys(self):
        self._whole()
        return super().keys()

    def __iter__(self):
        self._whole()
        return super().__iter__()

    def __len__(self) -> int:
        self._whole()
        return super().__len__()


_Tracked.__name__ = _Tracked.__qualname__ = 'Values'   # as messages name it to a writer
