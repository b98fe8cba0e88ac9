"""Both official languages and every edition: build --all, French done right, data
windows, drafts, revisions, list and new-edition."""

from __future__ import annotations

import hashlib
import html as htmllib
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pikepdf
import pytest
from babel.messages.pofile import read_po
from pypdf import PdfReader

from reportkit.run.prepare import BuildRequest, prepare
from reportkit.cli import main
from reportkit.compose.i18n import catalogue_path, extract_messages, load_messages
from reportkit.load.edition import load_edition
from reportkit.project import Project

from .conftest import ROOT, replace
from .pdfcheck import flat, page_texts, plain
from .test_errors import line_of

PROJECT = Project.at(ROOT)
YEAR = re.compile(r'(?<![\d,.\-/])(19\d\d|20\d\d)(?![\d,])')


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- every edition, every language -------------------------------------------------------

def test_build_all_writes_every_edition_in_every_language(all_built):
    expected = {(edition, lang) for edition in ('2012', '2013', '2014', '2015')
                for lang in ('en', 'fr')}
    assert set(all_built) == expected
    for (edition, lang), pdf in all_built.items():
        assert pdf.name == f'beyond-the-border-{edition}-{lang}-r1.pdf'
        with pikepdf.open(pdf) as document:
            assert '/StructTreeRoot' in document.Root
            assert str(document.Root.Lang) == {'en': 'en-CA', 'fr': 'fr-CA'}[lang]
            assert len(document.Root.Outlines.keys()) > 0
        assert PdfReader(pdf).outline, pdf.name


def test_build_all_is_reproducible_in_a_fresh_process(all_built, tmp_path):
    again = tmp_path / 'again'
    subprocess.run([sys.executable, str(ROOT / 'make_report.py'), 'build', 'beyond-the-border',
                    '--out-dir', str(again), '--no-cache', '-j', '1'], check=True,
                   capture_output=True)
    for pdf in all_built.values():
        assert sha256(again / pdf.name) == sha256(pdf), pdf.name


# --- French done right -------------------------------------------------------------------

@pytest.fixture(scope='module')
def french_2015(all_built) -> list[str]:
    return page_texts(all_built[('2015', 'fr')])


def test_french_edition_has_french_title_contents_dates_and_amounts(all_built, french_2015):
    pdf = all_built[('2015', 'fr')]
    assert PdfReader(pdf).metadata.title == \
        'Par-delà la frontière – Rapport de mise en œuvre 2015'
    assert french_2015[2].lstrip().startswith('Table des matières')
    text = plain(flat('\n'.join(french_2015)))
    assert '27 avril 2016' in text                      # the cover date
    assert '577,2 milliards de dollars américains' in text  # goods trade 2015
    assert 'US$' not in text and ' billion' not in text


def test_no_english_template_word_is_left_in_the_french_pdf(french_2015, composed_fr):
    """Every message the French document used, where French differs, is absent from it."""
    messages = load_messages(PROJECT, 'fr')
    used = sorted(composed_fr.messages)
    translations = [messages.catalogue[message] for message in used]
    narrative = ' '.join(p.read_text() for p in (ROOT / 'reports/beyond-the-border/2015/fr').glob('*.md'))
    text = plain(flat('\n'.join(french_2015)))
    # The series' own words (its table's title, headings and status names) too.
    series = load_edition(PROJECT, '2015', ['fr']).series
    for table in series.tables.values():
        words = [table.title] + [c.label for c in table.columns] + \
            [w for c in table.columns for w in c.words.values()]
        used += [w['en'] for w in words]
        translations += [w['fr'] for w in words]
    checked = 0
    for english in used:
        if any(english in t for t in translations) or english in narrative:
            continue  # the same word in French ('Figure', 'Canada'): nothing to tell apart
        checked += 1
        assert not re.search(rf'(?<!\w){re.escape(english)}(?!\w)', text), english
    assert checked >= 20


