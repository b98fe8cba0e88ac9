"""Declaration files (``data/datasets.toml``, ``charts/charts.toml``): TOML tables, each
validated against a pydantic model, with every problem reported at once."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from .errors import ReportError, raise_all

Model = TypeVar('Model', bound=BaseModel)


def load_declarations(path: Path, shown: str, model: type[Model], error: type[ReportError],
                      what: str) -> dict[str, Model]:
    """``{table name: model}`` for every top-level table of the TOML file at ``path``.

    ``what`` names the file's content in messages, e.g. 'chart definitions'.
    """
    try:
        text = path.read_text(encoding='utf-8')
        raw = tomllib.loads(text)
    except FileNotFoundError:
        raise error(f'{what} not found', path=shown) from None
    except UnicodeDecodeError as problem:
        raise error(f'not UTF-8 text (byte {problem.start})', path=shown) from None
    except tomllib.TOMLDecodeError as problem:
        match = re.search(r'\(at line (\d+), column \d+\)', str(problem))
        message = re.sub(r'\s*\(at line .*\)', '', str(problem))
        raise error(f'not valid TOML: {message}', path=shown,
                    line=int(match[1]) if match else None) from None
    declared, problems = {}, []
    for name, value in raw.items():
        try:
            declared[name] = model.model_validate(value)
        except ValidationError as invalid:
            for item in invalid.errors():
                key = '.'.join(str(part) for part in item['loc'])
                problems.append(error(f"[{name}] '{key}': {item['msg'].lower()}", path=shown,
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
