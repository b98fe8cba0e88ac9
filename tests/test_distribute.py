"""Sending editions to stakeholders, through a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from reportkit.cli import main

from .conftest import ROOT, copy_project
from .conftest import replace

PEOPLE = [
    ('Alex Martin', 'alex@example.org', 'Canadian Trucking Alliance', 'en', ''),
    ('Camille Tremblay', 'camille@example.org', 'Chambre de commerce du Québec', 'fr', ''),
    ('Jordan Lee', 'jordan@example.com', 'Border Trade Alliance', 'en', '2015'),
    ('Dominique Roy', 'dominique@example.ca', 'Port de Montréal', 'fr', '2014; 2015'),
    ('Sam Patel', 'sam@example.com', 'Pacific Corridor Enterprise Council', 'en', ''),
    ('Noor Haddad', 'noor@example.org', '', 'fr', ''),
    ('Riley Chen', 'riley@example.net', 'Detroit Regional Chamber', 'en', ''),
    ('Only Earlier', 'earlier@example.net', 'Archive Society', 'en', '2014'),
]
WANTS_2015 = [p for p in PEOPLE if not p[4] or '2015' in p[4]]
SENDER = 'Implementation Team <team@example.org>'


class Recorder:
    """An SMTP handler that keeps every message, with faults to order."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.envelopes: list[tuple[str, list[str], list[str]]] = []  # MAIL FROM, options, RCPT TO
        self.reject: set[str] = set()          # 550 on RCPT, every time
        self.busy_once: set[str] = set()       # 451 on RCPT, the first time only
        self.kill_on_mail: tuple[int, int] | None = None   # (nth MAIL FROM, pid)
        self.mails = 0
        self.lock = threading.Lock()

    async def handle_MAIL(self, server, session, envelope, address, options):
        with self.lock:
            self.mails += 1
            if self.kill_on_mail and self.mails == self.kill_on_mail[0]:
                os.kill(self.kill_on_mail[1], signal.SIGKILL)
        envelope.mail_from = address
        envelope.mail_options = list(options)
        return '250 OK'

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address in self.reject:
            return '550 5.1.1 mailbox unavailable'
        if address in self.busy_once:
            self.busy_once.discard(address)
            return '451 4.3.0 try again later'
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), envelope.original_content))
            self.envelopes.append((envelope.mail_from, envelope.mail_options,
                                   list(envelope.rcpt_tos)))
        return '250 Message accepted'

    def received(self) -> dict[str, list[email.message.EmailMessage]]:
        got: dict[str, list] = {}
        for recipients, content in self.messages:
            message = parse(content)
            for recipient in recipients:
                got.setdefault(recipient, []).append(message)
        return got


def parse(content: bytes) -> email.message.EmailMessage:
    """A message as received (UTF-8 headers too, as an SMTPUTF8 server receives them)."""
    return email.message_from_string(content.decode('utf-8'), policy=email.policy.default)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def serve(smtputf8: bool = False):
    recorder = Recorder()
    controller = Controller(recorder, hostname='127.0.0.1', port=free_port(),
                            enable_SMTPUTF8=smtputf8)
    controller.start()
    recorder.address = f'127.0.0.1:{controller.port}'
    return recorder, controller


@pytest.fixture
def smtp():
    """A server without SMTPUTF8 (aiosmtpd's default)."""
    recorder, controller = serve()
    yield recorder
    controller.stop()


@pytest.fixture
def smtp_utf8():
    """A server that offers SMTPUTF8 (international addresses)."""
    recorder, controller = serve(smtputf8=True)
    yield recorder
    controller.stop()


@pytest.fixture
def setup(published, tmp_path):
    """A stakeholder list, a fresh ledger and a copy of the archive with 2015 in it."""
    project, archive = published
    people = tmp_path / 'stakeholders.csv'
    people.write_text('name,email,organization,language,editions\n' + ''.join(
        f'{n},{e},"{o}",{lang},{eds}\n' for n, e, o, lang, eds in PEOPLE), encoding='utf-8')
    copy = tmp_path / 'archive'
    shutil.copytree(archive, copy)
    return project, copy, people, tmp_path / 'ledger.sqlite'


