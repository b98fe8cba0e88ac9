"""Stage 8, distribute: the latest published revision of an edition -> one email to each
stakeholder, in their language, with the archived PDF attached.

Only archived PDFs are sent, after checking them against their manifest. The ledger
(SQLite) remembers every delivery, so a second run sends only what is missing: nobody
gets the same revision twice, and a new revision reaches everybody once. Temporary
failures (4xx, a dropped connection) are retried with backoff; a permanent rejection
(5xx) is recorded and the others still go out. Without an SMTP server, messages are
written as .eml files into an outbox folder.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import smtplib
import socket
import time
import tomllib
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from typing import Callable

import jinja2

from .archive import Revision, revisions
from .errors import ConfigError, ReportError, raise_all
from .inputs import sha256_file
from .ledger import Ledger
from .numbers import long_date
from .project import Project
from .render import write_atomically
from .stakeholders import Stakeholder, load_stakeholders
from .typography import for_language

LANG_TAGS = {'en': 'en-CA', 'fr': 'fr-CA'}


class TemporaryFailure(Exception):
    """Worth trying again later (4xx, connection dropped, timeout)."""


class PermanentFailure(Exception):
    """The server refused this message for good (5xx)."""


# --- transports ---------------------------------------------------------------------------

class Outbox:
    """Writes each message as an .eml file (what an SMTP server would have received)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.label = f'outbox:{folder}'

    def send(self, message: EmailMessage, recipient: str) -> None:
        name = re.sub(r'[^A-Za-z0-9._-]', '_', message['Message-ID'].strip('<>')) + '.eml'
        write_atomically(self.folder / name, message.as_bytes())

    def close(self) -> None:
        pass


