"""The composed document: the result of stage 5 and the input of stage 6.

Kept in a module of its own, with no heavy imports, because documents travel between
processes (build -j): unpickling one must not load pandas or matplotlib.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Composed:
    """The document for one language, ready to render."""

    lang: str
    html: str
    assets: dict[str, bytes] = field(default_factory=dict)
    """Relative file name -> content (read from the project when composed)."""
    title: str = ''
    figures: list[dict] = field(default_factory=list)
    chapters: list[dict] = field(default_factory=list)
    messages: set[str] = field(default_factory=set)
    """The catalogue messages the document used."""
    sources: dict[str, str] = field(default_factory=dict)
    """Relative file name -> where it comes from, as a user names it (for messages about
    the composed document, which lives in a temporary folder)."""
    web: object = None
    """Its web page (:class:`~reportkit.compose.web.WebPage`), when one was asked for."""
    tables: list[dict] = field(default_factory=list)
    """Every numbered table (title, columns, rows as printed), in order."""

    def share_assets(self, seen: dict[str, bytes]) -> None:
        """Hold each asset equal to one in ``seen`` (name -> content) as that very object,
        and add the others: the documents of a batch, each unpickled from a worker with
        its own copy of the fonts, then keep one copy between them."""
        for name, content in self.assets.items():
            first = seen.setdefault(name, content)
            if first is not content and first == content:
                self.assets[name] = first

    def named(self, message: str, folder: Path) -> str:
        """``message`` with the files of the document written into ``folder`` named by
        their sources (``templates/print.css``, ``reports/2015/en/map.png``)."""
        for prefix in (folder.as_uri() + '/', str(folder) + '/'):
            for relative, source in sorted(self.sources.items(), key=lambda i: -len(i[0])):
                message = message.replace(prefix + relative, source)
            message = message.replace(prefix, '')
        return message

    def write(self, folder: Path, name: str = 'index.html') -> Path:
        """Write the HTML and its assets into ``folder``; returns the HTML path."""
        folder.mkdir(parents=True, exist_ok=True)
        for relative, content in sorted(self.assets.items()):
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        html_path = folder / name
        html_path.write_text(self.html, encoding='utf-8')
        return html_path