def run(setup, *extra) -> int:
    project, archive, people, ledger = setup
    return main(['--project', str(project), 'distribute', '2015', '--archive', str(archive),
                 '--list', str(people), '--ledger', str(ledger), '--sender', SENDER,
                 '--retry-delay', '0.01', *extra])


def manifest(archive: Path, revision=1) -> dict:
    return json.loads((archive / f'beyond-the-border/2015/r{revision}/manifest.json').read_text())


def attachment_sha(message) -> str:
    (part,) = list(message.iter_attachments())
    assert part.get_content_type() == 'application/pdf'
    return hashlib.sha256(part.get_content()).hexdigest()


def test_everyone_gets_exactly_one_message_with_their_pdf_and_a_rerun_sends_nothing(
        setup, smtp, capsys):
    assert run(setup, '--smtp', smtp.address) == 0
    files = {f['lang']: f for f in manifest(setup[1])['files']}
    got = smtp.received()
    assert sorted(got) == sorted(p[1] for p in WANTS_2015)
    for name, address, _, lang, _ in WANTS_2015:
        (message,) = got[address]
        assert attachment_sha(message) == files[lang]['sha256']
        assert message['Content-Language'] == {'en': 'en-CA', 'fr': 'fr-CA'}[lang]
        assert message['Subject'] == files[lang]['title']
        body = message.get_body(('plain',)).get_content()
        assert body.startswith('Dear ' if lang == 'en' else 'Bonjour ')
        assert name in message['To'] and files[lang]['sha256'] in body
    assert 'earlier@example.net' not in got          # wants 2014 only
    capsys.readouterr()
    assert run(setup, '--smtp', smtp.address) == 0
    assert len(smtp.messages) == len(WANTS_2015)    # nothing more
    assert f'0 sent, {len(WANTS_2015)} already sent, 0 failed' in capsys.readouterr().err


def test_a_refused_address_is_recorded_and_a_busy_one_is_retried(setup, smtp, capsys):
    smtp.reject = {'jordan@example.com'}
    smtp.busy_once = {'camille@example.org'}
    assert run(setup, '--smtp', smtp.address) == 1            # not everything delivered
    got = smtp.received()
    assert 'jordan@example.com' not in got
    assert len(got['camille@example.org']) == 1
    assert sorted(got) == sorted(p[1] for p in WANTS_2015 if p[1] != 'jordan@example.com')
    db = sqlite3.connect(setup[3])
    rows = {email: (outcome, detail, attempts) for email, outcome, detail, attempts in
            db.execute('SELECT email, outcome, detail, attempts FROM deliveries')}
    assert rows['jordan@example.com'][0] == 'failed'
    assert '550' in rows['jordan@example.com'][1]
    assert rows['camille@example.org'] == ('sent', '', 2)
    err = capsys.readouterr().err
    assert 'failed Jordan Lee <jordan@example.com>' in err and 'refused: 550' in err
    # The address is fixed: the next run sends to it, and to nobody else.
    smtp.reject = set()
    assert run(setup, '--smtp', smtp.address) == 0
    assert [r for r, _ in smtp.messages].count(['jordan@example.com']) == 1
    assert len(smtp.messages) == len(WANTS_2015)


def test_an_interrupted_run_resumes_without_duplicates(setup, smtp):
    project, archive, people, ledger = setup
    command = [sys.executable, str(ROOT / 'make_report.py'), '--project', str(project),
               'distribute', '2015', '--archive', str(archive), '--list', str(people),
               '--ledger', str(ledger), '--sender', SENDER, '--smtp', smtp.address]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    smtp.kill_on_mail = (4, process.pid)          # killed while starting the 4th message
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert len(smtp.messages) == 3
    smtp.kill_on_mail = None
    assert subprocess.run(command, capture_output=True).returncode == 0
    got = smtp.received()
    assert {address: len(messages) for address, messages in got.items()} == \
        {p[1]: 1 for p in WANTS_2015}