class Smtp:
    """Sends through an SMTP server; STARTTLS and login when configured."""

    def __init__(self, host: str, port: int, *, starttls: bool = False,
                 username: str | None = None, password: str | None = None,
                 timeout: float = 30) -> None:
        self.host, self.port, self.starttls = host, port, starttls
        self.username, self.password, self.timeout = username, password, timeout
        self.label = f'smtp://{host}:{port}'
        self.connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        if self.connection is None:
            try:
                connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                connection.ehlo()
                if self.starttls:
                    connection.starttls()
                    connection.ehlo()
                if self.username:
                    connection.login(self.username, self.password or '')
            except smtplib.SMTPAuthenticationError as error:
                raise ReportError(f'the SMTP server {self.host}:{self.port} refused the '
                                  f'login: {error.smtp_code} {_text(error.smtp_error)}') from None
            except (OSError, smtplib.SMTPException) as error:
                raise TemporaryFailure(f'cannot connect to {self.host}:{self.port}: '
                                       f'{error}') from None
            self.connection = connection
        return self.connection

    def send(self, message: EmailMessage, recipient: str) -> None:
        connection = self._connect()
        try:
            connection.send_message(message, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as error:
            code, text = error.recipients[recipient]
            self._classify(code, text)
        except smtplib.SMTPResponseException as error:
            if error.smtp_code >= 500 or error.smtp_code < 400:
                self._reset()
            else:
                self._drop()
            self._classify(error.smtp_code, error.smtp_error)
        except (smtplib.SMTPServerDisconnected, OSError, socket.timeout) as error:
            self._drop()
            raise TemporaryFailure(f'connection lost: {error or type(error).__name__}') from None

    def _classify(self, code: int, text) -> None:
        detail = f'{code} {_text(text)}'
        if 400 <= code < 500:
            raise TemporaryFailure(detail)
        raise PermanentFailure(detail)

    def _reset(self) -> None:
        try:
            if self.connection is not None:
                self.connection.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def _drop(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            except OSError:
                pass
        self.connection = None

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (OSError, smtplib.SMTPException):
                pass
        self.connection = None


def _text(value) -> str:
    return value.decode(errors='replace') if isinstance(value, bytes) else str(value)


def smtp_from_option(value: str, *, starttls: bool) -> Smtp:
    """``HOST:PORT`` (credentials from REPORT_SMTP_USER / REPORT_SMTP_PASSWORD)."""
    host, _, port = value.rpartition(':')
    if not host or not port.isdigit():
        raise ReportError(f"--smtp {value!r}: write HOST:PORT, e.g. smtp.example.org:587")
    username = os.environ.get('REPORT_SMTP_USER') or None
    password = os.environ.get('REPORT_SMTP_PASSWORD')
    if username and password is None:
        raise ReportError('REPORT_SMTP_USER is set but REPORT_SMTP_PASSWORD is not')
    return Smtp(host, int(port), starttls=starttls, username=username, password=password)


# --- the run ------------------------------------------------------------------------------

@dataclass
class Outcome:
    stakeholder: Stakeholder
    status: str
    """'sent', 'skipped' (already had it), 'failed', 'planned' (dry run)."""
    detail: str = ''
    attempts: int = 0


@dataclass
class Run:
    edition: str
    revision: int
    transport: str
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def complete(self) -> bool:
        return self.count('failed') == 0


@dataclass(frozen=True)
class Settings:
    sender: str
    """The From of every message: "Name <address>"."""
    signature: dict[str, str]
    """How messages are signed, per language."""


def load_settings(project: Project) -> Settings | None:
    path = project.root / 'distribution' / 'settings.toml'
    if not path.is_file():
        return None
    shown = project.show(path)
    try:
        raw = tomllib.loads(path.read_text(encoding='utf-8'))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f'not valid TOML: {error}', path=shown) from None
    signature = raw.get('signature', {})
    if (set(raw) - {'sender', 'signature'} or not isinstance(raw.get('sender'), str)
            or not isinstance(signature, dict)
            or not all(isinstance(v, str) for v in signature.values())):
        raise ConfigError('expected sender = "Name <address>" and '
                          'signature = { en = "…", fr = "…" }', path=shown)
    return Settings(raw['sender'], signature)


def latest_revision(archive: Path, edition: str) -> Revision:
    found = [r for r in revisions(archive) if r.edition == edition] if archive.is_dir() else []
    if not found:
        raise ReportError(f'edition {edition} is not in the archive {archive}: only '
                          f'published editions are sent (publish it first: '
                          f'python make_report.py publish {edition})')
    return found[-1]


def distribute(project: Project, edition: str, *, archive: Path, stakeholders: Path,
               ledger_path: Path, transport, sender: str,
               signature: dict[str, str] | None = None, dry_run: bool = False,
               retries: int = 3, retry_delay: float = 2.0,
               progress: Callable[[Outcome], None] = lambda outcome: None) -> Run:
    """Send the latest published revision of ``edition`` to everyone who has not had it."""
    revision = latest_revision(archive, edition)
    m = revision.manifest
    files = {item['lang']: item for item in m['files']}
    people = [p for p in load_stakeholders(stakeholders, project.show(stakeholders))
              if p.wants(edition)]
    name, address = parseaddr(sender)
    if '@' not in address:
        raise ReportError(f'the sender {sender!r} has no valid address; set sender in '
                          'distribution/settings.toml or give --sender "Name <address>"')

    # Everything checked before the first message: languages, templates, archived files.
    problems: list[ReportError] = []
    for person in people:
        if person.language not in files:
            problems.append(ReportError(
                f'{person.email} wants {person.language}, but edition {edition} revision '
                f'{revision.revision} was published in {", ".join(files)} only',
                path=project.show(stakeholders), line=person.line))
    templates = {}
    for lang in sorted({p.language for p in people} & set(files)):
        path = project.templates / 'email' / f'{lang}.txt.j2'
        if not path.is_file():
            problems.append(ReportError('the message template is missing',
                                        path=project.show(path)))
        else:
            templates[lang] = path
    for lang, item in files.items():
        pdf = revision.folder / item['name']
        if not pdf.is_file() or sha256_file(pdf) != item['sha256']:
            problems.append(ReportError('the archived PDF does not match its manifest '
                                        '(run archive verify)', path=pdf))
    raise_all(problems, f'edition {edition}: nothing was sent')

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(project.templates / 'email'),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             trim_blocks=True, lstrip_blocks=True, autoescape=False)
    attachments = {lang: (revision.folder / item['name']).read_bytes()
                   for lang, item in files.items()}
    run = Run(edition, revision.revision, 'dry run' if dry_run else transport.label)
    ledger = Ledger(ledger_path)
    try:
        for person in people:
            item = files[person.language]
            previous = ledger.get(person.email, revision.series, edition, revision.revision)
            if previous is not None and previous.outcome == 'sent':
                outcome = Outcome(person, 'skipped', f'sent {previous.updated_at}')
                run.outcomes.append(outcome)
                progress(outcome)
                continue
            signed = (signature or {}).get(person.language) or name or address
            message = compose_message(env, templates[person.language], person, m, item,
                                      attachments[person.language], (name, address), signed)
            if dry_run:
                outcome = Outcome(person, 'planned', item['name'])
                run.outcomes.append(outcome)
                progress(outcome)
                continue
            outcome = _deliver(ledger, transport, message, person, revision, item,
                               retries, retry_delay,
                               resent=previous is not None and previous.outcome == 'sending')
            run.outcomes.append(outcome)
            progress(outcome)
    finally:
        ledger.close()
        transport.close() if not dry_run else None
    return run


