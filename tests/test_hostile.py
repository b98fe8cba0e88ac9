"""Hostile content: files outside the project never reach an output.

Each case plants a marker file outside a copy of the project (where the build machine's
secrets would be) and points an input at it: by a path in a declaration, or by a
symbolic link standing where an input belongs. The build must stop with one message
naming the entry and where it was given, write nothing, and no output may hold the
marker. Symlinks that stay inside the project keep working.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pikepdf
import pytest

from reportkit.cli import main

from .conftest import copy_project, replace

MARKER = 'SECRET-7f3a9c-outside-the-project'


def outside_copy(project: Path, relative: str, secrets: Path, edit=None) -> Path:
    """A copy of the project file ``relative`` outside the project, holding the marker."""
    source = project / relative
    target = secrets / source.name
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        text = source.read_text(encoding='utf-8')
        target.write_text(edit(text) if edit else text + f'\n{MARKER}\n', encoding='utf-8')
    return target


def link_out(project: Path, relative: str, secrets: Path, edit=None) -> None:
    """Replace ``relative`` by a symlink to its marked copy outside the project."""
    target = outside_copy(project, relative, secrets, edit)
    path = project / relative
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()
    path.symlink_to(target)


def marked_section(text: str) -> str:
    return text + f'\n\nThe secret is {MARKER}.\n'


def marked_csv(text: str) -> str:
    lines = text.splitlines()
    return '\n'.join(lines + [lines[-1].replace('Canada', MARKER, 1)]) + '\n'


CASES = {
    'a section entry with ../': (
        lambda p, s: replace(p / 'reports/beyond-the-border/2015/edition.toml', '"threats",',
                             '"../../../secrets/threats",'),
        "reports/beyond-the-border/2015/edition.toml:"),
    'a section that is a link out': (
        lambda p, s: link_out(p, 'reports/beyond-the-border/2015/en/threats.md', s, marked_section),
        "reports/beyond-the-border/2015/en/threats.md: section 'threats' leads outside the project"),
    'a language folder that is a link out': (
        lambda p, s: link_out(p, 'reports/beyond-the-border/2015/en', s),
        "leads outside the project"),
    'an edition folder that is a link out': (
        lambda p, s: link_out(p, 'reports/beyond-the-border/2015', s),
        "reports/beyond-the-border/2015/edition.toml: the edition configuration leads outside the project"),
    'a dataset file with ../': (
        lambda p, s: replace(p / 'data/datasets.toml',
                             'file = "us_goods_exports_to_canada.csv"',
                             'file = "../../secrets/us_goods_exports_to_canada.csv"'),
        "data/datasets.toml:"),
    'a dataset file with an absolute path': (
        lambda p, s: replace(p / 'data/datasets.toml',
                             'file = "us_goods_exports_to_canada.csv"',
                             f'file = "{s}/us_goods_exports_to_canada.csv"'),
        "data/datasets.toml:"),
    'a data file that is a link out': (
        lambda p, s: link_out(p, 'data/us_states.csv', s, marked_csv),
        "data/us_states.csv: the data file of 'us_states' leads outside the project"),
    'the dataset declarations as a link out': (
        lambda p, s: link_out(p, 'data/datasets.toml', s),
        "data/datasets.toml: the dataset declarations leads outside the project"),
    'the chart definitions as a link out': (
        lambda p, s: link_out(p, 'reports/beyond-the-border/charts.toml', s),
        "reports/beyond-the-border/charts.toml: the chart definitions leads outside the project"),
    'the chart style as a link out': (
        lambda p, s: link_out(p, 'charts/house.mplstyle', s,
                              lambda t: t + f'\n# {MARKER}\n'),
        "charts/house.mplstyle: the chart style house.mplstyle leads outside the project"),
    'a template that is a link out': (
        lambda p, s: link_out(p, 'templates/partials/figure.html.j2', s),
        "templates/partials/figure.html.j2: the template 'partials/figure.html.j2' leads "
        "outside the project"),
    'the stylesheet as a link out': (
        lambda p, s: link_out(p, 'templates/print.css', s,
                              lambda t: t + f'\n/* {MARKER} */\n'),
        "templates/print.css: the stylesheet leads outside the project"),
    'a font that is a link out': (
        lambda p, s: _font_out(p, s),
        "templates/fonts/Lato-Bold.ttf: the font Lato-Bold.ttf leads outside the project"),
    'an image that is a link out': (
        lambda p, s: _image_out(p, s),
        "reports/beyond-the-border/2015/en/trade.md:"),
}


def _font_out(project: Path, secrets: Path) -> None:
    font = project / 'templates/fonts/Lato-Bold.ttf'
    target = secrets / 'Lato-Bold.ttf'
    target.write_bytes(font.read_bytes() + MARKER.encode())
    font.unlink()
    font.symlink_to(target)


def _image_out(project: Path, secrets: Path) -> None:
    target = secrets / 'map.svg'
    target.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
                      f'<title>{MARKER}</title><rect width="10" height="10"/></svg>')
    (project / 'reports/beyond-the-border/2015/en/map.svg').symlink_to(target)
    with (project / 'reports/beyond-the-border/2015/en/trade.md').open('a', encoding='utf-8') as stream:
        stream.write('\n![Map of the border crossings](map.svg)\n')


@pytest.fixture
def planted(tmp_path):
    project = copy_project(tmp_path / 'project')
    secrets = tmp_path / 'secrets'
    secrets.mkdir()
    (secrets / 'threats.md').write_text(f'---\ntitle: {MARKER}\n---\n\n{MARKER}\n')
    return project, secrets


def outputs_hold_marker(folder: Path) -> list[str]:
    """Files under ``folder`` whose bytes (or the decompressed streams of a PDF) hold the
    marker."""
    found = []
    for path in folder.rglob('*'):
        if not path.is_file() or path.is_symlink():
            continue
        data = path.read_bytes()
        if MARKER.encode() in data:
            found.append(str(path))
        elif data.startswith(b'%PDF'):
            with pikepdf.open(path) as pdf:
                for obj in pdf.objects:
                    if isinstance(obj, pikepdf.Stream) and MARKER.encode() in obj.read_bytes():
                        found.append(f'{path} (stream)')
                        break
    return found


@pytest.mark.parametrize('case', CASES, ids=list(CASES))
def test_nothing_outside_the_project_reaches_an_output(case, planted, capsys):
    project, secrets = planted
    plant, expected = CASES[case]
    plant(project, secrets)
    out = project.parent / 'out'
    status = main(['--project', str(project), 'build', '2015', '--lang', 'en',
                   '--out-dir', str(out), '--no-cache', '-j', '1'])
    stderr = capsys.readouterr().err
    assert status == 1, stderr[-2000:]
    assert 'Traceback' not in stderr and 'internal error' not in stderr
    errors = [line for line in stderr.splitlines() if 'error' in line]
    assert any(expected in line or expected in stderr for line in errors), stderr[-2000:]
    assert MARKER not in stderr
    assert not out.exists() or outputs_hold_marker(out) == []
    assert outputs_hold_marker(project / 'build') == [] if (project / 'build').exists() else True


def test_links_that_stay_inside_keep_working(planted, capsys):
    project, _ = planted
    section = project / 'reports/beyond-the-border/2015/en/threats.md'
    kept = project / 'reports/shared-threats.md'
    shutil.move(section, kept)
    section.symlink_to(os.path.relpath(kept, section.parent))
    out = project.parent / 'out' / 'report.pdf'
    assert main(['--project', str(project), 'build', '2015', '--lang', 'en', '--out',
                 str(out), '-j', '1']) == 0, capsys.readouterr().err[-2000:]
    assert out.stat().st_size > 100_000


def test_publish_embeds_only_the_data_the_edition_uses(planted, capsys):
    project, _ = planted
    extra = project / 'data/unused.csv'
    extra.write_text(f'code,label\nX,{MARKER}\n', encoding='utf-8')
    with (project / 'data/datasets.toml').open('a', encoding='utf-8') as stream:
        stream.write('\n[unused]\nfile = "unused.csv"\ntitle = "Not used by any edition"\n'
                     'key = ["code"]\ncolumns.code = { type = "text" }\n'
                     'columns.label = { type = "text" }\n')
    archive = project.parent / 'archive'
    assert main(['--project', str(project), 'publish', '2015', '--archive',
                 str(archive)]) == 0, capsys.readouterr().err[-2000:]
    pdfs = sorted(archive.rglob('*.pdf'))
    assert len(pdfs) == 2
    for pdf in pdfs:
        with pikepdf.open(pdf) as document:
            names = set(document.attachments)
        assert 'unused.csv' not in names
        assert {'us_canada_two_way_goods_trade_2002_2017.csv', 'datasets.toml'} <= names
    assert outputs_hold_marker(archive) == []
