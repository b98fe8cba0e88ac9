"""Work already done is not done again: PDFs and charts come from build/cache/ until one
of their inputs changes; --no-cache renders everything."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from reportkit import charts as charts_stage
from reportkit.build import BuildRequest, build
from reportkit.cli import main
from reportkit.project import Project

from .test_errors import replace


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def drawn(monkeypatch) -> list[str]:
    """The charts actually drawn by matplotlib (not taken from the cache)."""
    calls: list[str] = []
    original = charts_stage.draw_chart

    def spy(project, chart_id, *args, **kwargs):
        calls.append(chart_id)
        return original(project, chart_id, *args, **kwargs)

    monkeypatch.setattr(charts_stage, 'draw_chart', spy)
    return calls


def once(project: Path, out: Path, **options):
    (result,) = build(Project.at(project), BuildRequest('2015', ['en'], out=out), **options)
    return result


def test_nothing_changed_means_nothing_rendered(project_copy, tmp_path, drawn):
    first = once(project_copy, tmp_path / 'a.pdf', jobs=1)
    assert not first.cached and len(drawn) == 5
    again = once(project_copy, tmp_path / 'b.pdf', jobs=1)
    assert again.cached and len(drawn) == 5                # no chart drawn again
    assert sha(tmp_path / 'a.pdf') == sha(tmp_path / 'b.pdf')


def test_a_sentence_changed_renders_the_pdf_but_reuses_the_charts(project_copy, tmp_path,
                                                                  drawn):
    once(project_copy, tmp_path / 'a.pdf', jobs=1)
    replace(project_copy / 'reports/2015/en/trade.md', 'trade in goods', 'trade in all goods')
    drawn.clear()
    result = once(project_copy, tmp_path / 'b.pdf', jobs=1)
    assert not result.cached and drawn == []
    assert sha(tmp_path / 'a.pdf') != sha(tmp_path / 'b.pdf')


def test_changed_data_redraws_its_chart_and_renders_again(project_copy, tmp_path, drawn):
    once(project_copy, tmp_path / 'a.pdf', jobs=1)
    replace(project_copy / 'data/us_goods_exports_to_canada.csv', '2014,312817,',
            '2014,312818,')
    drawn.clear()
    result = once(project_copy, tmp_path / 'b.pdf', jobs=1)
    assert not result.cached and drawn == ['us-exports']   # only the chart of that data


def test_changed_style_redraws_every_chart(project_copy, tmp_path, drawn):
    once(project_copy, tmp_path / 'a.pdf', jobs=1)
    (project_copy / 'charts/house.mplstyle').write_text(
        (project_copy / 'charts/house.mplstyle').read_text() + '\n# a comment\n')
    drawn.clear()
    once(project_copy, tmp_path / 'b.pdf', jobs=1)
    assert sorted(drawn) == sorted(['goods-trade', 'us-exports', 'state-exports',
                                    'truck-crossings', 'nexus-members'])


def test_no_cache_forces_everything(project_copy, tmp_path, drawn, capsys):
    once(project_copy, tmp_path / 'a.pdf', jobs=1)
    drawn.clear()
    assert main(['--project', str(project_copy), 'build', '2015', '--lang', 'en',
                 '--out', str(tmp_path / 'b.pdf'), '--no-cache', '-j', '1']) == 0
    assert len(drawn) == 5
    assert 'unchanged' not in capsys.readouterr().err
    assert sha(tmp_path / 'a.pdf') == sha(tmp_path / 'b.pdf')


def test_a_damaged_cache_entry_is_rendered_again(project_copy, tmp_path):
    once(project_copy, tmp_path / 'a.pdf', jobs=1)
    (entry,) = (project_copy / 'build/cache/pdf').glob('*.pdf')
    entry.write_bytes(b'%PDF-1.7 damaged')
    result = once(project_copy, tmp_path / 'b.pdf', jobs=1)
    assert not result.cached
    assert sha(tmp_path / 'a.pdf') == sha(tmp_path / 'b.pdf')


def test_parallel_builds_report_every_editions_problems(project_copy, tmp_path, capsys):
    (project_copy / 'reports/2013/fr/trade.md').unlink()
    (project_copy / 'reports/2014/en/threats.md').unlink()
    status = main(['--project', str(project_copy), 'build', '--all', '-j', '2',
                   '--out-dir', str(tmp_path / 'out')])
    err = capsys.readouterr().err
    assert status == 1
    assert "reports/2013/fr/trade.md: section 'trade' is listed" in err
    assert "reports/2014/en/threats.md: section 'threats' is listed" in err
    assert not (tmp_path / 'out').exists() or not any((tmp_path / 'out').iterdir())