def test_every_message_used_is_in_the_catalogue_and_none_is_stale():
    with catalogue_path(PROJECT, 'fr').open('rb') as stream:
        catalogue = {m.id: m.string for m in read_po(stream) if m.id}
    used = {use.message for use in extract_messages(PROJECT)}
    assert used - set(catalogue) == set(), 'used but not in the catalogue'
    assert set(catalogue) - used == set(), 'in the catalogue but never used'
    assert all(catalogue[m].strip() for m in used), 'empty translations'


def test_messages_asked_for_while_composing_are_all_found_by_extraction(composed_fr):
    assert len(composed_fr.messages) > 15   # the table's words are the series' (series.toml)
    assert composed_fr.messages <= {use.message for use in extract_messages(PROJECT)}


@pytest.fixture(scope='module')
def composed_fr():
    return prepare(PROJECT, BuildRequest('2015', ['fr'])).composed['fr']


def test_french_typography_no_break_spaces(composed_fr):
    text = htmllib.unescape(re.sub(r'<[^>]+>', ' ', re.sub(
        r'<(style|script)[^>]*>.*?</\1>', '', composed_fr.html, flags=re.S)))
    # Outside passages tagged as English, : ; ! ? take a no-break space, « » hold them.
    french = re.sub(r'<span lang="en">.*?</span>', '', composed_fr.html)
    french = htmllib.unescape(re.sub(r'<[^>]+>', '', french))
    assert not re.search(r'[ \t][:;!?]', french)
    assert not re.search(r'«[ \t]|[ \t]»', french)
    assert '\u00a0:' in french and '\u202f;' in french and '«\u00a0' in french
    assert "'" not in french and 'l\u2019' in french          # typographic apostrophes
    assert 'Beyond the Border: Moving Forward' in text   # English passage left as written


def test_language_is_tagged_on_the_document_and_on_other_language_passages(composed_fr):
    html = composed_fr.html
    assert re.search(r'<html lang="fr-CA">', html)
    assert re.search(r'<p class="other-language" lang="en-CA">Also available in English', html)
    assert '<span lang="en">Beyond the Border: Moving Forward</span>' in html


def test_charts_are_localized(composed_fr):
    english = prepare(PROJECT, BuildRequest('2015', ['en'])).composed['en']
    fr_svg = composed_fr.assets['charts/us-exports.svg'].decode()
    en_svg = english.assets['charts/us-exports.svg'].decode()
    assert 'Milliards de dollars américains' in fr_svg and 'US$ billions' in en_svg
    exports = pd.read_csv(ROOT / 'data' / 'us_goods_exports_to_canada.csv').set_index('year')
    label = f"{exports.loc[2015, 'us_goods_exports_to_canada_usd_millions'] / 1000:.1f}"
    assert label.replace('.', ',') in fr_svg and label in en_svg   # bar labels, per locale
    assert 'Année' in composed_fr.assets['charts/goods-trade.svg'].decode()
    # State names in a profile's charts, in the document's language.
    profile = {lang: prepare(PROJECT, BuildRequest('state-trade/2016', [lang], item='PA'))
               .composed[lang].assets['charts/region-2016.svg'].decode() for lang in ('en', 'fr')}
    assert 'Pennsylvanie' in profile['fr'] and 'Pennsylvania' not in profile['fr']
    assert 'Pennsylvania' in profile['en']


# --- data windows (and tests/test_known.py) -----------------------------------------

@pytest.mark.parametrize('lang', ['en', 'fr'])
def test_the_2012_edition_shows_no_year_after_2012(all_built, lang):
    text = '\n'.join(page_texts(all_built[('2012', lang)]))
    years = {int(y) for y in YEAR.findall(text)}
    assert years and max(years) == 2012, sorted(years)
    prepared = prepare(PROJECT, BuildRequest('2012', [lang]))
    for name, content in prepared.composed[lang].assets.items():
        if name.startswith('charts/'):
            svg_years = {int(y) for y in YEAR.findall(content.decode())}
            assert max(svg_years) <= 2012, (name, sorted(svg_years))


# --- missing pieces are errors, all listed at once ----------------------------------------

