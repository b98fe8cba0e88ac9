"""One core, any series: the core names no series, a series unknown to the code builds
from its declarations alone, and editions are found by their full or short names."""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import pytest
from pypdf import PdfReader

from reportkit.cli import main
from reportkit.errors import ReportError
from reportkit.project import Project

from .conftest import ROOT, copy_project

PHRASES = ['Beyond the Border', 'Par-delà la frontière', 'Trade Profile', 'NEXUS']
"""Words of the real series that code has no business printing."""


def series_names(root: Path) -> set[str]:
    """What the project's series declare: their names, datasets, the datasets' own
    columns (those with an underscore: 'year' or 'name' are everyone's), values and
    tables."""
    declared = tomllib.loads((root / 'data' / 'datasets.toml').read_text())
    names = set()
    for folder in (root / 'reports').iterdir():
        if not (folder / 'series.toml').is_file():
            continue
        series = tomllib.loads((folder / 'series.toml').read_text())
        names |= {folder.name, *series['datasets'], *series.get('tables', {})}
        names |= {value for value in series.get('values', {}) if '_' in value}
        for dataset in series['datasets']:
            names |= {column for column in declared[dataset]['columns'] if '_' in column}
        for edition in folder.glob('*/edition.toml'):
            values = tomllib.loads(edition.read_text()).get('values', {})
            names |= {value for value in values if '_' in value}
    return names


def test_the_core_names_no_series_dataset_column_or_word():
    names = series_names(ROOT)
    assert {'beyond-the-border', 'state-trade', 'us_states', 'goods_trade',
            'canada_exports_to_state_cad_millions'} <= names
    found = []
    for path in sorted((ROOT / 'reportkit').rglob('*.py')):
        text = path.read_text()
        for name in names:
            for match in re.finditer(rf'(?<![\w-]){re.escape(name)}(?![\w-])', text):
                found.append(f'{path.name}:{text.count(chr(10), 0, match.start()) + 1}: {name}')
        for phrase in PHRASES:
            if phrase.lower() in text.lower():
                found.append(f'{path.name}: {phrase}')
    assert not found, '\n'.join(found)


def test_the_grep_finds_a_series_name_planted_in_the_core(tmp_path):
    """The check above can fail: a name planted in a copy of the code is found."""
    names = series_names(ROOT)
    planted = "value = tables['state_trade']\n"
    assert any(re.search(rf'(?<![\w-]){re.escape(name)}(?![\w-])', planted) for name in names)


def test_a_third_series_builds_with_the_core_alone(tiny_project, tmp_path):
    out = tmp_path / 'out'
    assert main(['--project', str(tiny_project), 'build', '2020', '--out-dir', str(out),
                 '--no-cache']) == 0
    pdfs = sorted(out.glob('*.pdf'))
    assert [p.name for p in pdfs] == ['ferry-log-2020-en-r1-DRAFT.pdf']
    reader = PdfReader(pdfs[0])
    text = ' '.join(page.extract_text() for page in reader.pages)
    # The values come from the fixture's data, formatted by the core: 198,450 and 431,002.
    assert '198,450' in text and '431,002' in text
    assert 'Riders by year, 2017–2020' in text   # the cut-off keeps 2021 out
    assert str(reader.trailer['/Root']['/Lang']) == 'en-CA'


def test_a_series_value_naming_a_column_its_dataset_lacks_is_reported(tiny_project, capsys):
    path = tiny_project / 'reports/ferry-log/series.toml'
    path.write_text(path.read_text().replace('column = "riders"', 'column = "passengers"'))
    assert main(['--project', str(tiny_project), 'check', 'ferry-log/2020']) == 1
    err = capsys.readouterr().err
    assert ("reports/ferry-log/series.toml: value 'riders': dataset 'crossings' has no "
            "column 'passengers'") in err


def test_an_edition_is_found_by_its_short_name_only_when_one_series_has_it(tmp_path):
    project = Project.at(copy_project(tmp_path / 'project'))
    assert project.resolve('2015') == 'beyond-the-border/2015'
    assert project.resolve('state-trade/2016') == 'state-trade/2016'
    shutil.copytree(project.reports / 'beyond-the-border' / '2015',
                    project.reports / 'state-trade' / '2015')
    with pytest.raises(ReportError, match="several series have an edition '2015': write "
                                          'beyond-the-border/2015 or state-trade/2015'):
        project.resolve('2015')
    with pytest.raises(ReportError, match="no edition '1999'"):
        project.resolve('1999')


def test_an_edition_in_the_wrong_series_folder_is_refused(tmp_path, capsys):
    project = copy_project(tmp_path / 'project')
    shutil.copytree(project / 'reports/beyond-the-border/2015',
                    project / 'reports/state-trade/2015')
    assert main(['--project', str(project), 'check', 'state-trade/2015']) == 1
    assert ("'series' is 'beyond-the-border' but the edition is in the folder of the "
            "series 'state-trade'") in capsys.readouterr().err


BATCH = Path(__file__).parent / 'fixtures' / 'tiny-batch'


def test_a_published_batch_edition_is_one_revision_that_verifies_and_rebuilds(tmp_path,
                                                                               capsys):
    """publish makes one revision folder for every document of a batch edition; archive
    verify accounts for each, and verify --rebuild gives each document's bytes again."""
    import json
    project = tmp_path / 'batch'
    shutil.copytree(BATCH, project)
    shutil.copytree(ROOT / 'templates', project / 'templates')
    shutil.copytree(ROOT / 'charts', project / 'charts')
    archive = tmp_path / 'archive'
    assert main(['--project', str(project), 'publish', 'harbour-notes/2021', '--archive',
                 str(archive)]) == 0
    (folder,) = (archive / 'harbour-notes' / '2021').iterdir()
    manifest = json.loads((folder / 'manifest.json').read_text())
    documents = sorted((item['document'], item['lang']) for item in manifest['files'])
    assert documents == [(code, lang) for code in ('HFX', 'SJN', 'VIC') for lang in ('en', 'fr')]
    assert sorted(p.name for p in folder.glob('*.pdf')) == sorted(
        f'harbour-notes-2021-{code.lower()}-{lang}-r1.pdf' for code, lang in documents)
    capsys.readouterr()
    assert main(['--project', str(project), 'archive', 'verify', '--archive', str(archive),
                 '--rebuild', 'harbour-notes/2021']) == 0
    out = capsys.readouterr()
    assert 'HFX en' in out.out + out.err and 'differ' not in (out.out + out.err).lower()