def _deliver(ledger: Ledger, transport, message: EmailMessage, person: Stakeholder,
             revision: Revision, item: dict, retries: int, retry_delay: float,
             resent: bool) -> Outcome:
    common = dict(email=person.email, name=person.name, series=revision.series,
                  edition=revision.edition, revision=revision.revision,
                  language=person.language, attachment=item['name'], sha256=item['sha256'],
                  message_id=message['Message-ID'], transport=transport.label)
    attempts, detail = 0, ''
    while attempts < retries:
        attempts += 1
        ledger.record(**common, outcome='sending', attempts=attempts)
        try:
            transport.send(message, person.email)
        except PermanentFailure as error:
            ledger.record(**common, outcome='failed', detail=f'refused: {error}',
                          attempts=attempts)
            return Outcome(person, 'failed', f'refused: {error}', attempts)
        except TemporaryFailure as error:
            detail = str(error)
            if attempts < retries:
                time.sleep(retry_delay * 2 ** (attempts - 1))
            continue
        ledger.record(**common, outcome='sent', attempts=attempts,
                      detail='sent again after an interrupted run' if resent else '')
        return Outcome(person, 'sent', 'after an interrupted run' if resent else '', attempts)
    detail = f'temporary failure, gave up after {attempts} attempts: {detail}'
    ledger.record(**common, outcome='failed', detail=detail, attempts=attempts)
    return Outcome(person, 'failed', detail, attempts)


def compose_message(env: jinja2.Environment, template: Path, person: Stakeholder,
                    manifest: dict, item: dict, pdf: bytes, sender: tuple[str, str],
                    signature: str) -> EmailMessage:
    """The email for one stakeholder: subject and body from the language's template."""
    lang = person.language
    note = (manifest.get('revision_note') or {}).get(lang)
    text = env.get_template(template.name).render(
        name=person.name, organization=person.organization, title=item['title'],
        edition=manifest['edition'], revision=manifest['revision'], revision_note=note,
        publication_date=long_date(dt.date.fromisoformat(manifest['publication_date']), lang),
        pages=item['pages'], size_kb=round(item['size'] / 1024), sha256=item['sha256'],
        attachment=item['name'], signature=signature)
    first, _, body = text.partition('\n')
    if not first.startswith('Subject:'):
        raise ReportError("the first line must be 'Subject: …'", path=template)
    message = EmailMessage()
    message['From'] = formataddr(sender)
    message['To'] = formataddr((person.name, person.email))
    message['Subject'] = first[len('Subject:'):].strip()
    message['Date'] = format_datetime(dt.datetime.now(dt.timezone.utc))
    message['Message-ID'] = message_id(manifest, person, sender[1])
    message.set_content(for_language(body.lstrip('\n'), lang))
    message.add_attachment(pdf, maintype='application', subtype='pdf', filename=item['name'])
    message['Content-Language'] = LANG_TAGS[lang]
    return message


def message_id(manifest: dict, person: Stakeholder, sender_address: str) -> str:
    """The same for every attempt at one delivery, so that a message sent again after an
    interrupted run is recognised as the same message by mail systems."""
    who = hashlib.sha256(person.email.lower().encode()).hexdigest()[:16]
    domain = sender_address.rpartition('@')[2] or 'localhost'
    return (f'<{manifest["series"]}.{manifest["edition"]}.r{manifest["revision"]}.'
            f'{person.language}.{who}@{domain}>')
