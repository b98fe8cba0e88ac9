"""Values computed from the data that the narrative may print (its template context).

A writer types ``{{ goods_trade[year] }}``, never the number itself: the value comes
from ``data/`` and prints in the section's language with its unit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .numbers import Quantity, month_year

if TYPE_CHECKING:  # pragma: no cover
    from .data import Tables

MINUTES_PER_YEAR = 365 * 24 * 60
DAYS_PER_YEAR = 365


class Values(dict):
    """Values a writer looks up by key (a year, a figure's name), with the reason a key
    is missing, for the message that stops the build. (Attributes start with '_' so that
    no key is shadowed, and the sandbox keeps writers away from them.)"""

    def __init__(self, name: str, values: dict, source: str, cutoff: int,
                 later: dict | None = None) -> None:
        super().__init__(values)
        self._name, self._source, self._cutoff = name, source, cutoff
        self._later = later or {}
        """Keys that exist in the data, but after this edition's cut-off -> their year."""

    def _missing(self, key) -> str:
        shown = f'{self._name}.{key}' if isinstance(key, str) else f'{self._name}[{key}]'
        if key in self._later:
            return (f"{shown} describes {self._later[key]}, after this edition's data "
                    f'cut-off ({self._cutoff}), so this edition cannot show it')
        if self and all(isinstance(k, int) for k in self):
            return (f'{shown}: no value for {key} in {self._source}; this edition has '
                    f'{_ranges(sorted(self))} (data through {self._cutoff})')
        return f'{shown}: no such value in {self._source}'


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


@dataclass(frozen=True)
class Milestone:
    """A dated value (NEXUS membership milestones are not a yearly series)."""

    as_of: str
    members: Quantity


@dataclass(frozen=True)
class StateExports:
    state: str
    exports: Quantity


def series(tables: Tables, name: str, dataset: str, x: str, y: str, lang: str,
           cutoff: int, where: dict[str, str] | None = None) -> Values:
    """A column of a dataset as ``{year: Quantity}``."""
    table = tables[dataset]
    frame = table.frame
    for column, value in (where or {}).items():
        frame = frame[frame[column] == value]
    unit = table.spec.columns[y].unit or 'plain'
    return Values(name, {int(row[x]): Quantity.of(row[y], unit, lang)
                         for _, row in frame.iterrows()}, table.shown, cutoff)


def narrative_values(tables: Tables, year: int, data_through: int, lang: str,
                     all_tables: Tables | None = None) -> dict:
    """The values a section may print, for an edition covering ``year`` (plain Python:
    they are kept in the data cache; :func:`narrative_context` adds the helpers).

    ``tables`` must already be windowed to ``data_through``; ``all_tables`` (unwindowed)
    lets a message say that a value exists but lies after the cut-off.
    """
    cutoff = data_through
    nexus = tables['nexus'].frame.sort_values('as_of')
    milestones = [
        Milestone(month_year(dt.date(int(r.as_of[:4]), int(r.as_of[5:7]), 1), lang),
                  Quantity.of(r.members, 'plain', lang))
        for r in nexus.itertuples()
    ]
    states = tables['state_trade'].frame
    latest_state_year = states['year'].max() if len(states) else None
    top = states[states['year'] == latest_state_year].sort_values(
        'exports_to_canada_usd_millions', ascending=False).head(10)
    headline = tables['headline'].frame
    names = tables['us_states']
    state_name = dict(zip(names.frame['state_code'], names.text('name', lang)))

    later = {}
    if all_tables is not None:
        everything = all_tables['headline'].frame
        later = {str(r.key): int(r.as_of) for r in everything.itertuples()
                 if r.as_of > cutoff}
    fact = Values('fact', {r.key: Quantity.of(r.value, 'plain', lang)
                           for r in headline.itertuples()},
                  tables['headline'].shown, cutoff, later)
    return {
        'year': year,
        'cutoff': data_through,
        'goods_trade': series(tables, 'goods_trade', 'goods_trade', 'year',
                              'us_canada_two_way_goods_trade_usd_billions', lang, cutoff),
        'us_exports': series(tables, 'us_exports', 'us_exports', 'year',
                             'us_goods_exports_to_canada_usd_millions', lang, cutoff),
        'trucks_north': series(tables, 'trucks_north', 'truck_crossings', 'year',
                               'trucks_thousands', lang, cutoff,
                               where={'direction': 'northbound (into Canada)'}),
        'nexus_milestones': milestones,
        'nexus_latest': milestones[-1] if milestones else None,
        'top_states': [StateExports(state_name[r.state_code], Quantity.of(r.exports_to_canada_usd_millions,
                                                         'usd_millions', lang))
                       for r in top.itertuples()],
        'state_data_year': int(latest_state_year) if latest_state_year is not None else None,
        'fact': fact,
    }


def narrative_context(values: dict, lang: str) -> dict:
    """Everything a section may use: the values, and the helpers that compute with them.
    A helper given something that is not a value from the data, or asked to divide by
    zero, stops the build with a message saying so (never an internal error)."""

    def per(annual, divisor: int, name: str) -> Quantity:
        annual = _quantity(annual, name)
        return Quantity(annual.value / divisor, annual.kind, lang)

    def ratio(part, whole, name: str, minus: float) -> Quantity:
        part, whole = _quantity(part, name), _quantity(whole, name)
        if whole.value == 0:
            raise ValueError(f'{name}(): the second value is 0, so there is no percentage')
        return Quantity((part.value - minus * whole.value) / whole.value * 100, 'percent',
                        lang)

    return {
        **values,
        'pct_change': lambda new, old: ratio(new, old, 'pct_change', 1),
        'share': lambda part, whole: ratio(part, whole, 'share', 0),
        'per_minute': lambda annual: per(annual, MINUTES_PER_YEAR, 'per_minute'),
        'per_day': lambda annual: per(annual, DAYS_PER_YEAR, 'per_day'),
    }


def _quantity(value, name: str) -> Quantity:
    if not isinstance(value, Quantity):
        raise ValueError(f'{name}() takes values from the data (e.g. goods_trade[2015]), '
                         f'not {type(value).__name__} {str(value)[:40]!r}')
    return value
