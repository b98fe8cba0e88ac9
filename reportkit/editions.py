"""The editions of a series: list them, and start next year's from this year's."""

from __future__ import annotations

import re
import shutil
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .config import FIRST_YEAR, LAST_YEAR, MAX_CONFIG_BYTES, EditionConfig, load_config
from .errors import ReportError
from .files import read_text
from .load import load_edition
from .project import Project

YEAR = re.compile(r'(?<![\d/.-])(19[5-9]\d|20\d\d|21\d\d)(?![\d])')
"""A year standing alone (not part of a longer number, a date's middle or an ISBN)."""


@dataclass(frozen=True)
class EditionSummary:
    id: str
    config: EditionConfig | None
    problem: str | None = None
    """Why the configuration cannot be read (the edition is listed anyway)."""


def summaries(project: Project) -> list[EditionSummary]:
    """Every edition in ``reports/``, with its configuration or the problem reading it."""
    result = []
    for edition_id in project.editions():
        path = project.edition_dir(edition_id) / 'edition.toml'
        try:
            result.append(EditionSummary(edition_id, load_config(path, project.show(path), project.root)))
        except ReportError as error:
            first = str(error).splitlines()[0]
            result.append(EditionSummary(edition_id, None, first))
    return result


@dataclass(frozen=True)
class NewEdition:
    folder: Path
    copied: list[Path]
    """Section files copied."""
    typed_years: dict[str, int]
    """Section file (as shown) -> how many typed years of the old edition it still holds."""


def new_edition(project: Project, new_id: str, from_id: str) -> NewEdition:
    """Start edition ``new_id`` from ``from_id``: config and sections copied, years moved
    on, status draft, revision 1. Nothing is written unless all of it can be."""
    if not re.fullmatch(r'\d{4}', new_id) or not FIRST_YEAR <= int(new_id) <= LAST_YEAR:
        raise ReportError(f"{new_id[:40]!r} is not an edition id: use the year it covers "
                          f'({FIRST_YEAR}–{LAST_YEAR}), e.g. 2016')
    target = project.edition_dir(new_id)
    if target.exists():
        raise ReportError(f'edition {new_id} already exists in {project.show(target)}; '
                          'nothing was changed')
    source = load_edition(project, from_id)   # the old edition must itself be sound
    old = source.config
    delta = int(new_id) - int(from_id)
    config_path = source.folder / 'edition.toml'
    text = read_text(project.root, config_path, what='the edition configuration',
                     shown=source.config_shown, limit=MAX_CONFIG_BYTES, error=ReportError)
    text = _moved_on(text, old, new_id, delta)

    reports = project.reports
    staging = Path(tempfile.mkdtemp(prefix=f'.new-{new_id}-', dir=reports))
    try:
        (staging / 'edition.toml').write_text(text, encoding='utf-8')
        copied, typed = [], {}
        years = {str(old.year), str(old.data_through), str(old.publication_date.year)}
        for lang, sections in source.sections.items():
            (staging / lang).mkdir()
            for section in sections:
                copy = staging / lang / section.path.name
                shutil.copyfile(section.path, copy)
                copied.append(target / lang / section.path.name)
                count = sum(1 for m in YEAR.finditer(section.body) if m[1] in years)
                if count:
                    typed[f'{project.show(reports)}/{new_id}/{lang}/{section.path.name}'] = count
        # Check the result reads as an edition before it takes its place.
        config = load_config(staging / 'edition.toml',
                             f'{project.show(reports)}/{new_id}/edition.toml', project.root)
        if config.id != new_id:  # pragma: no cover - _moved_on sets it
            raise ReportError(f'the new configuration has id {config.id!r}')
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return NewEdition(target, copied, typed)


def _split_comment(line: str) -> tuple[str, str]:
    """(value part, '# comment' part) of a TOML line; '#' inside quotes is not a comment."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in '"\'':
            quote = char
        elif char == '#':
            return line[:i], line[i:]
    return line, ''


def _moved_on(text: str, old: EditionConfig, new_id: str, delta: int) -> str:
    """The old edition.toml with its years moved on by ``delta``, as a new draft."""
    def shift(match: re.Match) -> str:
        return str(int(match[1]) + delta)

    out = []
    skip_table = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith('['):
            skip_table = stripped.startswith('[revision_note')
            if skip_table:
                continue
        elif skip_table:
            if stripped and not stripped.startswith('#'):
                continue
            skip_table = False
        key = stripped.split('=', 1)[0].strip() if '=' in stripped else ''
        if key == 'id':
            line = f'id = "{new_id}"'
        elif key == 'revision':
            line = 'revision = 1'
        elif key == 'revision_note':
            continue
        elif key == 'status':
            line = 'status = "draft"                  # a new edition starts as a draft'
        elif key in ('catalogue_number', 'isbn'):
            line = (f'# {key} = {{ en = "…", fr = "…" }}   '
                    '# assigned for each edition: add it before the final')
        elif not stripped.startswith('#'):
            value, comment = _split_comment(line)
            line = YEAR.sub(shift, value) + comment
        out.append(line)
    result = '\n'.join(out) + '\n'
    tomllib.loads(result)  # still TOML
    return result
