"""Language typography applied to every piece of text the build sets.

Both languages: an apostrophe typed as ' is set as the typographic apostrophe ’
(l’initiative, Canada’s, Leaders’), and a single quote that opens a word as ‘.

French (as the issue for the French editions asks, following the Translation Bureau's
usage): a no-break space before the colon and inside « », and a narrow no-break space
before ; ! ?. Writers type ordinary spaces (or none); the build makes them right, so a
line never starts with a colon or a closing guillemet.
"""

from __future__ import annotations

import re

NBSP = '\u00a0'
NNBSP = '\u202f'

_BEFORE_COLON = re.compile(r'[ \t\u00a0\u202f]*:(?=\s|$)')
_BEFORE_OTHER = re.compile(r'(?<![\s(\[])[ \t\u00a0\u202f]*([;!?])(?=\s|$|[»)\]])')
_OPEN_QUOTE = re.compile(r'«[ \t\u00a0\u202f]*')
_CLOSE_QUOTE = re.compile(r'[ \t\u00a0\u202f]*»')


_APOSTROPHE = re.compile(r"(?<=\w)'")
_OPENING_SINGLE = re.compile(r"(?<![\w])'(?=\w)")


def apostrophes(text: str) -> str:
    """Apostrophes and single quotes typed as ' set as ’ (and ‘ where one opens)."""
    return _OPENING_SINGLE.sub('\u2018', _APOSTROPHE.sub('\u2019', text))


def french(text: str) -> str:
    """``text`` with French spacing around : ; ! ? « », and typographic apostrophes."""
    text = apostrophes(text)
    text = _OPEN_QUOTE.sub('«' + NBSP, text)
    text = _CLOSE_QUOTE.sub(NBSP + '»', text)
    text = _BEFORE_OTHER.sub(NNBSP + r'\1', text)
    text = _BEFORE_COLON.sub(NBSP + ':', text)
    return text


LANGUAGES = ('en', 'fr')
"""The languages whose typography this module sets (a series publishes in some of them)."""


def for_language(text: str, lang: str) -> str:
    return french(text) if lang == 'fr' else apostrophes(text)
