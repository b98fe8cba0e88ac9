"""Accessibility gates: before rendering (the composed document), after (the PDF), and
the check command that runs every gate without writing a PDF."""

from __future__ import annotations

import re

import pytest

from reportkit.compose.access import check_document
from reportkit.cli import main
from reportkit.errors import RenderError
from reportkit.render.pdf import render_pdf

from .conftest import ROOT, replace
from .test_errors import append, line_of

FONTS = ROOT / 'templates' / 'fonts'

GOOD = ('<!DOCTYPE html><html lang="en-CA"><head><title>Report</title></head><body>'
        '<h1>One</h1><h2>Two</h2><figure><img src="a.svg" alt="A line rising">'
        '<figcaption>Figure 1. Trade</figcaption></figure>'
        '<table id="t1"><caption>Table 1. Data</caption><thead><tr><th>Year</th>'
        '<th>Value</th></tr></thead><tbody><tr><td>1</td><td>2</td></tr></tbody></table>'
        '<p><a href="#x">See the annex</a></p></body></html>')

FAULTS = {
    'no title': (('<title>Report</title>', '<title> </title>'), 'the document has no title'),
    'no language': (('<html lang="en-CA">', '<html>'),
                    'the document declares no language (<html lang>)'),
    'image without alt': (('alt="A line rising"', ''), "image 'a.svg' has no alt text"),
    'alt is the file name': (('alt="A line rising"', 'alt="a.svg"'),
                             "image 'a.svg': the alt text 'a.svg' does not describe it"),
    'figure without caption': (('<figcaption>Figure 1. Trade</figcaption>', ''),
                               'a figure has no caption'),
    'table without caption': (('<caption>Table 1. Data</caption>', ''), 't1 has no caption'),
    'table without header row': (('<thead><tr><th>Year</th><th>Value</th></tr></thead>', ''),
                                 't1 has no header row'),
    'empty header cell': (('<th>Value</th>', '<th> </th>'),
                          't1: a header cell of its header row is empty'),
    'skipped heading level': (('<h2>Two</h2>', '<h3>Two</h3>'),
                              "heading level skipped: <h3> 'Two' follows <h1>"),
    'empty heading': (('<h2>Two</h2>', '<h2></h2>'), 'an empty <h2> heading'),
    'link without text': (('See the annex', ''), "a link to '#x' has no text"),
}


def test_a_sound_document_passes_the_gate():
    assert check_document(GOOD, 'doc') == []


@pytest.mark.parametrize('fault', FAULTS)
def test_the_gate_before_rendering_names_each_fault(fault):
    (old, new), message = FAULTS[fault]
    assert old in GOOD
    problems = check_document(GOOD.replace(old, new), 'doc')
    assert [str(p) for p in problems] == [f'doc: accessibility: {message}']


def test_the_gate_after_rendering_lists_what_an_untagged_pdf_lacks(tmp_path):
    (tmp_path / 'index.html').write_text('<p>Text</p>')
    with pytest.raises(RenderError) as refused:
        render_pdf(tmp_path / 'index.html', tmp_path / 'out.pdf', allowed=[tmp_path],
                   fonts_dir=FONTS, scratch=tmp_path / 'scratch', variant=None)
    assert str(refused.value).splitlines()[1:] == [
        '  accessibility: the PDF is not tagged (no structure tree)',
        '  accessibility: the PDF is not marked as tagged (MarkInfo /Marked)',
        '  accessibility: the PDF declares no language (/Lang)',
        '  accessibility: the PDF has no title in its metadata',
        '  accessibility: the PDF has no outline (bookmarks)',
    ]
    assert not (tmp_path / 'out.pdf').exists()


def test_the_gate_after_rendering_passes_a_tagged_document(tmp_path):
    (tmp_path / 'index.html').write_text('<html lang="en"><title>T</title><h1>A</h1>')
    result = render_pdf(tmp_path / 'index.html', tmp_path / 'out.pdf', allowed=[tmp_path],
                        fonts_dir=FONTS, scratch=tmp_path / 'scratch')
    assert result.pages == 1 and (tmp_path / 'out.pdf').is_file()


def test_check_passes_on_the_shipped_editions_and_writes_nothing(project_copy, capsys):
    assert main(['--project', str(project_copy), 'check', 'beyond-the-border']) == 0
    err = capsys.readouterr().err
    assert err.count('ok ') == 8 and 'every check passed; nothing was written' in err
    assert not (project_copy / 'dist').exists()
    assert not list((project_copy / 'build').glob('*.pdf'))


def test_check_lists_five_planted_accessibility_faults(project_copy, capsys):
    """A fixture edition with five accessibility faults: check names all of them."""
    en = project_copy / 'reports/beyond-the-border/2015/en'
    (en / 'map.png').write_bytes(b'\x89PNG\r\n\x1a\n')
    append(en / 'threats.md', '\n![map.png](map.png)\n')                     # 1 bad alt
    append(en / 'law-enforcement.md', '\n#### Too deep\n')                    # 2 level gap
    append(en / 'infrastructure.md',                                          # 3 header
           '\n|  | Value |\n|---|---|\n| a | 1 |\n\nTable: Values\n')
    append(en / 'partnership.md', '\nSee [](#sec-trade).\n')                  # 4 link text
    replace(project_copy / 'reports/beyond-the-border/charts.toml',                               # 5 chart alt
            'alt.en = "Bar chart of U.S.', 'alt.en = "" # "Bar chart of U.S.')
    status = main(['--project', str(project_copy), 'check', '2015', '--lang', 'en'])
    err = capsys.readouterr().err
    assert status == 1
    listed = re.findall(r'^  (\S+): (.*)$', err, re.M)
    assert len(listed) == 5, err
    where = {place.split(':')[0] for place, _ in listed}
    assert where == {'reports/beyond-the-border/2015/en/threats.md', 'reports/beyond-the-border/2015/en/law-enforcement.md',
                     'reports/beyond-the-border/2015/en/infrastructure.md', 'reports/beyond-the-border/2015/en/partnership.md',
                     'reports/beyond-the-border/charts.toml'}
    assert f"reports/beyond-the-border/2015/en/threats.md:{line_of(en / 'threats.md', '](map.png)')}" in err
    assert 'does not say what the image shows' in err
    assert "heading level skipped: '####' follows" in err
    assert 'a table column has no heading' in err
    assert "the link to '#sec-trade' has no text" in err
    assert "[us-exports] 'alt.en' is empty" in err
    assert not (project_copy / 'dist').exists()
