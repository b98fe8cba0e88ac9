"""The archive's manifest format (``manifest.json``, format 1), validated with pydantic
when a manifest is read: what :func:`reportkit.publish.publish` writes, and nothing that
could name a file outside its revision's folder."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (BaseModel, ConfigDict, Field, StringConstraints, ValidationError,
                      field_validator, model_validator)

MANIFEST = 'manifest.json'
INDEX = 'index.html'
MANIFEST_FORMAT = 1
NAME_LIMIT = 200
MAX_WEB_DEPTH = 3
"""A web edition's files are at most this many names deep (``fonts/Lato-Bold.ttf``)."""


def name_problem(name: str) -> str | None:
    """Why ``name`` is not a plain file name (one entry of one folder), or None."""
    if not name:
        return 'is empty'
    if len(name) > NAME_LIMIT:
        return f'is {len(name)} characters long; at most {NAME_LIMIT} are allowed'
    if '\x00' in name:
        return 'contains a NUL character'
    if '/' in name or '\\' in name:
        return 'is not a plain file name: it contains a slash or a backslash'
    if '..' in name:
        return 'is not a plain file name: it contains ..'
    if name.startswith('.'):
        return 'starts with a dot (a hidden file)'
    if not name.isprintable():
        return 'contains a control or other unprintable character'
    return None


def _plain(value: str) -> str:
    problem = name_problem(value)
    if problem:
        raise ValueError(f'{printable(repr(value))} {problem}')
    return value


def _iso_date(value: str) -> str:
    dt.date.fromisoformat(value)
    return value


def _iso_time(value: str) -> str:
    dt.datetime.fromisoformat(value)
    return value


Sha256 = Annotated[str, StringConstraints(pattern=r'^[0-9a-f]{64}$')]


class ListedFile(BaseModel):
    """A file of a revision the manifest lists by name, SHA-256 and size."""

    model_config = ConfigDict(strict=True, extra='forbid', frozen=True)

    name: str
    sha256: Sha256
    size: Annotated[int, Field(ge=0)]


class WebFile(ListedFile):
    """One file of a document's web edition, named inside its folder
    (``index.html``, ``charts/goods-trade.svg``)."""

    @field_validator('name')
    @classmethod
    def plain_path(cls, value: str) -> str:
        parts = value.split('/')
        if len(parts) > MAX_WEB_DEPTH:
            raise ValueError(f'{printable(repr(value))} is more than {MAX_WEB_DEPTH} '
                             'folders deep')
        for part in parts:
            _plain(part)
        return value


class WebEdition(BaseModel):
    """A document's web edition: a folder of the revision, beside its PDF."""

    model_config = ConfigDict(strict=True, extra='forbid', frozen=True)

    folder: str
    files: Annotated[list[WebFile], Field(min_length=1)]

    @field_validator('folder')
    @classmethod
    def plain_name(cls, value: str) -> str:
        return _plain(value)

    @model_validator(mode='after')
    def has_its_page(self) -> 'WebEdition':
        names = [item.name for item in self.files]
        if 'index.html' not in names:
            raise ValueError(f'web: the folder {self.folder!r} lists no index.html')
        if len(set(names)) != len(names):
            raise ValueError(f'web: the folder {self.folder!r} lists a file twice')
        return self


class ReviewFile(ListedFile):
    """A document's review form (what ``diff`` compares), beside its PDF."""

    @field_validator('name')
    @classmethod
    def plain_name(cls, value: str) -> str:
        return _plain(value)


class ArchivedFile(BaseModel):
    """One PDF of a revision, as ``files[]`` of its manifest records it, with its web
    edition and its review form (from the revisions published with them)."""

    model_config = ConfigDict(strict=True, extra='allow', frozen=True)

    name: str
    lang: Annotated[str, StringConstraints(pattern=r'^[a-z]{2,3}$')]
    title: str
    sha256: Sha256
    size: Annotated[int, Field(ge=0)]
    pages: Annotated[int, Field(ge=1)]
    attachments: list[str]
    web: WebEdition | None = None
    review: ReviewFile | None = None

    @field_validator('name')
    @classmethod
    def plain_name(cls, value: str) -> str:
        return _plain(value)


class Signature(BaseModel):
    model_config = ConfigDict(strict=True, extra='forbid', frozen=True)

    method: Literal['hmac-sha256']
    value: Annotated[str, StringConstraints(pattern=r'^[0-9a-f]{64}$')]


class Manifest(BaseModel):
    """``manifest.json``, format 1: what :func:`publish._manifest` writes. Keys this
    model does not name are kept (and signed) but not interpreted."""

    model_config = ConfigDict(strict=True, extra='allow', frozen=True)

    format: Literal[1]
    series: str
    edition: str
    revision: Annotated[int, Field(ge=1)]
    status: Literal['final']
    publication_date: str
    published_at: str
    revision_note: dict[str, str] | None
    data_through: int | None = None
    """Written by editions before their window was their publication date."""
    pdf_variant: str
    files: Annotated[list[ArchivedFile], Field(min_length=1)]
    inputs: dict[str, Any]
    software: dict[str, str]
    signature: Signature | None = None

    @field_validator('series', 'edition')
    @classmethod
    def plain_names(cls, value: str) -> str:
        return _plain(value)

    @field_validator('publication_date')
    @classmethod
    def iso_date(cls, value: str) -> str:
        return _iso_date(value)

    @field_validator('published_at')
    @classmethod
    def iso_time(cls, value: str) -> str:
        return _iso_time(value)

    @model_validator(mode='after')
    def distinct_names(self) -> 'Manifest':
        seen = set()
        for item in self.files:
            names = [item.name] + ([item.web.folder] if item.web else []) + \
                ([item.review.name] if item.review else [])
            for name in names:
                if name in (MANIFEST, INDEX):
                    raise ValueError(f'files: {name!r} is not an archived PDF')
                if name in seen:
                    raise ValueError(f'files: {name!r} is listed twice')
                seen.add(name)
        return self


def validation_message(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        where = ''
        for part in item['loc']:
            where += f'[{part}]' if isinstance(part, int) else (f'.{part}' if where else
                                                                str(part))
        message = item['msg'].removeprefix('Value error, ')
        if item['type'] == 'missing':
            message = 'missing'
        problems.append(f'{where}: {message}' if where else message)
    more = len(problems) - 1
    text = problems[0] + (f' (and {more} more problem{"s" if more > 1 else ""})'
                          if more else '')
    return printable(f'not a valid archive manifest: {text}')


def printable(text: str) -> str:
    """Text safe to print: lone surrogates and controls escaped."""
    text = text.encode('utf-8', 'backslashreplace').decode('utf-8')
    return ''.join(c if c.isprintable() else repr(c)[1:-1] for c in text)
