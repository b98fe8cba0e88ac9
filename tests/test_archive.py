"""Publishing into the archive, and keeping it: PDF/A with the data embedded, manifests,
verify, refusals, crash safety, the lock, and the publications page in a real browser."""

from __future__ import annotations

import tomllib

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import html5lib
import pikepdf
import pytest
from pypdf import PdfReader

from reportkit.publish import archive as archive_mod
from reportkit.data import read as data_stage
from reportkit.data.known import window
from reportkit.publish import place as place_mod
from reportkit.publish import publish as publish_mod
from reportkit.cli import main
from reportkit.errors import ReportError
from reportkit.project import Project
from reportkit.run.prepare import BuildRequest, prepare

from .conftest import ROOT, copy_project
from .conftest import replace

CHROMIUM = '/usr/bin/chromium'


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) with its SHA-256."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob('*')) if p.is_file()}


@pytest.fixture
def archive_copy(published, tmp_path) -> Path:
    copy = tmp_path / 'archive'
    shutil.copytree(published[1], copy)
    return copy


def manifest_of(archive: Path, edition='2015', revision=1) -> dict:
    folder = archive / 'beyond-the-border' / edition / f'r{revision}'
    return json.loads((folder / 'manifest.json').read_text())


def test_publish_adds_one_revision_folder_with_pdfs_and_a_manifest(published):
    project, archive = published
    folder = archive / 'beyond-the-border/2015/r1'
    assert sorted(p.name for p in folder.iterdir()) == [
        'beyond-the-border-2015-en-r1', 'beyond-the-border-2015-en-r1.pdf',
        'beyond-the-border-2015-en-r1.review.json',
        'beyond-the-border-2015-fr-r1', 'beyond-the-border-2015-fr-r1.pdf',
        'beyond-the-border-2015-fr-r1.review.json', 'manifest.json']
    m = manifest_of(archive)
    for item in m['files']:   # each PDF's web edition beside it, every file listed
        web = folder / item['web']['folder']
        assert web.name == item['name'].removesuffix('.pdf')
        on_disk = sorted(p.relative_to(web).as_posix() for p in web.rglob('*') if p.is_file())
        assert on_disk == sorted(each['name'] for each in item['web']['files'])
        assert 'index.html' in on_disk and any(n.startswith('charts/') for n in on_disk)
        for each in item['web']['files']:
            data = (web / each['name']).read_bytes()
            assert (each['size'], each['sha256']) == (len(data), hashlib.sha256(data).hexdigest())
        # Its PDF link reaches the archived PDF beside it, and says that PDF's pages and size.
        page = (web / 'index.html').read_text(encoding='utf-8')
        link = re.search(r'<p class="pdf-version"><a href="([^"]+)"[^>]*>([^<]+)</a>', page)
        assert (web / link[1]).resolve() == (folder / item['name']).resolve()
        kb = f"{round(item['size'] / 1024):,}".replace(',', '\u00a0')
        unit = 'KB' if item['lang'] == 'en' else 'Ko'
        assert link[2].endswith(f"({item['pages']} pages, {kb} {unit})"), link[2]
    assert (m['series'], m['edition'], m['revision'], m['status']) == \
        ('beyond-the-border', '2015', 1, 'final')
    assert m['pdf_variant'] == 'pdf/a-3a'
    for item in m['files']:
        pdf = folder / item['name']
        assert item['sha256'] == hashlib.sha256(pdf.read_bytes()).hexdigest()
        assert item['size'] == pdf.stat().st_size
        assert item['pages'] == len(PdfReader(pdf).pages)
        assert item['lang'] in pdf.name
    inputs = m['inputs']
    for needed in ('reports/beyond-the-border/2015/edition.toml', 'reports/beyond-the-border/2015/en/trade.md',
                   'reports/beyond-the-border/2015/fr/trade.md', 'data/us_goods_exports_to_canada.csv',
                   'data/datasets.toml', 'templates/report.html.j2', 'templates/print.css',
                   'templates/fonts/NotoSans-Regular.ttf', 'reports/beyond-the-border/charts.toml',
                   'charts/house.mplstyle', 'reportkit/charts/draw.py'):
        assert needed in inputs, needed
    for name, digest in inputs.items():
        path = (project / name) if not name.startswith('reportkit/') else ROOT / name
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, name
    assert set(m['software']) >= {'python', 'weasyprint', 'matplotlib', 'pandas', 'jinja2'}
    assert m['software']['weasyprint'] == '70.0'


