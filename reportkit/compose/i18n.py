"""The words templates add (Contents, Figure, Page X of Y…), per language, via gettext.

English is the source language: its words are the message ids in the templates.
Other languages have a catalogue ``templates/locale/<lang>/LC_MESSAGES/messages.po``,
read with Babel. A message without a translation stops the build (never a silent
fallback to English).
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass, field
from pathlib import Path

import jinja2.ext
from babel.messages.extract import extract_python
from babel.messages.pofile import read_po

from reportkit.errors import ContentError
from reportkit.files import MB, read_bytes
from reportkit.project import Project
from reportkit.typography import for_language

SOURCE_LANGUAGE = 'en'
MAX_CATALOGUE_BYTES = 2 * MB
MAX_TEMPLATE_BYTES = 1 * MB
"""Templates and catalogues are tens of KB."""
TEMPLATE_SUFFIXES = ('.j2',)
PYTHON_SOURCES = ('compose.py', 'web.py')
"""Modules of reportkit whose ``_()`` and ``N_()`` calls name messages."""


@dataclass
class Messages:
    """gettext for one language; remembers every message asked for."""

    lang: str
    catalogue: dict[str, str] | None
    """msgid -> msgstr; None for the source language."""
    shown: str = ''
    used: set[str] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)

    def gettext(self, message: str) -> str:
        self.used.add(message)
        if self.catalogue is None:
            return message
        translated = self.catalogue.get(message)
        if not translated:
            self.missing.add(message)
            return message
        return for_language(translated, self.lang)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)

    def check(self) -> None:
        """Raise with every message that had no translation."""
        if self.missing:
            listing = ', '.join(f'"{m}"' for m in sorted(self.missing))
            raise ContentError(f'{len(self.missing)} message(s) have no {self.lang} '
                               f'translation: {listing}', path=self.shown)


def catalogue_path(project: Project, lang: str) -> Path:
    return project.templates / 'locale' / lang / 'LC_MESSAGES' / 'messages.po'


def load_messages(project: Project, lang: str) -> Messages:
    if lang == SOURCE_LANGUAGE:
        return Messages(lang, None)
    path = catalogue_path(project, lang)
    shown = project.show(path)
    try:
        data = read_bytes(project.root, path, what='the message catalogue', shown=shown,
                          limit=MAX_CATALOGUE_BYTES, error=ContentError)
    except FileNotFoundError:
        raise ContentError(f'no message catalogue for language {lang!r}', path=shown) from None
    catalog = read_po(io.BytesIO(data), locale=lang)
    entries = {message.id: message.string for message in catalog
               if message.id and isinstance(message.id, str) and not message.fuzzy}
    return Messages(lang, entries, shown)


@dataclass(frozen=True)
class MessageUse:
    message: str
    where: str
    """File and line where the message is used, as shown to users."""


NOT_IN_A_DOCUMENT = ('archive', 'email')
"""Template folders of the publications page and of the messages to stakeholders: their
words are checked when those are made (publish, distribute), not by a document's build."""


def extract_messages(project: Project, documents_only: bool = False) -> list[MessageUse]:
    """Every message the templates and the composing code use (read from the sources,
    as gettext tools do), in order of first use; ``documents_only``: those of the
    templates a document is made from."""
    found: dict[str, MessageUse] = {}
    skipped = [project.templates / name for name in NOT_IN_A_DOCUMENT] if documents_only \
        else []
    folders = [project.templates] + [project.series_dir(name) / 'templates'
                                      for name in project.series()]
    paths = [path for folder in folders if folder.is_dir() for path in sorted(folder.rglob('*'))]
    for path in paths:
        if path.suffix not in TEMPLATE_SUFFIXES or not path.is_file() or \
                any(path.is_relative_to(folder) for folder in skipped):
            continue
        data = read_bytes(project.root, path, what='the template', shown=project.show(path),
                          limit=MAX_TEMPLATE_BYTES, error=ContentError)
        for line, message in _messages_in(data, template=True):
            found.setdefault(message, MessageUse(message, f'{project.show(path)}:{line}'))
    package = Path(__file__).parent
    for name in PYTHON_SOURCES:
        for line, message in _messages_in((package / name).read_bytes(), template=False):
            found.setdefault(message, MessageUse(message, f'reportkit/compose/{name}:{line}'))
    return list(found.values())


@functools.lru_cache(maxsize=256)
def _messages_in(data: bytes, template: bool) -> tuple[tuple[int, str], ...]:
    """(line, message) of each message a template's (or a Python module's) text uses;
    worked out once per text in a process (a batch asks for it per document)."""
    if template:
        found = jinja2.ext.babel_extract(io.BytesIO(data), ('_', 'gettext'), [],
                                         {'trim_blocks': 'true', 'lstrip_blocks': 'true'})
    else:
        found = extract_python(io.BytesIO(data), {'_': None, 'N_': None}, [], {})
    messages = []
    for line, _func, message, _comments in found:
        if isinstance(message, tuple) and message and not any(message[1:]):
            message = message[0]    # _('… %(number)s …', number=n): the rest are its values
        if isinstance(message, str):
            messages.append((line, message))
    return tuple(messages)


def missing_messages(project: Project, lang: str) -> list[ContentError]:
    """Each message used but not translated into ``lang`` in its catalogue."""
    if lang == SOURCE_LANGUAGE:
        return []
    try:
        messages = load_messages(project, lang)
    except ContentError as error:
        return [error]
    return [ContentError(f'message "{use.message}" (used in {use.where}) has no {lang} '
                         'translation', path=messages.shown)
            for use in extract_messages(project, documents_only=True)
            if not (messages.catalogue or {}).get(use.message)]
