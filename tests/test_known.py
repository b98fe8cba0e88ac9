"""Each edition says only what was known on its date: every dataset says when its rows
are published, and an edition sees what was published by its publication date."""

from __future__ import annotations

import datetime as dt
import pytest

from reportkit.charts.specs import load_chart_specs
from reportkit.cli import main
from reportkit.data import read as data_stage
from reportkit.data.known import known_from, period_end, window
from reportkit.data.values import Values
from reportkit.data.view import data_view
from reportkit.load.edition import load_edition
from reportkit.project import Project

from .conftest import ROOT, copy_project, replace

PROJECT = Project.at(ROOT)
D = dt.date


@pytest.mark.parametrize('value, months, dated, expected', [
    (2015, 0, False, D(2016, 1, 1)),          # a year's figure: once the year is over
    (2015, 2, False, D(2016, 3, 1)),          # two months after
    ('2014-11', 3, False, D(2015, 3, 1)),     # a month's, three months after: across a year
    ('2014-12', 0, False, D(2015, 1, 1)),
    ('2016-04-27', 0, True, D(2016, 4, 27)),  # a dated statement: that day
    ('2016-11', 0, True, D(2016, 12, 1)),     # dated to the month: once the month is over
    ('2016', 0, True, D(2017, 1, 1)),         # dated to the year: once the year is over
    ('2016-02', 0, True, D(2016, 3, 1)),      # February of a leap year ends on the 29th
    ('2016-01-30', 1, False, D(2016, 2, 29)), # a dated period: the day after, a month on
])
def test_when_a_row_can_first_be_cited(value, months, dated, expected):
    assert known_from(value, months, dated=dated) == expected


def test_the_end_of_a_period():
    assert period_end(2015) == D(2015, 12, 31)
    assert period_end('2016-02') == D(2016, 2, 29)
    assert period_end('2013-12-19') == D(2013, 12, 19)


