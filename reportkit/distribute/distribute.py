"""Stage 8, distribute: the latest published revision of an edition -> an email to each
stakeholder, in their language, with the archived PDF attached.

An edition of one document per language sends each person one message. A batch edition
(one document per row of a dataset) sends each person one message per document of it
their row names in the list's ``documents`` column: one PDF, one subject and one
Message-ID per message, so that a message stays the size of one document, a refusal or
a retry concerns one document, and the ledger's rows are the messages sent. Nobody gets
a document twice; a person whose list row gains a document gets only that one next time.

This module runs a distribution: everything checked before the first message (the
settings, every archived file against its manifest, who receives which document in
which language, every message's text and headers), then one delivery per message,
recorded in the ledger. Composing a message is :mod:`reportkit.distribute.mail`'s job, handing it
over :mod:`reportkit.distribute.transport`'s; what a list's row receives, :mod:`reportkit.distribute.stakeholders`'.

Only archived PDFs are sent, after checking them against their manifest. The ledger
(SQLite) remembers every delivery (by address, edition, revision and document), so a
second run sends only what is missing: nobody gets the same revision of a document
twice, and a new revision reaches everybody once. Temporary failures (4xx, a dropped
connection) are retried with backoff; a permanent rejection (5xx) is recorded and the
others still go out. Without an SMTP server, messages are written as .eml files into an
outbox folder.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
import tomllib
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Callable

from reportkit import files
from reportkit.publish.archive import Revision, revisions
from reportkit.errors import ConfigError, ReportError, raise_all, unique
from reportkit.distribute.ledger import Ledger
from reportkit.distribute.mail import Sender, Text, check_headers, compose_message, parse_sender, render_text, \
    template_from
from reportkit.project import Project
from reportkit.distribute.stakeholders import DOCUMENT_KEY, Offer, Stakeholder, choose, list_root, \
    load_stakeholders
from reportkit.distribute.transport import NotSupported, PermanentFailure, TemporaryFailure, international

SETTINGS_LIMIT = 64 * files.KB
TEMPLATE_LIMIT = 64 * files.KB
PDF_LIMIT = 200 * files.MB
"""The largest files distribute reads: distribution/settings.toml, a message template,
an archived PDF (the stakeholder list: :data:`stakeholders.LIST_LIMIT`)."""


@dataclass
class Outcome:
    stakeholder: Stakeholder
    status: str
    """'sent', 'skipped' (already had it), 'failed', 'planned' (dry run)."""
    detail: str = ''
    attempts: int = 0
    document: str | None = None
    """The batch document the message carries (None: the edition's only one)."""


@dataclass(frozen=True)
class Parcel:
    """One message to send: a stakeholder and the manifest's entry of the PDF it carries."""

    person: Stakeholder
    item: dict

    @property
    def document(self) -> str | None:
        return self.item.get('document')

    @property
    def key(self) -> tuple[str, str]:
        """The person's canonical address and the document ('' for the only one)."""
        return self.person.key, self.document or ''


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


def known_editions(project: Project, archive: Path) -> set[str]:
    """Every edition's full name (``<series>/<edition>``) in the project and the archive:
    what an edition named alone could mean."""
    found = revisions(archive) if archive.is_dir() else []
    return set(project.editions()) | {f'{r.series}/{r.edition}' for r in found}


def latest_revision(archive: Path, edition: str, known: set[str] = frozenset()) -> Revision:
    """The latest archived revision of ``edition``: ``<series>/<edition>``, or the edition
    alone when only one series has an edition of that name (among ``known`` and those in
    the archive), as :meth:`Project.resolve` reads a name."""
    found = revisions(archive) if archive.is_dir() else []
    series, _, short = edition.rpartition('/')
    if not series:
        names = sorted({name for name in known | {f'{r.series}/{r.edition}' for r in found}
                        if name.split('/', 1)[-1] == short})
        if len(names) > 1:
            raise ReportError(f"several series have an edition '{edition}': write "
                              f"{' or '.join(names)}")
        series = names[0].split('/', 1)[0] if names else ''
    found = [r for r in found if (r.series, r.edition) == (series, short)]
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


def _archived_files(revision: Revision) -> dict[tuple[str, str | None], dict]:
    """The manifest's files by language and batch document (None for an edition of one
    document per language), each entry checked for what distribute uses."""
    shown = str(revision.folder / 'manifest.json')
    entries = revision.manifest.get('files')
    if not isinstance(entries, list):
        raise ReportError("the manifest has no list of 'files'", path=shown)
    found: dict[tuple[str, str | None], dict] = {}
    for number, item in enumerate(entries, start=1):
        if not isinstance(item, dict) or not all(
                isinstance(item.get(k), str) for k in ('lang', 'name', 'sha256', 'title')) \
                or not all(isinstance(item.get(k), int) for k in ('pages', 'size')):
            raise ReportError(f'file {number} of the manifest is malformed (expected lang, '
                              'name, sha256, title, pages and size)', path=shown)
        if not _plain_name(item['name']):
            raise ReportError(f'file {number} of the manifest: {item["name"]!r} is not a '
                              'plain file name in its revision folder', path=shown)
        document = item.get('document')
        if document is not None and not (isinstance(document, str)
                                         and DOCUMENT_KEY.fullmatch(document)):
            raise ReportError(f'file {number} of the manifest: its document {document!r} '
                              'is not a key (letters, digits, _ and -)', path=shown)
        found[item['lang'], document] = item
    languages = {lang for lang, _ in found}
    documents = {document for _, document in found}
    if None in documents and len(documents) > 1:
        raise ReportError('the manifest mixes files of a batch document with files of none',
                          path=shown)
    missing = sorted(f'{d} {lang}' for d in documents - {None} for lang in languages
                     if (lang, d) not in found)
    if missing:
        raise ReportError(f'the manifest has no file for {missing[0]}: every document is '
                          'published in every language', path=shown)
    return found


def distribute(project: Project, edition: str, *, archive: Path, stakeholders: Path,
               ledger_path: Path, transport, sender: Sender | str,
               signature: dict[str, str] | None = None, dry_run: bool = False,
               retries: int = 3, retry_delay: float = 2.0,
               progress: Callable[[Outcome], None] = lambda outcome: None) -> Run:
    """Send the latest published revision of ``edition`` (as :func:`latest_revision`
    finds it) to everyone who has not had it: each document a person receives once."""
    known = known_editions(project, archive)
    revision = latest_revision(archive, edition, known)
    m = revision.manifest
    if isinstance(sender, str):
        sender = parse_sender(sender)
    archived = _archived_files(revision)
    shown_list = shown_path(project, stakeholders)
    people = [p for p in load_stakeholders(stakeholders, shown_list,
                                           list_root(project.root, stakeholders))
              if p.wants(revision.series, revision.edition)]
    parcels, attachments, texts = _prepare(project, archive, revision, archived, people,
                                           known, sender, signature, shown_list)

    run = Run(edition, revision.revision, 'dry run' if dry_run else transport.label)
    ledger = Ledger(ledger_path, shown_path(project, ledger_path))
    try:
        for parcel in parcels:
            person, item = parcel.person, parcel.item
            previous = ledger.get(person.key, revision.series, revision.edition,
                                  revision.revision, parcel.document or '')
            if previous is not None and previous.outcome == 'sent':
                outcome = Outcome(person, 'skipped', f'sent {previous.updated_at}')
            else:
                message = compose_message(m, person, item, attachments[item['name']],
                                          sender, texts[parcel.key])
                if dry_run:
                    outcome = _planned(person, item, sender)
                else:
                    outcome = _deliver(ledger, transport, message, person, sender, revision,
                                       item, retries, retry_delay,
                                       resent=previous is not None
                                       and previous.outcome == 'sending')
            outcome.document = parcel.document
            run.outcomes.append(outcome)
            progress(outcome)
    finally:
        ledger.close()
        transport.close() if not dry_run else None
    return run


def _prepare(project: Project, archive: Path, revision: Revision,
             archived: dict[tuple[str, str | None], dict], people: list[Stakeholder],
             known: set[str], sender: Sender, signature: dict[str, str] | None,
             shown_list: str
             ) -> tuple[list[Parcel], dict[str, bytes], dict[tuple[str, str], Text]]:
    """Everything checked before the first message: who receives which document, the
    templates, the archived files, and every message's text and headers. The messages
    to send, the attachments by file name and the texts by :attr:`Parcel.key`; every
    problem found together otherwise, and nothing is sent."""
    edition = f'{revision.series}/{revision.edition}'
    problems: list[ReportError] = []
    parcels = _parcels(people, revision, archived, known, shown_list, problems)
    templates = _read_templates(project, sorted({p.person.language for p in parcels}),
                                problems)
    attachments = _read_attachments(archive, revision, list(archived.values()),
                                    {p.item['name'] for p in parcels}, problems)
    raise_all(problems, f'edition {edition}: nothing was sent')
    texts: dict[tuple[str, str], Text] = {}
    for parcel in parcels:
        person = parcel.person
        template, shown = templates[person.language]
        signed = (signature or {}).get(person.language) or sender.name or sender.address
        try:
            texts[parcel.key] = render_text(template, shown, person, revision.manifest,
                                            parcel.item, signed)
            check_headers(revision.manifest, person, sender, texts[parcel.key], shown_list,
                          parcel.document)
        except ReportError as error:
            problems.append(error)
    raise_all(unique(problems), f'edition {edition}: nothing was sent')
    return parcels, attachments, texts


def _parcels(people: list[Stakeholder], revision: Revision,
             archived: dict[tuple[str, str | None], dict], known: set[str],
             shown_list: str, problems: list[ReportError]) -> list[Parcel]:
    """The messages to send, in the list's order (a person's documents in their row's
    order); what a row asks that the edition cannot give is added to ``problems``."""
    edition = Offer(revision.series, revision.edition, revision.revision,
                    tuple(dict.fromkeys(lang for lang, _ in archived)),
                    tuple(dict.fromkeys(d for _, d in archived if d is not None)),
                    frozenset(known))
    chosen, found = choose(people, edition, shown_list)
    problems += found
    return [Parcel(person, archived[person.language, document])
            for person, document in chosen]


def _read_templates(project: Project, languages: list[str],
                    problems: list[ReportError]) -> dict[str, tuple]:
    """Each language's message template, compiled, with its path as shown; what is wrong
    with one is added to ``problems``."""
    templates = {}
    for lang in languages:
        path = project.templates / 'email' / f'{lang}.txt.j2'
        shown = shown_path(project, path)
        try:
            source = files.read_text(project.root, path, what='the message template',
                                     shown=shown, limit=TEMPLATE_LIMIT)
            templates[lang] = (template_from(source, shown), shown)
        except FileNotFoundError:
            problems.append(ReportError('the message template is missing', path=shown))
        except ReportError as error:
            problems.append(error)
    return templates


def _read_attachments(archive: Path, revision: Revision, items: list[dict], kept: set[str],
                      problems: list[ReportError]) -> dict[str, bytes]:
    """Every archived PDF of ``items`` (manifest entries) checked against its manifest,
    the ``kept`` ones by file name (the ones sent: a batch edition's others are only
    checked); what is wrong with one is added to ``problems``."""
    attachments: dict[str, bytes] = {}
    for item in items:
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
        if item['name'] in kept:
            attachments[item['name']] = data
    return attachments


def _planned(person: Stakeholder, item: dict, sender: Sender) -> Outcome:
    """What a dry run says it would send to ``person``."""
    needs = international(person.mailbox.wire, sender.mailbox.wire)
    return Outcome(person, 'planned', item['name'] + (
        f'; {needs} is international: it needs a server that accepts SMTPUTF8'
        if needs else ''))


def _deliver(ledger: Ledger, transport, message: EmailMessage, person: Stakeholder,
             sender: Sender, revision: Revision, item: dict, retries: int,
             retry_delay: float, resent: bool) -> Outcome:
    common = dict(email=person.key, name=person.name, series=revision.series,
                  edition=revision.edition, revision=revision.revision,
                  document=item.get('document') or '', language=person.language,
                  attachment=item['name'], sha256=item['sha256'],
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
