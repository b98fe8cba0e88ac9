"""A review: two versions of an edition compared document by document, and told in the
terminal (rich) as a short summary a reviewer reads from top to bottom."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from babel import Locale
from rich.console import Console
from rich.text import Text

from reportkit.review.changes import (ADDED, MOVED, REMOVED, ItemChange, LanguageChanges,
                                      SectionChange, compare)
from reportkit.review.versions import Version
from reportkit.textdiff import ADDED as WORDS_ADDED, REMOVED as WORDS_REMOVED, word_runs


@dataclass
class Document:
    item: str | None
    lang: str
    title: str
    changes: LanguageChanges

    @property
    def anchor(self) -> str:
        """The id of its part of the review page: ``doc-fr``, ``doc-mi-en``."""
        key = re.sub(r'[^a-z0-9]+', '-', (self.item or '').lower()).strip('-')
        return f'doc-{key}-{self.lang}' if key else f'doc-{self.lang}'

    @property
    def name(self) -> str:
        language = language_name(self.lang)
        return f'{self.item}, {language}' if self.item else language


@dataclass
class Review:
    edition: str
    old: Version
    new: Version
    documents: list[Document] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    """Documents one side has and the other has not ('French: only in the current
    inputs')."""

    @property
    def changed(self) -> bool:
        return bool(self.unmatched) or any(d.changes for d in self.documents)


def review(edition: str, old: Version, new: Version) -> Review:
    """Compare every document the two versions both have; name the others."""
    found = Review(edition, old, new)
    for key in sorted(set(old.forms) | set(new.forms), key=lambda k: (k[0] or '', k[1])):
        item, lang = key
        shown = (f'{item}, ' if item else '') + language_name(lang)
        if key not in old.forms:
            found.unmatched.append(f'{shown}: only in {new.label}')
        elif key not in new.forms:
            found.unmatched.append(f'{shown}: only in {old.label}')
        else:
            found.documents.append(Document(item, lang, new.forms[key].title,
                                            compare(old.forms[key], new.forms[key])))
    return found


def language_name(lang: str) -> str:
    return Locale.parse(lang).get_display_name('en')


def counted(changes: LanguageChanges) -> str:
    """'2 sentences, 1 value, 1 figure'."""
    parts = []
    for name, n in changes.count().items():
        if n:
            parts.append(f'{n} {name if n != 1 else name[:-1]}')
    return ', '.join(parts) or 'no change'


def print_review(found: Review, console: Console) -> None:
    """The summary: each document's changed sections, sentences (word by word), values,
    figures and tables; then one line of counts."""
    console.print(Text(f'{found.edition}: {found.old.label} → {found.new.label}',
                       style='bold'), soft_wrap=True)
    for note in found.old.notes + found.new.notes:
        console.print(Text(f'note: {note}', style='yellow'), soft_wrap=True)
    for document in found.documents:
        if not document.changes:
            continue
        console.print(Text(f'\n{document.name}', style='bold underline'))
        for section in document.changes.sections:
            _print_section(section, console)
        for item in document.changes.items:
            _print_item(item, console)
    for line in found.unmatched:
        console.print(Text(line, style='yellow'), soft_wrap=True)
    if not found.changed:
        console.print(f'no change: {found.old.label} and {found.new.label} say the same '
                      f'({", ".join(d.name for d in found.documents)})', soft_wrap=True)
        return
    console.print()
    console.print('; '.join(f'{d.name}: {counted(d.changes)}' for d in found.documents),
                  soft_wrap=True)


_KIND = {ADDED: 'added', REMOVED: 'removed', MOVED: 'moved'}


def _print_section(section: SectionChange, console: Console) -> None:
    how = _KIND.get(section.kind, '') or ('moved, changed' if section.moved else '')
    head = Text(f'  {section.title} ({section.id})', style='bold')
    if how:
        head.append(f' — {how}')
    console.print(head, soft_wrap=True)
    if _whole(section.old_title, section.title, section.kind, len(section.sentences),
              'sentences', console):
        return
    for sentence in section.sentences:
        if sentence.kind == ADDED:
            console.print(Text('    + ' + sentence.new, style='green'), soft_wrap=True)
        elif sentence.kind == REMOVED:
            console.print(Text('    - ' + sentence.old, style='red'), soft_wrap=True)
        else:
            console.print(Text('    ~ ').append(words(sentence.old, sentence.new)),
                          soft_wrap=True)
    for value in section.values:
        console.print(Text(f'    value {value.expression}: {value.old or "(not shown)"} → '
                           f'{value.new or "(not shown)"}', style='cyan'), soft_wrap=True)


def _print_item(item: ItemChange, console: Console) -> None:
    label = f'{item.kind.capitalize()} {item.number} ({item.id}): {item.title}'
    how = {ADDED: ' — added', REMOVED: ' — removed'}.get(item.state, '')
    console.print(Text(f'  {label}{how}', style='bold'), soft_wrap=True)
    if _whole(item.old_title, item.title, item.state, len(item.rows), 'rows', console):
        return
    for row in item.rows:
        old = ' | '.join(row.old[1:]) if row.old else '(no row)'
        new = ' | '.join(row.new[1:]) if row.new else '(no row)'
        console.print(f'    row {row.label}: {old} → {new}', soft_wrap=True, markup=False)
    for what, old, new in item.texts:
        console.print(Text(f'    {what}: ').append(words(old, new)), soft_wrap=True)


def _whole(old_title: str, title: str, kind: str, count: int, unit: str,
           console: Console) -> bool:
    """A changed title, word by word; for a part added or removed whole, how many
    sentences or rows it has (True: nothing more to say of it)."""
    if old_title:
        console.print(Text('    title: ').append(words(old_title, title)), soft_wrap=True)
    if kind in (ADDED, REMOVED):
        console.print(f'    {count} {unit}', soft_wrap=True)
        return True
    return False


def words(old: str, new: str) -> Text:
    """A changed text, word by word: ``[-removed-]`` struck in red, ``{+added+}`` in
    green (the brackets show it without colour too)."""
    text = Text()
    for n, (kind, run) in enumerate(word_runs(old, new)):
        if n:
            text.append(' ')
        if kind == WORDS_REMOVED:
            text.append(f'[-{run}-]', style='red strike')
        elif kind == WORDS_ADDED:
            text.append(f'{{+{run}+}}', style='bold green')
        else:
            text.append(run)
    return text
