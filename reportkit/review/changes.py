"""What changed between two review forms of a document in one language: sentences (word
by word), values (the expression, old -> new), figures' and tables' rows, and sections
added, removed or moved."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from reportkit.review.form import Figure, Form, Table
from reportkit.textdiff import similarity

CHANGED, ADDED, REMOVED, MOVED = 'changed', 'added', 'removed', 'moved'
ALIKE = 0.5
"""Two sentences at the same place that share at least this much of their words are one
sentence changed; less alike, one was removed and another added."""


@dataclass(frozen=True)
class Sentence:
    kind: str            # CHANGED, ADDED or REMOVED
    old: str = ''
    new: str = ''


@dataclass(frozen=True)
class Value:
    expression: str      # exports[2015]
    old: str | None      # None: the narrative did not print it
    new: str | None


@dataclass(frozen=True)
class Row:
    label: str           # the row's first cell (a year, a state)
    old: list[str] | None
    new: list[str] | None


@dataclass
class SectionChange:
    id: str
    title: str
    kind: str            # CHANGED, ADDED, REMOVED or MOVED (and maybe changed too)
    old_title: str = ''
    moved: bool = False
    sentences: list[Sentence] = field(default_factory=list)
    values: list[Value] = field(default_factory=list)


@dataclass
class ItemChange:
    """A figure or a table whose title, rows or description changed."""

    kind: str            # 'figure' or 'table'
    id: str
    title: str
    state: str           # CHANGED, ADDED or REMOVED
    number: int = 0
    old_title: str = ''
    rows: list[Row] = field(default_factory=list)
    texts: list[tuple[str, str, str]] = field(default_factory=list)
    """A figure's words that changed besides its title: ('description' | 'source line',
    old, new)."""


@dataclass
class LanguageChanges:
    lang: str
    sections: list[SectionChange] = field(default_factory=list)
    items: list[ItemChange] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.sections or self.items)

    def count(self) -> dict[str, int]:
        """How many sentences, values, figures, tables and sections changed."""
        return {'sentences': sum(len(s.sentences) for s in self.sections),
                'values': sum(len(s.values) for s in self.sections),
                'figures': sum(1 for i in self.items if i.kind == 'figure'),
                'tables': sum(1 for i in self.items if i.kind == 'table'),
                'sections': sum(1 for s in self.sections if s.kind != CHANGED or s.moved)}


def compare(old: Form, new: Form) -> LanguageChanges:
    """Every change from ``old`` to ``new`` (the same document and language, or the same
    language of two editions)."""
    found = LanguageChanges(new.lang)
    before = {s.id: s for s in old.sections}
    after = {s.id: s for s in new.sections}
    moved = _moved([s.id for s in old.sections if s.id in after],
                   [s.id for s in new.sections if s.id in before])
    for section in new.sections:
        if section.id not in before:
            found.sections.append(SectionChange(
                section.id, section.title, ADDED,
                sentences=[Sentence(ADDED, new=s) for s in section.sentences]))
            continue
        was = before[section.id]
        change = SectionChange(section.id, section.title, CHANGED,
                               old_title=was.title if was.title != section.title else '',
                               moved=section.id in moved,
                               sentences=sentence_changes(was.sentences, section.sentences),
                               values=value_changes(was.values, section.values))
        if change.sentences or change.values or change.old_title or change.moved:
            if change.moved and not (change.sentences or change.values or change.old_title):
                change.kind = MOVED
            found.sections.append(change)
    for section in old.sections:
        if section.id not in after:
            found.sections.append(SectionChange(
                section.id, section.title, REMOVED,
                sentences=[Sentence(REMOVED, old=s) for s in section.sentences]))
    found.items = (_items('figure', old.figures, new.figures) +
                   _items('table', old.tables, new.tables))
    return found


def _moved(old_order: list[str], new_order: list[str]) -> set[str]:
    """The sections (in both) that are not in the longest run of sections kept in order."""
    matcher = difflib.SequenceMatcher(None, old_order, new_order, autojunk=False)
    kept = {key for block in matcher.get_matching_blocks()
            for key in new_order[block.b:block.b + block.size]}
    return set(new_order) - kept


def sentence_changes(old: list[str], new: list[str]) -> list[Sentence]:
    """The sentences changed, added and removed, in the new order."""
    found: list[Sentence] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == 'equal':
            continue
        olds = list(old[i1:i2])
        for sentence in new[j1:j2]:
            best = max(olds, key=lambda o: similarity(o, sentence), default=None)
            if best is not None and similarity(best, sentence) >= ALIKE:
                for earlier in olds[:olds.index(best)]:   # removed before it
                    found.append(Sentence(REMOVED, old=earlier))
                olds = olds[olds.index(best) + 1:]
                found.append(Sentence(CHANGED, best, sentence))
            else:
                found.append(Sentence(ADDED, new=sentence))
        found += [Sentence(REMOVED, old=o) for o in olds]
    return found


def value_changes(old: dict[str, str], new: dict[str, str]) -> list[Value]:
    """Each expression whose printed value differs (or that one side alone printed)."""
    return [Value(name, old.get(name), new.get(name))
            for name in sorted(set(old) | set(new)) if old.get(name) != new.get(name)]


def _items(kind: str, old: list[Figure] | list[Table], new: list[Figure] | list[Table]
           ) -> list[ItemChange]:
    before = {item.id: item for item in old}
    after = {item.id: item for item in new}
    found = []
    for item in new:
        was = before.get(item.id)
        if was is None:
            found.append(ItemChange(kind, item.id, item.title, ADDED, item.number,
                                    rows=[Row(r[0] if r else '', None, r) for r in item.rows]))
            continue
        change = ItemChange(kind, item.id, item.title, CHANGED, item.number,
                            old_title=was.title if was.title != item.title else '',
                            rows=row_changes(was.rows, item.rows),
                            texts=_texts(was, item) if kind == 'figure' else [])
        if change.rows or change.old_title or change.texts:
            found.append(change)
    found += [ItemChange(kind, item.id, item.title, REMOVED, item.number,
                         rows=[Row(r[0] if r else '', r, None) for r in item.rows])
              for item in old if item.id not in after]
    return found


def _texts(old: Figure, new: Figure) -> list[tuple[str, str, str]]:
    pairs = [('description', old.alt, new.alt), ('source line', old.source, new.source)]
    return [pair for pair in pairs if pair[1] != pair[2]]


def row_changes(old: list[list[str]], new: list[list[str]]) -> list[Row]:
    """Rows by their first cell (a year, a name): changed, added or removed."""
    before, after = _by_label(old), _by_label(new)
    labels = list(after) + [label for label in before if label not in after]
    return [Row(label[0], before.get(label), after.get(label)) for label in labels
            if before.get(label) != after.get(label)]


def _by_label(rows: list[list[str]]) -> dict[tuple[str, int], list[str]]:
    """Rows keyed by (first cell, which occurrence of it)."""
    seen: dict[str, int] = {}
    keyed = {}
    for row in rows:
        label = row[0] if row else ''
        keyed[(label, seen.get(label, 0))] = row
        seen[label] = seen.get(label, 0) + 1
    return keyed