def expected_release(table, index) -> dt.date:
    """Written out again here, independently of reportkit.data.known."""
    rule = table.spec.released
    if rule.column is not None:
        return expected_release_of_date(str(table.frame.at[index, rule.column]))
    period = str(table.frame.at[index, table.spec.period])
    year, month = int(period[:4]), int(period[5:7]) if len(period) > 4 else 12
    month += rule.months_after_period
    return D(year + month // 12, month % 12 + 1, 1)


def expected_release_of_date(text: str) -> dt.date:
    """A stated date: that day; a month or a year: the day after it ends."""
    if len(text) == 10:
        return D.fromisoformat(text)
    if len(text) == 7:
        return D(int(text[:4]) + int(text[5:]) // 12, int(text[5:]) % 12 + 1, 1)
    return D(int(text) + 1, 1, 1)


@pytest.mark.parametrize('name', PROJECT.editions())
def test_no_value_row_or_chart_point_is_dated_after_the_edition_allows(name):
    """Every value the narrative can print, every chart point and every table row of each
    edition comes from a row published by the edition's date; an initiative completed
    later is still in progress."""
    edition = load_edition(PROJECT, name)
    published = edition.config.publication_date
    tables = data_stage.load_tables(PROJECT, edition.series.datasets)
    view, problems = data_view(PROJECT, edition, list(edition.config.languages),
                               load_chart_specs(PROJECT, edition))
    assert view is not None and problems == [], problems
    seen = 0
    for value_name, spec in edition.values.items():
        table = tables[spec.dataset]
        if table.spec.period is None:
            continue
        for lang in edition.config.languages:
            value = view.values[lang][value_name]
            keys = list(value) if isinstance(value, dict) else []
            for key in keys:
                rows = table.frame.index[table.frame[spec.key] == key]
                assert any(expected_release(table, i) <= published for i in rows), \
                    (name, value_name, key)
                seen += 1
    specs = load_chart_specs(PROJECT, edition)
    documents = [view.series] + [view.item_series[item] for item in view.items]
    for by_lang in documents:
        for chart_id, series in by_lang.get(edition.config.languages[0], {}).items():
            table = tables[specs[chart_id].dataset]
            frame = table.frame
            for x in series.xs:
                rows = frame.index[frame[specs[chart_id].x] == x]
                if specs[chart_id].latest:   # the latest year's row of each x
                    rows = [i for i in rows
                            if str(frame.at[i, specs[chart_id].latest]) == series.period]
                assert any(expected_release(table, i) <= published for i in rows), \
                    (name, chart_id, x)
                seen += 1
    assert seen > 0
    initiatives = tables.get('initiatives')
    if initiatives is not None:
        shown = window({'initiatives': initiatives}, published)['initiatives'].frame
        for row in shown.itertuples():
            if isinstance(row.completed, str):
                assert expected_release_of_date(row.completed) <= published, row.id
        done_later = initiatives.frame['completed'].map(
            lambda v: isinstance(v, str) and expected_release_of_date(v) > published)
        for ident in initiatives.frame['id'][done_later]:
            assert shown.loc[shown['id'] == ident, 'status'].item() == 'in progress', ident



def test_the_2015_edition_shows_2015_trade_and_not_the_2016_state_figures():
    """Dated 27 April 2016: 2015's goods trade had been published (March 2016), the 2016
    state figures had not (2016 was not over)."""
    edition = load_edition(PROJECT, '2015')
    view, _ = data_view(PROJECT, edition, ['en'], load_chart_specs(PROJECT, edition))
    goods_trade = view.values['en']['goods_trade']
    assert max(goods_trade) == 2015 and 2016 not in goods_trade
    assert goods_trade._missing(2016) == (
        'goods_trade[2016]: not published until March 1, 2017; this edition is dated '
        'April 27, 2016 and can show 2002–2015')


def planted_build(project, section: str, old: str, new: str, capsys) -> str:
    replace(project / section, old, new)
    assert main(['--project', str(project), 'check', '2015', '--lang', 'en']) == 1
    return capsys.readouterr().err


def test_a_value_too_recent_for_the_edition_stops_the_build_with_the_reason(tmp_path, capsys):
    project = copy_project(tmp_path / 'project')
    err = planted_build(project, 'reports/beyond-the-border/2015/en/trade.md',
                        '{{ goods_trade[year] }}', '{{ goods_trade[year + 1] }}', capsys)
    assert ('reports/beyond-the-border/2015/en/trade.md:10: unknown value: goods_trade[2016]: '
            'not published until March 1, 2017; this edition is dated April 27, 2016 and '
            'can show 2002–2015') in err


def test_a_figure_stated_after_the_edition_stops_the_build_with_its_date(tmp_path, capsys):
    project = copy_project(tmp_path / 'project')
    with (project / 'data/headline_figures.csv').open('a', encoding='utf-8') as stream:
        stream.write('planted_count,7,count,A later report,2016-05-02,2015,seven,'
                     'https://example.org/later\n')
    err = planted_build(project, 'reports/beyond-the-border/2015/en/trade.md',
                        'The second area of cooperation', 'The {{ fact.planted_count }} '
                        'second area of cooperation', capsys)
    assert ('unknown value: fact.planted_count: dated 2016-05-02; this edition is dated '
            'April 27, 2016') in err


def test_an_edition_no_longer_sets_its_cut_off(tmp_path, capsys):
    project = copy_project(tmp_path / 'project')
    replace(project / 'reports/beyond-the-border/2015/edition.toml', 'revision = 1',
            'data_through = 2016\nrevision = 1')
    assert main(['--project', str(project), 'check', '2015']) == 1
    err = capsys.readouterr().err
    assert ("reports/beyond-the-border/2015/edition.toml:7: 'data_through': an edition no "
            'longer sets the last year of its data: it shows what was published by its '
            'publication_date') in err


@pytest.mark.parametrize('declaration, message', [
    ('period = "year"\n', "a dataset with a 'period' must say when its rows are published"),
    ('period = "year"\nreleased = { months_after_period = 2, column = "note" }\n',
     "give one of 'months_after_period'"),
    ('period = "year"\nreleased = { column = "source" }\n',
     "'source' dates the rows, so it must be a date, a month or a year"),
    ('period = "year"\nreleased = { column = "year" }\n', None),   # a year column: allowed
])
def test_a_dataset_with_a_period_says_when_its_rows_are_published(tmp_path, capsys,
                                                                  declaration, message):
    project = copy_project(tmp_path / 'project')
    replace(project / 'data/datasets.toml',
            'period = "year"\nreleased = { months_after_period = 2 }   # Census/BEA annual '
            'goods trade: early February of the next year\n', declaration)
    status = main(['--project', str(project), 'check', '2015', '--lang', 'en'])
    err = capsys.readouterr().err
    if message is None:
        assert status == 0, err
        return
    assert status == 1 and 'data/datasets.toml' in err and message in err, err


def test_a_key_outside_the_data_names_the_date_too():
    values = Values('goods_trade', {2014: 1, 2015: 2}, 'data/x.csv', D(2016, 4, 27))
    assert values._missing(1999) == (
        'goods_trade[1999]: no value for 1999 in data/x.csv; this edition has 2014–2015 '
        '(this edition is dated April 27, 2016)')


def test_the_date_that_publishes_a_row_cannot_be_left_empty(tmp_path, capsys):
    project = copy_project(tmp_path / 'project')
    replace(project / 'data/datasets.toml', 'columns.stated = { type = "date" }',
            'columns.stated = { type = "date", required = false }')
    assert main(['--project', str(project), 'check', '2015', '--lang', 'en']) == 1
    err = capsys.readouterr().err
    assert ("[nexus]: 'stated' says when each row was published, so every row must have "
            'it') in err, err


def test_a_period_that_is_not_a_year_a_month_or_a_date_is_named_with_its_row(tmp_path, capsys):
    project = copy_project(tmp_path / 'project')
    replace(project / 'data/datasets.toml',
            'columns.year = { type = "int", min = 1900, max = 2100 }\n'
            'columns.us_canada_two_way_goods_trade_usd_billions',
            'columns.year = { type = "int", min = 1900 }\n'
            'columns.us_canada_two_way_goods_trade_usd_billions')
    path = project / 'data/us_canada_two_way_goods_trade_2002_2017.csv'
    lines = path.read_text(encoding='utf-8').splitlines(keepends=True)
    lines.append('20170,1,x,y,\n')
    path.write_text(''.join(lines), encoding='utf-8')
    assert main(['--project', str(project), 'check', '2015', '--lang', 'en']) == 1
    err = capsys.readouterr().err
    assert (f'data/us_canada_two_way_goods_trade_2002_2017.csv:{len(lines)}: column '
            "'year': '20170' is not a year, a month or a date") in err, err