@pytest.mark.parametrize('lang', ['en', 'fr'])
def test_archived_pdfs_are_pdfa_3a_tagged_with_the_source_data_embedded(published, lang):
    project, archive = published
    pdf = archive / f'beyond-the-border/2015/r1/beyond-the-border-2015-{lang}-r1.pdf'
    series = tomllib.loads((project / 'reports/beyond-the-border/series.toml').read_text())
    tables = window(data_stage.load_tables(Project.at(project), series['datasets']),
                    dt.date(2016, 4, 27))
    with pikepdf.open(pdf) as document:
        meta = document.open_metadata()
        assert meta.get('pdfaid:part') == '3' and meta.get('pdfaid:conformance') == 'A'
        assert '/StructTreeRoot' in document.Root and bool(document.Root.MarkInfo.Marked)
        assert str(document.Root.Lang) == {'en': 'en-CA', 'fr': 'fr-CA'}[lang]
        attached = document.attachments
        # The data files the edition shows rows of (as the build reads them), no other.
        used = prepare(Project.at(project), BuildRequest('2015', [lang])).datasets
        expected = {tables[name].spec.file for name in used if len(tables[name].frame)}
        assert 'us_canada_two_way_goods_trade_2002_2017.csv' in expected
        assert set(attached) == expected | {'datasets.toml'}
        for name, spec in attached.items():
            assert spec.obj.AFRelationship == '/Source', name
        goods = attached['us_canada_two_way_goods_trade_2002_2017.csv'].get_file().read_bytes()
        years = [int(line.split(',')[0]) for line in goods.decode().splitlines()[1:]]
        # The edition's window: published by 27 April 2016, so through 2015.
        assert years == list(range(2002, 2016))
        assert goods == data_stage.windowed_csv(Project.at(project), tables['goods_trade'])


def test_verify_passes_and_list_shows_every_file(published, capsys):
    _, archive = published
    assert main(['archive', 'verify', '--archive', str(archive)]) == 0
    listed = sum(2 + len(item['web']['files']) for item in manifest_of(archive)['files'])
    assert f'all {listed} archived files match their manifests' in capsys.readouterr().err
    assert main(['archive', 'list', '--archive', str(archive)]) == 0
    out = capsys.readouterr().out
    for item in manifest_of(archive)['files']:
        assert item['sha256'] in out
    assert '2016-04-27' in out


