"""build --dask: the same per-document tasks on a Dask cluster (a LocalCluster on
loopback, real worker processes), written by the build as a local run writes them."""

from __future__ import annotations

import hashlib
import socket

import pytest

from reportkit.run import cluster
from reportkit.cli import main

from .conftest import ROOT

distributed = pytest.importorskip('distributed')


@pytest.fixture(scope='module')
def scheduler():
    mp = pytest.MonkeyPatch()
    mp.setenv('PYTHONPATH', str(ROOT))   # the workers import the same reportkit
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host='127.0.0.1', dashboard_address=':0') as local:
        yield local.scheduler_address
    mp.undo()


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_batch_built_on_the_cluster_is_the_batch_built_here(scheduler, tmp_path, capsys):
    here, there = tmp_path / 'here', tmp_path / 'there'
    common = ['build', 'state-trade/2016', '--only', 'MI,DC', '--lang', 'en', '--no-cache',
              '--format', 'pdf,web']
    assert main([*common, '--out-dir', str(here), '-j', '1']) == 0
    assert main([*common, '--out-dir', str(there), '--dask', scheduler]) == 0
    err = capsys.readouterr().err
    assert err.count('Rendered on the cluster (state-trade/2016') == 2
    names = sorted(p.name for p in there.iterdir())
    assert names == ['state-trade-2016-dc-en-r1', 'state-trade-2016-dc-en-r1.pdf',
                     'state-trade-2016-mi-en-r1', 'state-trade-2016-mi-en-r1.pdf']
    files = sorted(p.relative_to(there) for p in there.rglob('*') if p.is_file())
    assert len(files) > 2 * 8       # the web editions' pages, styles, fonts and charts
    for name in files:
        assert sha(there / name) == sha(here / name), name


def test_a_problem_on_the_cluster_is_reported_and_nothing_is_written(scheduler, tmp_path,
                                                                     capsys):
    from .conftest import copy_project
    project = copy_project(tmp_path / 'project')
    section = project / 'reports/state-trade/2016/en/trade.md'
    section.write_text(section.read_text() + '\n{{ exports[doc] + 1 }}\n')
    out = tmp_path / 'out'
    assert main(['--project', str(project), 'build', 'state-trade/2016', '--only', 'WY',
                 '--lang', 'en', '--out-dir', str(out), '--dask', scheduler]) == 1
    err = capsys.readouterr().err
    assert 'reports/state-trade/2016/en/trade.md' in err and 'Traceback' not in err
    assert not out.exists() or not list(out.iterdir())


def test_an_unreachable_scheduler_is_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(cluster, 'CONNECT_SECONDS', 2)
    with socket.socket() as probe:   # a port with nothing listening on it
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
    assert main(['build', 'state-trade/2016', '--only', 'MI', '--lang', 'en', '--out-dir',
                 str(tmp_path), '--dask', f'tcp://127.0.0.1:{port}']) == 1
    err = capsys.readouterr().err
    assert f'--dask tcp://127.0.0.1:{port}: cannot reach the Dask scheduler there' in err
