"""The real 2015 English PDF, checked as a reviewer of an official publication would."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import pikepdf
import pytest
from pypdf import PdfReader

from reportkit.load import load_edition
from reportkit.project import Project

from .conftest import ROOT
from .pdfcheck import MM, body_lines, contents_entries, flat, fonts, header_text, page_texts


@pytest.fixture(scope='module')
def pdf(built_2015_en) -> Path:
    return built_2015_en[0]


@pytest.fixture(scope='module')
def texts(pdf) -> list[str]:
    return page_texts(pdf)


@pytest.fixture(scope='module')
def edition():
    return load_edition(Project.at(ROOT), '2015', ['en'])


def test_page_count_and_letter_size(pdf):
    reader = PdfReader(pdf)
    assert len(reader.pages) >= 16
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (612, 792)


def test_metadata_comes_from_the_edition(pdf, edition):
    config = edition.config
    info = PdfReader(pdf).metadata
    assert info.title == f'{config.title["en"]}: {config.subtitle["en"]}'
    assert 'Beyond the Border' in info.title and '2015' in info.title
    assert info.author == config.author['en']
    assert info.subject == config.subject['en']
    assert info['/Keywords'] == ', '.join(config.keywords['en'])
    assert info['/CreationDate'].startswith('D:' + config.publication_date.strftime('%Y%m%d'))


def test_tagged_pdf_ua_with_language(pdf):
    with pikepdf.open(pdf) as document:
        root = document.Root
        assert '/StructTreeRoot' in root
        assert bool(root.MarkInfo.Marked)
        assert str(root.Lang) == 'en-CA'
        assert bool(root.ViewerPreferences.DisplayDocTitle)
        assert 'pdfuaid' in str(document.open_metadata())


def test_outline_has_every_chapter(pdf, edition):
    reader = PdfReader(pdf)
    titles = [item.title for item in reader.outline if not isinstance(item, list)]
    for section in edition.sections['en']:
        assert any(title.endswith(section.title) for title in titles), section.title


def test_every_font_is_bundled_embedded_and_mapped(pdf):
    used = fonts(pdf)
    assert used
    bundled = {path.stem.split('-')[0] for path in (ROOT / 'templates' / 'fonts').glob('*.ttf')}
    for name, info in used.items():
        assert info['embedded'], name
        assert info['to_unicode'], name
        family = name.split('+', 1)[1].replace('-', '')
        assert any(family.startswith(b) for b in bundled), name


def test_contents_page_numbers_are_where_chapters_start(texts, edition):
    entries = contents_entries(texts)
    chapters = [entry for entry in entries if not entry[0].startswith(('Figure', 'Table'))]
    assert len(chapters) == len(edition.sections['en'])
    for (label, page), section in zip(chapters, edition.sections['en']):
        assert label.endswith(section.title)
        first_lines = flat('\n'.join(texts[page - 1].splitlines()[:3]))
        assert section.title in first_lines, (label, page)


def test_list_of_figures_points_at_each_figure(texts):
    figures = [e for e in contents_entries(texts) if e[0].startswith('Figure')]
    assert len(figures) == 5
    for label, page in figures:
        number = label.split('.')[0]  # 'Figure 3'
        assert f'{number}.' in texts[page - 1], (label, page)


def test_footer_and_running_header_on_every_page_after_the_cover(pdf, texts, edition):
    total = len(texts)
    for number, text in enumerate(texts[1:], start=2):
        assert f'Page {number} of {total}' in text
    title = f'{edition.config.title["en"]}: {edition.config.subtitle["en"]}'
    chapter = None
    for number in range(4, total + 1):
        header = header_text(pdf, number)
        assert title in header, number
        starts = [s for s in edition.sections['en'] if s.title in flat(texts[number - 1])[:200]]
        chapter = starts[0] if starts else chapter
        if chapter is not None:
            assert header.endswith(chapter.short_title), (number, header)


def test_inside_cover_names_publisher_contact_and_identifiers(texts, edition):
    page = flat(texts[1])
    config = edition.config
    assert config.publisher.name['en'] in page
    assert config.publisher.fax in page
    assert config.catalogue_number['en'] in page and config.isbn['en'] in page
    assert config.publisher.copyright['en'] in page
    assert f'Aussi disponible en français sous le titre : {config.title["fr"]}' in page


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


def test_figures_in_the_text_equal_the_data(texts):
    text = flat('\n'.join(texts))
    goods = pd.read_csv(ROOT / 'data' / 'us_canada_two_way_goods_trade_2002_2017.csv')
    value = goods.set_index('year').loc[2015, 'us_canada_two_way_goods_trade_usd_billions']
    assert f'US${value:.1f} billion' in text
    exports = pd.read_csv(ROOT / 'data' / 'us_goods_exports_to_canada.csv').set_index('year')
    value = exports.loc[2015, 'us_goods_exports_to_canada_usd_millions'] / 1000
    assert f'US${value:.1f} billion' in text


def test_every_chart_data_row_is_in_the_annex(texts):
    annex = flat('\n'.join(texts[-4:]))
    trucks = pd.read_csv(ROOT / 'data' / 'us_canada_border_truck_crossings.csv')
    north = trucks[trucks['direction'].str.startswith('northbound')]
    for row in north.itertuples():
        value = Decimal(str(row.trucks_thousands)) / 1000
        shown = value.quantize(Decimal('0.01'), ROUND_HALF_UP)
        assert re.search(rf'{row.year} {shown}\b', annex), row.year
