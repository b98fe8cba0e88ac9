"""Stage 1, load: ``reports/<edition>/`` -> an :class:`Edition` (config and narrative)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from reportkit.load.config import EditionConfig, load_config
from reportkit.errors import ContentError, ReportError, raise_all
from reportkit.files import KB, listing, read_text
from reportkit.safety.policy import TITLE_CHARACTERS, problem_in
from reportkit.project import Project
from reportkit.load.series import SERIES_FILE, SeriesConfig, load_series

FRONT_MATTER_KEYS = {'title', 'short_title', 'translated_from'}
MAX_SECTION_BYTES = 256 * KB
SOURCE_DIGEST = re.compile(r'[0-9a-f]{16}')
"""A section is a chapter of a few pages (the longest is 15 KB); a larger file is refused
before it is read, rather than parsed and laid out for minutes (markdown-it takes up to
16 µs a character, for a run of '[': 4 s for 256 KB)."""


@dataclass(frozen=True)
class Section:
    """One narrative section in one language, before expansion."""

    id: str
    lang: str
    path: Path
    shown: str
    """The file as the user sees it in messages."""
    title: str
    short_title: str
    body: str
    body_line: int
    """Line number in the file where ``body`` starts (for error messages)."""
    translated_from: str | None = None
    """A translation's record of the source section it was brought up to date with: the
    source's digest (:func:`reportkit.load.translations.digest`)."""


@dataclass(frozen=True)
class Edition:
    config: EditionConfig
    folder: Path
    config_shown: str
    sections: dict[str, list[Section]]
    """Sections in reading order, per language."""
    series: SeriesConfig
    series_shown: str
    """The series' declaration as the user sees it in messages."""
    pending: frozenset = frozenset()
    """(language, section id) of the translations out of date (a draft shows it)."""

    @property
    def id(self) -> str:
        return self.config.id

    @property
    def name(self) -> str:
        """The full name, ``<series>/<edition>``."""
        return f'{self.config.series}/{self.config.id}'

    @property
    def series_folder(self) -> Path:
        return self.folder.parent

    @property
    def values(self) -> dict:
        """The series' values and the edition's own (which win)."""
        return {**self.series.values, **self.config.values}


def load_series_of(project: Project, name: str) -> tuple[SeriesConfig, str]:
    """The series of the edition ``<series>/<edition>``, and how its file is shown."""
    folder = project.series_dir(name.partition('/')[0])
    shown = project.show(folder / SERIES_FILE)
    return load_series(project.root, folder, shown), shown


def load_edition_config(project: Project, name: str) -> tuple[EditionConfig, SeriesConfig, str]:
    """The edition's settings, checked against its series and its folder. ``name`` is
    ``<series>/<edition>``, or the edition's own name when only one series has it."""
    name = project.resolve(name)
    folder = project.edition_dir(name)
    if not os.path.lexists(folder / 'edition.toml'):   # a link or a pipe: read refuses it
        raise ReportError(f"no edition '{name}' in {project.show(project.reports)}/"
                          f" (editions: {', '.join(project.editions()) or 'none'})")
    series, series_shown = load_series_of(project, name)
    config_path = folder / 'edition.toml'
    shown = project.show(config_path)
    config = load_config(config_path, shown, project.root)
    if config.id != folder.name:
        raise ReportError(f"'id' is '{config.id}' but the folder is '{folder.name}'",
                          path=shown)
    if config.series != folder.parent.name:
        raise ReportError(f"'series' is '{config.series}' but the edition is in the folder "
                          f"of the series '{folder.parent.name}'", path=shown)
    if not re.fullmatch(series.editions, config.id):
        raise ReportError(f"'{config.id}' is not an edition name of this series: it names "
                          f'its editions like {series.edition_example} ({series_shown})',
                          path=shown)
    if config.status == 'final':
        for key in series.identifiers:
            if getattr(config, key) is None:
                raise ReportError(f"'{key}': a final edition needs its "
                                  f"{key.replace('_', ' ')} (a draft may leave it out until "
                                  'it is assigned)', path=shown)
    for lang in config.languages:
        if lang not in series.languages:
            raise ReportError(f"'languages': the series is not published in '{lang}' "
                              f"(its languages: {', '.join(series.languages)})", path=shown)
    return config, series, series_shown


