"""``check``: every gate of a build, without writing a PDF or a web page."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from reportkit.run.render import render_language
from reportkit.errors import ReportError, problems_of, raise_all, unique
from reportkit.run.plan import items
from reportkit.run.prepare import BuildRequest, Progress, prepare, quiet
from reportkit.project import Project


@dataclass
class Checked:
    edition: str
    lang: str
    pages: int
    item: str | None = None


def check(project: Project, requests: list[BuildRequest], progress: Progress = quiet
          ) -> list[Checked]:
    """Every gate, without writing anything: inputs, narrative, charts, the composed
    document, its web page, and the PDF rendered in memory. Raises with every problem of
    every document."""
    from reportkit.load.edition import load_edition_config

    checked, problems = [], []
    expanded = []
    for request in requests:
        request = dataclasses.replace(request, edition=project.resolve(request.edition))
        _, series, _ = load_edition_config(project, request.edition)
        keys = items(project, request, False)[0] if series.for_each else [None]
        expanded += [dataclasses.replace(request, item=item, formats=('pdf', 'web'))
                     for item in keys]
    for request in expanded:
        try:
            prepared = prepare(project, request, progress)
        except ReportError as error:
            problems += problems_of(error)
            continue
        for lang in prepared.composed:
            label = request.edition + (f' {request.item}' if request.item else '')
            progress(6, 'Rendering in memory to check the PDF', f'{label} {lang}')
            try:
                rendered, _ = render_language(project, prepared, lang, None)
            except ReportError as error:
                problems += problems_of(error)
                continue
            checked.append(Checked(request.edition, lang, rendered.pages, request.item))
    raise_all(unique(problems), 'the check found problems; fix them before building')
    return checked