def test_one_flipped_byte_is_named_by_verify(archive_copy, capsys):
    pdf = archive_copy / 'beyond-the-border/2015/r1/beyond-the-border-2015-fr-r1.pdf'
    data = bytearray(pdf.read_bytes())
    data[len(data) // 2] ^= 0x01
    pdf.write_bytes(bytes(data))
    assert main(['archive', 'verify', '--archive', str(archive_copy)]) == 1
    err = capsys.readouterr().err
    assert ('beyond-the-border/2015/r1/beyond-the-border-2015-fr-r1.pdf: changed: its SHA-256 '
            'differs from the manifest') in err
    assert 'en-r1.pdf' not in err


def test_missing_and_unexpected_files_are_named(archive_copy, capsys):
    (archive_copy / 'beyond-the-border/2015/r1/beyond-the-border-2015-en-r1.pdf').unlink()
    (archive_copy / 'beyond-the-border/2015/r1/notes.txt').write_text('x')
    assert main(['archive', 'verify', '--archive', str(archive_copy)]) == 1
    err = capsys.readouterr().err
    assert 'beyond-the-border/2015/r1/beyond-the-border-2015-en-r1.pdf: missing' in err
    assert 'beyond-the-border/2015/r1/notes.txt: unexpected file (not in any manifest)' in err


def test_publishing_an_archived_revision_again_is_refused(published, archive_copy, capsys):
    project, _ = published
    before = snapshot(archive_copy)
    status = main(['--project', str(project), 'publish', '2015', '--archive', str(archive_copy)])
    assert status == 1
    assert ('edition 2015 revision 1 is already in the archive' in capsys.readouterr().err)
    assert snapshot(archive_copy) == before


def test_a_draft_cannot_be_published(project_copy, tmp_path, capsys):
    replace(project_copy / 'reports/beyond-the-border/2015/edition.toml', 'status = "final"', 'status = "draft"')
    status = main(['--project', str(project_copy), 'publish', '2015',
                   '--archive', str(tmp_path / 'archive')])
    assert status == 1
    assert ('reports/beyond-the-border/2015/edition.toml: edition 2015 is a draft and cannot be published'
            in capsys.readouterr().err)
    assert not (tmp_path / 'archive' / 'beyond-the-border').exists()


def test_a_correction_is_the_next_revision_and_both_remain(published, archive_copy, capsys):
    project, _ = published
    edited = copy_project(archive_copy.parent / 'edited')
    replace(edited / 'reports/beyond-the-border/2015/edition.toml', 'revision = 1',
            'revision = 2\nrevision_note = { en = "Corrected a date in Chapter III.", '
            'fr = "Correction d’une date au chapitre III." }')
    before = snapshot(archive_copy / 'beyond-the-border/2015/r1')
    assert main(['--project', str(edited), 'publish', '2015', '--archive',
                 str(archive_copy)]) == 0
    assert snapshot(archive_copy / 'beyond-the-border/2015/r1') == before
    assert manifest_of(archive_copy, revision=2)['revision_note']['en'] == \
        'Corrected a date in Chapter III.'
    assert main(['archive', 'verify', '--archive', str(archive_copy)]) == 0
    index = (archive_copy / 'index.html').read_text()
    assert 'r1/beyond-the-border-2015-en-r1.pdf' in index
    assert 'r2/beyond-the-border-2015-en-r2.pdf' in index


POINTS = {
    'while rendering French': ('render_language', 2),
    'while writing the manifest': ('write_atomically', 1),
    'at the rename': ('rename', 1),
}


@pytest.mark.parametrize('point', POINTS)
def test_a_publish_that_fails_midway_leaves_the_archive_as_it_was(
        point, published, archive_copy, monkeypatch):
    project, _ = published
    edited = copy_project(archive_copy.parent / 'edited')
    replace(edited / 'reports/beyond-the-border/2015/edition.toml', 'revision = 1',
            'revision = 2\nrevision_note = { en = "Fix.", fr = "Correction." }')
    name, nth = POINTS[point]
    calls = []
    target = os if name == 'rename' else publish_mod
    original = getattr(target, name)

    def failing(*args, **kwargs):
        calls.append(args)
        if len(calls) == nth:
            raise OSError(28, 'No space left on device')   # as a full disk would
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, failing)
    before = snapshot(archive_copy)
    with pytest.raises(OSError):
        publish_mod.publish(Project.at(edited), '2015', archive_copy)
    monkeypatch.undo()
    after = {k: v for k, v in snapshot(archive_copy).items() if k != '.lock'}
    assert after == {k: v for k, v in before.items() if k != '.lock'}
    assert main(['archive', 'verify', '--archive', str(archive_copy)]) == 0


def test_a_killed_publish_leaves_a_verifiable_archive_and_can_be_rerun(published, tmp_path):
    project, _ = published
    archive = tmp_path / 'archive'
    process = subprocess.Popen([sys.executable, str(ROOT / 'make_report.py'), '--project',
                                str(project), 'publish', '2014', '--archive', str(archive)],
                               stderr=subprocess.PIPE, text=True)
    # Kill it once it is rendering (the first archival PDF is under way).
    for line in process.stderr:
        if 'Rendering the archival PDF' in line:
            time.sleep(1.0)
            break
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert main(['archive', 'verify', '--archive', str(archive)]) == 0
    assert not (archive / 'beyond-the-border/2014/r1').exists()
    assert main(['--project', str(project), 'publish', '2014', '--archive', str(archive)]) == 0
    assert main(['archive', 'verify', '--archive', str(archive)]) == 0
    assert [p.name for p in (archive / 'beyond-the-border/2014').iterdir()] == ['r1']


