"""The stakeholder list: who receives which editions, in which language.

A CSV file with the columns ``name,email,organization,language`` and two optional ones:
``editions``, the editions a person receives, named as on the command line (``2015``
when one series has an edition of that name, ``<series>/<edition>`` always; empty means
every edition), and ``documents``, the documents of a batch edition they receive (its
rows' keys, ``MI; OH``, in any case). Both are separated by semicolons, commas or
spaces. The list is checked like the data: every problem names its row. What a row
receives of one edition (and whether its documents are the edition's) is
:func:`choose`'s to say, given what the edition offers.

Addresses are checked here, by one function (:func:`check_address`) used for every
address the distribution handles: the stakeholders' and the sender's. Each has one
canonical form (:func:`address_key`), used for the duplicate check, as the ledger's key
and in the Message-ID.
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from dataclasses import dataclass
from email.headerregistry import Address
from pathlib import Path

from email_validator import EmailNotValidError, validate_email

from reportkit import files
from reportkit.typography import LANGUAGES
from reportkit.errors import DataError, ReportError, raise_all

COLUMNS = ('name', 'email', 'organization', 'language')
OPTIONAL = ('editions', 'documents')
EDITION_NAME = re.compile(r'(?:[A-Za-z0-9][A-Za-z0-9_-]{0,63}/)?[A-Za-z0-9][A-Za-z0-9_-]{0,63}')
"""An edition as the list names it: ``<edition>`` or ``<series>/<edition>``."""
DOCUMENT_KEY = re.compile(r'[A-Za-z0-9][A-Za-z0-9_-]{0,63}')
"""A batch document's key as the list names it (a row's key: ``MI``)."""
LIST_LIMIT = 10 * files.MB
"""The largest stakeholder list read (about 100,000 rows)."""
CELL_LIMIT = 200
"""The longest name or organization, in characters."""

# Characters refused in every cell and in the sender's name: control characters
# (including CR, LF, NEL), Unicode line and paragraph separators (U+2028, U+2029) and
# invisible format characters (bidirectional overrides, byte-order marks…), which could
# end a header line in some mail program or make a name read differently from what it
# is. Zero-width (non-)joiners are part of the correct spelling of some names.
_UNSAFE_CATEGORIES = frozenset({'Cc', 'Cf', 'Cs', 'Zl', 'Zp'})
_ALLOWED_FORMAT = frozenset({'\u200c', '\u200d'})   # ZWNJ, ZWJ
_CONTROL_NAMES = {'\t': 'TAB', '\n': 'LINE FEED', '\r': 'CARRIAGE RETURN',
                  '\x0b': 'LINE TABULATION', '\x0c': 'FORM FEED', '\x85': 'NEXT LINE',
                  '\x00': 'NUL', '\x1b': 'ESCAPE', '\x7f': 'DELETE'}


def unsafe_character(text: str) -> str | None:
    """A description of the first character of ``text`` that has no place in a name or a
    header ("U+2028 LINE SEPARATOR"), or None when there is none."""
    for ch in text:
        if unicodedata.category(ch) in _UNSAFE_CATEGORIES and ch not in _ALLOWED_FORMAT:
            name = _CONTROL_NAMES.get(ch) or unicodedata.name(ch, 'CONTROL CHARACTER')
            return f'U+{ord(ch):04X} {name}'
    return None


def address_key(address: str) -> str:
    """The canonical form of a normalized address: the ledger's key, the duplicate check
    and the Message-ID all use it.

    It is the address as email-validator normalizes it (the domain in lower case and
    IDNA-normalized, the local part in Unicode NFC) with the local part lower-cased too.
    In theory the local part is case-sensitive (RFC 5321), but no real mail system treats
    ``Alex.Martin@`` and ``alex.martin@`` as two mailboxes, and a list retyped from a
    spreadsheet changes case: so both are one stakeholder, who gets each revision once.
    """
    return address.lower()


@dataclass(frozen=True)
class Mailbox:
    """A checked address, in the forms the distribution needs."""

    address: str
    """Normalized (email-validator): what is shown."""
    key: str
    """The canonical form (:func:`address_key`)."""
    wire: str
    """What goes into the envelope and the headers: the ASCII form (an international
    domain in its ``xn--`` form) unless the local part itself is international."""
    ascii_domain: str
    """The domain in ASCII (``xn--`` form when international)."""

    @property
    def international(self) -> bool:
        """The address needs a server that accepts SMTPUTF8 (RFC 6531)."""
        return not self.wire.isascii()

    def header(self, display_name: str = '') -> Address:
        """The header value, built by the standard library (a display name is quoted or
        encoded, never able to add an address)."""
        local, _, domain = self.wire.rpartition('@')
        return Address(display_name=display_name, username=local, domain=domain)


def check_address(text: str) -> Mailbox:
    """``text`` as a checked address; ValueError with the reason otherwise."""
    problem = unsafe_character(text)
    if problem:
        raise ValueError(f'contains a line break or another control character ({problem})')
    try:
        valid = validate_email(text, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError(str(error)) from None
    wire = valid.ascii_email or valid.normalized
    return Mailbox(valid.normalized, address_key(valid.normalized), wire, valid.ascii_domain)


@dataclass(frozen=True)
class Stakeholder:
    name: str
    email: str
    """Normalized address (lower-case domain), as shown."""
    organization: str
    language: str
    editions: frozenset[str]
    """Editions wanted (``2015``, ``<series>/<edition>``); empty means all."""
    line: int
    mailbox: Mailbox | None = None
    documents: tuple[str, ...] = ()
    """The batch documents wanted, as the list gives them, in its order, each once
    (whatever its case)."""

    def __post_init__(self) -> None:
        if self.mailbox is None:
            object.__setattr__(self, 'mailbox', check_address(self.email))

    @property
    def key(self) -> str:
        """The canonical address: the ledger's key."""
        return self.mailbox.key

    def wants(self, series: str, edition: str) -> bool:
        """Whether the person receives ``edition`` of ``series`` (an entry names it alone
        or with its series; :func:`choose` refuses one that could mean several series)."""
        return not self.editions or bool({edition, f'{series}/{edition}'} & self.editions)


