"""Work already done is not done again: PDFs and charts come from build/cache/ until one
of their inputs changes; --no-cache renders everything."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reportkit.charts import draw as charts_stage
from reportkit.run.build import build
from reportkit.run.prepare import BuildRequest
from reportkit.cli import main
from reportkit.load.edition import load_edition
from reportkit.project import Project

from .conftest import ROOT, replace

FIGURES = len(load_edition(Project.at(ROOT), '2015').config.figures)
"""The 2015 edition's charts."""


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
    assert not first.cached and len(drawn) == FIGURES
    again = once(project_copy, tmp_path / 'b.pdf', jobs=1)
    assert again.cached and len(drawn) == FIGURES          # no chart drawn again
    assert sha(tmp_path / 'a.pdf') == sha(tmp_path / 'b.pdf')


def test_the_renderer_is_stopped_when_nothing_is_to_render(project_copy, tmp_path):
    import multiprocessing
    once(project_copy, tmp_path / 'a.pdf', jobs=2)
    assert multiprocessing.active_children() == []
    again = once(project_copy, tmp_path / 'b.pdf', jobs=2)
    assert again.cached and multiprocessing.active_children() == []
    assert sha(tmp_path / 'a.pdf') == sha(tmp_path / 'b.pdf')


def test_one_process_or_three_make_the_same_pdf(project_copy, tmp_path):
    """-j 1 does everything in one process; -j 2 renders in a second process and draws
    the charts in a third."""
    once(project_copy, tmp_path / 'a.pdf', jobs=1, use_cache=False)
    once(project_copy, tmp_path / 'b.pdf', jobs=2, use_cache=False)
    assert sha(tmp_path / 'a.pdf') == sha(tmp_path / 'b.pdf')


def test_a_sentence_changed_renders_the_pdf_but_reuses_the_charts(project_copy, tmp_path,
                                                                  drawn):
    once(project_copy, tmp_path / 'a.pdf', jobs=1)
    replace(project_copy / 'reports/beyond-the-border/2015/en/trade.md', 'trade in goods', 'trade in all goods')
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
    assert sorted(drawn) == sorted(['goods-trade', 'us-exports', 'truck-crossings',
                                    'nexus-members'])


def test_no_cache_forces_everything(project_copy, tmp_path, drawn, capsys):
    once(project_copy, tmp_path / 'a.pdf', jobs=1)
    drawn.clear()
    assert main(['--project', str(project_copy), 'build', '2015', '--lang', 'en',
                 '--out', str(tmp_path / 'b.pdf'), '--no-cache', '-j', '1']) == 0
    assert len(drawn) == FIGURES
    assert 'unchanged' not in capsys.readouterr().err
    assert sha(tmp_path / 'a.pdf') == sha(tmp_path / 'b.pdf')


def test_a_damaged_cache_entry_is_rendered_again(project_copy, tmp_path):
    once(project_copy, tmp_path / 'a.pdf', jobs=1)
    entries = list((project_copy / 'build/cache/pdf').glob('*.pdf'))
    assert len(entries) == 2   # by its inputs, and by its composed content
    for entry in entries:
        entry.write_bytes(b'%PDF-1.7 damaged')
    result = once(project_copy, tmp_path / 'b.pdf', jobs=1)
    assert not result.cached
    assert sha(tmp_path / 'a.pdf') == sha(tmp_path / 'b.pdf')


def test_parallel_builds_report_every_editions_problems(project_copy, tmp_path, capsys):
    (project_copy / 'reports/beyond-the-border/2013/fr/trade.md').unlink()
    (project_copy / 'reports/beyond-the-border/2014/en/threats.md').unlink()
    status = main(['--project', str(project_copy), 'build', 'beyond-the-border', '-j', '2',
                   '--out-dir', str(tmp_path / 'out')])
    err = capsys.readouterr().err
    assert status == 1
    assert "reports/beyond-the-border/2013/fr/trade.md: section 'trade' is listed" in err
    assert "reports/beyond-the-border/2014/en/threats.md: section 'threats' is listed" in err
    assert not (tmp_path / 'out').exists() or not any((tmp_path / 'out').iterdir())


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader
    return ' '.join(page.extract_text() for page in PdfReader(path).pages)


