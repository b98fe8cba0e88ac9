"""Declaration files (``data/datasets.toml``, ``charts/charts.toml``): TOML tables, each
validated against a pydantic model, with every problem reported at once."""

from __future__ import annotations

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
        raw = tomllib.loads(path.read_text(encoding='utf-8'))
    except FileNotFoundError:
        raise error(f'{what} not found', path=shown) from None
    except tomllib.TOMLDecodeError as problem:
        raise error(f'not valid TOML: {problem}', path=shown) from None
    declared, problems = {}, []
    for name, value in raw.items():
        try:
            declared[name] = model.model_validate(value)
        except ValidationError as invalid:
            for item in invalid.errors():
                key = '.'.join(str(part) for part in item['loc'])
                problems.append(error(f"[{name}] '{key}': {item['msg'].lower()}", path=shown))
    raise_all(problems, f'{shown}: {what} are not valid')
    return declared
