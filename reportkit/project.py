"""Where things live in a project, and how paths are shown to users."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from reportkit.errors import ReportError

NAME = r'[A-Za-z0-9][A-Za-z0-9_-]{0,63}'
"""A series' or an edition's folder name (never a path)."""


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

    def series_dir(self, series: str) -> Path:
        """``reports/<series>/``: its series.toml, templates, charts and editions."""
        if not re.fullmatch(NAME, series or ''):
            raise ReportError(f'{series[:60]!r} is not a series name: series are folders '
                              f'of {self.show(self.reports)}/ with a series.toml')
        return self.reports / series

    def edition_dir(self, name: str) -> Path:
        """``reports/<series>/<edition>/`` for the full name ``<series>/<edition>``."""
        series, _, edition = name.partition('/')
        if not re.fullmatch(NAME, edition or ''):
            raise ReportError(f'{name[:60]!r} is not an edition name: editions are '
                              f'folders of {self.show(self.reports)}/<series>/: write '
                              '<series>/<edition>')
        return self.series_dir(series) / edition

    def series(self) -> list[str]:
        """Every series: the folders of ``reports/`` that hold a ``series.toml``."""
        if not self.reports.is_dir():
            return []
        return sorted(folder.name for folder in self.reports.iterdir()
                      if re.fullmatch(NAME, folder.name)
                      and os.path.lexists(folder / 'series.toml'))

    def editions(self, series: str | None = None) -> list[str]:
        """Every edition's full name (``<series>/<edition>``), by series then name."""
        names = []
        for name in ([series] if series else self.series()):
            folder = self.series_dir(name)
            if folder.is_dir():
                names += [f'{name}/{edition.name}' for edition in sorted(folder.iterdir())
                          if re.fullmatch(NAME, edition.name)
                          and os.path.lexists(edition / 'edition.toml')]
        return names

    def resolve(self, name: str) -> str:
        """The full name of an edition given as ``<series>/<edition>``, or by its own
        name when only one series has an edition of that name (``2015``)."""
        if '/' in name:
            self.edition_dir(name)   # a valid name, or the message why not
            return name
        if name in self.series():
            raise ReportError(f"'{name}' is a series: name one of its editions, e.g. "
                              f'{name}/<edition> (make_report.py list shows them)')
        matches = [full for full in self.editions() if full.split('/', 1)[1] == name]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise ReportError(f"several series have an edition '{name}': write "
                              f"{' or '.join(matches)}")
        known = ', '.join(self.editions()) or 'none'
        raise ReportError(f"no edition '{name[:60]}' in {self.show(self.reports)}/ "
                          f'(editions: {known})')

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