def test_changed_data_changes_the_numbers_of_the_narrative(project_copy, tmp_path):
    once(project_copy, tmp_path / 'a.pdf', jobs=1)
    assert 'more than 120 land ports of entry' in pdf_text(tmp_path / 'a.pdf')
    replace(project_copy / 'data/headline_figures.csv', 'land_ports_of_entry,120,',
            'land_ports_of_entry,121,')
    once(project_copy, tmp_path / 'b.pdf', jobs=1)
    assert 'more than 121 land ports of entry' in pdf_text(tmp_path / 'b.pdf')


def test_a_damaged_data_view_is_computed_again(project_copy, tmp_path):
    once(project_copy, tmp_path / 'a.pdf', jobs=1)
    (view,) = (project_copy / 'build/cache/data').glob('*.pickle')
    view.write_bytes(view.read_bytes()[:100])
    replace(project_copy / 'reports/beyond-the-border/2015/en/trade.md', 'trade in goods', 'trade in all goods')
    once(project_copy, tmp_path / 'b.pdf', jobs=1)
    replace(project_copy / 'reports/beyond-the-border/2015/en/trade.md', 'trade in all goods', 'trade in goods')
    shutil.rmtree(project_copy / 'build/cache/pdf')
    once(project_copy, tmp_path / 'c.pdf', jobs=1)
    assert sha(tmp_path / 'a.pdf') == sha(tmp_path / 'c.pdf')


PROBE = '''
import sys
sys.path.insert(0, {root!r})
from reportkit.cli import main
status = main({argv!r})
heavy = sorted(name for name in ('pandas', 'numpy', 'matplotlib', 'weasyprint')
               if name in sys.modules)
print('loaded:', ' '.join(heavy) or 'nothing heavy')
sys.exit(status)
'''


def probe(project: Path, *argv: str) -> str:
    """Build in a fresh process; the heavy libraries the build process loaded."""
    argv = ['--project', str(project), 'build', '2015', '--lang', 'en', *argv]
    done = subprocess.run([sys.executable, '-c', PROBE.format(root=str(ROOT), argv=argv)],
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_an_edit_to_the_narrative_loads_neither_pandas_nor_matplotlib(project_copy, tmp_path):
    out = str(tmp_path / 'a.pdf')
    # WeasyPrint is loaded by the renderer process and matplotlib by the chart drawer,
    # not by the build's own process.
    assert probe(project_copy, '--out', out, '-j', '2') == 'loaded: numpy pandas'
    assert probe(project_copy, '--out', out, '-j', '1', '--no-cache') == \
        'loaded: matplotlib numpy pandas weasyprint'             # -j 1: all in one process
    replace(project_copy / 'reports/beyond-the-border/2015/en/trade.md', 'trade in goods', 'trade in all goods')
    assert probe(project_copy, '--out', out, '-j', '2') == 'loaded: nothing heavy'
    assert probe(project_copy, '--out', out, '-j', '2') == 'loaded: nothing heavy'  # cached


def test_the_data_view_loads_without_numpy(project_copy, tmp_path):
    once(project_copy, tmp_path / 'a.pdf', jobs=1)
    (view,) = (project_copy / 'build/cache/data').glob('*.pickle')
    code = (f'import pickle, sys; sys.path.insert(0, {str(ROOT)!r}); '
            f'view = pickle.loads(open({str(view)!r}, "rb").read()); '
            'print(sorted(view.series["en"]), "numpy" in sys.modules)')
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["['goods-trade',", "'nexus-members',",
                                   "'truck-crossings',", "'us-exports']", 'False']
