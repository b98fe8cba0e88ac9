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
import email
import email.policy
import hashlib
import os
import re
import smtplib
import socket
import time
import tomllib
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Callable

import jinja2
import jinja2.sandbox

from . import files
from .archive import Revision, revisions
from .errors import ConfigError, ReportError, raise_all, unique
from .ledger import Ledger
from .numbers import long_date
from .project import Project
from .render import write_atomically
from .stakeholders import (Mailbox, Stakeholder, check_address, list_root, load_stakeholders,
                           unsafe_character)
from .typography import for_language

LANG_TAGS = {'en': 'en-CA', 'fr': 'fr-CA'}
SETTINGS_LIMIT = 64 * files.KB
TEMPLATE_LIMIT = 64 * files.KB
PDF_LIMIT = 200 * files.MB
"""The largest files distribute reads: distribution/settings.toml, a message template,
an archived PDF (the stakeholder list: :data:`stakeholders.LIST_LIMIT`)."""


class TemporaryFailure(Exception):
    """Worth trying again later (4xx, connection dropped, timeout)."""


class PermanentFailure(Exception):
    """The server refused this message for good (5xx)."""


class NotSupported(PermanentFailure):
    """The server cannot take this message as it is (an international address without
    SMTPUTF8): not sent, and trying again will not help."""


def _international(recipient: str, sender: str) -> str | None:
    """The address of a delivery that needs SMTPUTF8, or None."""
    return next((a for a in (recipient, sender) if not a.isascii()), None)


# --- transports ---------------------------------------------------------------------------

