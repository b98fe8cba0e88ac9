"""The words templates add (Contents, Figure, Page X of Y…), per language, via gettext.

English is the source language: its words are the message ids in the templates.
Other languages have a catalogue ``templates/locale/<lang>/LC_MESSAGES/messages.po``,
read with Babel. A message without a translation stops the build (never a silent
fallback to English).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.pofile import read_po

from .errors import ContentError
from .project import Project
from .typography import for_language

SOURCE_LANGUAGE = 'en'


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
    if not path.is_file():
        raise ContentError(f'no message catalogue for language {lang!r}', path=shown)
    with path.open('rb') as stream:
        catalog = read_po(stream, locale=lang)
    entries = {message.id: message.string for message in catalog
               if message.id and isinstance(message.id, str) and not message.fuzzy}
    return Messages(lang, entries, shown)