def test_a_missing_french_section_is_named(project_copy, tmp_path, capsys):
    (project_copy / 'reports/beyond-the-border/2015/fr/trade.md').unlink()
    status = main(['--project', str(project_copy), 'build', '2015', '--lang', 'fr',
                   '--out', str(tmp_path / 'f.pdf')])
    err = capsys.readouterr().err
    assert status == 1
    assert ("error: reports/beyond-the-border/2015/fr/trade.md: section 'trade' is listed in edition.toml but "
            'its file is missing') in err
    assert not (tmp_path / 'f.pdf').exists()


def test_every_missing_translation_is_listed_at_once(project_copy, tmp_path, capsys):
    (project_copy / 'reports/beyond-the-border/2015/fr/threats.md').unlink()
    replace(project_copy / 'reports/beyond-the-border/charts.toml',
            'title.fr = "Entrées de camions au Canada en provenance des États-Unis, '
            '{first_x} à {last_x}"\n', '')
    replace(project_copy / 'templates/locale/fr/LC_MESSAGES/messages.po',
            'msgstr "Table des matières"', 'msgstr ""')
    replace(project_copy / 'data/initiatives.csv', 'Expansion du programme NEXUS', '')
    truck_title = line_of(project_copy / 'reports/beyond-the-border/charts.toml',
                          'title.en = "Truck crossings into Canada')
    status = main(['--project', str(project_copy), 'build', '2015',
                   '--out-dir', str(tmp_path / 'out')])
    err = capsys.readouterr().err
    assert status == 1
    assert ('error: edition beyond-the-border/2015: inputs have problems; nothing was '
            'written (4 problems):\n'
            "  reports/beyond-the-border/2015/fr/threats.md: section 'threats' is listed in edition.toml but its "
            'file is missing\n'
            "  data/initiatives.csv:6: column 'title_fr': empty: the translation is missing\n"
            f"  reports/beyond-the-border/charts.toml:{truck_title}: [truck-crossings] 'title.fr': missing "
            'translation\n'
            '  templates/locale/fr/LC_MESSAGES/messages.po: message "Contents" (used in '
            'templates/report.html.j2:') in err
    assert not (tmp_path / 'out').exists()


def test_a_value_published_after_the_edition_is_named_with_the_reason(project_copy, tmp_path,
                                                                    capsys):
    replace(project_copy / 'reports/beyond-the-border/2012/en/trade.md', '{{ year }}',
            '{{ year }} ({{ goods_trade[2013] }})')
    status = main(['--project', str(project_copy), 'build', '2012', '--lang', 'en',
                   '--out', str(tmp_path / 'x.pdf')])
    err = plain(capsys.readouterr().err)
    assert status == 1
    assert ('goods_trade[2013]: not published until March 1, 2014; this edition is dated '
            'December 14, 2012 and can show 2002–2011') in flat(err)


# --- drafts and revisions ----------------------------------------------------------------

def test_a_draft_revision_is_marked_on_every_page_and_in_title_and_name(project_copy, tmp_path):
    replace(project_copy / 'reports/beyond-the-border/2015/edition.toml', 'status = "final"', 'status = "draft"')
    replace(project_copy / 'reports/beyond-the-border/2015/edition.toml', 'revision = 1',
            'revision = 2\nrevision_note = { en = "Corrected the 2014 truck figure.", '
            'fr = "Correction du chiffre des camions pour 2014." }')
    out = tmp_path / 'out'
    assert main(['--project', str(project_copy), 'build', '2015', '--out-dir', str(out)]) == 0
    for lang, word, note in (('en', 'DRAFT', 'Corrected the 2014 truck figure.'),
                             ('fr', 'ÉBAUCHE', 'Correction du chiffre des camions pour 2014.')):
        pdf = out / f'beyond-the-border-2015-{lang}-r2-DRAFT.pdf'
        assert PdfReader(pdf).metadata.title.startswith(f'{word} – ')
        texts = page_texts(pdf)
        for number, text in enumerate(texts, start=1):
            assert word in text, f'{lang} page {number} has no {word} mark'
        inside = plain(flat(texts[1]))
        assert note in inside
        assert ('Revision 2 —' if lang == 'en' else 'Révision 2 —') in inside
    assert sorted(p.name for p in out.iterdir()) == [
        'beyond-the-border-2015-en-r2-DRAFT.pdf', 'beyond-the-border-2015-fr-r2-DRAFT.pdf']


