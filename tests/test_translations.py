"""Which translations are up to date (``translations EDITION``), recorded by each
translated section (``translated_from:``), and what a build does with one that is not:
a draft marks it, a final is refused. All through the command line, on a project copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportkit.cli import main

from .conftest import ROOT, copy_project, replace

EN_TRADE = 'reports/beyond-the-border/2015/en/trade.md'
FR_TRADE = 'reports/beyond-the-border/2015/fr/trade.md'
EDITIONS = ['beyond-the-border/2012', 'beyond-the-border/2013', 'beyond-the-border/2014',
            'beyond-the-border/2015', 'state-trade/2016', 'state-trade/2022']


def run(project: Path, *args: str) -> int:
    return main(['--project', str(project), *args])


@pytest.mark.parametrize('edition', EDITIONS)
def test_every_translation_starts_up_to_date(edition, capsys):
    assert run(ROOT, 'translations', edition) == 0, capsys.readouterr()
    assert 'up to date' in capsys.readouterr().err


def test_a_source_edited_after_its_translation_is_named_with_what_changed(project_copy, capsys):
    replace(project_copy / EN_TRADE, 'The second area of cooperation aims',
            'The second area of joint work aims')
    assert run(project_copy, 'translations', '2015') == 1
    out, err = capsys.readouterr()
    flat = ' '.join(out.split())
    assert FR_TRADE in flat and 'out of date' in flat
    assert '~ The second area of [-cooperation-] {+joint work+} aims' in flat
    assert '7 of 8 translations are up to date; 1 wait' in err
    # The other sections are current: only this one is named.
    assert flat.count('out of date') == 1

    # A final with it is refused, naming the section; nothing is written.
    assert run(project_copy, 'build', '2015', '--lang', 'fr', '--out-dir',
               str(project_copy / 'out')) == 1
    err = capsys.readouterr().err
    assert FR_TRADE in err and "section 'trade' is out of date" in err
    assert not (project_copy / 'out').exists()

    # Recorded as brought up to date: current again, and the final builds.
    assert run(project_copy, 'translations', '2015', '--done', 'trade') == 0
    assert 'translated_from: "' in (project_copy / FR_TRADE).read_text(encoding='utf-8')
    assert run(project_copy, 'translations', '2015') == 0


def test_a_draft_with_an_old_translation_builds_with_a_warning_and_a_mark(project_copy, capsys):
    replace(project_copy / 'reports/beyond-the-border/2015/edition.toml',
            'status = "final"', 'status = "draft"')
    replace(project_copy / EN_TRADE, 'The second area of cooperation aims',
            'The second area of joint work aims')
    out = project_copy / 'out'
    assert run(project_copy, 'build', '2015', '--lang', 'fr', '--format', 'web',
               '--out-dir', str(out)) == 0
    err = ' '.join(capsys.readouterr().err.split())
    assert f'warning: {FR_TRADE}: translation pending' in err
    page = next(out.glob('*/index.html')).read_text(encoding='utf-8')
    assert page.count('class="translation-pending"') == 1
    assert 'Traduction en attente' in page
    trade = page[page.index('id="sec-trade"'):]
    assert trade.index('translation-pending') < trade.index('</section>')


def test_a_hand_made_record_is_refused_with_file_and_line(project_copy, capsys):
    replace(project_copy / FR_TRADE, 'translated_from: "', 'translated_from: "by hand ')
    assert run(project_copy, 'translations', '2015') == 1
    err = capsys.readouterr().err
    assert f'{FR_TRADE}:4:' in err and 'translated_from' in err
    assert 'Traceback' not in err
    assert len([line for line in err.splitlines() if line.startswith('error')]) == 1