def test_a_new_revision_reaches_everybody_once(setup, smtp, tmp_path):
    project, archive, _, _ = setup
    assert run(setup, '--smtp', smtp.address) == 0
    edited = copy_project(tmp_path / 'edited')
    replace(edited / 'reports/beyond-the-border/2015/edition.toml', 'revision = 1',
            'revision = 2\nrevision_note = { en = "Corrected a date.", '
            'fr = "Correction d’une date." }')
    assert main(['--project', str(edited), 'publish', '2015', '--archive', str(archive)]) == 0
    assert run(setup, '--smtp', smtp.address) == 0
    assert run(setup, '--smtp', smtp.address) == 0
    r2 = {f['lang']: f['sha256'] for f in manifest(archive, 2)['files']}
    for _, address, _, lang, _ in WANTS_2015:
        messages = smtp.received()[address]
        assert len(messages) == 2
        assert attachment_sha(messages[1]) == r2[lang]
        assert 'revision 2' in messages[1]['Subject'] or 'révision 2' in messages[1]['Subject']


def test_without_smtp_the_outbox_holds_readable_eml_files(setup, tmp_path):
    outbox = tmp_path / 'outbox'
    assert run(setup, '--outbox', str(outbox)) == 0
    files = {f['lang']: f['sha256'] for f in manifest(setup[1])['files']}
    emls = sorted(outbox.glob('*.eml'))
    assert len(emls) == len(WANTS_2015)
    seen = set()
    for path in emls:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        address = email.utils.parseaddr(message['To'])[1]
        lang = next(p[3] for p in PEOPLE if p[1] == address)
        assert attachment_sha(message) == files[lang]
        seen.add(address)
    assert seen == {p[1] for p in WANTS_2015}


def test_dry_run_lists_and_sends_nothing(setup, smtp, capsys):
    assert run(setup, '--smtp', smtp.address, '--dry-run') == 0
    err = capsys.readouterr().err
    assert smtp.messages == []
    assert f'{len(WANTS_2015)} to send (dry run: nothing was sent)' in err
    for name, address, *_ in WANTS_2015:
        assert f'would send {name} <{address}>' in err
    assert 'earlier@example.net' not in err


def test_status_prints_the_ledger(setup, smtp, capsys):
    smtp.reject = {'sam@example.com'}
    run(setup, '--smtp', smtp.address)
    capsys.readouterr()
    project, archive, _, ledger = setup
    status = main(['--project', str(project), 'distribute', '2015', '--status', '--archive',
                   str(archive), '--ledger', str(ledger)])
    out = capsys.readouterr().out
    assert status == 1                     # one delivery failed
    for _, address, *_ in WANTS_2015:
        assert address in out
    assert out.count('sent') >= len(WANTS_2015) - 1 and 'failed' in out


def test_an_edition_not_in_the_archive_is_refused(setup, capsys):
    project, archive, people, ledger = setup
    status = main(['--project', str(project), 'distribute', '2013', '--archive', str(archive),
                   '--list', str(people), '--ledger', str(ledger), '--sender', SENDER])
    assert status == 1
    assert (f'edition 2013 is not in the archive {archive}: only published editions are sent'
            in capsys.readouterr().err)
    assert not ledger.exists()


LIST_FAULTS = {
    'malformed address': ('Pat,pat@@example.org,Org,en,\n',
                          "stakeholders.csv:2: column 'email': 'pat@@example.org' is not a "
                          'valid address'),
    'unknown language': ('Pat,pat@example.org,Org,es,\n',
                         "stakeholders.csv:2: column 'language': 'es' is not one of en, fr"),
    'line break in a name': ('"Pat\nBcc: all@example.org",pat@example.org,Org,en,\n',
                             "stakeholders.csv:3: column 'name': contains a line break or "
                             'another control character'),
    'duplicate address': ('Pat,pat@example.org,Org,en,\nPat B,PAT@example.org,Org,fr,\n',
                          'stakeholders.csv:3: duplicate address PAT@example.org (first on '
                          'line 2)'),
}


@pytest.mark.parametrize('fault', LIST_FAULTS)
def test_a_bad_stakeholder_list_names_the_row(fault, setup, smtp, capsys):
    rows, expected = LIST_FAULTS[fault]
    setup[2].write_text('name,email,organization,language,editions\n' + rows)
    assert run(setup, '--smtp', smtp.address) == 1
    assert expected in capsys.readouterr().err
    assert smtp.messages == []
