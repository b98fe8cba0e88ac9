"""The batch series: Canada–state trade profiles, sampled (the benchmark builds and checks
every one of the 204)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from reportkit.cli import main
from reportkit.compose.compose import full_title_of
from reportkit.load.edition import load_edition
from reportkit.numbers import Quantity
from reportkit.project import Project

from .conftest import ROOT, copy_project
from .pdfcheck import flat, page_texts, profile_problems

SAMPLE = ['MI', 'DC', 'WY']
EDITIONS = ['state-trade/2016', 'state-trade/2022']


@pytest.fixture(scope='module')
def sample(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp('profiles')
    for edition in EDITIONS:
        assert main(['build', edition, '--only', ','.join(SAMPLE), '--out-dir', str(folder),
                     '--no-cache', '-j', '2']) == 0
    return folder


def states() -> dict[str, dict]:
    with (ROOT / 'data' / 'us_states.csv').open(encoding='utf-8') as stream:
        return {row['state_code']: row for row in csv.DictReader(stream)}


@pytest.mark.parametrize('edition_name', EDITIONS)
@pytest.mark.parametrize('lang', ['en', 'fr'])
def test_each_sampled_profile_passes_every_check(sample, edition_name, lang):
    edition = load_edition(Project.at(ROOT), edition_name, [lang])
    config = edition.config
    names = sorted(sample.glob(f'state-trade-{config.id}-*-{lang}-r1.pdf'))
    assert [p.name.split('-')[3] for p in names] == sorted(s.lower() for s in SAMPLE)
    for pdf in names:
        code = pdf.name.split('-')[3].upper()
        name = states()[code][f'name_{lang}']
        title = full_title_of(config.title[lang].replace('{name}', name),
                              config.subtitle[lang], lang)
        assert profile_problems(pdf, title, edition.series.lang_tag(lang), name) == [], pdf.name


def _usd(millions: str, lang: str) -> str:
    return str(Quantity.of(float(millions), 'usd_millions', lang))


def test_the_2016_figures_are_the_data_and_the_phrasing_follows_them(sample):
    with (ROOT / 'data' / 'us_state_trade_with_canada_2016.csv').open() as stream:
        rows = {r['state_code']: r for r in csv.DictReader(stream)}
    ranked = sorted(rows, key=lambda code: -float(rows[code]['exports_to_canada_usd_millions']))
    for code in SAMPLE:
        row = rows[code]
        for lang in ('en', 'fr'):
            text = flat(' '.join(page_texts(sample / f'state-trade-2016-{code.lower()}-{lang}-r1.pdf')))
            assert flat(_usd(row['exports_to_canada_usd_millions'], lang)) in text
            assert flat(_usd(row['imports_from_canada_usd_millions'], lang)) in text
        en = flat(' '.join(page_texts(sample / f'state-trade-2016-{code.lower()}-en-r1.pdf')))
        surplus = float(row['exports_to_canada_usd_millions']) > \
            float(row['imports_from_canada_usd_millions'])
        assert ('trade surplus' in en) == surplus and ('trade deficit' in en) == (not surplus)
        rank = ranked.index(code) + 1
        assert (rank == 1) == ('more than any other state' in en), code
    assert ranked[0] == 'MI'


def test_the_2022_profiles_say_their_basis_and_never_compare_with_2016(sample):
    for code in SAMPLE:
        for lang, basis in (('en', 'Statistics Canada'), ('fr', 'Statistique Canada')):
            text = flat(' '.join(page_texts(sample / f'state-trade-2022-{code.lower()}-{lang}-r1.pdf')))
            assert basis in text and ('C$' in text or 'dollars canadiens' in text)
            assert not re.search(r'\b2016\b', text.split('About')[0].split('À propos')[0]), code


def test_french_names_carry_their_article_and_preposition(sample):
    text = flat(' '.join(page_texts(sample / 'state-trade-2016-mi-fr-r1.pdf')))
    assert 'Profil commercial Canada–Michigan' in text
    assert 'le Michigan' in text or 'au Michigan' in text or 'du Michigan' in text
    dc = flat(' '.join(page_texts(sample / 'state-trade-2016-dc-fr-r1.pdf')))
    assert 'district de Columbia' in dc
    # Each names its edition in the other language by that language's name of the state.
    assert 'Also available in English under the title: Canada–District of Columbia Trade' in dc
    dc_en = flat(' '.join(page_texts(sample / 'state-trade-2016-dc-en-r1.pdf')))
    assert 'Profil commercial Canada–District de Columbia' in dc_en


def test_one_row_changed_renders_again_only_the_profiles_whose_content_changed(tmp_path,
                                                                               capsys):
    """Wyoming's imports from Canada appear in Wyoming's profile only (no chart and no
    total shows imports), so after a change to them only Wyoming's profile is checked
    and rendered again; Montana and Colorado, in the same division, and Michigan come
    from the cache unchecked, their own slice of the data being the same. A change to
    Wyoming's exports moves the national total every profile prints: all are built
    again (and the region chart of Montana and Colorado changes too)."""
    project = copy_project(tmp_path / 'project')
    out = tmp_path / 'out'
    command = ['--project', str(project), 'build', 'state-trade/2016', '--only',
               'WY,MT,CO,MI', '--lang', 'en', '--out-dir', str(out), '-j', '1']
    assert main(command) == 0
    capsys.readouterr()
    path = project / 'data' / 'us_state_trade_with_canada_2016.csv'
    text = path.read_text()
    row = next(line for line in text.splitlines() if ',WY,' in line)
    cells = row.split(',')
    cells[4] = str(float(cells[4]) + 100)   # imports_from_canada_usd_millions
    path.write_text(text.replace(row, ','.join(cells)))
    assert main(command) == 0
    err = capsys.readouterr().err
    rendered = re.findall(r'Rendering the PDF \(state-trade/2016 (\w\w) en\)', err)
    kept = re.findall(r'\(state-trade/2016 (\w\w) en: unchanged, from the cache\)', err)
    checked = re.findall(r'Composing the document \(state-trade/2016: en\)', err)
    assert rendered == ['WY'] and sorted(kept) == ['CO', 'MI', 'MT'], err
    assert len(checked) == 1, err   # only Wyoming's document went through phase 1
    cells[3] = str(float(cells[3]) + 100)   # exports_to_canada_usd_millions
    text = path.read_text()
    path.write_text(text.replace(next(line for line in text.splitlines() if ',WY,' in line),
                                 ','.join(cells)))
    assert main(command) == 0
    err = capsys.readouterr().err
    assert sorted(re.findall(r'Rendering the PDF \(state-trade/2016 (\w\w) en\)', err)) == \
        ['CO', 'MI', 'MT', 'WY'], err


def test_only_names_an_unknown_state(capsys):
    assert main(['build', 'state-trade/2016', '--only', 'MI,ZZ', '--out-dir', '/tmp/x']) == 1
    assert "--only: edition state-trade/2016 has no document 'ZZ'" in capsys.readouterr().err


def test_a_value_too_small_for_the_scale_reads_as_less_than_never_as_zero(sample):
    """D.C. exported US$9.1 million to Canada in 2016: 0.0 on a scale of billions would
    say it exported nothing."""
    from reportkit.charts.draw import value_format
    assert value_format('en', 1)(0.0091) == '<0.1' and value_format('fr', 1)(0.0091) == '<0,1'
    assert value_format('en', 1)(0) == '0.0' and value_format('en', 1)(0.05) == '0.1'
    text = page_texts(sample / 'state-trade-2016-dc-en-r1.pdf')[1]
    assert '<0.1' in text and '\n0.0\n' not in text
