"""Stage 2, data (continued): what was known on an edition's date.

A full-year figure for year Y does not exist until Y has ended, and statistical agencies
publish it some months later. Each dataset with a ``period`` says in
``data/datasets.toml`` when its rows can first be cited (``released``):

``released = { months_after_period = N }``
    N months after the row's period ends: a year's U.S. trade figures, two months
    into the next year; a month's, after that month.
``released = { column = "date" }``
    from the row's own date (a figure as a document stated it, a dated milestone).

An edition sees a row only when it was released on or before the edition's
``publication_date``; a date known only to the month or the year counts from the day
after that month or year ends (nothing says it was known sooner). A value, row or chart
point outside that window is refused with a message saying when it was published.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from reportkit.data.read import Table, Tables
from reportkit.errors import DataError
from reportkit.numbers import long_date


def period_end(value) -> dt.date:
    """The last day of a period written as a year (2015, '2015'), a month ('2015-03')
    or a date ('2015-03-16')."""
    text = str(value)
    if not re.fullmatch(r'\d{4}(-\d{2}(-\d{2})?)?', text):
        raise ValueError(f"'{text[:20]}' is not a year, a month or a date")
    if len(text) == 4:
        return dt.date(int(text), 12, 31)
    if len(text) == 7:
        year, month = int(text[:4]), int(text[5:7])
        return _add_months(dt.date(year, month, 1), 1) - dt.timedelta(days=1)
    return dt.date.fromisoformat(text[:10])


def known_from(value, months: int = 0, *, dated: bool = False) -> dt.date:
    """The first day a row of period ``value`` can be cited: ``months`` after the
    period ends; or (``dated``) its own date: that day, or for a month or a year the
    day after it ends."""
    end = period_end(value)
    if dated and len(str(value)) == 10:
        return end
    return _add_months(end + dt.timedelta(days=1), months)


def _add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved ``months`` later: the same day of the month, or the month's last
    (31 January + 1 month: 29 February in a leap year)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return day.replace(year=year, month=month,
                       day=min(day.day, calendar.monthrange(year, month)[1]))


def released(table: Table) -> list[dt.date] | None:
    """When each row of ``table`` (in order) can first be cited; None for a dataset
    without a period (standing facts: names, places)."""
    rule = table.spec.released
    if table.spec.period is None or rule is None:
        return None
    column = rule.column or table.spec.period
    dates = []
    for value, line in zip(table.frame[column], table.lines):
        try:
            dates.append(known_from(value, rule.months_after_period or 0,
                                    dated=rule.column is not None))
        except ValueError as error:   # e.g. a 'year' of five digits
            raise DataError(f"column '{column}': {error}, so it cannot say when the row "
                            'was published', path=table.shown, line=line) from None
    return dates


def window(tables: Tables, published: dt.date) -> Tables:
    """The tables as an edition dated ``published`` sees them: only the rows released by
    then; a row dated later in its ``later`` column as it was then (e.g. an initiative
    completed after the edition's date, still in progress)."""
    windowed = {}
    for name, table in tables.items():
        later = table.spec.later
        if later is not None:
            dated = table.frame[later.column].map(
                lambda value: isinstance(value, str) and
                known_from(value, dated=True) > published)
            frame = table.frame.copy()
            for column, value in later.set.items():
                frame.loc[dated, column] = value or None
            table = Table(name, table.spec, table.shown, frame, table.lines)
        dates = released(table)
        if dates is None:
            windowed[name] = table
            continue
        keep = [day <= published for day in dates]
        windowed[name] = Table(name, table.spec, table.shown,
                               table.frame[keep].reset_index(drop=True),
                               [line for line, k in zip(table.lines, keep) if k])
    return windowed


def later_rows(table: Table, published: dt.date) -> list[tuple[int, str]]:
    """The rows of the unwindowed ``table`` released after ``published``: (index in the
    frame, why: 'not published until after 2016', 'not published until 1 March 2017',
    'dated 2016-11')."""
    dates = released(table)
    if dates is None:
        return []
    rule = table.spec.released
    found = []
    for index, day in zip(table.frame.index, dates):
        if day <= published:
            continue
        if rule.column is not None:
            why = f'dated {table.frame.at[index, rule.column]}'
        elif (day.month, day.day) == (1, 1):
            why = f'not published until after {day.year - 1}'
        else:
            why = f'not published until {long_date(day, "en")}'
        found.append((index, why))
    return found
