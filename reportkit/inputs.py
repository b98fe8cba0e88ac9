"""What an edition is built from: the files its build read (recorded by
:mod:`.files`), the pipeline's code and the software, each with its digest.

The archive manifest records these; ``archive verify --rebuild`` compares them to say
which inputs changed; the build cache keys PDFs by them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path


SOFTWARE = ('weasyprint', 'pydyf', 'matplotlib', 'pandas', 'jinja2', 'babel',
            'markdown-it-py', 'mdit-py-plugins', 'pydantic', 'fonttools')
"""Packages whose version can change the bytes of a PDF."""

CODE = Path(__file__).resolve().parent


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open('rb') as stream:
        for block in iter(lambda: stream.read(1 << 16), b''):
            digest.update(block)
    return digest.hexdigest()


def code_digests() -> dict[str, str]:
    """The pipeline's own code, by name (``reportkit/run/build.py``): part of every plan."""
    return dict(_code())


@functools.cache
def _code() -> dict[str, str]:
    return {f'reportkit/{path.relative_to(CODE).as_posix()}': sha256_file(path)
            for path in sorted(CODE.rglob('*.py'))}


def manifest_inputs(journal) -> dict[str, str]:
    """What an archived revision records as its inputs: every file its build read, and
    the pipeline's code."""
    return dict(sorted({**journal.files, **code_digests()}.items()))


def software() -> dict[str, str]:
    """The versions of Python and of the packages that can change a PDF's bytes."""
    return dict(_versions())


@functools.cache
def _versions() -> dict[str, str]:
    # Read once per process: the plan and the data view both need them.
    versions = {'python': platform.python_version()}
    for name in SOFTWARE:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # pragma: no cover - all are required
            versions[name] = 'not installed'
    return versions


def key(*parts: object) -> str:
    """One digest for a set of inputs (dicts are taken in sorted order)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
