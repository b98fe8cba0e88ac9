"""Word-by-word differences between two texts: the one helper behind a translator's view
of a changed source (``translations``) and a reviewer's view of a changed sentence
(``diff``)."""

from __future__ import annotations

import difflib

SAME, REMOVED, ADDED = 'same', 'removed', 'added'


def word_runs(old: str, new: str) -> list[tuple[str, str]]:
    """``old`` turned into ``new`` as runs of words: (SAME | REMOVED | ADDED, the words).
    A replaced run is its removed words followed by its added ones."""
    a, b = old.split(), new.split()
    runs: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == 'equal':
            runs.append((SAME, ' '.join(a[i1:i2])))
            continue
        if i2 > i1:
            runs.append((REMOVED, ' '.join(a[i1:i2])))
        if j2 > j1:
            runs.append((ADDED, ' '.join(b[j1:j2])))
    return runs


def marked(old: str, new: str) -> str:
    """The change as one line of text: ``reached [-US$577.2-]{+US$578.0+} billion``."""
    shown = {SAME: '{}', REMOVED: '[-{}-]', ADDED: '{{+{}+}}'}
    return ' '.join(shown[kind].format(words) for kind, words in word_runs(old, new))


def similarity(old: str, new: str) -> float:
    """How much of two texts' words they share, from 0 (nothing) to 1 (the same)."""
    return difflib.SequenceMatcher(None, old.split(), new.split(), autojunk=False).ratio()
