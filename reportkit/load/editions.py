"""The editions of a series: list them, and start next year's from this year's."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

import tomlkit
import tomlkit.exceptions
import tomlkit.items

from reportkit.load.config import FIRST_YEAR, LAST_YEAR, MAX_CONFIG_BYTES, EditionConfig, load_config
from reportkit.errors import ReportError
from reportkit.files import read_text
from reportkit.load.edition import load_edition
from reportkit.project import Project

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
            result.append(EditionSummary(edition_id, load_config(path, project.show(path),
                                                                 project.root)))
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
    source = load_edition(project, from_id)   # the old edition must itself be sound
    series, _, new_id = new_id.rpartition('/')
    if series and series != source.config.series:
        raise ReportError(f'new-edition {series}/{new_id} --from {source.name}: a new '
                          'edition starts from an edition of its own series')
    if not re.fullmatch(r'\d{4}', new_id) or not FIRST_YEAR <= int(new_id) <= LAST_YEAR:
        raise ReportError(f"{new_id[:40]!r} is not an edition id: use the year it covers "
                          f'({FIRST_YEAR}–{LAST_YEAR}), e.g. 2016')
    target = source.series_folder / new_id
    if target.exists():
        raise ReportError(f'edition {new_id} already exists in {project.show(target)}; '
                          'nothing was changed')
    old = source.config
    delta = int(new_id) - int(old.id)
    config_path = source.folder / 'edition.toml'
    text = read_text(project.root, config_path, what='the edition configuration',
                     shown=source.config_shown, limit=MAX_CONFIG_BYTES, error=ReportError)
    text = _moved_on(text, new_id, delta)

    reports = source.series_folder
    staging = Path(tempfile.mkdtemp(prefix=f'.new-{new_id}-', dir=reports))
    try:
        (staging / 'edition.toml').write_text(text, encoding='utf-8')
        copied, typed = [], {}
        years = {str(old.year), str(old.publication_date.year)}
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


def _moved_on(text: str, new_id: str, delta: int) -> str:
    """The old edition.toml as a new draft, its years moved on by ``delta``; edited with
    tomlkit, so its comments, order and layout stay as the author wrote them.

    Moved on: every year standing alone in a string (:data:`YEAR`), every integer that
    is a year, every date (29 February becomes the 28th). Set: ``id``, ``revision = 1``,
    ``status = "draft"``. Removed: ``revision_note``, and the ``catalogue_number`` and
    ``isbn`` that are assigned to each edition (the comment on ``status`` says so)."""
    document = tomlkit.parse(text)
    _move_years(document, delta)
    document['id'] = new_id
    document['revision'] = 1
    document['status'] = 'draft'
    document.pop('revision_note', None)
    assigned = [key for key in ('catalogue_number', 'isbn')
                if document.pop(key, None) is not None]
    # Only the comment's text changes: it stays where the author aligned it.
    document.item('status').trivia.comment = '# a new edition starts as a draft' + (
        f'; add its {" and ".join(assigned)} before the final' if assigned else '')
    result = tomlkit.dumps(document)
    tomllib.loads(result)  # still TOML
    return result


def _move_years(container, delta: int) -> None:
    """Move the years of every value in a tomlkit table or array on by ``delta``."""
    keys = list(container.keys()) if isinstance(container, dict) else range(len(container))
    for key in keys:
        value = container[key]
        if isinstance(value, (dict, list)):
            _move_years(value, delta)
            continue
        moved = _moved_value(value, delta)
        if moved is not None:
            container[key] = moved      # tomlkit keeps the item's comment and indent


def _moved_value(value, delta: int):
    """The tomlkit item ``value`` with its years moved on, or None when it holds none.

    The item's own text is moved on and read again, so that quotes, escapes and a date's
    form stay as written; when that does not give the moved value (a year inside an
    escape such as ``\\u2014``, 29 February), the moved value is written anew."""
    moved = _moved_on_value(value, delta)
    if moved is None:
        return None
    try:
        same_form = tomlkit.value(YEAR.sub(lambda m: str(int(m[1]) + delta), value.as_string()))
    except (tomlkit.exceptions.TOMLKitError, ValueError):
        same_form = None
    if same_form is not None and same_form == moved and type(same_form) is type(value):
        return same_form
    if isinstance(value, tomlkit.items.String):
        return tomlkit.string(moved, literal=value.type.is_literal(),
                              multiline=value.type.is_multiline())
    return moved


def _moved_on_value(value, delta: int):
    """The plain value of ``value`` with its years moved on, or None when it holds none."""
    if isinstance(value, str):
        moved = YEAR.sub(lambda match: str(int(match[1]) + delta), value)
        return None if moved == value else str(moved)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return int(value) + delta if YEAR.fullmatch(str(int(value))) else None
    if isinstance(value, dt.date):
        year = value.year + delta
        try:
            return value.replace(year=year)
        except ValueError:              # 29 February, in a year that has none
            return value.replace(year=year, day=28)
    return None
