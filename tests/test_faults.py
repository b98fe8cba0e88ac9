"""Faults: a build that fails in any stage, a full disk, a folder that cannot be written,
two builds at once. The previous PDF always survives, byte for byte, and nothing is left
behind."""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from reportkit.charts import draw as charts
from reportkit.compose import compose
from reportkit.data import read as data
from reportkit import files
from reportkit.load import edition as load
from reportkit.narrative import markdown as narrative
from reportkit.render import pdf as render
from reportkit.cli import main

from .conftest import ROOT

STAGES = {
    'reading the edition': (load, 'load_edition'),
    'checking the data': (data, 'load_tables'),
    'writing out the narrative': (narrative, 'convert'),
    'drawing the charts': (charts, 'draw_chart'),
    'composing the document': (compose, 'compose'),
    'rendering the PDF': (render, 'render_pdf'),
    'writing the PDF': (files, 'write_atomically'),
}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def previous(project_copy, tmp_path):
    """A good PDF already in place, as the last build left it."""
    out = tmp_path / 'out' / 'report.pdf'
    out.parent.mkdir()
    out.write_bytes(b'%PDF-1.7 the previous good edition\n')
    return project_copy, out


def leftovers(project: Path, out: Path) -> list[str]:
    """Anything a failed build left: beside the PDF, or in build/ (but the caches)."""
    found = [p.name for p in out.parent.iterdir() if p != out]
    build = project / 'build'
    if build.is_dir():
        found += [p.name for p in build.iterdir()
                  if p.name not in ('cache', 'fonts.conf', 'fontconfig-cache')]
    return found


@pytest.mark.parametrize('jobs', ['1', '2'])
@pytest.mark.parametrize('stage', STAGES)
def test_a_failure_in_any_stage_leaves_the_previous_pdf(stage, jobs, previous, monkeypatch,
                                                       capsys):
    project, out = previous
    module, name = STAGES[stage]

    def broken(*args, **kwargs):
        raise RuntimeError(f'injected failure while {stage}')

    monkeypatch.setattr(module, name, broken)
    before = sha(out)
    status = main(['--project', str(project), 'build', '2015', '--lang', 'en', '--out',
                   str(out), '--no-cache', '-j', jobs])
    err = capsys.readouterr().err
    assert status == 2                                   # a bug, not bad input
    assert f'injected failure while {stage}' in err
    assert sha(out) == before
    assert leftovers(project, out) == []


def test_a_renderer_that_dies_is_a_clear_error(previous, monkeypatch, capsys):
    """With two cores, WeasyPrint renders in a second process; if that process dies (as
    a crash in a native library would end it), the build says so and replaces nothing."""
    project, out = previous
    monkeypatch.setattr(render, 'render_pdf', lambda *args, **kwargs: os._exit(9))
    before = sha(out)
    status = main(['--project', str(project), 'build', '2015', '--lang', 'en', '--out',
                   str(out), '--no-cache', '-j', '2'])
    err = capsys.readouterr().err
    assert status == 1
    assert ('error: the rendering process stopped unexpectedly (exit status 9); no PDF was '
            'written') in err
    assert sha(out) == before and leftovers(project, out) == []


def test_an_interrupted_build_leaves_the_previous_pdf(previous, monkeypatch, capsys):
    project, out = previous

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(files, 'write_atomically', interrupted)
    before = sha(out)
    status = main(['--project', str(project), 'build', '2015', '--lang', 'en', '--out',
                   str(out), '--no-cache', '-j', '1'])
    assert status == 130
    assert 'interrupted; nothing was replaced' in capsys.readouterr().err
    assert sha(out) == before and leftovers(project, out) == []


def test_a_full_disk_is_a_clear_error(previous, monkeypatch, capsys):
    project, out = previous
    real_fdopen = render.os.fdopen

    class Full:
        def __init__(self, stream):
            self.stream = stream

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.stream.close()

        def write(self, data):
            raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(render.os, 'fdopen', lambda fd, mode: Full(real_fdopen(fd, mode)))
    before = sha(out)
    status = main(['--project', str(project), 'build', '2015', '--lang', 'en', '--out',
                   str(out), '--no-cache', '-j', '1'])
    err = capsys.readouterr().err
    assert status == 1
    assert 'No space left on device' in err and 'error: ' in err and 'Traceback' not in err
    assert sha(out) == before and leftovers(project, out) == []


def test_a_folder_that_cannot_be_written_is_a_clear_error(previous, monkeypatch, capsys):
    project, out = previous
    real = tempfile.mkstemp

    def refused(*args, dir=None, **kwargs):   # as a read-only folder answers (even to root)
        if dir is not None and Path(dir) == out.parent:
            raise PermissionError(errno.EACCES, 'Permission denied')
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, 'mkstemp', refused)
    status = main(['--project', str(project), 'build', '2015', '--lang', 'en', '--out',
                   str(out), '--no-cache', '-j', '1'])
    err = capsys.readouterr().err
    assert status == 1
    assert f'error: cannot write to {out.parent}: Permission denied' in err
    assert out.read_bytes() == b'%PDF-1.7 the previous good edition\n'


def test_two_builds_of_the_same_edition_at_once(previous, built_2015_en):
    project, out = previous
    command = [sys.executable, str(ROOT / 'make_report.py'), '--project', str(project),
               'build', '2015', '--lang', 'en', '--out', str(out), '--no-cache']
    first = subprocess.Popen(command, stderr=subprocess.PIPE)
    second = subprocess.Popen(command, stderr=subprocess.PIPE)
    assert first.wait(120) == 0 and second.wait(120) == 0
    assert sha(out) == sha(built_2015_en[0])             # a whole PDF, the right one
    assert leftovers(project, out) == []