class Outbox:
    """Writes each message as an .eml file (what an SMTP server would have received)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.label = f'outbox:{folder}'

    def send(self, message: EmailMessage, recipient: str, sender: str) -> None:
        name = re.sub(r'[^A-Za-z0-9._-]', '_', message['Message-ID'].strip('<>')) + '.eml'
        policy = message.policy
        if _international(recipient, sender):   # as an SMTPUTF8 server would receive it
            policy = policy.clone(utf8=True)
        write_atomically(self.folder / name, message.as_bytes(policy=policy))

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

    def send(self, message: EmailMessage, recipient: str, sender: str) -> None:
        connection = self._connect()
        international = _international(recipient, sender)
        if international and not connection.has_extn('smtputf8'):
            raise NotSupported(f'{international}: the server does not accept international '
                               'addresses (SMTPUTF8); not sent')
        try:
            # With an international address, smtplib sends MAIL FROM with SMTPUTF8 and
            # BODY=8BITMIME, and the message in UTF-8 (RFC 6531, 6532).
            connection.send_message(message, from_addr=sender, to_addrs=[recipient])
        except smtplib.SMTPNotSupportedError:
            self._reset()
            raise NotSupported(f'{international or recipient}: the server does not accept '
                               'international addresses (SMTPUTF8); not sent') from None
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
        except smtplib.SMTPException as error:
            self._drop()
            raise TemporaryFailure(f'{type(error).__name__}: {error}') from None

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
class Sender:
    """The From of every message, checked like any address."""

    name: str
    mailbox: Mailbox

    @property
    def address(self) -> str:
        return self.mailbox.address


def parse_sender(text: str, *, given: str = '--sender', path: str | None = None,
                 line: int | None = None) -> Sender:
    """``"Name <address>"`` (or a bare address) as a checked sender; a one-line
    ReportError naming ``given`` (the option) or ``path`` and ``line`` otherwise."""
    def refuse(problem: str) -> ReportError:
        if path is None:
            return ReportError(f'{given} {text!r}: {problem}; write {given} '
                               '"Name <address>"')
        return ConfigError(f'sender {text!r}: {problem}; write sender = "Name <address>"',
                           path=path, line=line)

    problem = unsafe_character(text)
    if problem:
        raise refuse(f'contains a line break or another control character ({problem})')
    found = re.fullmatch(r'\s*(.*?)\s*<([^<>]*)>\s*', text)
    if found:
        name, address = found.groups()
        if len(name) >= 2 and name.startswith('"') and name.endswith('"'):
            name = re.sub(r'\\(.)', r'\1', name[1:-1])
        if '<' in name or '>' in name:
            raise refuse('not one address: the name holds < or >')
    elif '<' in text or '>' in text:
        raise refuse('not one address')
    else:
        name, address = '', text.strip()
    try:
        mailbox = check_address(address)
    except ValueError as error:
        raise refuse(f'{address!r} is not a valid address ({error})') from None
    return Sender(name.strip(), mailbox)


@dataclass(frozen=True)
class Settings:
    sender: Sender
    """The From of every message: "Name <address>", checked."""
    signature: dict[str, str]
    """How messages are signed, per language."""


def load_settings(project: Project) -> Settings | None:
    """``distribution/settings.toml`` (at most 64 KB, inside the project), or None when
    there is none. Its sender is checked, even when ``--sender`` overrides it."""
    path = project.root / 'distribution' / 'settings.toml'
    shown = shown_path(project, path)
    try:
        text = files.read_text(project.root, path, what='the settings file',
                               shown=shown, limit=SETTINGS_LIMIT, error=ConfigError)
    except FileNotFoundError:
        return None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f'not valid TOML: {error}', path=shown) from None
    signature = raw.get('signature', {})
    if (set(raw) - {'sender', 'signature'} or not isinstance(raw.get('sender'), str)
            or not isinstance(signature, dict)
            or not all(isinstance(v, str) for v in signature.values())):
        raise ConfigError('expected sender = "Name <address>" and '
                          'signature = { en = "…", fr = "…" }', path=shown)
    sender = parse_sender(raw['sender'], path=shown, line=_key_line(text, 'sender'))
    return Settings(sender, signature)


def _key_line(text: str, key: str) -> int | None:
    """The line where a top-level TOML key is set (tomllib does not say)."""
    pattern = re.compile(rf'\s*(?:{key}|"{key}"|\'{key}\')\s*=')
    for number, line in enumerate(text.split('\n'), start=1):
        if pattern.match(line):
            return number
    return None


def latest_revision(archive: Path, edition: str) -> Revision:
    found = [r for r in revisions(archive) if r.edition == edition] if archive.is_dir() else []
    if not found:
        raise ReportError(f'edition {edition} is not in the archive {archive}: only '
                          f'published editions are sent (publish it first: '
                          f'python make_report.py publish {edition})')
    return found[-1]


def shown_path(project: Project, path: Path) -> str:
    """``path`` as the user gave it: relative to the project when it is in it (symlinks
    not followed, so a message names the link, not where it leads)."""
    path = Path(os.path.abspath(path))
    return path.relative_to(project.root).as_posix() if path.is_relative_to(project.root) \
        else str(path)


def _plain_name(name) -> bool:
    """A file name that stays in its folder: no separator, no ``..``, not hidden, no NUL."""
    return (isinstance(name, str) and bool(name) and '/' not in name and '\\' not in name
            and '..' not in name and not name.startswith('.') and '\x00' not in name)


def _archived_files(revision: Revision) -> dict[str, dict]:
    """The manifest's files by language, each entry checked for what distribute uses."""
    shown = str(revision.folder / 'manifest.json')
    entries = revision.manifest.get('files')
    if not isinstance(entries, list):
        raise ReportError("the manifest has no list of 'files'", path=shown)
    found: dict[str, dict] = {}
    for number, item in enumerate(entries, start=1):
        if not isinstance(item, dict) or not all(
                isinstance(item.get(k), str) for k in ('lang', 'name', 'sha256', 'title')) \
                or not all(isinstance(item.get(k), int) for k in ('pages', 'size')):
            raise ReportError(f'file {number} of the manifest is malformed (expected lang, '
                              'name, sha256, title, pages and size)', path=shown)
        if not _plain_name(item['name']):
            raise ReportError(f'file {number} of the manifest: {item["name"]!r} is not a '
                              'plain file name in its revision folder', path=shown)
        found[item['lang']] = item
    return found


@dataclass(frozen=True)
class Text:
    """What one stakeholder's message says."""

    subject: str
    body: str


