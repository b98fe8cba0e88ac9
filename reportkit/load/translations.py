"""Which translations are up to date: each translated section records the source section
it was brought up to date with (``translated_from:`` in its front matter, the source's
digest), set by ``translations EDITION --done SECTION``, never guessed from file times.

A translation is *current* when the source section (in the series' source language) is
still what it records; *out of date* when the source changed since; *not recorded* when
it never said. When it records, the source as it was is kept beside the edition
(``translation-sources/<digest>.md``), so that what changed since can be shown.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from reportkit.compose.i18n import SOURCE_LANGUAGE
from reportkit.errors import ContentError, ReportError
from reportkit.files import read_text, write_atomically
from reportkit.textdiff import marked
from reportkit.load.edition import MAX_SECTION_BYTES, Edition, Section, load_edition
from reportkit.project import Project

SOURCES = 'translation-sources'
"""The folder, in an edition's folder, of the sources as they were when translated."""
CURRENT, STALE, UNRECORDED = 'current', 'out of date', 'not recorded'


def digest(section: Section) -> str:
    """What a translator translates of a section (its titles and text), in 16 hex digits."""
    text = '\n'.join([section.title, section.short_title, section.body])
    return hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]


def source_text(section: Section) -> str:
    return f'title: {section.title}\nshort_title: {section.short_title}\n---\n{section.body}'


@dataclass
class Translation:
    section: Section
    source: Section
    state: str

    def changes(self, project: Project, folder: Path) -> list[str]:
        """The source's changes since the translation was brought up to date (a unified
        diff of its lines), when the source as it was is kept."""
        if self.state != STALE:
            return []
        kept = folder / SOURCES / f'{self.section.translated_from}.md'
        try:
            old = read_text(project.root, kept, what='the source as translated',
                            shown=project.show(kept), limit=MAX_SECTION_BYTES)
        except (FileNotFoundError, ReportError):
            return [f'(the source as it was translated is not kept: {project.show(kept)})']
        lines = list(difflib.unified_diff(old.splitlines(), source_text(self.source).splitlines(),
                                          'as translated', 'now', lineterm='', n=0))[2:]
        return _by_words(lines)


def _by_words(lines: list[str]) -> list[str]:
    """A diff's lines, each line replaced by one line (a ``-`` followed by a ``+``) shown
    as ``~ `` and its words: ``[-removed-]{+added+}``, the rest as it is."""
    shown, n = [], 0
    while n < len(lines):
        line = lines[n]
        if line.startswith('-') and n + 1 < len(lines) and lines[n + 1].startswith('+'):
            shown.append('~ ' + marked(line[1:], lines[n + 1][1:]))
            n += 2
        else:
            shown.append(line)
            n += 1
    return shown


def translations(project: Project, name: str, languages: list[str] | None = None
                 ) -> tuple[Path, list[Translation]]:
    """The edition's folder and every translated section's state (source language aside)."""
    edition = load_edition(project, name)
    return edition.folder, _states(project, edition, languages)


def _states(project: Project, edition: Edition, languages: list[str] | None) -> list[Translation]:
    """The state of each translated section the ``edition`` holds (of ``languages``); the
    source sections are read only when the edition was loaded without them."""
    source_lang = SOURCE_LANGUAGE if SOURCE_LANGUAGE in edition.config.languages else \
        edition.config.languages[0]
    held = edition.sections.get(source_lang) or \
        load_edition(project, edition.name, [source_lang]).sections[source_lang]
    sources = {section.id: section for section in held}
    found = []
    for lang, sections in edition.sections.items():
        if lang == source_lang or (languages and lang not in languages):
            continue
        for section in sections:
            source = sources[section.id]
            state = (UNRECORDED if section.translated_from is None else
                     CURRENT if section.translated_from == digest(source) else STALE)
            found.append(Translation(section, source, state))
    return found


def stale_sections(project: Project, edition: Edition | str,
                   languages: list[str] | None = None) -> list[Section]:
    """The sections of ``languages`` (default: all) whose recorded source has changed
    since; ``edition`` loaded already, or its name."""
    if isinstance(edition, str):
        edition = load_edition(project, edition)
    return [t.section for t in _states(project, edition, languages) if t.state == STALE]


FRONT = re.compile(r'^translated_from:.*\n', re.M)


def mark_done(project: Project, name: str, section_id: str,
              languages: list[str] | None = None) -> list[Section]:
    """Record that the translations of ``section_id`` (in ``languages``, default every one)
    are up to date with the source as it is now; the sections recorded."""
    folder, found = translations(project, name, languages)
    chosen = [t for t in found if t.section.id == section_id]
    if not chosen:
        known = ', '.join(sorted({t.section.id for t in found}))
        raise ContentError(f'edition {name} has no translated section {section_id!r} '
                           f'(its sections: {known})')
    for translation in chosen:
        source = translation.source
        kept = folder / SOURCES / f'{digest(source)}.md'
        kept.parent.mkdir(exist_ok=True)
        write_atomically(kept, source_text(source).encode('utf-8'))
        path = translation.section.path
        text = read_text(project.root, path, what=f"section '{section_id}'",
                         shown=translation.section.shown, limit=MAX_SECTION_BYTES)
        line = f'translated_from: "{digest(source)}"\n'
        head, _, rest = text.partition('\n---')   # the front matter ends at the second ---
        head = FRONT.sub('', head + '\n').rstrip('\n') + '\n' + line.rstrip('\n')
        write_atomically(path, (head + '\n---' + rest).encode('utf-8'))
    return [t.section for t in chosen]
