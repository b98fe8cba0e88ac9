"""Distribute with hostile or awkward input: addresses that differ only in case, names
that try to add recipients, senders with line breaks, international addresses, and files
that are not what they seem (a FIFO, a device, symlinks out of the project or archive).

Everything goes through a real SMTP server on loopback (aiosmtpd) and the command line
(``reportkit.cli.main``); what is checked is what the server received.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import json
import os
import shutil
import time
import sqlite3
import threading
import uuid
from pathlib import Path

import pytest

from reportkit.cli import main
from reportkit.distribute.ledger import Ledger

from .conftest import ROOT
from .test_distribute import (PEOPLE, SENDER, WANTS_2015, attachment_sha, manifest, parse,
                              setup, smtp, smtp_utf8)  # noqa: F401 (fixtures)

HEADER = 'name,email,organization,language,editions\n'


@pytest.fixture
def site(setup, tmp_path):
    """A project of our own (the message templates and a distribution/ folder), the
    archive copy, a list outside the project and a fresh ledger."""
    _, archive, people, ledger = setup
    project = tmp_path / 'project'
    shutil.copytree(ROOT / 'templates' / 'email', project / 'templates' / 'email')
    (project / 'distribution').mkdir()
    return project, archive, people, ledger


def cli(site, *extra, people: Path | None | bool = True, sender: str | None = SENDER,
        dry_run=False) -> int:
    project, archive, default_people, ledger = site
    args = ['--project', str(project), 'distribute', '2015', '--archive', str(archive),
            '--ledger', str(ledger), '--retry-delay', '0.01']
    if people is True:
        people = default_people
    if people:
        args += ['--list', str(people)]
    if sender is not None:
        args += ['--sender', sender]
    return main(args + list(extra) + (['--dry-run'] if dry_run else []))


def write_list(path: Path, rows: list[tuple]) -> Path:
    path.write_text(HEADER + ''.join(','.join(_cell(c) for c in row) + '\n' for row in rows),
                    encoding='utf-8')
    return path


def _cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n') else value


def error_line(err: str) -> str:
    """The one error line of a failed run (and nothing that looks like a traceback)."""
    assert 'Traceback' not in err and 'internal error' not in err, err
    lines = [line for line in err.splitlines() if line.startswith('error:')]
    assert len(lines) == 1, err
    return lines[0]


def ledger_rows(ledger: Path) -> dict[str, tuple[str, str]]:
    db = sqlite3.connect(ledger)
    try:
        return {address: (outcome, detail) for address, outcome, detail in
                db.execute('SELECT email, outcome, detail FROM deliveries')}
    finally:
        db.close()


# --- 1. one canonical form of an address --------------------------------------------------

def test_an_address_in_another_case_on_the_next_run_gets_nothing(site, smtp, tmp_path, capsys):
    people = write_list(tmp_path / 'first.csv',
                        [('Alex Martin', 'Alex.Martin@Example.org', 'CTA', 'en', '')])
    assert cli(site, '--smtp', smtp.address, people=people) == 0
    assert len(smtp.messages) == 1
    first_id = parse(smtp.messages[0][1])['Message-ID']
    capsys.readouterr()
    retyped = write_list(tmp_path / 'second.csv',
                         [('Alex Martin', 'alex.martin@example.org', 'CTA', 'en', ''),
                          ('Sam Patel', 'sam@example.com', '', 'en', '')])
    assert cli(site, '--smtp', smtp.address, people=retyped) == 0
    assert [rcpt for rcpt, _ in smtp.messages] == [['Alex.Martin@example.org'],
                                                    ['sam@example.com']]
    assert '1 sent, 1 already sent, 0 failed' in capsys.readouterr().err
    # The Message-ID is made from the canonical address too: the same in either case.
    from reportkit.distribute.mail import message_id, parse_sender
    from reportkit.distribute.stakeholders import Stakeholder
    person = Stakeholder('Alex', 'ALEX.MARTIN@example.org', '', 'en', frozenset(), 2)
    assert message_id(manifest(site[1]), person, parse_sender(SENDER)) == first_id


def test_two_cases_of_one_address_in_one_list_are_a_duplicate(site, smtp, tmp_path, capsys):
    people = write_list(tmp_path / 'list.csv',
                        [('José A', 'José@example.org', '', 'en', ''),
                         ('José B', 'JOSÉ@EXAMPLE.ORG', '', 'fr', '')])
    assert cli(site, '--smtp', smtp.address, people=people) == 1
    assert ('list.csv:3: duplicate address JOSÉ@example.org (first on line 2)'
            in error_line(capsys.readouterr().err))
    assert smtp.messages == []


FORMAT_1_SCHEMA = '''
CREATE TABLE IF NOT EXISTS deliveries (
    email TEXT NOT NULL, name TEXT NOT NULL, series TEXT NOT NULL, edition TEXT NOT NULL,
    revision INTEGER NOT NULL, language TEXT NOT NULL, attachment TEXT NOT NULL,
    sha256 TEXT NOT NULL, message_id TEXT NOT NULL, transport TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('sending', 'sent', 'failed')),
    detail TEXT NOT NULL DEFAULT '', attempts INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (email, series, edition, revision)
);
'''
"""The ledger's table before batch editions (formats 0 and 1): no document column."""


