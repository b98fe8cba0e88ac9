"""Where things live in a project, and how paths are shown to users."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Project:
    """A report project: ``reports/``, ``templates/``, ``data/``, ``charts/``."""

    root: Path

    @classmethod
    def at(cls, root: str | Path) -> 'Project':
        return cls(Path(root).resolve())

    @property
    def reports(self) -> Path:
        return self.root / 'reports'

    @property
    def templates(self) -> Path:
        return self.root / 'templates'

    @property
    def data(self) -> Path:
        return self.root / 'data'

    @property
    def charts(self) -> Path:
        return self.root / 'charts'

    @property
    def build(self) -> Path:
        """Scratch space for composed documents (not versioned)."""
        return self.root / 'build'

    @property
    def archive(self) -> Path:
        """Default place of the archive of published editions."""
        return self.root / 'archive'

    @property
    def dist(self) -> Path:
        """Default place for built PDFs."""
        return self.root / 'dist'

    def edition_dir(self, edition_id: str) -> Path:
        return self.reports / edition_id

    def editions(self) -> list[str]:
        """Every edition: the folders of ``reports/`` that hold an ``edition.toml``."""
        if not self.reports.is_dir():
            return []
        return sorted(folder.name for folder in self.reports.iterdir()
                      if (folder / 'edition.toml').is_file())

    def show(self, path: str | Path) -> str:
        """The path as a user should see it: relative to the project when inside."""
        path = Path(path)
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def contains(self, path: Path) -> bool:
        """True when ``path`` (after resolving links and ``..``) is inside the project."""
        try:
            path.resolve().relative_to(self.root)
        except ValueError:
            return False
        return True
