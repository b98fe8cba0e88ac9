"""What changed (``diff EDITION``): against the archived revision, between two archived
revisions and between two editions, in the terminal and as a review page; and what the
archive keeps for it (a review form beside each PDF, listed and verified). Everything
through the command line, on project copies, with the real archive and a real browser."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from reportkit.cli import main
from reportkit.review.changes import ADDED, CHANGED, REMOVED, compare
from reportkit.review.form import Form, Section, split_sentences

from .conftest import copy_project, replace

EN_SUMMARY = 'reports/beyond-the-border/2015/en/executive-summary.md'
FR_SUMMARY = 'reports/beyond-the-border/2015/fr/executive-summary.md'
GOODS = 'data/us_canada_two_way_goods_trade_2002_2017.csv'
EDITION = 'reports/beyond-the-border/2015/edition.toml'
R1 = 'beyond-the-border/2015/r1'


def run(project: Path, *args: str) -> int:
    return main(['--project', str(project), *args])


@pytest.fixture
def copied(published, tmp_path) -> tuple[Path, Path]:
    """A copy of the published project (the inputs of its revision 1) and its archive."""
    project, archive = published
    return copy_project(tmp_path / 'project'), archive


def edit_one_sentence(project: Path) -> None:
    """The writer's edit, in English and in French, the French recorded as translated."""
    replace(project / EN_SUMMARY, 'families in border towns all depend on it.',
            'families in border towns all rely on it.')
    replace(project / FR_SUMMARY, 'familles des villes frontalières en dépendent tous.',
            'familles des villes frontalières comptent tous sur elle.')
    assert run(project, 'translations', '2015', '--done', 'executive-summary') == 0


def change_one_cell(project: Path) -> None:
    """The analyst's refresh: 2015 two-way goods trade, 577.16 -> 578.0 (US$ billions)."""
    replace(project / GOODS, '\n2015,577.16,', '\n2015,578.0,')


def diff(project: Path, archive: Path, capsys, *options: str) -> tuple[int, str, str]:
    status = run(project, 'diff', '2015', '--archive', str(archive), *options)
    out, err = capsys.readouterr()
    return status, out, err


def by_language(out: str) -> dict[str, list[str]]:
    """The summary's lines under each language's heading."""
    parts: dict[str, list[str]] = {}
    current = None
    for line in out.splitlines():
        if line in ('English', 'French'):
            current = parts.setdefault(line, [])
        elif current is not None and line.strip():
            current.append(line.strip())
    return parts


def test_an_unchanged_edition_has_no_change(copied, capsys):
    project, archive = copied
    status, out, err = diff(project, archive, capsys)
    assert status == 0, err
    assert 'no change' in out and 'revision 1 (archived' in out
    assert 'Traceback' not in out + err


def test_one_sentence_and_one_cell_are_exactly_what_is_reported(copied, capsys, tmp_path):
    project, archive = copied
    edit_one_sentence(project)
    change_one_cell(project)
    page = tmp_path / 'review' / 'changes.html'
    status, out, err = diff(project, archive, capsys, '--html', str(page))
    assert status == 1, err
    parts = by_language(out)
    assert set(parts) == {'English', 'French'}
    for lang, lines in parts.items():
        heads = [line for line in lines if re.match(r'(Figure \d+ )?[^~+\-].*\(([a-z-]+)\)(:|$)', line)
                 and not line.startswith(('value ', 'row ', 'description:'))]
        sentences = [line for line in lines if line[:2] in ('~ ', '+ ', '- ')]
        values = [line for line in lines if line.startswith('value ')]
        rows = [line for line in lines if line.startswith('row ')]
        # The sections: the one edited, and those whose numbers come from the cell.
        assert [re.search(r'\(([a-z-]+)\)(:|$)', h).group(1) for h in heads] == \
            ['executive-summary', 'trade', 'goods-trade'], lines
        assert all(s.startswith('~ ') for s in sentences), sentences   # none added/removed
        # The edited sentence, word by word; every other one changed a number only.
        edited = [s for s in sentences if 'depend' in s or 'dépendent' in s]
        assert len(edited) == 1
        assert ('[-depend-] {+rely+}' in edited[0] or
                '[-en dépendent tous.-] {+comptent tous sur elle.+}' in edited[0])
        for sentence in set(sentences) - set(edited):
            removed = re.findall(r'\[-(.*?)-\]', sentence)
            assert removed and all(re.search(r'\d', words) for words in removed), sentence
        cell = ('577.2', '578.0') if lang == 'English' else ('577,2', '578,0')
        assert len([s for s in sentences if f'[-{"US$" * (lang == "English")}{cell[0]}-]' in s]) == 2
        # The value, in each section that prints it; the figure's one row.
        assert {v.split(':')[0] for v in values} == {'value goods_trade[2015]'}
        assert all(cell[0] in v and cell[1] in v for v in values)
        assert rows == [f'row 2015: {cell[0]} → {cell[1]}']
    assert 'English: 4 sentences, 2 values, 1 figure' in out
    assert 'review page:' in err and page.is_file()


