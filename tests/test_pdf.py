"""Every built PDF (each edition, each language), checked as a reviewer of an official
publication would: structure, metadata, contents, page furniture and layout."""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import pikepdf
import pytest
from pypdf import PdfReader

from reportkit.compose.compose import _also_available, full_title_of
from reportkit.compose.i18n import load_messages
from reportkit.load.edition import load_edition
from reportkit.project import Project

from .conftest import ROOT
from .pdfcheck import (MM, body_lines, contents_entries, flat, fonts, header_text,
                       page_texts, plain)

EDITIONS = [(edition, lang) for edition in Project.at(ROOT).editions("beyond-the-border") for lang in ('en', 'fr')]


@pytest.fixture(scope='module', params=EDITIONS, ids=[f'{e}-{l}' for e, l in EDITIONS])
def which(request) -> tuple[str, str]:
    return request.param


@pytest.fixture(scope='module')
def lang(which) -> str:
    return which[1]


@pytest.fixture(scope='module')
def pdf(which, all_built) -> Path:
    return all_built[(which[0].split('/')[-1], which[1])]   # (edition id, language)


@pytest.fixture(scope='module')
def texts(pdf) -> list[str]:
    return page_texts(pdf)


@pytest.fixture(scope='module')
def edition(which):
    return load_edition(Project.at(ROOT), which[0], [which[1]])


@pytest.fixture(scope='module')
def _(lang):
    """The words the templates print, in the PDF's language."""
    return load_messages(Project.at(ROOT), lang).gettext


def test_page_count_and_letter_size(pdf):
    reader = PdfReader(pdf)
    assert len(reader.pages) >= 8
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (612, 792)


def test_metadata_comes_from_the_edition(pdf, edition, lang):
    config = edition.config
    info = PdfReader(pdf).metadata
    assert info.title == full_title_of(config.title[lang], config.subtitle[lang], lang)
    assert config.title[lang] in info.title and config.id in info.title
    assert 'DRAFT' not in info.title and 'ÉBAUCHE' not in info.title  # all are final
    assert info.author == config.author[lang]
    assert info.subject == config.subject[lang]
    assert info['/Keywords'] == ', '.join(config.keywords[lang])
    assert info['/CreationDate'].startswith('D:' + config.publication_date.strftime('%Y%m%d'))


def test_tagged_pdf_ua_with_language(pdf, edition, lang):
    with pikepdf.open(pdf) as document:
        root = document.Root
        assert '/StructTreeRoot' in root
        assert bool(root.MarkInfo.Marked)
        assert str(root.Lang) == edition.series.lang_tag(lang)
        assert bool(root.ViewerPreferences.DisplayDocTitle)
        assert 'pdfuaid' in str(document.open_metadata())


def test_outline_has_every_chapter(pdf, edition, lang):
    reader = PdfReader(pdf)
    titles = [plain(item.title) for item in reader.outline if not isinstance(item, list)]
    for section in edition.sections[lang]:
        assert any(title.endswith(plain(section.title)) for title in titles), section.title


def test_every_font_is_bundled_embedded_and_mapped(pdf):
    used = fonts(pdf)
    assert used
    bundled = {path.stem.split('-')[0] for path in (ROOT / 'templates' / 'fonts').glob('*.ttf')}
    for name, info in used.items():
        assert info['embedded'], name
        assert info['to_unicode'], name
        family = name.split('+', 1)[1].replace('-', '')
        assert any(family.startswith(b) for b in bundled), name


def test_contents_page_numbers_are_where_chapters_start(texts, edition, lang, _):
    entries = contents_entries(texts, _('Contents'))
    chapters = [e for e in entries if not e[0].startswith((_('Figure'), _('Table')))]
    sections = edition.sections[lang]
    assert len(chapters) == len(sections)
    for (label, page), section in zip(chapters, sections):
        title = flat(plain(section.title))
        assert plain(flat(label)).endswith(title)
        first_lines = plain(flat("\n".join(texts[page - 1].splitlines()[:3])))
        assert title in first_lines, (label, page)


def test_list_of_figures_points_at_each_figure(texts, edition, _):
    figures = [e for e in contents_entries(texts, _('Contents'))
               if e[0].startswith(_('Figure') + ' ')]
    assert len(figures) == len(edition.config.figures)
    for label, page in figures:
        number = label.split('.')[0]  # 'Figure 3'
        assert f'{number}.' in texts[page - 1], (label, page)


