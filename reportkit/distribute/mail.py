"""Composing one stakeholder's message: the sender checked like any address, subject and
body from the language's template (compiled in a sandbox), address headers built by the
email library and read back before anything is sent, the attachment, and a Message-ID
that stays the same for every attempt at one delivery.

A message carries one document: the edition in the person's language, or one document
of a batch edition (``document`` in the template names its key, None otherwise).
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime

import jinja2

from reportkit.errors import ConfigError, ReportError
from reportkit.safety.sandbox import SECTION, Sandbox
from reportkit.numbers import long_date
from reportkit.distribute.stakeholders import Mailbox, Stakeholder, check_address, unsafe_character
from reportkit.distribute.transport import as_sent
from reportkit.typography import for_language

LANG_TAGS = {'en': 'en-CA', 'fr': 'fr-CA'}

_TEMPLATES = Sandbox(SECTION, trim_blocks=True, lstrip_blocks=True)
"""Message templates run in the narrative's bounded sandbox: no reach into Python, and
bounded work, output and time."""


@dataclass(frozen=True)
class Template:
    """A message template, checked; each :meth:`render` is one bounded evaluation."""

    source: str

    def render(self, **context) -> str:
        return _TEMPLATES.render(self.source, context)


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
class Text:
    """What one stakeholder's message says."""

    subject: str
    body: str


def template_from(source: str, shown: str) -> Template:
    """A message template checked in the sandbox (strict about undefined names); a
    ReportError naming ``shown`` and the line when it is not valid."""
    try:
        _TEMPLATES.from_string(source)
        return Template(source)
    except jinja2.TemplateSyntaxError as error:
        raise ReportError(f'template syntax: {error.message}', path=shown,
                          line=error.lineno) from None


def render_text(template: Template, shown: str, person: Stakeholder, manifest: dict,
                item: dict, signature: str) -> Text:
    """Subject and body for one stakeholder from the language's template (its first line
    is ``Subject: …``); ``item`` is the manifest's entry for the document attached."""
    lang = person.language
    note = (manifest.get('revision_note') or {}).get(lang)
    try:
        text = template.render(
            name=person.name, organization=person.organization, title=item['title'],
            edition=manifest['edition'], revision=manifest['revision'], revision_note=note,
            publication_date=long_date(dt.date.fromisoformat(manifest['publication_date']),
                                       lang),
            pages=item['pages'], size_kb=round(item['size'] / 1024), sha256=item['sha256'],
            attachment=item['name'], document=item.get('document'), signature=signature)
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
    can add a recipient (and :func:`check_headers` read them back before any is sent)."""
    message = _headers(manifest, person, sender, text, item.get('document'))
    message.set_content(text.body)
    message.add_attachment(pdf, maintype='application', subtype='pdf', filename=item['name'])
    # Set last: a Content-* header set before the attachment would move into the text part.
    message['Content-Language'] = LANG_TAGS[person.language]
    return message


def _headers(manifest: dict, person: Stakeholder, sender: Sender, text: Text,
             document: str | None) -> EmailMessage:
    message = EmailMessage(policy=email.policy.default)
    message['From'] = sender.mailbox.header(sender.name)
    message['To'] = person.mailbox.header(person.name)
    message['Subject'] = text.subject
    message['Date'] = format_datetime(dt.datetime.now(dt.timezone.utc))
    message['Message-ID'] = message_id(manifest, person, sender, document)
    return message


def check_headers(manifest: dict, person: Stakeholder, sender: Sender, text: Text,
                  shown: str, document: str | None = None) -> None:
    """The headers of the message to ``person`` as they will be written, parsed again:
    exactly the headers set, one sender and one recipient, the intended ones; a
    ReportError naming the list ``shown`` and the person's line otherwise."""
    message = _headers(manifest, person, sender, text, document)
    raw = as_sent(message, person.mailbox.wire, sender.mailbox.wire)
    parsed = email.message_from_string(raw.decode('utf-8'), policy=email.policy.default)
    recipients = [a.addr_spec for a in parsed['To'].addresses]
    senders = [a.addr_spec for a in parsed['From'].addresses]
    if (sorted(parsed.keys()) != sorted(message.keys())
            or recipients != [person.mailbox.wire] or senders != [sender.mailbox.wire]):
        raise ReportError(f'the message to {person.email} would not have exactly one '
                          f'recipient (its headers read back give {recipients})',
                          path=shown, line=person.line)


def message_id(manifest: dict, person: Stakeholder, sender: Sender,
               document: str | None = None) -> str:
    """The same for every attempt at one delivery, so that a message sent again after an
    interrupted run is recognised as the same message by mail systems. It is made from
    the canonical address, so a change of case in the list keeps it; a batch document's
    key (checked by distribute: letters, digits, _ and -) tells its messages apart."""
    who = hashlib.sha256(person.key.encode()).hexdigest()[:16]
    domain = sender.mailbox.ascii_domain or 'localhost'
    which = f'{document}.' if document else ''
    return (f'<{manifest["series"]}.{manifest["edition"]}.r{manifest["revision"]}.'
            f'{which}{person.language}.{who}@{domain}>')