@dataclass(frozen=True)
class Offer:
    """What one revision of an edition has to send: its languages and documents."""

    series: str
    edition: str
    revision: int
    languages: tuple[str, ...]
    documents: tuple[str, ...]
    """A batch edition's document keys, in its order; () for one per language."""
    known: frozenset[str] = frozenset()
    """Every edition's full name (``<series>/<edition>``) the project and archive hold:
    what an edition named alone in the list could mean."""

    @property
    def name(self) -> str:
        return f'{self.series}/{self.edition}'


def choose(people: list[Stakeholder], offer: Offer,
           shown: str) -> tuple[list[tuple[Stakeholder, str | None]], list[ReportError]]:
    """What each of ``people`` (who want the edition) receives of ``offer``: (person,
    document key or None) in the list's order, a person's documents in their row's
    order, each once; and the problems, each naming the list ``shown`` and the row."""
    chosen: list[tuple[Stakeholder, str | None]] = []
    problems: list[ReportError] = []
    keys = {d.casefold(): d for d in offer.documents}
    for person in people:
        problem = _refusal(person, offer, keys)
        if problem:
            problems.append(DataError(problem, path=shown, line=person.line))
        elif not offer.documents:
            chosen.append((person, None))
        else:
            chosen += [(person, keys[d.casefold()]) for d in person.documents]
    return chosen, problems


def _refusal(person: Stakeholder, offer: Offer, keys: dict[str, str]) -> str | None:
    """Why ``person``'s row asks what ``offer`` cannot give, or None."""
    listed = ', '.join(offer.documents[:8]) + (
        f', … ({len(offer.documents)} in all)' if len(offer.documents) > 8 else '')
    others = sorted(name for name in offer.known - {offer.name}
                    if name.split('/', 1)[-1] == offer.edition)
    if offer.edition in person.editions and offer.name not in person.editions and others:
        return (f"column 'editions': {offer.edition!r} could be "
                f"{' or '.join([offer.name] + others)}: write the one this person receives, "
                f'e.g. {offer.name}')
    if person.language not in offer.languages:
        return (f'{person.email} wants {person.language}, but edition {offer.name} revision '
                f'{offer.revision} was published in {", ".join(offer.languages)} only')
    if not offer.documents:
        return None if not person.documents else (
            f"column 'documents': edition {offer.name} is one document per language, with "
            f'no documents to choose from ({person.documents[0]!r}): leave the cell empty, '
            "or name in 'editions' the batch editions this row is for")
    if not person.documents:
        return (f"column 'documents': empty, but edition {offer.name} is one document per "
                f'row of its data ({listed}): name the ones this person receives')
    unknown = [d for d in person.documents if d.casefold() not in keys]
    if unknown:
        return (f"column 'documents': {unknown[0]!r} is not a document of edition "
                f'{offer.name} (its documents: {listed})')
    return None


def list_root(project_root: Path, path: Path) -> tuple[Path, str]:
    """The folder a stakeholder list must lie in (symlinks followed), and its name for
    messages: the project when the list is in it, else the folder ``--list`` names it in
    (a symlink there that leads out of it is refused, as one in the project is)."""
    path = Path(os.path.abspath(path))
    if path.is_relative_to(project_root):
        return project_root, 'the project'
    return path.parent, f'the folder {path.parent.name}/'