def test_footer_and_running_header_on_every_page_after_the_cover(pdf, texts, edition, lang, _):
    total = len(texts)
    for number, text in enumerate(texts[1:], start=2):
        assert f"{_('Page')} {number} {_('of')} {total}" in text
    config = edition.config
    title = full_title_of(config.title[lang], config.subtitle[lang], lang)
    chapter = None
    for number in range(4, total + 1):
        header = plain(header_text(pdf, number))
        assert title in header, number
        starts = [s for s in edition.sections[lang]
                  if flat(plain(s.title)) in plain(flat(texts[number - 1]))[:200]]
        chapter = starts[0] if starts else chapter
        if chapter is not None:
            assert header.endswith(plain(chapter.short_title)), (number, header)


def test_inside_cover_names_publisher_contact_identifiers_and_revision(texts, edition, lang, _):
    page = flat(texts[1])
    config = edition.config
    page = plain(page)
    assert config.publisher.name[lang] in page
    assert config.publisher.fax in page
    assert config.catalogue_number[lang] in page and config.isbn[lang] in page
    assert config.publisher.copyright[lang] in page
    assert f"{_('Revision')} {config.revision} —" in page
    other = 'fr' if lang == 'en' else 'en'
    assert flat(plain(_also_available(other, config.title[other], config.subtitle[other]))) in page


def test_no_heading_or_caption_alone_at_the_bottom_of_a_page(pdf, texts):
    for number in range(2, len(texts) + 1):
        # Footnotes and source lines (7.5 pt) sit below the flow: look at the flow only
        # (body text 10 pt, tables 8 pt and more).
        flow = [line for line in body_lines(pdf, number) if line.size >= 7.9]
        if flow:
            last = flow[-1]
            assert 'Lato' not in last.font, f'page {number} ends with heading {last.text!r}'


def test_nothing_runs_off_the_page(pdf):
    """Every character stays inside the left and right margins (22 mm, 1 pt slack)."""
    import pdfplumber
    with pdfplumber.open(pdf) as document:
        for number, page in enumerate(document.pages[1:], start=2):
            for char in page.chars:
                assert 22 * MM - 1 <= char['x0'] and char['x1'] <= page.width - 22 * MM + 1, \
                    f'page {number}: {char["text"]!r} at x={char["x0"]:.0f}'


def test_no_word_set_in_bold_is_cut_by_a_hyphen(pdf):
    """Headings, captions and column names (bold) never break a word at a line's end: a
    column name cut as "An‐née" reads as a mistake. (Body text may be hyphenated.)"""
    import pdfplumber
    with pdfplumber.open(pdf) as document:
        for number, page in enumerate(document.pages, start=1):
            for word in page.extract_words(extra_attrs=['fontname']):
                text = word['text']
                assert not ('Bold' in word['fontname'] and len(text) > 2 and
                            text[-1] in '-\u2010\u00ad' and text[-2].isalpha()), \
                    f'page {number}: {text!r} ({word["fontname"]})'


def amount(value: float, lang: str) -> str:
    """US$ billions as a reader expects them (spelled out here, not by the code under test)."""
    if lang == 'fr':
        return f'{value:.1f}'.replace('.', ',') + ' milliards de dollars américains'
    return f'US${value:.1f} billion'


@pytest.mark.parametrize('lang_2015', ['en', 'fr'])
def test_figures_in_the_2015_text_equal_the_data(all_built, lang_2015):
    lang = lang_2015
    text = plain(flat('\n'.join(page_texts(all_built[('2015', lang)]))))
    goods = pd.read_csv(ROOT / 'data' / 'us_canada_two_way_goods_trade_2002_2017.csv')
    value = goods.set_index('year').loc[2015, 'us_canada_two_way_goods_trade_usd_billions']
    assert amount(value, lang) in text
    exports = pd.read_csv(ROOT / 'data' / 'us_goods_exports_to_canada.csv').set_index('year')
    value = exports.loc[2015, 'us_goods_exports_to_canada_usd_millions'] / 1000
    assert amount(value, lang) in text


def test_the_annex_holds_every_charted_row_published_by_its_date_and_none_after(texts, edition, lang):
    if 'truck-crossings' not in edition.config.figures:
        pytest.skip('this edition has no truck chart')
    annex = plain('\n'.join(texts[-4:]))
    trucks = pd.read_csv(ROOT / 'data' / 'us_canada_border_truck_crossings.csv')
    north = trucks[trucks['direction'].str.startswith('northbound')]
    published = edition.config.publication_date   # a year's crossings: from April after
    for row in north.itertuples():
        value = Decimal(str(row.trucks_thousands)) / 1000
        shown = str(value.quantize(Decimal('0.01'), ROUND_HALF_UP))
        shown = shown.replace('.', ',') if lang == 'fr' else shown
        present = re.search(rf'^{row.year} {shown}$', annex, re.M) is not None
        assert present == (dt.date(row.year + 1, 4, 1) <= published), row.year
