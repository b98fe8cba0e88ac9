"""Where things live in a project, and how paths are shown to users."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from .errors import ReportError


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
        if not re.fullmatch(r'[A-Za-z0-9][A-Za-z0-9_-]{0,63}', edition_id or ''):
            raise ReportError(f'{edition_id[:60]!r} is not an edition name: editions are '
                              f'folders of {self.show(self.reports)}/, e.g. 2015')
        return self.reports / edition_id

    def editions(self) -> list[str]:
        """Every edition: the folders of ``reports/`` that hold an ``edition.toml``."""
        if not self.reports.is_dir():
            return []
        return sorted(folder.name for folder in self.reports.iterdir()
                      if (folder / 'edition.toml').is_file())

    def show(self, path: str | Path) -> str:
        """The path as a user should see it: relative to the project when inside."""
        path = Path(os.path.abspath(path))   # as given: a link is shown where it stands
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    @property
    def inputs(self) -> list[Path]:
        """Folders whose files the pipeline reads or keeps: nothing is ever written over
        them by an output option."""
        return [self.reports, self.data, self.charts, self.templates, self.root / 'reportkit',
                self.archive, self.root / 'distribution', self.root / '.git']

    def output(self, path: Path, option: str, *, folder: bool = False) -> Path:
        """``path`` given with ``option`` (--out, --html, --out-dir), resolved, when it is
        absent or a regular file (a folder, for ``folder``) outside the project's
        inputs; else an error. A device, a pipe or an input is never replaced."""
        resolved = Path(os.path.realpath(path))
        kind = 'folder' if folder else 'PDF file'
        if resolved.exists():
            wrong = not resolved.is_dir() if folder else not stat.S_ISREG(resolved.stat().st_mode)
            if wrong:
                what = ('is not a folder' if folder else 'is not an ordinary file (it is a '
                        'device, a pipe or a folder), so it is never replaced')
                raise ReportError(f'{option} {path} {what}: give the name of a {kind} to '
                                  'write')
        for root in self.inputs:
            if resolved.is_relative_to(root.resolve()):
                raise ReportError(f'{option} {path}: inside {self.show(root)}/, which holds '
                                  "the project's inputs; write outputs elsewhere (e.g. dist/)")
        if folder and resolved == self.root:
            raise ReportError(f'{option} {path}: the project folder itself; write outputs '
                              'into a folder of their own (e.g. dist/)')
        return resolved