def test_two_publishes_cannot_interleave(published, tmp_path):
    project, _ = published
    archive = tmp_path / 'archive'
    held, release = threading.Event(), threading.Event()

    def hold():
        with place_mod.locked(archive):
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        held.wait(10)
        with pytest.raises(ReportError, match='another publish is using the archive'):
            publish_mod.publish(Project.at(project), '2015', archive, lock_wait=0.5)
    finally:
        release.set()
        holder.join()
    assert not (archive / 'beyond-the-border').exists()


def test_verify_rebuild_says_whether_the_bytes_are_the_same(published, tmp_path, capsys):
    project, archive = published
    assert main(['--project', str(project), 'archive', 'verify', '--archive', str(archive),
                 '--rebuild', '2015']) == 0
    err = capsys.readouterr().err
    assert '2015 en: the rebuild has exactly the archived bytes' in err
    assert '2015 fr: the rebuild has exactly the archived bytes' in err
    changed = copy_project(tmp_path / 'changed')
    replace(changed / 'data/us_goods_exports_to_canada.csv', '2015,280609,', '2015,280610,')
    assert main(['--project', str(changed), 'archive', 'verify', '--archive', str(archive),
                 '--rebuild', '2015']) == 1
    err = capsys.readouterr().err
    assert '2015 en: the rebuild differs from the archived PDF' in err
    assert 'data/us_goods_exports_to_canada.csv (changed)' in err


def test_the_publications_page_is_valid_html_without_script(published):
    _, archive = published
    page = (archive / 'index.html').read_bytes()
    html5lib.HTMLParser(strict=True).parse(page)          # raises on any parse error
    text = page.decode()
    assert '<script' not in text and 'javascript:' not in text
    assert '<section id="en" lang="en-CA"' in text and '<section id="fr" lang="fr-CA"' in text
    for item in manifest_of(archive)['files']:
        assert item['sha256'] in text and item['name'] in text


def test_the_publications_page_in_chromium(published, tmp_path):
    """Opened in Debian's chromium through Playwright: it renders, and every link leads to
    an archived file listed in a manifest."""
    from playwright.sync_api import sync_playwright

    _, archive = published
    assert Path(CHROMIUM).exists(), 'scripts/setup --dev installs chromium'
    listed = {str(revision.folder.relative_to(archive) / name)
              for revision in archive_mod.revisions(archive)
              for item in revision.manifest['files']
              for name in (item['name'], f"{item['web']['folder']}/index.html")}
    shot = ROOT / 'build' / 'screenshots' / 'publications.png'
    shot.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=['--no-sandbox'])
        try:
            page = browser.new_page(java_script_enabled=False)
            page.goto((archive / 'index.html').as_uri())
            assert page.title() == 'Published editions | Éditions publiées'
            headings = page.locator('h2').all_inner_texts()
            assert headings == ['Published editions', 'Éditions publiées']
            links = [a.get_attribute('href') for a in page.locator('td a').all()]
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert len(links) == 2 * len(listed)   # each PDF and web page in both language sections
    assert set(links) == listed
    for link in links:
        assert (archive / link).is_file()
    assert shot.stat().st_size > 10_000


def test_the_publications_page_fits_a_phone(published, tmp_path):
    """At 375 px the page never scrolls sideways: the wide table scrolls in its own box."""
    from playwright.sync_api import sync_playwright

    _, archive = published
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=['--no-sandbox'])
        try:
            page = browser.new_page(viewport={'width': 375, 'height': 700},
                                    java_script_enabled=False)
            page.goto((archive / 'index.html').as_uri())
            page_width = page.evaluate('document.documentElement.scrollWidth')
            box_width = page.evaluate("document.querySelector('.wide').scrollWidth")
            page.screenshot(path=str(tmp_path / 'phone.png'), full_page=True)
        finally:
            browser.close()
    assert page_width <= 375
    assert box_width > 375          # the table itself is wider: it scrolls inside its box
