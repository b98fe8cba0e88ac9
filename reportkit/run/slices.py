"""A batch document's own slice of the data, so that a change to one row of a dataset
leaves the other documents untouched, not even checked again.

Every profile reads the same data files, so a change to one state's row changes the
inputs of all of them. What one document shows of the data is much less: the values its
narrative read (:class:`~reportkit.data.values.Used`: Wyoming's imports, or every state's
exports when it prints their total), its own row, its charts' series and the printed
tables. A built document is remembered under its plan with the files it read *other
than the data* (its sections, templates, fonts, declarations) and with what it used; the
next run, once the data view is computed, finds it again when those files are unchanged
and its slice of the new view is the same.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from reportkit.cache import Depends
from reportkit.files import Journal, write_atomically

if TYPE_CHECKING:  # pragma: no cover
    from reportkit.data.view import DataView
    from reportkit.project import Project

DATA = 'data/'
"""Files under data/ stand behind the view: a slice replaces them in a document's key."""


def slice_digest(view: DataView, lang: str, item: str, uses: dict) -> str:
    """What the document ``item`` in ``lang`` shows of ``view``, as a digest."""
    values = view.values.get(lang, {})
    shown = {}
    for name, value in sorted(values.items()):
        if not isinstance(value, dict):
            shown[name] = value              # a list or a single value: all of it
        elif name in uses:
            keys = uses[name]
            shown[name] = sorted(value.items(), key=repr) if keys == '*' else \
                [(key, value.get(key)) for key in keys]
    parts = [shown, view.rows.get(lang, {}),
             {other: rows.get(item) for other, rows in sorted(view.records.items())},
             view.item_series.get(item, {}).get(lang)]   # (a view may serve more languages)
    return hashlib.sha256(repr(parts).encode('utf-8')).hexdigest()


class Slices:
    """Batch documents' PDF keys by their plan, the files they read other than the data,
    and their slice of the data view."""

    def __init__(self, project: Project) -> None:
        self.folder = project.build / 'cache' / 'slices'
        self.depends = Depends(self.folder, project.root)

    def lookup(self, plan: str, view: DataView, lang: str, item: str) -> str | None:
        """The PDF key of the document, if nothing it uses has changed."""
        found = self.depends.lookup(plan)
        if found is None:
            return None
        try:
            uses = json.loads((self.folder / f'{found[0]}.uses.json').read_text())
        except (OSError, ValueError):
            return None
        return _pdf_key(found[0], slice_digest(view, lang, item, uses))

    def remember(self, plan: str, reads: Journal, view: DataView, lang: str, item: str,
                 uses: dict) -> str:
        """Record what the document read and used; returns the key of its PDF."""
        own = Journal({name: digest for name, digest in reads.files.items()
                       if not name.startswith(DATA)},
                      {pattern: names for pattern, names in reads.listings.items()
                       if not pattern.startswith(DATA)})
        key = self.depends.remember(plan, own)
        write_atomically(self.folder / f'{key}.uses.json',
                         json.dumps(uses, default=str).encode('utf-8'))
        return _pdf_key(key, slice_digest(view, lang, item, uses))


def _pdf_key(key: str, digest: str) -> str:
    return hashlib.sha256(f'slice\0{key}\0{digest}'.encode()).hexdigest()


