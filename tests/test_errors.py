"""Bad input: one clear message naming the file (and line), exit 1, nothing written.

Each case plants one fault in a copy of the project and pins the exact message.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image

from reportkit.cli import main

from .conftest import replace


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
            'as_of,stated,statement,source,source_url,note\n2003-09,2003-09-11,x,y,z,\n'),
        lambda p: "data/nexus_membership.csv:1: missing column 'members'"),
    'duplicate key': (
        lambda p: append(p / 'data/us_goods_exports_to_canada.csv',
                         '2015,1,b,s,u,\n'),
        lambda p: "data/us_goods_exports_to_canada.csv:7: duplicate row for year=2015 "
                  "(first on line 5)"),
    'empty data file': (
        lambda p: (p / 'data/nexus_membership.csv').write_text(''),
        lambda p: 'data/nexus_membership.csv:1: file is empty: expected a header row with '
                  'the columns as_of, stated, members, statement, source, source_url, note'),
    'unknown name in a section': (
        lambda p: replace(p / 'reports/beyond-the-border/2015/en/trade.md', '{{ goods_trade[year] }}',
                          '{{ goods_trad[year] }}'),
        lambda p: f"reports/beyond-the-border/2015/en/trade.md:"
                  f"{line_of(p / 'reports/beyond-the-border/2015/en/trade.md', 'goods_trad[year]')}: unknown value: "
                  "'goods_trad' is undefined (see README, \"Values from the data\")"),
    'python internals in a section': (
        lambda p: append(p / 'reports/beyond-the-border/2015/en/threats.md', "\n{{ ''.__class__.__mro__ }}\n"),
        lambda p: f"reports/beyond-the-border/2015/en/threats.md:"
                  f"{line_of(p / 'reports/beyond-the-border/2015/en/threats.md', '__class__')}: not allowed in the "
                  "narrative: access to attribute '__class__' of 'str' object is unsafe."),
    'image outside the project': (
        lambda p: append(p / 'reports/beyond-the-border/2015/en/trade.md', '\n![Map](../../../../../secret.png)\n'),
        lambda p: f"reports/beyond-the-border/2015/en/trade.md:"
                  f"{line_of(p / 'reports/beyond-the-border/2015/en/trade.md', 'secret.png')}: image "
                  "'../../../../../secret.png' is outside the project; only files inside it can be used "
                  "(copy the file in)"),
    'image from the web': (
        lambda p: append(p / 'reports/beyond-the-border/2015/en/trade.md', '\n![Map](https://example.org/m.png)\n'),
        lambda p: f"reports/beyond-the-border/2015/en/trade.md:"
                  f"{line_of(p / 'reports/beyond-the-border/2015/en/trade.md', 'example.org')}: image "
                  "'https://example.org/m.png' is not allowed: images must be files inside the "
                  "project (no http://, https://, file:// or other addresses)"),
    'raw HTML in a section': (
        lambda p: append(p / 'reports/beyond-the-border/2015/en/threats.md', '\n<script>alert(1)</script>\n'),
        lambda p: f"reports/beyond-the-border/2015/en/threats.md:"
                  f"{line_of(p / 'reports/beyond-the-border/2015/en/threats.md', '<script>')}: raw HTML is not "
                  "allowed in the narrative; write Markdown instead (found "
                  "'<script>alert(1)</script>')"),
    'malformed TOML': (
        lambda p: replace(p / 'reports/beyond-the-border/2015/edition.toml', 'revision = 1', 'revision = = 1'),
        lambda p: f"reports/beyond-the-border/2015/edition.toml:"
                  f"{line_of(p / 'reports/beyond-the-border/2015/edition.toml', 'revision = = 1')}: "
                  "not valid TOML: Invalid value"),
    'unknown config key': (
        lambda p: replace(p / 'reports/beyond-the-border/2015/edition.toml', 'revision = 1',
                          'revision = 1\nrevison_date = 2016-01-01'),
        lambda p: f"reports/beyond-the-border/2015/edition.toml:"
                  f"{line_of(p / 'reports/beyond-the-border/2015/edition.toml', 'revison_date')}: "
                  "'revison_date': unknown key"),
    'wrong type in config': (
        lambda p: replace(p / 'reports/beyond-the-border/2015/edition.toml', 'revision = 1', 'revision = "one"'),
        lambda p: f"reports/beyond-the-border/2015/edition.toml:"
                  f"{line_of(p / 'reports/beyond-the-border/2015/edition.toml', 'revision = ')}: "
                  "'revision': input should be a valid integer, got 'one'"),
    'section listed but missing': (
        lambda p: (p / 'reports/beyond-the-border/2015/en/threats.md').unlink(),
        lambda p: "reports/beyond-the-border/2015/en/threats.md: section 'threats' is listed in edition.toml "
                  "but its file is missing"),
    'section file not listed': (
        lambda p: (p / 'reports/beyond-the-border/2015/en/extra.md').write_text('---\ntitle: Extra\n---\nText\n'),
        lambda p: "reports/beyond-the-border/2015/en/extra.md: section file is not listed in 'sections' of "
                  "reports/beyond-the-border/2015/edition.toml"),
    'section not UTF-8': (
        lambda p: (p / 'reports/beyond-the-border/2015/en/threats.md').write_bytes(
            b'---\ntitle: Threats\n---\n\nCaf\xe9 text\n'),
        lambda p: 'reports/beyond-the-border/2015/en/threats.md:5: not UTF-8 text; save the file as UTF-8'),
    'skipped heading level': (
        lambda p: append(p / 'reports/beyond-the-border/2015/en/threats.md', '\n#### Too deep\n'),
        lambda p: f"reports/beyond-the-border/2015/en/threats.md:"
                  f"{line_of(p / 'reports/beyond-the-border/2015/en/threats.md', 'Too deep')}: heading level "
                  "skipped: '####' follows '##' (use '###')"),
    'required config key missing': (
        lambda p: replace(p / 'reports/beyond-the-border/2015/edition.toml', 'year = 2015 ', '# year = 2015 '),
        lambda p: "reports/beyond-the-border/2015/edition.toml: 'year': required key is missing"),
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
    "a year published after the edition's date": (
        lambda p: replace(p / 'reports/beyond-the-border/2015/en/trade.md', '{{ goods_trade[year] }}',
                          '{{ goods_trade[2017] }}'),
        lambda p: f"reports/beyond-the-border/2015/en/trade.md:"
                  f"{line_of(p / 'reports/beyond-the-border/2015/en/trade.md', 'goods_trade[2017]')}: unknown "
                  'value: goods_trade[2017]: not published until March 1, 2018; this edition is '
                  'dated April 27, 2016 and can show 2002–2015 (see README, "Values from the '
                  'data")'),
    'unknown chart type': (
        lambda p: replace(p / 'reports/beyond-the-border/charts.toml', 'kind = "bar"', 'kind = "pie"'),
        lambda p: f"reports/beyond-the-border/charts.toml:{line_of(p / 'reports/beyond-the-border/charts.toml', PIE)}: [us-exports] "
                  "'kind': input should be 'line', 'bar', 'hbar', 'points' or 'tiles'"),
    'unknown chart series': (
        lambda p: replace(p / 'reports/beyond-the-border/charts.toml', 'y = "trucks_thousands"', 'y = "lorries"'),
        lambda p: f"reports/beyond-the-border/charts.toml:{line_of(p / 'reports/beyond-the-border/charts.toml', 'lorries')}: "
                  "[truck-crossings] dataset 'truck_crossings' has no column 'lorries'"),
    'figure without alt text': (
        lambda p: replace(p / 'reports/beyond-the-border/charts.toml', 'alt.en = "Bar chart of U.S.',
                          'alt.en = "" # "Bar chart of U.S.'),
        lambda p: f"reports/beyond-the-border/charts.toml:{line_of(p / 'reports/beyond-the-border/charts.toml', NO_ALT)}: "
                  "[us-exports] 'alt.en' is empty: describe what the chart shows, for readers "
                  "who cannot see it"),
    'table without a header row': (
        lambda p: append(p / 'reports/beyond-the-border/2015/en/threats.md',
                         '\n|  |  |\n|---|---|\n| a | b |\n\nTable: Letters\n'),
        lambda p: f"reports/beyond-the-border/2015/en/threats.md:"
                  f"{line_of(p / 'reports/beyond-the-border/2015/en/threats.md', '|  |  |')}: a table column has "
                  "no heading: give every column of the first row a heading (screen readers "
                  "announce it with each cell)"),
    'Markdown image without alt text': (
        lambda p: ((p / 'reports/beyond-the-border/2015/en/map.png').write_bytes(b'\x89PNG\r\n\x1a\n'),
                   append(p / 'reports/beyond-the-border/2015/en/trade.md', '\n![](map.png)\n')),
        lambda p: f"reports/beyond-the-border/2015/en/trade.md:{line_of(p / 'reports/beyond-the-border/2015/en/trade.md', '](map')}"
                  ": image 'map.png' has no alt text: write ![what the image shows](map.png)"),
    'link to https': (
        lambda p: append(p / 'reports/beyond-the-border/2015/en/trade.md', '\nSee [the site](https://example.org).\n'),
        lambda p: f"reports/beyond-the-border/2015/en/trade.md:"
                  f"{line_of(p / 'reports/beyond-the-border/2015/en/trade.md', 'example.org')}: link to "
                  "'https://example.org' is not allowed: links may only point inside the report "
                  "(#id) or be mailto: addresses"),
    'link to file://': (
        lambda p: append(p / 'reports/beyond-the-border/2015/en/trade.md', '\nSee [this](file:///etc/passwd).\n'),
        lambda p: f"reports/beyond-the-border/2015/en/trade.md:"
                  f"{line_of(p / 'reports/beyond-the-border/2015/en/trade.md', 'file:///')}: link to "
                  "'file:///etc/passwd' is not allowed: links may only point inside the report "
                  "(#id) or be mailto: addresses"),
    'image from file://': (
        lambda p: append(p / 'reports/beyond-the-border/2015/en/trade.md', '\n![Map](file:///etc/map.png)\n'),
        lambda p: f"reports/beyond-the-border/2015/en/trade.md:"
                  f"{line_of(p / 'reports/beyond-the-border/2015/en/trade.md', 'file:///')}: image "
                  "'file:///etc/map.png' is not allowed: images must be files inside the "
                  "project (no http://, https://, file:// or other addresses)"),
    'image at an absolute path': (
        lambda p: append(p / 'reports/beyond-the-border/2015/en/trade.md', '\n![Map](/etc/map.png)\n'),
        lambda p: f"reports/beyond-the-border/2015/en/trade.md:"
                  f"{line_of(p / 'reports/beyond-the-border/2015/en/trade.md', '/etc/map.png')}: image "
                  "'/etc/map.png' is not allowed: use a path relative to the section file, not "
                  "an absolute path"),
    'raw <iframe>': (
        lambda p: append(p / 'reports/beyond-the-border/2015/en/threats.md',
                         '\n<iframe src="https://example.org"></iframe>\n'),
        lambda p: f"reports/beyond-the-border/2015/en/threats.md:"
                  f"{line_of(p / 'reports/beyond-the-border/2015/en/threats.md', '<iframe')}: raw HTML is not "
                  "allowed in the narrative; write Markdown instead (found '<iframe "
                  "src=\"https://example.org\"></ifra')"),
    'raw <img onerror>': (
        lambda p: append(p / 'reports/beyond-the-border/2015/en/threats.md',
                         '\nText <img src=x onerror="alert(1)"> here.\n'),
        lambda p: f"reports/beyond-the-border/2015/en/threats.md:"
                  f"{line_of(p / 'reports/beyond-the-border/2015/en/threats.md', 'onerror')}: raw HTML is not "
                  "allowed in the narrative; write Markdown instead (found '<img src=x "
                  "onerror=\"alert(1)\">')"),
    'raw <style>': (
        lambda p: append(p / 'reports/beyond-the-border/2015/en/threats.md',
                         '\n<style>body { display: none }</style>\n'),
        lambda p: f"reports/beyond-the-border/2015/en/threats.md:"
                  f"{line_of(p / 'reports/beyond-the-border/2015/en/threats.md', '<style>')}: raw HTML is not "
                  "allowed in the narrative; write Markdown instead (found '<style>body { "
                  "display: none }</style>')"),
    'Jinja reaching for globals': (
        lambda p: append(p / 'reports/beyond-the-border/2015/en/threats.md', "\n{{ range.__globals__ }}\n"),
        lambda p: f"reports/beyond-the-border/2015/en/threats.md:"
                  f"{line_of(p / 'reports/beyond-the-border/2015/en/threats.md', '__globals__')}: not allowed in "
                  "the narrative: access to attribute '__globals__' of 'method' object is "
                  "unsafe."),
    'Jinja reaching for a class': (
        lambda p: append(p / 'reports/beyond-the-border/2015/en/threats.md', "\n{{ fact.__class__.__mro__ }}\n"),
        lambda p: f"reports/beyond-the-border/2015/en/threats.md:"
                  f"{line_of(p / 'reports/beyond-the-border/2015/en/threats.md', '__mro__')}: not allowed in "
                  "the narrative: access to attribute '__class__' of 'Values' object is "
                  "unsafe."),
    'enormous data file': (
        lambda p: append(p / 'data/headline_figures.csv', ''.join(
            f'k{i},1,u,d,2016,2016,s,u\n' for i in range(100_000))),
        lambda p: f"data/headline_figures.csv:{line_count(p / 'data/headline_figures.csv', 20_000)}"
                  ': more than 20,000 rows: too large for a report table (split or summarise '
                  'the data first)'),
    'enormous section': (
        lambda p: append(p / 'reports/beyond-the-border/2015/en/threats.md', 'word ' * 1_000_000),
        lambda p: "reports/beyond-the-border/2015/en/threats.md: section 'threats' is 4.8 MB; at most 256 KB "
                  'is allowed for it'),
}

T, TR = 'reports/beyond-the-border/2015/en/threats.md', 'reports/beyond-the-border/2015/en/trade.md'


def at(p: Path, relative: str, needle: str) -> str:
    return f'{relative}:{line_of(p / relative, needle)}'


def note(text: str):
    """A footnote holding ``text``, called from a new paragraph of threats.md."""
    return lambda p: append(p / T, f'\nSee this.[^h]\n\n[^h]: {text}\n')


def image(data: bytes, name: str = 'map.png'):
    return lambda p: ((p / 'reports/beyond-the-border/2015/en' / name).write_bytes(data),
                      append(p / TR, f'\n![Map of the crossings]({name})\n'))


def picture(kind: str, size=(40, 30)) -> bytes:
    stream = io.BytesIO()
    Image.new('RGB', size, 'white').save(stream, kind)
    return stream.getvalue()


RAW = 'raw HTML is not allowed in the narrative; write Markdown instead'
LINK = 'is not allowed: links may only point inside the report (#id) or be mailto: addresses'
CASES |= {
    # 1. Footnotes are checked like the body.
    'raw HTML in a footnote': (
        note('A note <b>bold</b>.'),
        lambda p: f"{at(p, T, '[^h]:')}: {RAW} (found '<b>')"),
    '<style> in a footnote': (
        note('<style>h1 { display: none }</style>'),
        lambda p: f"{at(p, T, '[^h]:')}: {RAW} (found '<style>h1 {{ display: none }}</style>')"),
    'an attachment link in a footnote': (
        note('<a rel="attachment" href="index.html">the data</a>'),
        lambda p: f"{at(p, T, '[^h]:')}: {RAW} (found '<a rel=\"attachment\" "
                  "href=\"index.html\">')"),
    'an http link in a footnote': (
        note('See [the site](http://example.org).'),
        lambda p: f"{at(p, T, '[^h]:')}: link to 'http://example.org' {LINK}"),
    'a javascript: link in a footnote': (
        note('See [this](javascript:alert(1)).'),
        lambda p: f"{at(p, T, '[^h]:')}: link to 'javascript:alert(1)' {LINK}"),
    'a file: link in a footnote': (
        note('See [this](file:///etc/passwd).'),
        lambda p: f"{at(p, T, '[^h]:')}: link to 'file:///etc/passwd' {LINK}"),
    'a heading in a footnote': (
        lambda p: append(p / T, '\nSee this.[^h]\n\n[^h]: A note.\n\n    ## A heading\n'),
        lambda p: f"{at(p, T, '## A heading')}: a footnote may hold only paragraphs of text "
                  '(found a heading)'),
    # 2. Paths in declarations are names, never paths.
    'a section entry with ../': (
        lambda p: replace(p / 'reports/beyond-the-border/2015/edition.toml', '"threats",', '"../../threats",'),
        lambda p: f"{at(p, 'reports/beyond-the-border/2015/edition.toml', 'sections = [')}: 'sections': "
                  "'../../threats' is not a section name: write lower-case letters, digits and "
                  'hyphens (a name, not a path)'),
    'a series with ../': (
        lambda p: replace(p / 'reports/beyond-the-border/2015/edition.toml', 'series = "beyond-the-border"',
                          'series = "../../x"'),
        lambda p: f"{at(p, 'reports/beyond-the-border/2015/edition.toml', 'series = ')}: 'series': '../../x' is "
                  'not a series name: write lower-case letters, digits and hyphens (a name, '
                  'not a path)'),
    'a dataset file with ../': (
        lambda p: replace(p / 'data/datasets.toml', 'file = "us_states.csv"',
                          'file = "../us_states.csv"'),
        lambda p: f"{at(p, 'data/datasets.toml', 'us_states.csv')}: [us_states] 'file': "
                  "'../us_states.csv' is not the name of a .csv file in data/: a name, not a "
                  "path (no folders, no '..')"),
    # 7. One-line messages where an internal error was.
    'a NUL in an image path': (
        lambda p: append(p / TR, '\n![Map of the crossings](map%00.png)\n'),
        lambda p: f"{at(p, TR, 'map%00')}: image 'map%00.png': the name contains a NUL "
                  'character'),
    'a 300-character image name': (
        lambda p: append(p / TR, '\n![Map of the crossings](' + 'm' * 300 + '.png)\n'),
        lambda p: f"{at(p, TR, 'mmmm')}: image '{'m' * 80}…' not found"),
    'pct_change of plain numbers': (
        lambda p: append(p / T, '\n{{ pct_change(1, 0) }}\n'),
        lambda p: f"{at(p, T, 'pct_change(1')}: expression error: pct_change() takes values "
                  "from the data (e.g. a value looked up by year), not int '1'"),
    'a percentage of zero': (
        lambda p: append(p / T, '\n{{ pct_change(goods_trade[2015], goods_trade[2015] - '
                                'goods_trade[2015]) }}\n'),
        lambda p: f"{at(p, T, 'pct_change(goods')}: expression error: pct_change(): the second "
                  'value is 0, so there is no percentage'),
    'range(10**9)': (
        lambda p: append(p / T, '\n{% for i in range(10**9) %}{% endfor %}\n'),
        lambda p: f"{at(p, T, 'range(10**9)')}: too much work for the narrative: range() of "
                  '1,000,000,000 numbers; at most 100,000 can ever be used'),
    'a macro calling itself': (
        lambda p: append(p / T, '\n{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}\n'),
        lambda p: f"{at(p, T, 'macro f()')}: too much work for the narrative: macros, blocks "
                  'or recursive loops nested more than 30 deep (one that calls itself?)'),
    'map(attribute=…) of a name that does not exist': (
        lambda p: append(p / T, "\n{{ [nexus_latest] | map(attribute='nope') | list }}\n"),
        lambda p: f"{at(p, T, 'nope')}: unknown value: 'reportkit.data.values.Record object' "
                  "has no attribute 'nope' (see README, \"Values from the data\")"),
    'a chart title with an unclosed {': (
        lambda p: replace(p / 'reports/beyond-the-border/charts.toml', 'title.en = "', 'title.en = "{first_x '),
        lambda p: f"{at(p, 'reports/beyond-the-border/charts.toml', '{first_x Two-way')}: [goods-trade] "
                  "'title.en': '{first_x Two-way trade in "
                  "goods between ' is not closed: write {{ for a literal brace"),
    'a chart title reaching for a class': (
        lambda p: replace(p / 'reports/beyond-the-border/charts.toml', 'title.en = "',
                          'title.en = "{first_x.__class__.__mro__}'),
        lambda p: f"{at(p, 'reports/beyond-the-border/charts.toml', '__mro__')}: [goods-trade] "
                  "'title.en': access to attribute "
                  "'__class__' of 'str' object is unsafe."),
    'a data cell over 131,072 characters': (
        lambda p: append(p / 'data/us_states.csv', 'ZZ,' + 'x' * 200_000 + ',y' + ',z' * 11 + '\n'),
        lambda p: f"data/us_states.csv:{line_count(p, 51)}: a cell is more than 131,072 "
                  'characters long; at most 10,000 are allowed'),
    'a bidirectional override in a data cell': (
        lambda p: append(p / 'data/us_states.csv', 'ZZ,Zed\u202eland,Zed,Zed,Zed,in Zed,à Zed,of Zed,de Zed,pacific,Pacific,Pacifique,9,9\n'),
        lambda p: f"data/us_states.csv:{line_count(p, 51)}: column 'name_en': the text holds a "
                  'bidirectional control character (U+202E) at character 4, which reorders the '
                  'text a reader sees'),
    # 10. Lesser strictness.
    'a NUL in a section': (
        lambda p: (p / T).write_bytes((p / T).read_bytes() + b'\nText\x00here.\n'),
        lambda p: f'{T}:{len((p / T).read_bytes().splitlines())}: the text contains a NUL '
                  'character (the file may be damaged or not text)'),
    'a truncated PNG': (
        image(picture('PNG')[:60]),
        lambda p: f"{at(p, TR, '](map.png)')}: image 'map.png': the PNG file is damaged or "
                  'incomplete (it ends before its last part): export or save it again'),
    'a GIF named .png': (
        image(picture('GIF')),
        lambda p: f"{at(p, TR, '](map.png)')}: image 'map.png': the file is a GIF image, not "
                  'PNG: save it as PNG or JPEG'),
    'a TIFF named .png': (
        image(picture('TIFF')),
        lambda p: f"{at(p, TR, '](map.png)')}: image 'map.png': the file is a TIFF image, not "
                  'PNG: save it as PNG or JPEG'),
    'a Markdown table without a caption': (
        lambda p: append(p / T, '\n| A | B |\n|---|---|\n| 1 | 2 |\n'),
        lambda p: f"{at(p, T, '| A | B |')}: a table needs a caption: write a line 'Table: "
                  "what the table shows' right after the table, after an empty line"),
    'a link to an anchor that does not exist': (
        lambda p: append(p / T, '\nSee [the annex](#sec-nowhere).\n'),
        lambda p: f"{at(p, T, '#sec-nowhere')}: the link to '#sec-nowhere' leads nowhere: no "
                  'heading, chapter, figure or table has that id (chapters are #sec-<section>, '
                  'figures #fig-<id>, tables #tbl-<id>)'),
    'a character the bundled fonts lack': (
        lambda p: append(p / T, '\nA snowman ☃ here.\n'),
        lambda p: f"{at(p, T, 'snowman')}: the bundled fonts have no glyph for '☃' (U+2603): "
                  'it would print as a box; use another character'),
    'a line separator in a title of edition.toml': (
        lambda p: replace(p / 'reports/beyond-the-border/2015/edition.toml', 'en = "Beyond',
                          'en = "A\u2028Beyond'),
        lambda p: f"reports/beyond-the-border/2015/edition.toml:{line_of(p / 'reports/beyond-the-border/2015/edition.toml', '[title]') + 1}: "
                  "'title.en': the text holds a control character (U+2028) at character 2; "
                  'remove it (it may come from copying out of another program)'),
    'a bidirectional override in a section title': (
        lambda p: replace(p / T, 'title: ', 'title: \u202e'),
        lambda p: f"{T}:2: front matter: 'title' holds a bidirectional control character "
                  '(U+202E) at character 1, which reorders the text a reader sees'),
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
    replace(project_copy / 'reports/beyond-the-border/2015/en/trade.md', '{{ goods_trade[year] }}', '{{ nope }}')
    status = main(['--project', str(project_copy), '--debug', 'build', '2015', '--lang', 'en',
                   '--out', str(project_copy / 'x.pdf')])
    assert status == 1
    assert 'Traceback' in capsys.readouterr().err


def test_a_byte_order_mark_at_the_top_is_no_problem(project_copy, tmp_path, capsys):
    """Editors on Windows save UTF-8 with a byte-order mark: it is read as UTF-8."""
    for name in ('reports/beyond-the-border/2015/en/threats.md', 'reports/beyond-the-border/2015/edition.toml'):
        path = project_copy / name
        path.write_bytes(b'\xef\xbb\xbf' + path.read_bytes())
    out = tmp_path / 'report.pdf'
    status = main(['--project', str(project_copy), 'build', '2015', '--lang', 'en', '--out',
                   str(out), '-j', '1'])
    assert status == 0, capsys.readouterr().err[-2000:]
    assert out.read_bytes().startswith(b'%PDF')


OUTPUTS = {
    'a device': (lambda p, t: ['--out', '/dev/null'],
                 '--out /dev/null is not an ordinary file (it is a device, a pipe or a '
                 'folder), so it is never replaced: give the name of a PDF file to write'),
    'a folder': (lambda p, t: ['--out', str(t)],
                 f'is not an ordinary file (it is a device, a pipe or a folder), so it is '
                 'never replaced'),
    'a pipe': (lambda p, t: (os.mkfifo(t / 'pipe'), ['--out', str(t / 'pipe')])[1],
               'is not an ordinary file (it is a device, a pipe or a folder)'),
    'an input': (lambda p, t: ['--out', str(p / 'data/datasets.toml')],
                 "data/datasets.toml: inside data/, which holds the project's inputs; write "
                 'outputs elsewhere (e.g. dist/)'),
    'a folder of inputs': (lambda p, t: ['--out-dir', str(p / 'reports')],
                           "inside reports/, which holds the project's inputs"),
    'the HTML into the project folder': (lambda p, t: ['--html', str(p / 'report.html')],
                                         'the project folder itself; write outputs into a '
                                         'folder of their own (e.g. dist/)'),
}


@pytest.mark.parametrize('case', OUTPUTS, ids=list(OUTPUTS))
def test_an_output_option_never_replaces_a_device_or_an_input(case, project_copy, tmp_path,
                                                              capsys):
    options, expected = OUTPUTS[case]
    before = (project_copy / 'data/datasets.toml').read_bytes()
    status = main(['--project', str(project_copy), 'build', '2015', '--lang', 'en',
                   *options(project_copy, tmp_path)])
    err = capsys.readouterr().err
    assert status == 1 and expected in err and 'Traceback' not in err, err[-2000:]
    assert (project_copy / 'data/datasets.toml').read_bytes() == before
    assert not (project_copy / 'report.html').exists()


def test_new_edition_with_an_impossible_year(project_copy, capsys):
    status = main(['--project', str(project_copy), 'new-edition', '0000', '--from', '2015'])
    err = capsys.readouterr().err
    assert status == 1 and 'Traceback' not in err
    assert "error: '0000' is not an edition id: use the year it covers (1900–2200), e.g. 2016" in err
    assert not (project_copy / 'reports/0000').exists()


def test_an_edition_name_is_never_a_path(project_copy, capsys):
    status = main(['--project', str(project_copy), 'build', '../../etc'])
    err = capsys.readouterr().err
    assert status == 1
    assert "error: '../../etc' is not an edition name: editions are folders of reports/" in err