def load_edition(project: Project, name: str, languages: list[str] | None = None,
                 problems: list[ReportError] | None = None) -> Edition:
    """Read and check the edition ``<series>/<edition>``: its series, its configuration
    and every section it lists.

    Only ``languages`` are read (default: all the edition lists). Every problem found
    (missing or unlisted section files, bad front matter, encoding) is raised at once,
    or added to ``problems`` when the caller gathers them with problems of later stages.
    """
    name = project.resolve(name)
    config, series, series_shown = load_edition_config(project, name)
    folder = project.edition_dir(name)
    config_path = folder / 'edition.toml'
    wanted = languages or list(config.languages)
    for lang in wanted:
        if lang not in config.languages:
            raise ReportError(f"edition {name} is not published in '{lang}' "
                              f"(languages: {', '.join(config.languages)})",
                              path=project.show(config_path))
    gathered: list[ReportError] = []
    sections: dict[str, list[Section]] = {}
    for lang in wanted:
        lang_dir = folder / lang
        sections[lang] = []
        for section_id in config.sections:
            path = lang_dir / f'{section_id}.md'
            try:
                sections[lang].append(_read_section(project, section_id, lang, path))
            except ReportError as error:
                gathered.append(error)
        listed = {f'{section_id}.md' for section_id in config.sections}
        if lang_dir.is_dir():
            for extra in listing(project.root, lang_dir, '*.md'):
                if extra.name not in listed:
                    gathered.append(ContentError(
                        "section file is not listed in 'sections' of "
                        f'{project.show(config_path)}', path=project.show(extra)))
    if problems is None:
        raise_all(gathered, f'edition {name}: sections cannot be read')
    else:
        problems.extend(gathered)
    return Edition(config, folder, project.show(config_path), sections, series, series_shown)


def _read_section(project: Project, section_id: str, lang: str, path: Path) -> Section:
    shown = project.show(path)
    try:
        text = read_text(project.root, path, what=f"section '{section_id}'", shown=shown,
                         limit=MAX_SECTION_BYTES, error=ContentError)
    except FileNotFoundError:
        raise ContentError(f"section '{section_id}' is listed in edition.toml "
                           'but its file is missing', path=shown) from None
    lines = text.split('\n')
    if not lines or lines[0].strip() != '---':
        raise ContentError("must start with front matter: a '---' line, 'title: ...', "
                           "and another '---' line", path=shown, line=1)
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == '---')
    except StopIteration:
        raise ContentError("front matter is not closed by a '---' line",
                           path=shown, line=1) from None
    try:
        meta = yaml.safe_load('\n'.join(lines[1:end])) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, 'problem_mark', None)
        raise ContentError(f'front matter is not valid YAML: {getattr(error, "problem", error)}',
                           path=shown, line=mark.line + 2 if mark else 1) from None
    if not isinstance(meta, dict):
        raise ContentError('front matter must be key: value lines', path=shown, line=2)
    unknown = sorted(set(meta) - FRONT_MATTER_KEYS)
    if unknown:
        raise ContentError(f"front matter: unknown key '{unknown[0]}' "
                           f"(known: {', '.join(sorted(FRONT_MATTER_KEYS))})",
                           path=shown, line=2)
    title = meta.get('title')
    if not isinstance(title, str) or not title.strip():
        raise ContentError("front matter: 'title' is required", path=shown, line=2)
    short = meta.get('short_title', title)
    if not isinstance(short, str):
        raise ContentError("front matter: 'short_title' must be text", path=shown, line=2)
    for key, value in [('title', title)] + [('short_title', short)] * ('short_title' in meta):
        problem = problem_in(value, TITLE_CHARACTERS)
        if problem:
            raise ContentError(f"front matter: '{key}' {problem}", path=shown,
                               line=_key_line(lines, key, end))
    source = meta.get('translated_from')
    if source is not None and not (isinstance(source, str) and SOURCE_DIGEST.fullmatch(source)):
        raise ContentError("front matter: 'translated_from' is set by the translations "
                           'command (translations EDITION --done SECTION), not by hand',
                           path=shown, line=_key_line(lines, 'translated_from', end))
    return Section(section_id, lang, path, shown, title.strip(), short.strip(),
                   '\n'.join(lines[end + 1:]), end + 2, source)


def _key_line(lines: list[str], key: str, end: int) -> int:
    """The line of ``key:`` in the front matter (which ends on line ``end``)."""
    return next((n + 1 for n in range(1, end) if lines[n].startswith(f'{key}:')), 2)
