"""The stakeholder list: who receives which editions, in which language.

A CSV file with the columns ``name,email,organization,language`` and an optional
``editions`` (edition ids separated by spaces or semicolons; empty means every
edition). It is checked like the data: every problem names its row.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from email_validator import EmailNotValidError, validate_email

from .config import LANGUAGES
from .errors import DataError, ReportError, raise_all

COLUMNS = ('name', 'email', 'organization', 'language')
OPTIONAL = ('editions',)


@dataclass(frozen=True)
class Stakeholder:
    name: str
    email: str
    """Normalized address (lower-case domain)."""
    organization: str
    language: str
    editions: frozenset[str]
    """Editions wanted; empty means all."""
    line: int

    def wants(self, edition: str) -> bool:
        return not self.editions or edition in self.editions


def load_stakeholders(path: Path, shown: str) -> list[Stakeholder]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ReportError('no stakeholder list here: create it (columns name, email, '
                          'organization, language, and optionally editions), or name '
                          'another with --list', path=shown) from None
    try:
        text = raw.decode('utf-8-sig')
    except UnicodeDecodeError as error:
        raise DataError('not UTF-8 text; save the list as CSV UTF-8', path=shown,
                        line=raw[:error.start].count(b'\n') + 1) from None
    reader = csv.reader(io.StringIO(text, newline=''))
    header = [cell.strip() for cell in next(reader, [])]
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS + OPTIONAL]
    if missing or unknown:
        parts = []
        if missing:
            parts.append('missing column ' + ', '.join(f"'{c}'" for c in missing))
        if unknown:
            parts.append('unexpected column ' + ', '.join(f"'{c}'" for c in unknown))
        raise DataError('; '.join(parts) + f" (expected: {', '.join(COLUMNS)}[, editions])",
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
        where = dict(path=shown, line=line)
        if not cells['name']:
            problems.append(DataError("column 'name': empty", **where))
        broken = [c for c in COLUMNS + OPTIONAL
                  if any(ord(ch) < 32 or ch == '\x7f' for ch in cells.get(c, ''))]
        if broken:   # a line break in a name would break the message's headers
            problems.append(DataError(f"column '{broken[0]}': contains a line break or "
                                      'another control character', **where))
            continue
        try:
            email = validate_email(cells['email'], check_deliverability=False).normalized
        except EmailNotValidError as error:
            problems.append(DataError(f"column 'email': {cells['email']!r} is not a valid "
                                      f'address ({error})', **where))
            continue
        language = cells['language'].lower()
        if language not in LANGUAGES:
            problems.append(DataError(f"column 'language': {cells['language']!r} is not one "
                                      f"of {', '.join(LANGUAGES)}", **where))
            continue
        editions = frozenset(e for e in re.split(r'[\s;,]+', cells.get('editions', '')) if e)
        bad = sorted(e for e in editions if not re.fullmatch(r'\d{4}', e))
        if bad:
            problems.append(DataError(f"column 'editions': {bad[0]!r} is not an edition "
                                      '(write years, e.g. 2014; 2015)', **where))
            continue
        key = email.lower()
        if key in seen:
            problems.append(DataError(f'duplicate address {email} (first on line '
                                      f'{seen[key]})', **where))
            continue
        seen[key] = line
        people.append(Stakeholder(cells['name'], email, cells['organization'], language,
                                  editions, line))
    raise_all(problems, f'{shown}: the stakeholder list has problems')
    if not people:
        raise DataError('the stakeholder list has no one in it', path=shown, line=2)
    return people