def test_a_data_refresh_names_the_sentences_with_the_number_and_the_figure(copied, capsys):
    project, archive = copied
    change_one_cell(project)
    status, out, _ = diff(project, archive, capsys)
    assert status == 1
    for lang, lines in by_language(out).items():
        assert not any('depend' in line for line in lines)
        sentences = [line for line in lines if line[:2] in ('~ ', '+ ', '- ')]
        assert len(sentences) == 3, (lang, sentences)   # two state the value, one the change
        assert sum(line.startswith('row ') for line in lines) == 1


def test_the_review_page_is_accessible_and_marks_both_languages(copied, capsys, tmp_path):
    from .browser import (axe_violations, browser, open_page, page_scripts, screenshot,
                          sideways_overflow)
    project, archive = copied
    edit_one_sentence(project)
    change_one_cell(project)
    # What a contributor writes reaches the page as text, never as markup.
    # (Markdown's entities: the sentence's text is "<b>x</b>"; raw HTML is refused.)
    replace(project / EN_SUMMARY, 'all rely on it.', 'all rely on it &lt;b&gt;x&lt;/b&gt;.')
    page_file = tmp_path / 'changes.html'
    assert diff(project, archive, capsys, '--html', str(page_file))[0] == 1
    html = page_file.read_text(encoding='utf-8')
    assert '<b>x</b>' not in html and '&lt;b&gt;x&lt;/b&gt;' in html
    assert html.count('<del>') >= 8 and html.count('<ins>') >= 8
    assert 'lang="fr"' in html and 'lang="en"' in html
    with browser() as chromium:
        for width in (1280, 375):
            page, outside = open_page(chromium, page_file, width)
            try:
                assert page_scripts(page) == 0
                assert outside == []
                assert sideways_overflow(page) <= 0, width
                screenshot(page, f'review-page-{width}')
                assert axe_violations(page) == []
            finally:
                page.context.close()


def test_two_editions_list_sections_and_values(copied, capsys, tmp_path):
    project, archive = copied
    status, out, err = diff(project, archive, capsys, '--from', '2014', '--html',
                            str(tmp_path / 'editions.html'))
    assert status == 1, err
    assert 'edition beyond-the-border/2014 (its current inputs) → the current inputs' in out
    assert 'value goods_trade[2015]: (not shown) → US$577.2 billion' in out
    assert 'Traceback' not in out + err and 'internal error' not in err


def test_two_archived_revisions_and_what_the_archive_keeps(copied, capsys, tmp_path):
    project, archive = copied
    # The archive holds a review form beside each PDF, listed and verified.
    folder = archive / R1
    manifest = json.loads((folder / 'manifest.json').read_text(encoding='utf-8'))
    for item in manifest['files']:
        form = folder / item['review']['name']
        assert form.is_file() and item['review']['name'] == \
            item['name'].removesuffix('.pdf') + '.review.json'
    # A correction, published as revision 2 into a copy of the archive.
    second = tmp_path / 'archive'
    shutil.copytree(archive, second)
    change_one_cell(project)
    replace(project / EDITION, 'revision = 1', 'revision = 2\nrevision_note = { en = "Goods '
            'trade for 2015 corrected.", fr = "Commerce des marchandises de 2015 corrigé." }')
    assert run(project, 'publish', '2015', '--archive', str(second)) == 0, capsys.readouterr()
    capsys.readouterr()
    assert run(project, 'archive', 'verify', '--archive', str(second)) == 0
    assert 'archived files match their manifests' in capsys.readouterr().err
    status, out, _ = diff(project, second, capsys, '--from', 'r1', '--to', 'r2')
    assert status == 1
    assert 'revision 1 (archived, 2016-04-27) → revision 2 (archived, 2016-04-27)' in out
    assert 'value goods_trade[2015]: US$577.2 billion → US$578.0 billion' in out
    assert diff(project, second, capsys)[0] == 0          # r2 is what the inputs give now
    # A review form changed in the archive: verify names it; diff refuses it (2).
    form = second / 'beyond-the-border/2015/r2/beyond-the-border-2015-fr-r2.review.json'
    form.write_bytes(form.read_bytes().replace('578,0'.encode(), '579,0'.encode()))
    assert run(project, 'archive', 'verify', '--archive', str(second)) == 1
    assert 'beyond-the-border-2015-fr-r2.review.json: changed' in capsys.readouterr().err
    status, _, err = diff(project, second, capsys, '--from', 'r1', '--to', 'r2')
    assert status == 2 and 'does not match its manifest' in err


