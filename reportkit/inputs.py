"""What an edition is built from: every input file with its SHA-256, and the software.

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

from .project import Project

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


def input_files(project: Project, edition_id: str, languages: list[str]) -> dict[str, Path]:
    """Every file that goes into the edition's PDFs in ``languages``, by shown path:
    its configuration and sections, the data, the chart definitions and style, the
    templates, fonts and message catalogues, and the pipeline's own code. (The
    publications page and email templates are not inputs of a PDF.)"""
    files: dict[str, Path] = {}
    folder = project.edition_dir(edition_id)
    candidates = [folder / 'edition.toml']
    for lang in languages:
        candidates += sorted((folder / lang).glob('*.md'))
    for root in (project.data, project.charts, project.templates):
        candidates += sorted(p for p in root.rglob('*') if p.is_file()
                             and not p.is_relative_to(project.templates / 'archive')
                             and not p.is_relative_to(project.templates / 'email'))
    for path in candidates:
        if path.is_file() and not any(part.startswith('.') for part in path.parts[-3:]):
            files[project.show(path)] = path
    for path in sorted(CODE.glob('*.py')):
        files[f'reportkit/{path.name}'] = path
    return files


def digests(files: dict[str, Path]) -> dict[str, str]:
    return {name: sha256_file(path) for name, path in sorted(files.items())}


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