def _old_ledger(path: Path, rows: list[tuple[str, str, str]]) -> None:
    """A ledger as version 0 wrote it: addresses as the list gave them, no documents."""
    db = sqlite3.connect(path)
    db.executescript(FORMAT_1_SCHEMA)
    for address, outcome, when in rows:
        db.execute('INSERT INTO deliveries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
                   (address, 'Alex', 'beyond-the-border', '2015', 1, 'en', 'x.pdf', 'ab',
                    '<id@x>', 'smtp://old', outcome, '', 1, when))
    db.commit()
    db.close()


def test_an_old_ledger_with_another_case_still_counts(site, smtp, capsys):
    _old_ledger(site[3], [('Alex@example.org', 'sent', '2026-01-01T00:00:00+00:00')])
    people = write_list(site[2], [('Alex Martin', 'alex@example.org', '', 'en', ''),
                                  ('Sam Patel', 'sam@example.com', '', 'en', '')])
    assert cli(site, '--smtp', smtp.address, people=people) == 0
    assert [rcpt for rcpt, _ in smtp.messages] == [['sam@example.com']]
    assert ledger_rows(site[3])['alex@example.org'][0] == 'sent'
    assert 'Alex@example.org' not in ledger_rows(site[3])


def test_the_ledger_migration_merges_case_variants_and_is_safe_to_run_again(tmp_path):
    path = tmp_path / 'ledger.sqlite'
    _old_ledger(path, [('Alex@Example.org', 'failed', '2026-01-03T00:00:00+00:00'),
                       ('alex@example.org', 'sent', '2026-01-01T00:00:00+00:00'),
                       ('ALEX@EXAMPLE.ORG', 'sending', '2026-01-02T00:00:00+00:00'),
                       ('Sam@example.com', 'failed', '2026-01-01T00:00:00+00:00')])
    for _ in range(2):
        Ledger(path).close()
        assert ledger_rows(path) == {'alex@example.org': ('sent', ''),
                                     'sam@example.com': ('failed', '')}
    db = sqlite3.connect(path)
    assert db.execute('PRAGMA user_version').fetchone()[0] == 2
    db.execute('PRAGMA user_version = 0')          # as if it had been stopped before the end
    db.commit()
    db.close()
    ledger = Ledger(path)
    assert ledger.get('ALEX@example.ORG', 'beyond-the-border', '2015', 1).outcome == 'sent'
    ledger.close()


# --- 2. names cannot add recipients -------------------------------------------------------

@pytest.mark.parametrize('name', ['José Tremblay, evil@attacker.example',
                                  'Tremblay, José <evil@attacker.example>',
                                  '"Alex" <evil@attacker.example>, Alex',
                                  'evil@attacker.example'])
def test_a_name_with_a_comma_and_an_address_is_one_recipient(name, site, smtp, tmp_path):
    people = write_list(tmp_path / 'list.csv', [(name, 'jose@example.org', '', 'fr', '')])
    assert cli(site, '--smtp', smtp.address, people=people) == 0
    ((recipients, content),) = smtp.messages
    assert recipients == ['jose@example.org']
    message = parse(content)
    (address,) = message['To'].addresses                 # the modern parser
    assert (address.display_name, address.addr_spec) == (name, 'jose@example.org')
    # The older parser many programs still use reads the raw header the same way.
    raw = content.split(b'\r\n\r\n')[0].decode()
    (to,) = [h for h in raw.replace('\r\n ', ' ').split('\r\n') if h.startswith('To:')]
    assert [a for _, a in email.utils.getaddresses([to[3:]])] == ['jose@example.org']
    assert 'Cc' not in message and 'Bcc' not in message