def test_a_revision_archived_without_review_forms_is_made_again_or_refused(copied, capsys,
                                                                           tmp_path):
    project, archive = copied
    old = tmp_path / 'old-archive'
    shutil.copytree(archive, old)
    manifest_path = old / R1 / 'manifest.json'
    manifest = json.loads(manifest_path.read_text(encoding='utf-8'))
    for item in manifest['files']:     # as revisions published before this change are
        (old / R1 / item.pop('review')['name']).unlink()
    manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + '\n',
                             encoding='utf-8')
    status, out, err = diff(project, old, capsys)
    assert status == 0, err
    assert 'made again from its recorded inputs, which are unchanged' in out
    change_one_cell(project)
    status, out, err = diff(project, old, capsys)
    assert status == 2
    assert 'cannot be compared' in err and GOODS in err
    assert len(err.strip().splitlines()) == 1 and 'Traceback' not in err


@pytest.mark.parametrize('options, message', [
    (('--from', 'r9'), 'has no revision 9 in the archive (it has r1)'),
    (('--from', 'archive', '--to', 'archive'), 'name the same version'),
    (('--from', '1999'), "no edition '1999'"),
])
def test_a_comparison_that_cannot_be_made_exits_2_in_one_line(copied, capsys, options, message):
    project, archive = copied
    status, out, err = diff(project, archive, capsys, *options)
    assert status == 2
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_sentences_are_cut_where_a_reader_would_cut_them():
    assert split_sentences('The U.S. and Canada met. M. Trudeau spoke. It was 2015! Next?') \
        == ['The U.S. and Canada met.', 'M. Trudeau spoke.', 'It was 2015!', 'Next?']
    assert split_sentences('« Oui. » Puis ils partirent.') == ['« Oui. »', 'Puis ils partirent.']
    assert split_sentences('It reached 5.28 million. e.g. this') == \
        ['It reached 5.28 million. e.g. this']


def test_a_value_is_listed_where_the_text_shows_it_whole():
    from reportkit.review.form import _shows
    assert _shows('it reached 3,7 milliards.', '3,7 milliards')
    assert not _shows('it reached 33,7 milliards', '3,7 milliards')
    assert not _shows('more than 120 ports', '12') and not _shows('1.25 million', '1.2')
    assert _shows('12 principles', '12')


def _form(*sections: tuple[str, list[str]]) -> Form:
    return Form(format=1, document='d', lang='en', title='t', figures=[], tables=[],
                sections=[Section(id=key, label='', title=key, sentences=sentences, values={})
                          for key, sentences in sections])


def test_sections_added_removed_and_moved_and_sentences_paired():
    old = _form(('a', ['One two three four.', 'Gone for good here.']), ('b', ['B.']),
                ('c', ['C.']))
    new = _form(('b', ['B.']), ('c', ['C.']), ('a', ['One two three five.', 'Quite new.']),
                ('d', ['D.']))
    found = {s.id: s for s in compare(old, new).sections}
    assert set(found) == {'a', 'd'}
    assert found['a'].moved and found['a'].kind == CHANGED
    assert [(s.kind, s.old, s.new) for s in found['a'].sentences] == [
        (CHANGED, 'One two three four.', 'One two three five.'),
        (ADDED, '', 'Quite new.'), (REMOVED, 'Gone for good here.', '')]
    assert found['d'].kind == ADDED
    assert compare(new, old).sections[-1].kind == REMOVED


@pytest.mark.parametrize('content', [b'{"format": 1, "sections": 7}', b'[' * 100000, b'\xff'])
def test_a_review_form_that_is_not_one_is_refused_in_one_line(copied, capsys, tmp_path, content):
    """Someone who can write the archive replaced a form and its manifest entry together:
    the form is validated when read, never trusted."""
    import hashlib
    project, archive = copied
    hostile = tmp_path / 'archive'
    shutil.copytree(archive, hostile)
    manifest_path = hostile / R1 / 'manifest.json'
    manifest = json.loads(manifest_path.read_text(encoding='utf-8'))
    entry = manifest['files'][0]['review']
    (hostile / R1 / entry['name']).write_bytes(content)
    entry.update(sha256=hashlib.sha256(content).hexdigest(), size=len(content))
    manifest_path.write_text(json.dumps(manifest, indent=2), encoding='utf-8')
    status, _, err = diff(project, hostile, capsys)
    assert status == 2, err
    assert 'not a valid review form' in err and entry['name'] in err
    assert len(err.strip().splitlines()) == 1 and 'Traceback' not in err