def test_a_final_carries_no_draft_mark(all_built):
    for (edition, lang), pdf in all_built.items():
        text = '\n'.join(page_texts(pdf))
        assert 'DRAFT' not in text and 'ÉBAUCHE' not in text, (edition, lang)


def test_a_revision_after_the_first_needs_its_note(project_copy, capsys):
    replace(project_copy / 'reports/beyond-the-border/2015/edition.toml', 'revision = 1', 'revision = 2')
    status = main(['--project', str(project_copy), 'build', '2015', '--lang', 'en',
                   '--out', str(project_copy / 'x.pdf')])
    assert status == 1
    line = line_of(project_copy / 'reports/beyond-the-border/2015/edition.toml', 'revision = 2')
    assert (f'error: reports/beyond-the-border/2015/edition.toml:{line}: revision: revision 2 needs a revision_note '
            'saying what changed since the last revision') in capsys.readouterr().err


# --- list and new-edition ----------------------------------------------------------------

def test_list_shows_every_edition(capsys):
    assert main(['list']) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if re.match(r'^│ 20\d\d', line)]
    assert [row.split('│')[1].strip() for row in rows] == ['2012', '2013', '2014', '2015',
                                                           '2016', '2022']
    assert out.index('beyond-the-border: editions') < out.index('│ 2012') < \
        out.index('state-trade: editions') < out.index('│ 2022')
    for row in rows:
        cells = [cell.strip() for cell in row.split('│')[1:-1]]
        assert cells[2] == 'en, fr' and cells[3] == '1' and cells[4] == 'final'
    assert '2016-04-27' in out and '2012-12-14' in out


def test_new_edition_starts_next_year_as_a_draft_that_builds(project_copy, tmp_path, capsys):
    import shutil
    shutil.rmtree(project_copy / 'reports/beyond-the-border/2015')
    assert main(['--project', str(project_copy), 'new-edition', '2015', '--from', '2014']) == 0
    err = capsys.readouterr().err
    assert 'created reports/beyond-the-border/2015/ from edition 2014' in err
    assert 'reports/beyond-the-border/2015/en/executive-summary.md' in err        # typed years to review
    config = load_edition(Project.at(project_copy), '2015').config
    assert (config.id, config.year) == ('2015', 2015)
    assert config.status == 'draft' and config.revision == 1 and config.revision_note is None
    assert config.isbn is None and config.catalogue_number is None
    assert config.subtitle == {'en': 'Implementation Report 2015',
                               'fr': 'Rapport de mise en œuvre 2015'}
    assert config.publication_date.isoformat() == '2016-05-19'
    for lang in ('en', 'fr'):
        for section in config.sections:
            assert (project_copy / 'reports/beyond-the-border/2015' / lang / f'{section}.md').read_bytes() == \
                (project_copy / 'reports/beyond-the-border/2014' / lang / f'{section}.md').read_bytes()
    out = tmp_path / 'out'
    assert main(['--project', str(project_copy), 'build', '2015', '--lang', 'en',
                 '--out-dir', str(out)]) == 0
    pdf = out / 'beyond-the-border-2015-en-r1-DRAFT.pdf'
    text = flat('\n'.join(page_texts(pdf)))
    assert 'to be assigned' in text and 'DRAFT' in text


def test_new_edition_never_overwrites(project_copy, capsys):
    before = (project_copy / 'reports/beyond-the-border/2015/edition.toml').read_bytes()
    assert main(['--project', str(project_copy), 'new-edition', '2015', '--from', '2014']) == 1
    assert 'edition 2015 already exists in reports/beyond-the-border/2015; nothing was changed' in \
        capsys.readouterr().err
    assert (project_copy / 'reports/beyond-the-border/2015/edition.toml').read_bytes() == before
    assert [p.name for p in (project_copy / 'reports').iterdir()
            if p.name.startswith('.')] == []