@pytest.mark.parametrize('name, shown', [
    ('Camille\u2028To: evil@attacker.example', 'U+2028 LINE SEPARATOR'),
    ('Camille\u2029Bcc: evil@attacker.example', 'U+2029 PARAGRAPH SEPARATOR'),
    ('Camille\x85Bcc: evil@attacker.example', 'U+0085'),
    ('Camille \u202eelpmaxe.rekcatta@live', 'U+202E RIGHT-TO-LEFT OVERRIDE'),
    ('Camille\ufeff', 'U+FEFF ZERO WIDTH NO-BREAK SPACE'),
])
def test_a_name_with_a_unicode_line_separator_or_format_control_is_refused(
        name, shown, site, smtp, tmp_path, capsys):
    people = write_list(tmp_path / 'list.csv',
                        [('Alex Martin', 'alex@example.org', '', 'en', ''),
                         (name, 'camille@example.org', '', 'fr', '')])
    assert cli(site, '--smtp', smtp.address, people=people) == 1
    line = error_line(capsys.readouterr().err)
    assert "list.csv:3: column 'name': contains a line break or another control character" \
        in line and shown in line
    assert smtp.messages == []                          # a list problem: nothing is sent
    assert not site[3].exists()


def test_joiners_in_a_name_are_kept(site, smtp, tmp_path):
    name = 'Sreeja \u0d38\u0d4d\u200d\u0d30\u0d40'       # ZWJ in Malayalam
    people = write_list(tmp_path / 'list.csv', [(name, 'sreeja@example.org', '', 'en', '')])
    assert cli(site, '--smtp', smtp.address, people=people) == 0
    assert parse(smtp.messages[0][1])['To'].addresses[0].display_name == name


# --- 3. the sender ------------------------------------------------------------------------

SENDER_FAULTS = {
    'CR/LF': ('Team <team@example.org>\r\nBcc: evil@attacker.example', 'U+000D'),
    'LF': ('Team <team@example.org>\nBcc: evil@attacker.example', 'U+000A'),
    'U+2028': ('Team\u2028Bcc: evil@attacker.example <team@example.org>', 'U+2028'),
    'two addresses': ('Team <team@example.org>, <evil@attacker.example>', 'not one address'),
    'a name with <': ('Team <x> <team@example.org>', 'not one address'),
    'not an address': ('Team <team.example.org>', "'team.example.org' is not a valid address"),
}


@pytest.mark.parametrize('fault', SENDER_FAULTS)
def test_a_bad_sender_option_is_refused_in_one_line(fault, site, smtp, capsys):
    sender, shown = SENDER_FAULTS[fault]
    assert cli(site, '--smtp', smtp.address, sender=sender) == 1
    err = capsys.readouterr().err
    line = error_line(err)
    assert line.startswith('error: --sender ') and shown in line
    assert len(err.strip().splitlines()) == 1           # the line break is not printed
    assert smtp.messages == [] and not site[3].exists()


@pytest.mark.parametrize('fault', SENDER_FAULTS)
def test_a_bad_sender_in_settings_names_the_file_and_line(fault, site, smtp, capsys):
    sender, shown = SENDER_FAULTS[fault]
    (site[0] / 'distribution' / 'settings.toml').write_text(
        '# Who sends.\n\nsender = ' + json.dumps(sender) + '\nsignature = { en = "The team" }\n',
        encoding='utf-8')
    assert cli(site, '--smtp', smtp.address, sender=None) == 1
    err = capsys.readouterr().err
    line = error_line(err)
    assert line.startswith('error: distribution/settings.toml:3: sender ') and shown in line
    assert len(err.strip().splitlines()) == 1
    assert smtp.messages == []


