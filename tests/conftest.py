"""Shared fixtures: the real project, a built 2015 English edition, project copies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reportkit.cli import main

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / 'tests' / 'fixtures' / 'tiny-series'
"""A third series, its own data, one chart, one section, one language, a draft."""


def pytest_addoption(parser):
    parser.addoption('--update-golden', action='store_true',
                     help='rewrite tests/golden/ from the current output instead of comparing')


@pytest.fixture(scope='session')
def update_golden(request) -> bool:
    return request.config.getoption('--update-golden')


@pytest.fixture(scope='session')
def built_2015_en(tmp_path_factory):
    """The 2015 English edition built once through the command line, with its HTML."""
    folder = tmp_path_factory.mktemp('built-2015-en')
    pdf = folder / 'report.pdf'
    html = folder / 'html' / 'report.html'
    status = main(['build', '2015', '--lang', 'en', '--out', str(pdf), '--html', str(html),
                   '--no-cache'])
    assert status == 0
    return pdf, html


@pytest.fixture(scope='session')
def all_built(tmp_path_factory) -> dict[tuple[str, str], Path]:
    """Every edition of the annual report in every language, built once with --out-dir
    (the batch series' profiles are sampled in test_profiles.py)."""
    from reportkit.project import Project
    folder = tmp_path_factory.mktemp('all-editions')
    editions = Project.at(ROOT).editions('beyond-the-border')
    assert main(['build', *editions, '--out-dir', str(folder), '--no-cache', '-j', '2']) == 0
    built = {}
    for pdf in sorted(folder.glob('*.pdf')):
        # beyond-the-border-2015-fr-r1.pdf
        parts = pdf.stem.split('-')
        built[(parts[-3], parts[-2])] = pdf
    return built


WEB_SAMPLE = [['2015'], ['state-trade/2016', '--only', 'MI,DC'],
              ['state-trade/2022', '--only', 'TX']]
"""Editions whose PDFs and web editions the web tests look at (the report in both
languages; trade profiles of both editions, in both languages)."""


@pytest.fixture(scope='session')
def web_sample(tmp_path_factory) -> Path:
    """The sample's PDFs and web editions, built once through the command line into one
    folder (page folders beside their PDFs)."""
    folder = tmp_path_factory.mktemp('web-editions')
    for edition in WEB_SAMPLE:
        assert main(['build', *edition, '--format', 'pdf,web', '--out-dir', str(folder)]) == 0
    return folder


def replace(path: Path, old: str, new: str) -> None:
    """Change the first ``old`` in a file of a project copy to ``new`` (``old`` must be
    there: a test whose fixture drifted fails instead of testing nothing)."""
    text = path.read_text(encoding='utf-8')
    assert old in text, f'fixture drift: {old!r} not in {path}'
    path.write_text(text.replace(old, new, 1), encoding='utf-8')


def copy_project(destination: Path) -> Path:
    """A throwaway copy of the project's inputs, for planting faults."""
    for name in ('reports', 'data', 'charts', 'templates'):
        shutil.copytree(ROOT / name, destination / name)
    return destination


@pytest.fixture
def project_copy(tmp_path) -> Path:
    return copy_project(tmp_path / 'project')


@pytest.fixture
def tiny_project(tmp_path) -> Path:
    """A project holding only the fixture's series, its data, and the shared templates."""
    project = tmp_path / 'tiny'
    shutil.copytree(FIXTURE, project)
    shutil.copytree(ROOT / 'templates', project / 'templates')
    shutil.copytree(ROOT / 'charts', project / 'charts')
    return project


@pytest.fixture(scope='session')
def published(tmp_path_factory):
    """A project copy with 2015 published into a fresh archive (no cache to reuse)."""
    base = tmp_path_factory.mktemp('published')
    project = copy_project(base / 'project')
    archive = base / 'archive'
    assert main(['--project', str(project), 'publish', '2015', '--archive', str(archive)]) == 0
    return project, archive
