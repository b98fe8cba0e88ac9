"""The edition configuration (``reports/<edition>/edition.toml``) as a typed schema."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (BaseModel, ConfigDict, Field, ValidationError, field_validator,
                      model_validator)

from reportkit.errors import ConfigError, raise_all
from reportkit.files import KB, read_text
from reportkit.safety.policy import Text, Title
from reportkit.load.series import ValueSpec

Localized = dict[str, Title]
"""Text in every language of the edition, keyed by language code ('en', 'fr')."""

NAME = r'^[a-z0-9][a-z0-9-]{0,63}$'
"""A section or figure id: a plain name (lower-case letters, digits, hyphens), never a
path, so that an entry cannot reach a file outside its folder."""
Name = Annotated[str, Field(pattern=NAME)]
FIRST_YEAR, LAST_YEAR = 1900, 2200
"""Years an edition may cover."""
MAX_CONFIG_BYTES = 256 * KB
"""An edition's settings are a few KB of TOML."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra='forbid', frozen=True, strict=True)


class Publisher(_Strict):
    """Who publishes the report, and how to reach them (inside cover)."""

    name: Localized
    """Publishing organisation and team."""
    address: dict[str, list[Title]]
    """Postal address lines, per language."""
    fax: Title | None = None
    email: Title | None = None
    copyright: Localized
    """Copyright line, e.g. '© His Majesty the King in Right of Canada, 2016'."""


class EditionConfig(_Strict):
    """One edition of a report series, in every language it is published in."""

    id: str = Field(pattern=r'^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$')
    """Edition id, also its folder's name under reports/<series>/ (its form is the
    series' ``editions``)."""
    series: Name
    """The series' short name: its folder under reports/, part of every file name."""
    year: int = Field(ge=FIRST_YEAR, le=LAST_YEAR)
    """The year the report covers."""
    data_through: None = None
    """No longer set (refused with a message saying why): an edition shows what was
    published by its ``publication_date`` (:mod:`reportkit.data.known`)."""
    revision: int = Field(ge=1)
    """1 for the first release; corrected releases count up."""
    revision_note: dict[str, Text] | None = None
    """What changed in this revision (required after the first)."""
    status: Literal['draft', 'final']
    publication_date: dt.date
    languages: list[Annotated[str, Field(pattern=r'^[a-z]{2,3}$')]] = Field(min_length=1)
    """A subset of the series' languages."""
    title: Localized
    subtitle: Localized
    author: Localized
    subject: Localized
    keywords: dict[str, list[Title]]
    catalogue_number: Localized | None = None
    """Assigned by the Depository Services Program; required for a final edition."""
    isbn: Localized | None = None
    """ISBN-13 per language; required for a final edition."""
    publisher: Publisher
    sections: list[Name] = Field(min_length=1)
    """Section ids in reading order; each is reports/<id>/<lang>/<section>.md."""
    figures: list[Name] = Field(default_factory=list)
    """Chart ids (the series' chart definitions) drawn for this edition."""
    values: dict[str, ValueSpec] = Field(default_factory=dict)
    """Values of this edition only, beside the series' (e.g. from this year's data)."""

    @field_validator('data_through', mode='before')
    @classmethod
    def _no_cut_off(cls, value):
        raise ValueError('an edition no longer sets the last year of its data: it shows '
                         'what was published by its publication_date (each dataset says '
                         "when, as 'released' in data/datasets.toml); remove this line")

    @model_validator(mode='after')
    def _check(self) -> 'EditionConfig':
        problems = []
        if len(set(self.sections)) != len(self.sections):
            problems.append('sections: a section is listed twice')
        if len(set(self.figures)) != len(self.figures):
            problems.append('figures: a figure is listed twice')
        for lang, isbn in (self.isbn or {}).items():
            if not isbn_valid(isbn):
                problems.append(f"isbn.{lang}: '{isbn}' is not a valid ISBN-13 "
                                '(13 digits with hyphens, check digit last)')
        if self.revision > 1 and self.revision_note is None:
            problems.append(f'revision: revision {self.revision} needs a revision_note '
                            'saying what changed since the last revision')
        for key, text in self._localized():
            for lang in self.languages:
                if lang not in text:
                    problems.append(f'{key}.{lang}: missing translation')
        if problems:
            raise ValueError('; '.join(problems))
        return self

    def _localized(self):
        for name in ('title', 'subtitle', 'author', 'subject', 'keywords',
                     'catalogue_number', 'isbn', 'revision_note'):
            value = getattr(self, name)
            if value is not None:
                yield name, value
        for name in ('name', 'address', 'copyright'):
            yield f'publisher.{name}', getattr(self.publisher, name)