def test_a_good_sender_in_settings_is_used(site, smtp, tmp_path):
    (site[0] / 'distribution' / 'settings.toml').write_text(
        'sender = "Équipe, Team <team@example.org>"\nsignature = { en = "The team" }\n',
        encoding='utf-8')
    people = write_list(tmp_path / 'list.csv', [('Alex', 'alex@example.org', '', 'en', '')])
    assert cli(site, '--smtp', smtp.address, people=people, sender=None) == 0
    ((mail_from, _, _),) = smtp.envelopes
    message = parse(smtp.messages[0][1])
    assert mail_from == 'team@example.org'
    (sender,) = message['From'].addresses
    assert (sender.display_name, sender.addr_spec) == ('Équipe, Team', 'team@example.org')


# --- 4. international addresses -----------------------------------------------------------

INTERNATIONAL = [('José Tremblay', 'josé@example.org', '', 'fr', ''),
                 ('Alex Martin', 'alex@example.org', '', 'en', ''),
                 ('Björn', 'bjorn@bücher.example', '', 'en', '')]


def test_an_international_address_goes_out_with_smtputf8(site, smtp_utf8, tmp_path):
    people = write_list(tmp_path / 'list.csv', INTERNATIONAL)
    assert cli(site, '--smtp', smtp_utf8.address, people=people) == 0
    envelopes = {tuple(rcpt): options for _, options, rcpt in smtp_utf8.envelopes}
    assert set(envelopes) == {('josé@example.org',), ('alex@example.org',),
                              ('bjorn@xn--bcher-kva.example',)}
    assert 'SMTPUTF8' in envelopes[('josé@example.org',)]
    assert 'SMTPUTF8' not in envelopes[('alex@example.org',)]       # only where needed
    got = smtp_utf8.received()
    (message,) = got['josé@example.org']
    (address,) = message['To'].addresses
    assert (address.display_name, address.addr_spec) == ('José Tremblay', 'josé@example.org')
    files = {f['lang']: f['sha256'] for f in manifest(site[1])['files']}
    assert attachment_sha(message) == files['fr']
    assert ledger_rows(site[3])['josé@example.org'] == ('sent', '')


def test_without_smtputf8_only_the_international_row_fails(site, smtp, tmp_path, capsys):
    people = write_list(tmp_path / 'list.csv', INTERNATIONAL)
    assert cli(site, '--smtp', smtp.address, people=people) == 1
    expected = ('josé@example.org: the server does not accept international addresses '
                '(SMTPUTF8); not sent')
    err = capsys.readouterr().err
    assert f'failed José Tremblay <josé@example.org> [fr] ({expected})' in err
    assert 'Traceback' not in err and 'internal error' not in err
    assert sorted(r for r, _ in smtp.messages) == [['alex@example.org'],
                                                   ['bjorn@xn--bcher-kva.example']]
    rows = ledger_rows(site[3])
    assert rows['josé@example.org'] == ('failed', expected)
    assert rows['alex@example.org'][0] == rows['bjorn@bücher.example'][0] == 'sent'


def test_a_dry_run_with_an_international_address_lists_it(site, smtp, tmp_path, capsys):
    people = write_list(tmp_path / 'list.csv', INTERNATIONAL)
    assert cli(site, '--smtp', smtp.address, people=people, dry_run=True) == 0
    err = capsys.readouterr().err
    assert 'would send José Tremblay <josé@example.org> [fr]' in err
    assert 'needs a server that accepts SMTPUTF8' in err
    assert '3 to send (dry run: nothing was sent)' in err
    assert smtp.messages == [] and smtp.envelopes == []


def test_the_outbox_writes_international_messages_in_utf8(site, tmp_path):
    people = write_list(tmp_path / 'list.csv', INTERNATIONAL)
    outbox = tmp_path / 'outbox'
    assert cli(site, '--outbox', str(outbox), people=people) == 0
    found = {}
    for path in outbox.glob('*.eml'):
        message = parse(path.read_bytes())
        (address,) = message['To'].addresses
        found[address.addr_spec] = message
    assert set(found) == {'josé@example.org', 'alex@example.org',
                          'bjorn@xn--bcher-kva.example'}


# --- 5. files that are not what they seem -------------------------------------------------

