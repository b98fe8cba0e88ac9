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
    assets: dict[str, bytes | Path] = field(default_factory=dict)
    """Relative file name -> content (bytes) or the project file to copy."""
    title: str = ''
    figures: list[dict] = field(default_factory=list)
    chapters: list[dict] = field(default_factory=list)
    messages: set[str] = field(default_factory=set)
    """The catalogue messages the document used."""

    def write(self, folder: Path, name: str = 'index.html') -> Path:
        """Write the HTML and its assets into ``folder``; returns the HTML path."""
        folder.mkdir(parents=True, exist_ok=True)
        for relative, content in sorted(self.assets.items()):
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content.read_bytes() if isinstance(content, Path) else content)
        html_path = folder / name
        html_path.write_text(self.html, encoding='utf-8')
        return html_path