def isbn_valid(isbn: str) -> bool:
    digits = isbn.replace('-', '')
    if not re.fullmatch(r'97[89]\d{10}', digits):
        return False
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits[:12]))
    return (10 - total % 10) % 10 == int(digits[12])


def load_config(path: Path, shown: str, root: Path) -> EditionConfig:
    """Read and validate ``edition.toml`` (a file inside ``root``, the project); every
    problem is reported at once.

    ``shown`` is the path as the user should see it in messages.
    """
    return load_model(root, path, shown, EditionConfig, 'the edition configuration',
                      MAX_CONFIG_BYTES, 'edition configuration not found')


def load_model(root: Path, path: Path, shown: str, model, what: str, limit: int,
               missing: str):
    """A TOML file inside ``root`` read by the containment rule and validated by the
    pydantic ``model``; every problem with its line, at once."""
    try:
        text = read_text(root, path, what=what, shown=shown, limit=limit, error=ConfigError)
    except FileNotFoundError:
        raise ConfigError(missing, path=shown) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise toml_problem(error, shown) from None
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise_all(validation_problems(error, text, shown), f'{shown}: {what} is not valid')
        raise AssertionError('unreachable')  # pragma: no cover


def toml_problem(error: tomllib.TOMLDecodeError, shown: str) -> ConfigError:
    """A TOML syntax error as a message with its line."""
    match = re.search(r'\(at line (\d+), column \d+\)', str(error))
    message = re.sub(r'\s*\(at line .*\)', '', str(error))
    return ConfigError(f'not valid TOML: {message}', path=shown,
                       line=int(match[1]) if match else None)


def validation_problems(error: ValidationError, text: str, shown: str) -> list[ConfigError]:
    return [_problem(item, text, shown) for item in error.errors()]


def _problem(item: dict, text: str, shown: str) -> ConfigError:
    loc = [str(part) for part in item['loc']]
    kind = item['type']
    if kind == 'value_error' and loc:
        message = f"'{'.'.join(loc)}': {item['ctx']['error']}"
        return ConfigError(message, path=shown, line=_line_of(text, loc))
    if kind == 'value_error':
        # Our own cross-field checks: one message may hold several problems.
        message = str(item['ctx']['error'])
        key = message.split(':', 1)[0]
        return ConfigError(message, path=shown, line=_line_of(text, key.split('.')))
    key = '.'.join(loc)
    if kind == 'string_pattern_mismatch' and loc[0] in ('sections', 'figures', 'series'):
        what = {'sections': 'section', 'figures': 'figure', 'series': 'series'}[loc[0]]
        message = (f"'{loc[0]}': {_clip(item.get('input'))} is not a {what} name: write "
                   'lower-case letters, digits and hyphens (a name, not a path)')
    elif kind == 'string_pattern_mismatch' and loc == ['id']:
        message = (f"'id': {_clip(item.get('input'))} is not an edition id: letters, "
                   'digits and hyphens, the name of its folder (e.g. "2016")')
    elif kind == 'missing':
        message = f"'{key}': required key is missing"
    elif kind == 'extra_forbidden':
        message = f"'{key}': unknown key"
    else:
        got = item.get('input')
        message = f"'{key}': {item['msg'].lower()}, got {_clip(got)}"
    return ConfigError(message, path=shown, line=_line_of(text, loc))


def _clip(value) -> str:
    """A value for a message: quoted, and cut short when long."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + '…'


def _line_of(text: str, loc: list[str]) -> int | None:
    """Best-effort line number of a key path in TOML text (None when absent)."""
    names = [part for part in loc if not part.isdigit()]
    if not names:
        return None
    lines = text.splitlines()
    start = 0
    # Look inside the [table] for nested keys.
    for depth in range(len(names) - 1, 0, -1):
        header = re.compile(r'^\s*\[\s*' + r'\s*\.\s*'.join(map(re.escape, names[:depth]))
                            + r'\s*\]')
        for number, line in enumerate(lines):
            if header.match(line):
                start = number + 1
                break
        else:
            continue
        names = names[depth:]
        break
    key = re.compile(r'^\s*(' + re.escape(names[0]) + r'\s*=|\[\s*' + re.escape(names[0])
                     + r'\s*[.\]])')
    for number in range(start, len(lines)):
        if key.match(lines[number]):
            return number + 1
    return None