def distribute(project: Project, edition: str, *, archive: Path, stakeholders: Path,
               ledger_path: Path, transport, sender: Sender | str,
               signature: dict[str, str] | None = None, dry_run: bool = False,
               retries: int = 3, retry_delay: float = 2.0,
               progress: Callable[[Outcome], None] = lambda outcome: None) -> Run:
    """Send the latest published revision of ``edition`` to everyone who has not had it."""
    revision = latest_revision(archive, edition)
    m = revision.manifest
    if isinstance(sender, str):
        sender = parse_sender(sender)
    archived = _archived_files(revision)
    shown_list = shown_path(project, stakeholders)
    people = [p for p in load_stakeholders(stakeholders, shown_list,
                                           list_root(project.root, stakeholders))
              if p.wants(edition)]

    # Everything checked before the first message: languages, templates, archived files,
    # and every message's text.
    problems: list[ReportError] = []
    for person in people:
        if person.language not in archived:
            problems.append(ReportError(
                f'{person.email} wants {person.language}, but edition {edition} revision '
                f'{revision.revision} was published in {", ".join(archived)} only',
                path=shown_list, line=person.line))
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True,
        lstrip_blocks=True, autoescape=False)
    templates: dict[str, tuple[jinja2.Template, str]] = {}
    for lang in sorted({p.language for p in people} & set(archived)):
        path = project.templates / 'email' / f'{lang}.txt.j2'
        shown = shown_path(project, path)
        try:
            source = files.read_text(project.root, path, what='the message template',
                                     shown=shown, limit=TEMPLATE_LIMIT)
            templates[lang] = (env.from_string(source), shown)
        except FileNotFoundError:
            problems.append(ReportError('the message template is missing', path=shown))
        except jinja2.TemplateSyntaxError as error:
            problems.append(ReportError(f'template syntax: {error.message}', path=shown,
                                        line=error.lineno))
        except ReportError as error:
            problems.append(error)
    attachments: dict[str, bytes] = {}
    for lang, item in archived.items():
        pdf = revision.folder / item['name']
        try:
            data = files.read_bytes(archive, pdf, what=f"the archived PDF '{item['name']}'",
                                    shown=str(pdf), limit=PDF_LIMIT, place='the archive')
        except FileNotFoundError:
            problems.append(ReportError('the archived PDF is missing (run archive verify)',
                                        path=pdf))
            continue
        except ReportError as error:
            problems.append(error)
            continue
        if hashlib.sha256(data).hexdigest() != item['sha256']:
            problems.append(ReportError('the archived PDF does not match its manifest '
                                        '(run archive verify)', path=pdf))
            continue
        attachments[lang] = data
    raise_all(problems, f'edition {edition}: nothing was sent')
    texts: dict[str, Text] = {}
    for person in people:
        template, shown = templates[person.language]
        signed = (signature or {}).get(person.language) or sender.name or sender.address
        try:
            texts[person.key] = render_text(template, shown, person, m,
                                            archived[person.language], signed)
            _check_headers(_headers(m, person, sender, texts[person.key]), person, sender,
                           shown_list)
        except ReportError as error:
            problems.append(error)
    raise_all(unique(problems), f'edition {edition}: nothing was sent')

    run = Run(edition, revision.revision, 'dry run' if dry_run else transport.label)
    ledger = Ledger(ledger_path, shown_path(project, ledger_path))
    try:
        for person in people:
            item = archived[person.language]
            previous = ledger.get(person.key, revision.series, edition, revision.revision)
            if previous is not None and previous.outcome == 'sent':
                outcome = Outcome(person, 'skipped', f'sent {previous.updated_at}')
                run.outcomes.append(outcome)
                progress(outcome)
                continue
            message = compose_message(m, person, item, attachments[person.language], sender,
                                      texts[person.key])
            if dry_run:
                needs = _international(person.mailbox.wire, sender.mailbox.wire)
                outcome = Outcome(person, 'planned', item['name'] + (
                    f'; {needs} is international: it needs a server that accepts SMTPUTF8'
                    if needs else ''))
                run.outcomes.append(outcome)
                progress(outcome)
                continue
            outcome = _deliver(ledger, transport, message, person, sender, revision, item,
                               retries, retry_delay,
                               resent=previous is not None and previous.outcome == 'sending')
            run.outcomes.append(outcome)
            progress(outcome)
    finally:
        ledger.close()
        transport.close() if not dry_run else None
    return run


def _deliver(ledger: Ledger, transport, message: EmailMessage, person: Stakeholder,
             sender: Sender, revision: Revision, item: dict, retries: int,
             retry_delay: float, resent: bool) -> Outcome:
    common = dict(email=person.key, name=person.name, series=revision.series,
                  edition=revision.edition, revision=revision.revision,
                  language=person.language, attachment=item['name'], sha256=item['sha256'],
                  message_id=message['Message-ID'], transport=transport.label)
    attempts, detail = 0, ''
    while attempts < retries:
        attempts += 1
        ledger.record(**common, outcome='sending', attempts=attempts)
        try:
            transport.send(message, person.mailbox.wire, sender.mailbox.wire)
        except PermanentFailure as error:
            detail = str(error) if isinstance(error, NotSupported) else f'refused: {error}'
            ledger.record(**common, outcome='failed', detail=detail, attempts=attempts)
            return Outcome(person, 'failed', detail, attempts)
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


