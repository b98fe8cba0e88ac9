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


def line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


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
