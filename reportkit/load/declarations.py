"""Declaration files (``data/datasets.toml``, ``charts/charts.toml``): TOML tables, each
validated against a pydantic model, with every problem reported at once."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from reportkit.errors import ReportError, raise_all
from reportkit.files import MB, read_text

Model = TypeVar('Model', bound=BaseModel)


TABLE_NAME = r'[a-z0-9][a-z0-9_-]{0,63}'
"""A dataset or chart name: it becomes part of file names (charts/<id>.svg)."""
MAX_DECLARATION_BYTES = 1 * MB
"""Declarations are a few KB of TOML."""


def load_declarations(root: Path, path: Path, shown: str, model: type[Model],
                      error: type[ReportError], what: str) -> dict[str, Model]:
    """``{table name: model}`` for every top-level table of the TOML file at ``path``
    (inside ``root``, the project).

    ``what`` names the file's content in messages, e.g. 'chart definitions'.
    """
    try:
        text = read_text(root, path, what=f'the {what}', shown=shown,
                         limit=MAX_DECLARATION_BYTES, error=error)
        raw = tomllib.loads(text)
    except FileNotFoundError:
        raise error(f'{what} not found', path=shown) from None
    except tomllib.TOMLDecodeError as problem:
        match = re.search(r'\(at line (\d+), column \d+\)', str(problem))
        message = re.sub(r'\s*\(at line .*\)', '', str(problem))
        raise error(f'not valid TOML: {message}', path=shown,
                    line=int(match[1]) if match else None) from None
    declared, problems = {}, []
    for name, value in raw.items():
        if not re.fullmatch(TABLE_NAME, name):
            problems.append(error(f'[{name[:60]}]: not a name: write lower-case letters, '
                                  'digits, hyphens and underscores', path=shown,
                                  line=line_in_table(text, name, [])))
            continue
        try:
            declared[name] = model.model_validate(value)
        except ValidationError as invalid:
            for item in invalid.errors():
                key = '.'.join(str(part) for part in item['loc'])
                message = (str(item['ctx']['error']) if item['type'] == 'value_error'
                           else item['msg'][:1].lower() + item['msg'][1:])
                where = f"[{name}] '{key}'" if key else f'[{name}]'   # '': the whole table
                problems.append(error(f'{where}: {message}', path=shown,
                                      line=line_in_table(text, name, item['loc'])))
    raise_all(problems, f'{shown}: {what} are not valid')
    return declared


def line_in_table(text: str, table: str, loc) -> int | None:
    """The line of key ``loc[0]`` inside ``[table]`` (or of the table header itself)."""
    lines = text.splitlines()
    header = re.compile(r'^\s*\[\s*' + re.escape(table) + r'\s*\]')
    start = next((n for n, line in enumerate(lines) if header.match(line)), None)
    if start is None:
        return None
    if loc:
        key = re.compile(r'^\s*' + re.escape(str(loc[0])) + r'\s*[=.]')
        for number in range(start + 1, len(lines)):
            if lines[number].lstrip().startswith('['):
                break
            if key.match(lines[number]):
                return number + 1
    return start + 1