def render_text(template: jinja2.Template, shown: str, person: Stakeholder, manifest: dict,
                item: dict, signature: str) -> Text:
    """Subject and body for one stakeholder from the language's template (its first line
    is ``Subject: …``)."""
    lang = person.language
    note = (manifest.get('revision_note') or {}).get(lang)
    try:
        text = template.render(
            name=person.name, organization=person.organization, title=item['title'],
            edition=manifest['edition'], revision=manifest['revision'], revision_note=note,
            publication_date=long_date(dt.date.fromisoformat(manifest['publication_date']),
                                       lang),
            pages=item['pages'], size_kb=round(item['size'] / 1024), sha256=item['sha256'],
            attachment=item['name'], signature=signature)
    except (jinja2.TemplateError, ArithmeticError, LookupError, TypeError,
            ValueError) as error:
        raise ReportError(f'the template cannot be filled in: {type(error).__name__}: '
                          f'{error}', path=shown) from None
    first, _, body = text.partition('\n')
    if not first.startswith('Subject:'):
        raise ReportError("the first line must be 'Subject: …'", path=shown, line=1)
    subject = first[len('Subject:'):].strip()
    problem = unsafe_character(subject)
    if problem:
        raise ReportError(f'the subject contains a control character ({problem})',
                          path=shown, line=1)
    return Text(subject, for_language(body.lstrip('\n'), lang))


def compose_message(manifest: dict, person: Stakeholder, item: dict, pdf: bytes,
                    sender: Sender, text: Text) -> EmailMessage:
    """The email for one stakeholder. The address headers are built by the standard
    library from (display name, address) pairs, never by formatting strings, so no name
    can add a recipient (and :func:`distribute` read them back before sending any)."""
    message = _headers(manifest, person, sender, text)
    message.set_content(text.body)
    message.add_attachment(pdf, maintype='application', subtype='pdf', filename=item['name'])
    # Set last: a Content-* header set before the attachment would move into the text part.
    message['Content-Language'] = LANG_TAGS[person.language]
    return message


def _headers(manifest: dict, person: Stakeholder, sender: Sender, text: Text) -> EmailMessage:
    message = EmailMessage(policy=email.policy.default)
    message['From'] = sender.mailbox.header(sender.name)
    message['To'] = person.mailbox.header(person.name)
    message['Subject'] = text.subject
    message['Date'] = format_datetime(dt.datetime.now(dt.timezone.utc))
    message['Message-ID'] = message_id(manifest, person, sender)
    return message


def _check_headers(message: EmailMessage, person: Stakeholder, sender: Sender,
                   shown: str) -> None:
    """The headers as they will be written, parsed again: exactly the headers set, one
    sender and one recipient, the intended ones."""
    international = _international(person.mailbox.wire, sender.mailbox.wire)
    raw = message.as_bytes(policy=message.policy.clone(utf8=bool(international)))
    parsed = email.message_from_string(raw.decode('utf-8'), policy=email.policy.default)
    recipients = [a.addr_spec for a in parsed['To'].addresses]
    senders = [a.addr_spec for a in parsed['From'].addresses]
    if (sorted(parsed.keys()) != sorted(message.keys())
            or recipients != [person.mailbox.wire] or senders != [sender.mailbox.wire]):
        raise ReportError(f'the message to {person.email} would not have exactly one '
                          f'recipient (its headers read back give {recipients})',
                          path=shown, line=person.line)


def message_id(manifest: dict, person: Stakeholder, sender: Sender) -> str:
    """The same for every attempt at one delivery, so that a message sent again after an
    interrupted run is recognised as the same message by mail systems. It is made from
    the canonical address, so a change of case in the list keeps it."""
    who = hashlib.sha256(person.key.encode()).hexdigest()[:16]
    domain = sender.mailbox.ascii_domain or 'localhost'
    return (f'<{manifest["series"]}.{manifest["edition"]}.r{manifest["revision"]}.'
            f'{person.language}.{who}@{domain}>')
