"""Distributing a batch edition (one document per row of a dataset): each stakeholder gets
the documents their row names, in their language, one message per document, through a
real SMTP server (aiosmtpd on 127.0.0.1); the fixture series is published for real.

The fixture, tests/fixtures/tiny-batch/, is a project of one series, harbour-notes: a note
per harbour (HFX, SJN, VIC: three rows of data/harbours.csv), in English and French.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from reportkit.cli import main
from reportkit.errors import ReportError
from reportkit.distribute.ledger import FORMAT, Ledger
from reportkit.distribute.stakeholders import load_stakeholders

from .conftest import ROOT
from .test_distribute import SENDER, attachment_sha, parse, setup, smtp  # noqa: F401
from .test_distribute_hostile import FORMAT_1_SCHEMA, error_line

FIXTURE = Path(__file__).parent / 'fixtures' / 'tiny-batch'
EDITION = 'harbour-notes/2021'
HEADER = 'name,email,organization,language,editions,documents\n'
PEOPLE = [
    ('Alex Martin', 'alex@example.org', 'Halifax Port Authority', 'en', '', 'HFX; vic'),
    ('Camille Tremblay', 'camille@example.org', 'Port de Saint-Jean', 'fr', '', 'SJN'),
    ('Jordan Lee', 'jordan@example.com', '', 'en', EDITION, 'hfx, HFX'),
    ('Dominique Roy', 'dominique@example.ca', 'Archives', 'fr', '2015', 'VIC'),
    ('Noor Haddad', 'noor@example.org', '', 'fr', '2021', 'VIC SJN HFX'),
]
RECEIVES = {   # what each address gets, in this order (Dominique wants 2015 only)
    'alex@example.org': [('HFX', 'en'), ('VIC', 'en')],
    'camille@example.org': [('SJN', 'fr')],
    'jordan@example.com': [('HFX', 'en')],
    'noor@example.org': [('VIC', 'fr'), ('SJN', 'fr'), ('HFX', 'fr')],
}
MESSAGES = sum(len(documents) for documents in RECEIVES.values())


@pytest.fixture(scope='module')
def batch_published(tmp_path_factory):
    """The fixture project (with the shared templates and charts, as test_series does)
    and an archive with harbour-notes/2021 published in it."""
    base = tmp_path_factory.mktemp('batch')
    project = base / 'project'
    shutil.copytree(FIXTURE, project)
    shutil.copytree(ROOT / 'templates', project / 'templates')
    shutil.copytree(ROOT / 'charts', project / 'charts')
    archive = base / 'archive'
    assert main(['--project', str(project), 'publish', EDITION, '--archive', str(archive)]) == 0
    return project, archive


@pytest.fixture
def site(batch_published, tmp_path):
    """The project, a copy of the archive, the list and a fresh ledger."""
    project, archive = batch_published
    copy = tmp_path / 'archive'
    shutil.copytree(archive, copy)
    people = write_list(tmp_path / 'people.csv', PEOPLE)
    return project, copy, people, tmp_path / 'ledger.sqlite'


def write_list(path: Path, rows: list[tuple], header: str = HEADER) -> Path:
    path.write_text(header + ''.join(','.join(f'"{cell}"' for cell in row) + '\n'
                                     for row in rows), encoding='utf-8')
    return path


def cli(site, *extra, edition: str = EDITION) -> int:
    project, archive, people, ledger = site
    return main(['--project', str(project), 'distribute', edition, '--archive', str(archive),
                 '--list', str(people), '--ledger', str(ledger), '--sender', SENDER,
                 '--retry-delay', '0.01', *extra])


def files_of(archive: Path) -> dict[tuple[str, str], dict]:
    manifest = json.loads((archive / EDITION / 'r1' / 'manifest.json').read_text())
    return {(item['document'], item['lang']): item for item in manifest['files']}


def received(smtp) -> dict[str, list[tuple[str, str]]]:
    """What each address got: (document, language) per message, in the order sent."""
    got: dict[str, list[tuple[str, str]]] = {}
    for (recipient,), content in smtp.messages:
        (part,) = parse(content).iter_attachments()
        name = part.get_filename()                     # harbour-notes-2021-hfx-en-r1.pdf
        got.setdefault(recipient, []).append((name.split('-')[3].upper(), name.split('-')[4]))
    return got


def message_ids(smtp) -> dict[tuple[str, str], str]:
    """(address, attachment) -> the Message-ID of the message that carried it."""
    ids = {}
    for (recipient,), content in smtp.messages:
        message = parse(content)
        (part,) = message.iter_attachments()
        ids[recipient, part.get_filename()] = message['Message-ID']
    return ids


def test_each_person_gets_their_documents_in_their_language_once(site, smtp, capsys):
    assert cli(site, '--smtp', smtp.address) == 0
    assert received(smtp) == RECEIVES
    files = files_of(site[1])
    for _, content in smtp.messages:
        message = parse(content)
        (part,) = message.iter_attachments()
        _, _, _, document, lang, _ = part.get_filename().split('-')
        document = document.upper()
        item = files[document, lang]
        assert part.get_filename() == item['name']
        assert attachment_sha(message) == item['sha256']
        assert message['Subject'] == item['title']     # names the harbour, in the language
        assert message['Content-Language'] == {'en': 'en-CA', 'fr': 'fr-CA'}[lang]
        body = message.get_body(('plain',)).get_content()
        flat = ' '.join(body.replace('\xa0', ' ').replace('\u202f', ' ').split())
        named = item['title'] + ('' if lang == 'en' else ' »') + f' ({document})'
        assert named in flat                           # the document, by title and key
        assert item['name'] in body and item['sha256'] in body
        assert body.startswith('Dear ' if lang == 'en' else 'Bonjour ')
    assert len(set(message_ids(smtp).values())) == MESSAGES   # one per document
    assert files['HFX', 'fr']['title'] == \
        'Note portuaire : Halifax – Postes d’amarrage en 2021'
    err = capsys.readouterr().err
    assert 'sent Alex Martin <alex@example.org> [en VIC]' in err
    assert f'{MESSAGES} sent, 0 already sent, 0 failed' in err
    # A second run sends nothing.
    assert cli(site, '--smtp', smtp.address) == 0
    assert len(smtp.messages) == MESSAGES
    assert f'0 sent, {MESSAGES} already sent, 0 failed' in capsys.readouterr().err


def test_a_rerun_sends_only_the_documents_missing(site, smtp, capsys):
    smtp.reject = {'alex@example.org'}                 # both of Alex's documents fail
    assert cli(site, '--smtp', smtp.address) == 1
    assert 'alex@example.org' not in received(smtp)
    first_ids = message_ids(smtp)
    # As if a run had stopped while sending one of Noor's documents, and forgotten
    # another; and a document added to Camille's row.
    db = sqlite3.connect(site[3])
    db.execute("UPDATE deliveries SET outcome = 'sending' WHERE email = 'noor@example.org' "
               "AND document = 'SJN'")
    db.execute("DELETE FROM deliveries WHERE email = 'noor@example.org' AND document = 'VIC'")
    db.commit()
    db.close()
    rows = [row if row[1] != 'camille@example.org' else (*row[:5], 'SJN; HFX')
            for row in PEOPLE]
    write_list(site[2], rows)
    smtp.reject, smtp.messages = set(), []
    capsys.readouterr()
    assert cli(site, '--smtp', smtp.address) == 0
    assert received(smtp) == {'alex@example.org': [('HFX', 'en'), ('VIC', 'en')],
                              'noor@example.org': [('VIC', 'fr'), ('SJN', 'fr')],
                              'camille@example.org': [('HFX', 'fr')]}
    err = capsys.readouterr().err
    assert '5 sent, 3 already sent, 0 failed' in err
    assert 'sent Noor Haddad <noor@example.org> [fr SJN] (after an interrupted run)' in err
    # The same message again: the same Message-ID, so mail systems can tell.
    noor_sjn = ('noor@example.org', 'harbour-notes-2021-sjn-fr-r1.pdf')
    assert message_ids(smtp)[noor_sjn] == first_ids[noor_sjn]


def test_the_edition_alone_names_it_too(site, smtp):
    assert cli(site, '--smtp', smtp.address, edition='2021') == 0
    assert received(smtp) == RECEIVES


def test_an_unknown_document_names_its_row_and_nothing_is_sent(site, smtp, capsys):
    write_list(site[2], [PEOPLE[0], ('Sam Patel', 'sam@example.com', '', 'en', '', 'HFX; ZZZ')])
    assert cli(site, '--smtp', smtp.address) == 1
    assert error_line(capsys.readouterr().err) == (
        f"error: {site[2]}:3: column 'documents': 'ZZZ' is not a document of edition "
        'harbour-notes/2021 (its documents: HFX, SJN, VIC)')
    assert smtp.messages == [] and not site[3].exists()


def test_an_empty_documents_cell_names_its_row(site, smtp, capsys):
    write_list(site[2], [PEOPLE[0], ('Sam Patel', 'sam@example.com', '', 'en', '', '')])
    assert cli(site, '--smtp', smtp.address) == 1
    assert error_line(capsys.readouterr().err) == (
        f"error: {site[2]}:3: column 'documents': empty, but edition harbour-notes/2021 is "
        'one document per row of its data (HFX, SJN, VIC): name the ones this person '
        'receives')
    assert smtp.messages == []


def test_an_edition_named_alone_that_two_series_have_names_the_row(site, smtp, capsys):
    project = site[0]
    twin = project / 'reports' / 'harbour-twin'
    shutil.copytree(project / 'reports' / 'harbour-notes', twin)
    try:
        assert cli(site, '--smtp', smtp.address) == 1
        assert error_line(capsys.readouterr().err) == (
            f"error: {site[2]}:6: column 'editions': '2021' could be harbour-notes/2021 or "
            'harbour-twin/2021: write the one this person receives, e.g. harbour-notes/2021')
        assert cli(site, '--smtp', smtp.address, edition='2021') == 1
        assert error_line(capsys.readouterr().err) == (
            "error: several series have an edition '2021': write harbour-notes/2021 or "
            'harbour-twin/2021')
        assert smtp.messages == []
    finally:
        shutil.rmtree(twin)


def test_dry_run_and_status_show_each_document(site, smtp, capsys):
    assert cli(site, '--smtp', smtp.address, '--dry-run') == 0
    err = capsys.readouterr().err
    assert smtp.messages == []
    assert ('would send Noor Haddad <noor@example.org> [fr SJN] '
            '(harbour-notes-2021-sjn-fr-r1.pdf)') in err
    assert f'{MESSAGES} to send (dry run: nothing was sent)' in err
    assert 'dominique' not in err
    smtp.reject = {'jordan@example.com'}
    assert cli(site, '--smtp', smtp.address) == 1
    capsys.readouterr()
    project, archive, _, ledger = site
    status = main(['--project', str(project), 'distribute', EDITION, '--status',
                   '--archive', str(archive), '--ledger', str(ledger)])
    out = capsys.readouterr().out
    assert status == 1                                   # Jordan's HFX failed
    assert 'Document' in out
    lines = [line for line in out.splitlines() if 'noor@example.org' in line]
    assert sorted(next(d for d in ('HFX', 'SJN', 'VIC') if d in line) for line in lines) == \
        ['HFX', 'SJN', 'VIC']
    assert all('sent' in line for line in lines)
    (jordan,) = [line for line in out.splitlines() if 'jordan@example.com' in line]
    assert 'HFX' in jordan and 'failed' in jordan


def test_a_ledger_from_before_documents_opens_and_keeps_its_rows(site, smtp):
    """A format-1 ledger (one row per address, edition and revision) gains the document
    column, '' in its rows; a batch edition then adds a row per document."""
    db = sqlite3.connect(site[3])
    db.executescript(FORMAT_1_SCHEMA)
    db.execute('INSERT INTO deliveries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
               ('alex@example.org', 'Alex', 'beyond-the-border', '2015', 1, 'en', 'x.pdf',
                'ab', '<id@x>', 'smtp://old', 'sent', '', 1, '2026-01-01T00:00:00+00:00'))
    db.execute('PRAGMA user_version = 1')
    db.commit()
    db.close()
    assert cli(site, '--smtp', smtp.address) == 0
    assert received(smtp) == RECEIVES
    db = sqlite3.connect(site[3])
    assert db.execute('PRAGMA user_version').fetchone()[0] == FORMAT == 2
    rows = db.execute("SELECT series, document, outcome FROM deliveries "
                      "WHERE email = 'alex@example.org' ORDER BY series, document").fetchall()
    db.close()
    assert rows == [('beyond-the-border', '', 'sent'), ('harbour-notes', 'HFX', 'sent'),
                    ('harbour-notes', 'VIC', 'sent')]
    ledger = Ledger(site[3])                              # and it opens again, unchanged
    assert ledger.get('ALEX@example.org', 'beyond-the-border', '2015', 1).outcome == 'sent'
    ledger.close()


def test_the_documents_cell_takes_any_separator_and_case_each_once(tmp_path):
    path = write_list(tmp_path / 'list.csv',
                      [('Pat', 'pat@example.org', '', 'en', 'state-trade/2016 2015',
                        'mi; OH,wy  dc;MI')])
    (person,) = load_stakeholders(path, 'list.csv')
    assert person.documents == ('mi', 'OH', 'wy', 'dc')
    assert person.wants('state-trade', '2016') and person.wants('beyond-the-border', '2015')
    assert not person.wants('state-trade', '2022')


@pytest.mark.parametrize('column, cell, expected', [
    ('documents', 'MI; ../x', "list.csv:2: column 'documents': '../x' is not a document "
                              "key (write the keys of the edition's documents, e.g. MI; OH)"),
    ('editions', 'state-trade/', "list.csv:2: column 'editions': 'state-trade/' is not an "
                                 'edition (write edition names, e.g. 2015; <series>/<edition>)'),
])
def test_a_malformed_cell_names_its_row(column, cell, expected, tmp_path):
    row = ('Pat', 'pat@example.org', '', 'en', cell if column == 'editions' else '',
           cell if column == 'documents' else '')
    path = write_list(tmp_path / 'list.csv', [row])
    with pytest.raises(ReportError) as raised:
        load_stakeholders(path, 'list.csv')
    assert str(raised.value) == expected


def test_a_documents_cell_for_an_edition_of_one_document_per_language_names_its_row(
        setup, smtp, capsys):
    """beyond-the-border is one document per language: a row that wants its edition and
    names documents is refused; rows for batch editions only, or with an empty cell, are
    as before."""
    project, archive, people, ledger = setup
    rows = [('Alex Martin', 'alex@example.org', '', 'en', '', ''),
            ('Pat Batch', 'pat@example.org', '', 'en', 'state-trade/2016', 'MI'),
            ('Sam Patel', 'sam@example.com', '', 'fr', '2015', 'MI')]
    write_list(people, rows)
    command = ['--project', str(project), 'distribute', '2015', '--archive', str(archive),
               '--list', str(people), '--ledger', str(ledger), '--sender', SENDER,
               '--smtp', smtp.address]
    assert main(command) == 1
    assert error_line(capsys.readouterr().err) == (
        f"error: {people}:4: column 'documents': edition beyond-the-border/2015 is one "
        "document per language, with no documents to choose from ('MI'): leave the cell "
        "empty, or name in 'editions' the batch editions this row is for")
    assert smtp.messages == []
    write_list(people, rows[:2])
    assert main(command) == 0
    ((recipients, _),) = smtp.messages
    assert recipients == ['alex@example.org']
