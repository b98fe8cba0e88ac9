"""Bad input: one clear message naming the file (and line), exit 1, nothing written.

Each case plants one fault in a copy of the project and pins the exact message.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reportkit.cli import main


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding='utf-8')
    assert old in text, f'fixture drift: {old!r} not in {path}'
    path.write_text(text.replace(old, new, 1), encoding='utf-8')


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding='utf-8') + text, encoding='utf-8')


def line_count(path: Path, rows: int) -> int:
    """The line of the first row past ``rows`` data rows (header on line 1)."""
    return rows + 2


def line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


PIE = 'kind = "pie"'
NO_ALT = 'alt.en = ""'

CASES = {
    'non-number in a numeric column': (
        lambda p: replace(p / 'data/us_canada_two_way_goods_trade_2002_2017.csv',
                          '2014,662.10,', '2014,n/a,'),
        lambda p: "data/us_canada_two_way_goods_trade_2002_2017.csv:14: column "
                  "'us_canada_two_way_goods_trade_usd_billions': 'n/a' is not a number"),
    'negative value': (
        lambda p: replace(p / 'data/us_goods_exports_to_canada.csv', '2013,300755,',
                          '2013,-300755,'),
        lambda p: "data/us_goods_exports_to_canada.csv:3: column "
                  "'us_goods_exports_to_canada_usd_millions': -300755 is below the minimum 0"),
    'missing column': (
        lambda p: (p / 'data/nexus_membership.csv').write_text(
            'as_of,statement,source,source_url,note\n2003-09,x,y,z,\n'),
        lambda p: "data/nexus_membership.csv:1: missing column 'members'"),
    'duplicate key': (
        lambda p: append(p / 'data/us_goods_exports_to_canada.csv',
                         '2015,1,b,s,u,\n'),
        lambda p: "data/us_goods_exports_to_canada.csv:7: duplicate row for year=2015 "
                  "(first on line 5)"),
    'empty data file': (
        lambda p: (p / 'data/nexus_membership.csv').write_text(''),
        lambda p: 'data/nexus_membership.csv:1: file is empty: expected a header row with '
                  'the columns as_of, members, statement, source, source_url, note'),
    'unknown name in a section': (
        lambda p: replace(p / 'reports/2015/en/trade.md', '{{ goods_trade[year] }}',
                          '{{ goods_trad[year] }}'),
        lambda p: f"reports/2015/en/trade.md:"
                  f"{line_of(p / 'reports/2015/en/trade.md', 'goods_trad[year]')}: unknown value: "
                  "'goods_trad' is undefined (see README, \"Values from the data\")"),
    'python internals in a section': (
        lambda p: append(p / 'reports/2015/en/threats.md', "\n{{ ''.__class__.__mro__ }}\n"),
        lambda p: f"reports/2015/en/threats.md:"
                  f"{line_of(p / 'reports/2015/en/threats.md', '__class__')}: not allowed in the "
                  "narrative: access to attribute '__class__' of 'str' object is unsafe."),
    'image outside the project': (
        lambda p: append(p / 'reports/2015/en/trade.md', '\n![Map](../../../../secret.png)\n'),
        lambda p: f"reports/2015/en/trade.md:"
                  f"{line_of(p / 'reports/2015/en/trade.md', 'secret.png')}: image "
                  "'../../../../secret.png' is outside the project; copy it into the project first"),
    'image from the web': (
        lambda p: append(p / 'reports/2015/en/trade.md', '\n![Map](https://example.org/m.png)\n'),
        lambda p: f"reports/2015/en/trade.md:"
                  f"{line_of(p / 'reports/2015/en/trade.md', 'example.org')}: image "
                  "'https://example.org/m.png' is not allowed: images must be files inside the "
                  "project (no http://, https://, file:// or other addresses)"),
    'raw HTML in a section': (
        lambda p: append(p / 'reports/2015/en/threats.md', '\n<script>alert(1)</script>\n'),
        lambda p: f"reports/2015/en/threats.md:"
                  f"{line_of(p / 'reports/2015/en/threats.md', '<script>')}: raw HTML is not "
                  "allowed in the narrative; write Markdown instead (found "
                  "'<script>alert(1)</script>')"),
    'malformed TOML': (
        lambda p: replace(p / 'reports/2015/edition.toml', 'revision = 1', 'revision = = 1'),
        lambda p: f"reports/2015/edition.toml:"
                  f"{line_of(p / 'reports/2015/edition.toml', 'revision = = 1')}: "
                  "not valid TOML: Invalid value"),
    'unknown config key': (
        lambda p: replace(p / 'reports/2015/edition.toml', 'revision = 1',
                          'revision = 1\nrevison_date = 2016-01-01'),
        lambda p: f"reports/2015/edition.toml:"
                  f"{line_of(p / 'reports/2015/edition.toml', 'revison_date')}: "
                  "'revison_date': unknown key"),
    'wrong type in config': (
        lambda p: replace(p / 'reports/2015/edition.toml', 'revision = 1', 'revision = "one"'),
        lambda p: f"reports/2015/edition.toml:"
                  f"{line_of(p / 'reports/2015/edition.toml', 'revision = ')}: "
                  "'revision': input should be a valid integer, got 'one'"),
    'section listed but missing': (
        lambda p: (p / 'reports/2015/en/threats.md').unlink(),
        lambda p: "reports/2015/en/threats.md: section 'threats' is listed in edition.toml "
                  "but its file is missing"),
    'section file not listed': (
        lambda p: (p / 'reports/2015/en/extra.md').write_text('---\ntitle: Extra\n---\nText\n'),
        lambda p: "reports/2015/en/extra.md: section file is not listed in 'sections' of "
                  "reports/2015/edition.toml"),
    'section not UTF-8': (
        lambda p: (p / 'reports/2015/en/threats.md').write_bytes(
            b'---\ntitle: Threats\n---\n\nCaf\xe9 text\n'),
        lambda p: 'reports/2015/en/threats.md:5: not UTF-8 text; save the file as UTF-8'),
    'skipped heading level': (
        lambda p: append(p / 'reports/2015/en/threats.md', '\n#### Too deep\n'),
        lambda p: f"reports/2015/en/threats.md:"
                  f"{line_of(p / 'reports/2015/en/threats.md', 'Too deep')}: heading level "
                  "skipped: '####' follows '##' (use '###')"),
    'required config key missing': (
        lambda p: replace(p / 'reports/2015/edition.toml', 'year = 2015 ', '# year = 2015 '),
        lambda p: "reports/2015/edition.toml: 'year': required key is missing"),
    'value above the allowed maximum': (
        lambda p: replace(p / 'data/us_canada_two_way_goods_trade_2002_2017.csv',
                          '2014,662.10,', '2014,66210,'),
        lambda p: "data/us_canada_two_way_goods_trade_2002_2017.csv:14: column "
                  "'us_canada_two_way_goods_trade_usd_billions': 66210 is above the maximum "
                  "10000"),
    'a year outside the allowed range': (
        lambda p: append(p / 'data/us_goods_exports_to_canada.csv', '2150,1,b,s,u,\n'),
        lambda p: "data/us_goods_exports_to_canada.csv:7: column 'year': 2150 is above the "
                  "maximum 2100"),
    "a year after the edition's cut-off": (
        lambda p: replace(p / 'reports/2015/en/trade.md', '{{ goods_trade[year] }}',
                          '{{ goods_trade[2017] }}'),
        lambda p: f"reports/2015/en/trade.md:"
                  f"{line_of(p / 'reports/2015/en/trade.md', 'goods_trade[2017]')}: unknown "
                  "value: goods_trade[2017]: no value for 2017 in "
                  "data/us_canada_two_way_goods_trade_2002_2017.csv; this edition has "
                  '2002–2016 (data through 2016) (see README, "Values from the data")'),
    'unknown chart type': (
        lambda p: replace(p / 'charts/charts.toml', 'kind = "bar"', 'kind = "pie"'),
        lambda p: f"charts/charts.toml:{line_of(p / 'charts/charts.toml', PIE)}: [us-exports] "
                  "'kind': input should be 'line', 'bar', 'hbar' or 'points'"),
    'unknown chart series': (
        lambda p: replace(p / 'charts/charts.toml', 'y = "trucks_thousands"', 'y = "lorries"'),
        lambda p: f"charts/charts.toml:{line_of(p / 'charts/charts.toml', 'lorries')}: "
                  "[truck-crossings] dataset 'truck_crossings' has no column 'lorries'"),
    'figure without alt text': (
        lambda p: replace(p / 'charts/charts.toml', 'alt.en = "Bar chart of U.S.',
                          'alt.en = "" # "Bar chart of U.S.'),
        lambda p: f"charts/charts.toml:{line_of(p / 'charts/charts.toml', NO_ALT)}: "
                  "[us-exports] 'alt.en' is empty: describe what the chart shows, for readers "
                  "who cannot see it"),
    'table without a header row': (
        lambda p: append(p / 'reports/2015/en/threats.md', '\n|  |  |\n|---|---|\n| a | b |\n'),
        lambda p: f"reports/2015/en/threats.md:"
                  f"{line_of(p / 'reports/2015/en/threats.md', '|  |  |')}: a table column has "
                  "no heading: give every column of the first row a heading (screen readers "
                  "announce it with each cell)"),
    'Markdown image without alt text': (
        lambda p: ((p / 'reports/2015/en/map.png').write_bytes(b'\x89PNG\r\n\x1a\n'),
                   append(p / 'reports/2015/en/trade.md', '\n![](map.png)\n')),
        lambda p: f"reports/2015/en/trade.md:{line_of(p / 'reports/2015/en/trade.md', '](map')}"
                  ": image 'map.png' has no alt text: write ![what the image shows](map.png)"),
    'link to https': (
        lambda p: append(p / 'reports/2015/en/trade.md', '\nSee [the site](https://example.org).\n'),
        lambda p: f"reports/2015/en/trade.md:"
                  f"{line_of(p / 'reports/2015/en/trade.md', 'example.org')}: link to "
                  "'https://example.org' is not allowed: links may only point inside the report "
                  "(#id) or be mailto: addresses"),
    'link to file://': (
        lambda p: append(p / 'reports/2015/en/trade.md', '\nSee [this](file:///etc/passwd).\n'),
        lambda p: f"reports/2015/en/trade.md:"
                  f"{line_of(p / 'reports/2015/en/trade.md', 'file:///')}: link to "
                  "'file:///etc/passwd' is not allowed: links may only point inside the report "
                  "(#id) or be mailto: addresses"),
    'image from file://': (
        lambda p: append(p / 'reports/2015/en/trade.md', '\n![Map](file:///etc/map.png)\n'),
        lambda p: f"reports/2015/en/trade.md:"
                  f"{line_of(p / 'reports/2015/en/trade.md', 'file:///')}: image "
                  "'file:///etc/map.png' is not allowed: images must be files inside the "
                  "project (no http://, https://, file:// or other addresses)"),
    'image at an absolute path': (
        lambda p: append(p / 'reports/2015/en/trade.md', '\n![Map](/etc/map.png)\n'),
        lambda p: f"reports/2015/en/trade.md:"
                  f"{line_of(p / 'reports/2015/en/trade.md', '/etc/map.png')}: image "
                  "'/etc/map.png' is not allowed: use a path relative to the section file, not "
                  "an absolute path"),
    'raw <iframe>': (
        lambda p: append(p / 'reports/2015/en/threats.md',
                         '\n<iframe src="https://example.org"></iframe>\n'),
        lambda p: f"reports/2015/en/threats.md:"
                  f"{line_of(p / 'reports/2015/en/threats.md', '<iframe')}: raw HTML is not "
                  "allowed in the narrative; write Markdown instead (found '<iframe "
                  "src=\"https://example.org\"></ifra')"),
    'raw <img onerror>': (
        lambda p: append(p / 'reports/2015/en/threats.md',
                         '\nText <img src=x onerror="alert(1)"> here.\n'),
        lambda p: f"reports/2015/en/threats.md:"
                  f"{line_of(p / 'reports/2015/en/threats.md', 'onerror')}: raw HTML is not "
                  "allowed in the narrative; write Markdown instead (found '<img src=x "
                  "onerror=\"alert(1)\">')"),
    'raw <style>': (
        lambda p: append(p / 'reports/2015/en/threats.md',
                         '\n<style>body { display: none }</style>\n'),
        lambda p: f"reports/2015/en/threats.md:"
                  f"{line_of(p / 'reports/2015/en/threats.md', '<style>')}: raw HTML is not "
                  "allowed in the narrative; write Markdown instead (found '<style>body { "
                  "display: none }</style>')"),
    'Jinja reaching for globals': (
        lambda p: append(p / 'reports/2015/en/threats.md', "\n{{ lipsum.__globals__ }}\n"),
        lambda p: f"reports/2015/en/threats.md:"
                  f"{line_of(p / 'reports/2015/en/threats.md', '__globals__')}: not allowed in "
                  "the narrative: access to attribute '__globals__' of 'function' object is "
                  "unsafe."),
    'Jinja reaching for a class': (
        lambda p: append(p / 'reports/2015/en/threats.md', "\n{{ fact.__class__.__mro__ }}\n"),
        lambda p: f"reports/2015/en/threats.md:"
                  f"{line_of(p / 'reports/2015/en/threats.md', '__mro__')}: not allowed in "
                  "the narrative: access to attribute '__class__' of 'Values' object is "
                  "unsafe."),
    'enormous data file': (
        lambda p: append(p / 'data/headline_figures.csv', ''.join(
            f'k{i},1,u,d,2016,2016,s,u\n' for i in range(100_000))),
        lambda p: f"data/headline_figures.csv:{line_count(p / 'data/headline_figures.csv', 20_000)}"
                  ': more than 20,000 rows: too large for a report table (split or summarise '
                  'the data first)'),
    'enormous section': (
        lambda p: append(p / 'reports/2015/en/threats.md', 'word ' * 1_000_000),
        lambda p: 'reports/2015/en/threats.md: the file is 5.0 MB; a section may be at most '
                  '1 MB (split it into sections, or move tables of data to data/)'),
}


@pytest.mark.parametrize('case', CASES, ids=list(CASES))
def test_bad_input_is_refused_with_one_clear_message(case, project_copy, tmp_path, capsys):
    plant, expected = CASES[case]
    plant(project_copy)
    out = tmp_path / 'out' / 'report.pdf'
    out.parent.mkdir()
    out.write_bytes(b'previous good PDF')
    status = main(['--project', str(project_copy), 'build', '2015', '--lang', 'en',
                   '--out', str(out)])
    stderr = capsys.readouterr().err
    assert status == 1
    assert f'error: {expected(project_copy)}' in stderr
    assert 'Traceback' not in stderr
    assert out.read_bytes() == b'previous good PDF'
    assert sorted(p.name for p in out.parent.iterdir()) == ['report.pdf']


def test_debug_shows_the_traceback(project_copy, capsys):
    replace(project_copy / 'reports/2015/en/trade.md', '{{ goods_trade[year] }}', '{{ nope }}')
    status = main(['--project', str(project_copy), '--debug', 'build', '2015', '--lang', 'en',
                   '--out', str(project_copy / 'x.pdf')])
    assert status == 1
    assert 'Traceback' in capsys.readouterr().err