def load_stakeholders(path: Path, shown: str,
                      root: tuple[Path, str] | None = None) -> list[Stakeholder]:
    """The checked list at ``path``, which must be a regular file of at most 10 MB
    inside ``root`` (a folder and its name, from :func:`list_root`; by default the folder
    the list is in)."""
    if root is None:
        folder = Path(os.path.abspath(path)).parent
        root, place = folder, f'the folder {folder.name}/'
    else:
        root, place = root
    try:
        text = files.read_text(root, path, what='the stakeholder list', shown=shown,
                               limit=LIST_LIMIT, error=DataError, place=place)
    except FileNotFoundError:
        raise ReportError('no stakeholder list here: create it (columns name, email, '
                          'organization, language, and optionally editions and '
                          'documents), or name another with --list', path=shown) from None
    reader = csv.reader(io.StringIO(text, newline=''))
    try:
        return _check_rows(reader, shown)
    except csv.Error as error:
        raise DataError(f'not a readable CSV file ({error})', path=shown,
                        line=reader.line_num or 1) from None


def _check_rows(reader, shown: str) -> list[Stakeholder]:
    header = [cell.strip() for cell in next(reader, [])]
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS + OPTIONAL]
    twice = sorted({c for c in header if header.count(c) > 1})
    if missing or unknown or twice:
        parts = []
        if missing:
            parts.append('missing column ' + ', '.join(f"'{c}'" for c in missing))
        if unknown:
            parts.append('unexpected column ' + ', '.join(f"'{c}'" for c in unknown))
        if twice:
            parts.append('column ' + ', '.join(f"'{c}'" for c in twice) + ' given twice')
        raise DataError('; '.join(parts) + f" (expected: {', '.join(COLUMNS)}"
                        '[, editions][, documents])',
                        path=shown, line=1)
    problems: list[ReportError] = []
    people: list[Stakeholder] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(DataError(f'expected {len(header)} cells, found {len(row)}',
                                      path=shown, line=line))
            continue
        cells = {column: cell.strip() for column, cell in zip(header, row)}
        if not cells['name']:
            problems.append(DataError("column 'name': empty", path=shown, line=line))
        try:
            person = _person(cells, shown, line)
        except DataError as error:
            problems.append(error)
            continue
        if person.key in seen:
            problems.append(DataError(f'duplicate address {person.email} (first on line '
                                      f'{seen[person.key]})', path=shown, line=line))
            continue
        seen[person.key] = line
        people.append(person)
    raise_all(problems, f'{shown}: the stakeholder list has problems')
    if not people:
        raise DataError('the stakeholder list has no one in it', path=shown, line=2)
    return people


def _person(cells: dict[str, str], shown: str, line: int) -> Stakeholder:
    """The stakeholder of one row, checked (but for an empty name); a DataError naming
    the row otherwise."""
    where = dict(path=shown, line=line)
    broken = [(c, unsafe_character(cells.get(c, ''))) for c in COLUMNS + OPTIONAL]
    broken = [(c, problem) for c, problem in broken if problem]
    if broken:   # a line break in a name would break the message's headers
        column, problem = broken[0]
        raise DataError(f"column '{column}': contains a line break or another control "
                        f'character ({problem})', **where)
    long = [c for c in ('name', 'organization') if len(cells[c]) > CELL_LIMIT]
    if long:
        raise DataError(f"column '{long[0]}': {len(cells[long[0]]):,} characters; at most "
                        f'{CELL_LIMIT} are allowed', **where)
    try:
        mailbox = check_address(cells['email'])
    except ValueError as error:
        raise DataError(f"column 'email': {_shown(cells['email'])} is not a valid address "
                        f'({error})', **where) from None
    language = cells['language'].lower()
    if language not in LANGUAGES:
        raise DataError(f"column 'language': {_shown(cells['language'])} is not one of "
                        f"{', '.join(LANGUAGES)}", **where)
    editions = _words(cells.get('editions', ''))
    bad = [e for e in editions if not EDITION_NAME.fullmatch(e)]
    if bad:
        raise DataError(f"column 'editions': {_shown(bad[0])} is not an edition (write "
                        'edition names, e.g. 2015; <series>/<edition>)', **where)
    documents = _words(cells.get('documents', ''))
    bad = [d for d in documents if not DOCUMENT_KEY.fullmatch(d)]
    if bad:
        raise DataError(f"column 'documents': {_shown(bad[0])} is not a document key "
                        "(write the keys of the edition's documents, e.g. MI; OH)", **where)
    once: dict[str, str] = {}
    for document in documents:   # each once, as first spelled: 'mi; MI' is one document
        once.setdefault(document.casefold(), document)
    return Stakeholder(cells['name'], mailbox.address, cells['organization'], language,
                       frozenset(editions), line, mailbox, tuple(once.values()))


def _words(cell: str) -> list[str]:
    """The entries of a cell separated by semicolons, commas or spaces."""
    return [word for word in re.split(r'[\s;,]+', cell) if word]


def _shown(value: str) -> str:
    """A cell as quoted in a message (shortened: a message stays one readable line)."""
    return repr(value if len(value) <= 80 else value[:77] + '...')
