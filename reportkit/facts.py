"""Values computed from the data that the narrative may print (its template context).

A writer types ``{{ goods_trade[year] }}``, never the number itself: the value comes
from ``data/`` and prints in the section's language with its unit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .data import Tables
from .numbers import Quantity, month_year

MINUTES_PER_YEAR = 365 * 24 * 60
DAYS_PER_YEAR = 365


@dataclass(frozen=True)
class Milestone:
    """A dated value (NEXUS membership milestones are not a yearly series)."""

    as_of: str
    members: Quantity


@dataclass(frozen=True)
class StateExports:
    state: str
    exports: Quantity


def series(tables: Tables, dataset: str, x: str, y: str, lang: str,
           where: dict[str, str] | None = None) -> dict[int, Quantity]:
    """A column of a dataset as ``{year: Quantity}``."""
    table = tables[dataset]
    frame = table.frame
    for column, value in (where or {}).items():
        frame = frame[frame[column] == value]
    unit = table.spec.columns[y].unit or 'plain'
    return {int(row[x]): Quantity.of(row[y], unit, lang) for _, row in frame.iterrows()}


def narrative_context(tables: Tables, year: int, data_through: int, lang: str) -> dict:
    """Everything a section may use, for an edition covering ``year``.

    ``tables`` must already be windowed to ``data_through``.
    """
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

    def per(annual: Quantity, divisor: int) -> Quantity:
        return Quantity(annual.value / divisor, annual.kind, lang)

    return {
        'year': year,
        'cutoff': data_through,
        'goods_trade': series(tables, 'goods_trade', 'year',
                              'us_canada_two_way_goods_trade_usd_billions', lang),
        'us_exports': series(tables, 'us_exports', 'year',
                             'us_goods_exports_to_canada_usd_millions', lang),
        'trucks_north': series(tables, 'truck_crossings', 'year', 'trucks_thousands', lang,
                               where={'direction': 'northbound (into Canada)'}),
        'nexus_milestones': milestones,
        'nexus_latest': milestones[-1] if milestones else None,
        'top_states': [StateExports(r.state, Quantity.of(r.exports_to_canada_usd_millions,
                                                         'usd_millions', lang))
                       for r in top.itertuples()],
        'state_data_year': int(latest_state_year) if latest_state_year is not None else None,
        'fact': {r.key: Quantity.of(r.value, 'plain', lang) for r in headline.itertuples()},
        'pct_change': lambda new, old: Quantity(
            (new.value - old.value) / old.value * 100, 'percent', lang),
        'share': lambda part, whole: Quantity(part.value / whole.value * 100, 'percent', lang),
        'per_minute': lambda annual: per(annual, MINUTES_PER_YEAR),
        'per_day': lambda annual: per(annual, DAYS_PER_YEAR),
    }