def run_with_deadline(function, seconds: float = 30) -> int:
    """``function()`` in a thread; fails the test instead of hanging."""
    result: list = []
    worker = threading.Thread(target=lambda: result.append(function()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f'still running after {seconds} s'
    return result[0]


def test_a_fifo_as_the_list_is_refused_without_hanging(site, smtp, tmp_path, capsys):
    fifo = tmp_path / 'fifo.csv'
    os.mkfifo(fifo)
    status = run_with_deadline(lambda: cli(site, '--smtp', smtp.address, people=fifo))
    assert status == 1
    line = error_line(capsys.readouterr().err)
    assert 'fifo.csv: the stakeholder list is not a regular file' in line
    assert smtp.messages == []


def test_dev_zero_and_an_oversized_list_are_refused(site, smtp, tmp_path, capsys):
    assert run_with_deadline(lambda: cli(site, '--smtp', smtp.address,
                                         people=Path('/dev/zero'))) == 1
    assert '/dev/zero: the stakeholder list is not a regular file' in \
        error_line(capsys.readouterr().err)
    big = tmp_path / 'big.csv'
    with open(big, 'wb') as stream:
        stream.write(HEADER.encode())
        stream.truncate(11 * 1024 * 1024)
    assert run_with_deadline(lambda: cli(site, '--smtp', smtp.address, people=big)) == 1
    assert 'big.csv: the stakeholder list is 11.0 MB; at most 10.0 MB is allowed' in \
        error_line(capsys.readouterr().err)
    assert smtp.messages == []


@pytest.fixture
def marker(tmp_path) -> tuple[str, Path]:
    """A file outside the project with a unique string: it must never be sent."""
    secret = f'secret-{uuid.uuid4().hex}'
    outside = tmp_path / 'elsewhere'
    outside.mkdir()
    path = write_list(outside / 'private.csv', [(secret, 'alex@example.org', secret, 'en', '')])
    return secret, path


def _nowhere(secret: str, smtp, outbox: Path) -> None:
    for _, content in smtp.messages:
        assert secret.encode() not in content
    for path in outbox.rglob('*.eml'):
        assert secret.encode() not in path.read_bytes()


@pytest.mark.parametrize('transport', ['smtp', 'outbox'])
def test_a_list_symlinked_out_of_the_project_is_refused(transport, site, smtp, marker,
                                                        tmp_path, capsys):
    secret, private = marker
    (site[0] / 'distribution' / 'stakeholders.csv').symlink_to(private)
    outbox = site[0] / 'distribution' / 'outbox'
    extra = ['--smtp', smtp.address] if transport == 'smtp' else []
    assert cli(site, *extra, people=None) == 1            # the default list
    line = error_line(capsys.readouterr().err)
    assert ('distribution/stakeholders.csv: the stakeholder list leads outside the project'
            in line)
    assert secret not in line
    _nowhere(secret, smtp, outbox)
    assert smtp.messages == [] and not list(outbox.rglob('*.eml'))
    # Named with --list, a symlink out of the folder it is in is refused too.
    lists = tmp_path / 'lists'
    lists.mkdir()
    (lists / 'current.csv').symlink_to(private)
    assert cli(site, *extra, people=lists / 'current.csv') == 1
    assert 'current.csv: the stakeholder list leads outside the folder lists/' in \
        error_line(capsys.readouterr().err)
    _nowhere(secret, smtp, outbox)
    assert not list(outbox.rglob('*.eml'))


def test_a_template_or_settings_symlinked_out_of_the_project_is_refused(
        site, smtp, marker, tmp_path, capsys):
    secret, private = marker
    secret_file = private.parent / 'template.txt'
    secret_file.write_text(f'Subject: {secret}\n{secret}\n')
    people = write_list(tmp_path / 'list.csv', [('Alex', 'alex@example.org', '', 'en', '')])
    template = site[0] / 'templates' / 'email' / 'en.txt.j2'
    template.unlink()
    template.symlink_to(secret_file)
    outbox = tmp_path / 'outbox'
    assert cli(site, '--outbox', str(outbox), people=people) == 1
    assert ('templates/email/en.txt.j2: the message template leads outside the project'
            in error_line(capsys.readouterr().err))
    settings = site[0] / 'distribution' / 'settings.toml'
    settings.symlink_to(secret_file)
    assert cli(site, '--smtp', smtp.address, people=people) == 1
    assert ('distribution/settings.toml: the settings file leads outside the project'
            in error_line(capsys.readouterr().err))
    _nowhere(secret, smtp, outbox)
    assert smtp.messages == [] and not outbox.exists()


def test_a_template_cannot_reach_into_python(site, smtp, tmp_path, capsys):
    template = site[0] / 'templates' / 'email' / 'en.txt.j2'
    template.write_text('Subject: {{ title }}\n{{ cycler.__init__.__globals__.os }}\n')
    people = write_list(tmp_path / 'list.csv', [('Alex', 'alex@example.org', '', 'en', '')])
    assert cli(site, '--smtp', smtp.address, people=people) == 1
    assert ('templates/email/en.txt.j2: the template cannot be filled in: SecurityError'
            in error_line(capsys.readouterr().err))
    assert smtp.messages == []


def test_a_template_cannot_make_unbounded_work(site, smtp, tmp_path, capsys):
    template = site[0] / 'templates' / 'email' / 'en.txt.j2'
    template.write_text('Subject: {{ title }}\n{% for i in range(100000) %}{% for j in '
                        'range(100000) %}{% endfor %}{% endfor %}\n')
    people = write_list(tmp_path / 'list.csv', [('Alex', 'alex@example.org', '', 'en', '')])
    started = time.perf_counter()
    assert cli(site, '--smtp', smtp.address, people=people) == 1
    assert time.perf_counter() - started < 20
    line = error_line(capsys.readouterr().err)
    assert 'templates/email/en.txt.j2: the template cannot be filled in: LimitExceeded' in line
    assert smtp.messages == []


def _archived_pdf(archive: Path, lang: str = 'en') -> Path:
    (path,) = (archive / 'beyond-the-border/2015/r1').glob(f'*-{lang}-r1.pdf')
    return path


def test_an_archived_pdf_symlinked_out_of_the_archive_is_not_sent(site, smtp, tmp_path,
                                                                  capsys):
    pdf = _archived_pdf(site[1])
    outside = tmp_path / 'elsewhere.pdf'
    shutil.copyfile(pdf, outside)                       # the same bytes, even the checksum
    pdf.unlink()
    pdf.symlink_to(outside)
    assert cli(site, '--smtp', smtp.address) == 1
    line = error_line(capsys.readouterr().err)
    assert f"{pdf}: the archived PDF '{pdf.name}' leads outside the archive" in line
    assert smtp.messages == []


def test_a_manifest_naming_a_file_outside_its_folder_is_refused(site, smtp, tmp_path, capsys):
    path = site[1] / 'beyond-the-border/2015/r1/manifest.json'
    data = json.loads(path.read_text())
    en = next(item for item in data['files'] if item['lang'] == 'en')
    shutil.copyfile(_archived_pdf(site[1]), site[1].parent / 'elsewhere.pdf')  # same checksum
    en['name'] = '../../../../elsewhere.pdf'
    path.write_text(json.dumps(data))
    assert cli(site, '--smtp', smtp.address) == 1
    line = error_line(capsys.readouterr().err)
    assert 'manifest.json' in line and '../../../../elsewhere.pdf' in line
    assert smtp.messages == []


# --- 6. other bad input: one line, exit 1, nothing sent -----------------------------------

def test_a_cell_too_large_for_csv_is_one_line(site, smtp, tmp_path, capsys):
    people = tmp_path / 'list.csv'
    people.write_text(HEADER + 'Alex,alex@example.org,' + 'x' * 200_000 + ',en,\n')
    assert cli(site, '--smtp', smtp.address, people=people) == 1
    assert 'list.csv:2: not a readable CSV file (field larger than field limit' in \
        error_line(capsys.readouterr().err)
    assert smtp.messages == []


def test_a_ledger_that_is_not_a_ledger_is_one_line(site, smtp, capsys):
    site[3].write_text('not a database, just text ' * 100)
    assert cli(site, '--smtp', smtp.address) == 1
    assert 'not a delivery ledger' in error_line(capsys.readouterr().err)
    assert smtp.messages == []


def test_the_people_of_the_shared_list_still_all_get_one_message(site, smtp):
    """The hostile cases above use their own lists; the ordinary one is unaffected."""
    assert cli(site, '--smtp', smtp.address) == 0
    assert sorted(r[0] for r, _ in smtp.messages) == sorted(p[1] for p in WANTS_2015)
    assert len(PEOPLE) > len(WANTS_2015)
