"""What a run builds: each requested edition's documents (a language, and in a batch
series a row of its ``for_each`` dataset), where each goes, and which of them the cache
already holds."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from reportkit.errors import ReportError
from reportkit.files import looking_once
from reportkit.run.prepare import BuildRequest, output_name
from reportkit.project import Project
from reportkit.run.slices import Slices
from reportkit.render.pdf import PDF_VARIANT
from reportkit.render.web import web_folder

if TYPE_CHECKING:  # pragma: no cover
    from reportkit.load.config import EditionConfig


@dataclass
class Document:
    """One PDF of the run: an edition in one language, and where it goes."""

    request: BuildRequest
    config: EditionConfig
    lang: str
    target: Path
    plan: str | None
    """What is asked for (document, variant, code, software); None: not cacheable (e.g.
    --html wants the HTML). The cache key adds the digests of every file it read."""
    key: str | None = None
    """The cache key of the PDF, when its inputs are unchanged since it was cached."""
    view: object = field(default=None, repr=False)
    """A batch document's data view (the run's), for its slice of the data."""
    web: Path | None = None
    """Where its web edition goes, when asked for (a folder beside its PDF)."""


def plan(project: Project, requests: list[BuildRequest], use_cache: bool) -> list[Document]:
    """Every document of the requested editions, in order, with the cache key of those
    whose inputs are unchanged."""
    with looking_once():   # each file the documents' last builds read, looked at once
        return _plan(project, requests, use_cache)


def _plan(project: Project, requests: list[BuildRequest], use_cache: bool) -> list[Document]:
    from reportkit.inputs import code_digests, key, software
    from reportkit.load.edition import load_edition_config

    documents, seen = [], {}
    versions = software() if use_cache else {}
    cached = depends(project)
    slices = Slices(project)
    for request in requests:
        request = dataclasses.replace(request, edition=project.resolve(request.edition))
        config, series, _ = load_edition_config(project, request.edition)
        shown = project.show(project.edition_dir(request.edition) / 'edition.toml')
        languages = request.languages or list(config.languages)
        view = None
        if series.for_each:
            keys, view = items(project, request, use_cache)
        else:
            keys = [None]
        if request.out and len(languages) * len(keys) > 1:
            raise ReportError('--out names one file, but the edition has several documents '
                              'or languages; add --lang (and --only), or use --out-dir')
        for item in keys:
            for lang in languages:
                if lang not in config.languages:
                    raise ReportError(f"edition {request.edition} is not published in "
                                      f"'{lang}' (languages: {', '.join(config.languages)})",
                                      path=shown)
                one = dataclasses.replace(request, languages=[lang], item=item)
                path = target(project, one, config, lang)
                what = f"{request.edition}{' ' + item if item else ''} ({lang})"
                if path in seen:
                    raise ReportError(f'{what} and {seen[path]} would both be written to '
                                      f'{project.show(path)}')
                seen[path] = what
                plan_key = hit = None
                if use_cache and not request.html:
                    plan_key = key('pdf', PDF_VARIANT, request.edition, item, lang,
                                   versions, code_digests())
                    hit = cached.lookup(plan_key)
                    if hit is None and view is not None:   # its own slice unchanged?
                        found = slices.lookup(plan_key, view, lang, item)
                        hit = (found, None) if found else None
                documents.append(Document(one, config, lang, path, plan_key,
                                          hit[0] if hit else None, view,
                                          web_folder(path) if 'web' in request.formats
                                          else None))
    return documents


def items(project: Project, request: BuildRequest, use_cache: bool):
    """A batch edition's documents (its data view says which), or those of --only; and
    the view."""
    from reportkit.charts.specs import load_chart_specs
    from reportkit.data.view import data_view
    from reportkit.errors import raise_all
    from reportkit.load.edition import load_edition

    edition = load_edition(project, request.edition, request.languages)
    view, problems = data_view(project, edition, list(edition.sections),
                               load_chart_specs(project, edition),
                               project.build / 'cache' if use_cache else None)
    if view is None:
        raise_all(problems, f'edition {request.edition}: inputs are missing or wrong')
    if not request.only:
        return list(view.items), view
    unknown = [code for code in request.only if code not in view.items]
    if unknown:
        raise ReportError(f"--only: edition {request.edition} has no document "
                          f"{', '.join(repr(code[:20]) for code in unknown)} (its documents: "
                          f"{', '.join(view.items[:8])}{'…' if len(view.items) > 8 else ''})")
    chosen = [code for code in view.items if code in request.only]
    return chosen, view


def label(document: Document) -> str:
    """'<series>/<edition>', and a batch document's key: a document in progress lines."""
    item = document.request.item
    return document.request.edition + (f' {item}' if item else '')


def depends(project: Project):
    from reportkit.cache import Depends
    return Depends(project.build / 'cache' / 'pdf', project.root)


def weight(project: Project, document: Document) -> int:
    folder = project.edition_dir(document.request.edition) / document.lang
    return sum(p.stat().st_size for p in folder.glob('*.md')) + 20_000 * len(
        document.config.figures)


def target(project: Project, request: BuildRequest, config: EditionConfig, lang: str) -> Path:
    if request.out:
        return request.out.resolve()
    folder = request.out_dir or project.dist
    return (folder / output_name(config, lang, request.item)).resolve()


