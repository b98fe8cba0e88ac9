"""Beyond one machine: the documents of a run checked and rendered as tasks of an existing
Dask cluster (``build --dask ADDRESS``; dask.distributed, the ``cluster`` extra).

Each task is what a local worker does for one document: phase 1 (check and compose) and
phase 2 (render) from the project as the worker sees it, at the same path. Its result,
the PDF's bytes with what was read, comes back to the build, which writes it as it
writes a local one: beside its target under a hidden name, renamed into place only when
every document of the run has rendered. A task's problem comes back as the message it
would have printed.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reportkit.errors import ReportError, RenderError

if TYPE_CHECKING:  # pragma: no cover
    from reportkit.files import Journal
    from reportkit.run.prepare import BuildRequest, Progress
    from reportkit.project import Project

CONNECT_SECONDS = 20
"""How long the build waits for the scheduler before saying it cannot reach it."""


@dataclass(frozen=True)
class Rendered:
    """What a task sends back: one document's PDF and how it was made."""

    data: bytes
    pages: int
    timings: dict[str, float]
    reads: Journal
    title: str
    page: object = None
    """The document's web page (:class:`~reportkit.compose.web.WebPage`), when asked for."""


def render_task(root: str, request: BuildRequest, name: str, cache: str | None):
    """One document, on a worker: checked, composed and rendered in memory."""
    from reportkit.run.render import render_language
    from reportkit.run.prepare import prepare
    from reportkit.project import Project

    project = Project.at(root)
    try:
        prepared = prepare(project, request, cache=Path(cache) if cache else None)
        lang = next(iter(prepared.composed))
        rendered, _ = render_language(project, prepared, lang, None, name=name)
    except ReportError as error:
        return error
    return Rendered(rendered.data, rendered.pages, {**prepared.timings, **rendered.timings},
                    prepared.reads, prepared.composed[lang].title, prepared.composed[lang].web)


def run_on_cluster(project: Project, documents: list, address: str, cache: Path | None,
                   progress: Progress) -> list:
    """Every document's task on the cluster at ``address``; for each document (in order)
    its (temporary file, result) or the problem it had."""
    try:
        from dask.distributed import Client, as_completed
    except ImportError:
        raise ReportError('--dask needs dask.distributed, which is not installed: install '
                          "the cluster extra (pip install '.[cluster]')") from None

    from reportkit.run.render import BuildResult
    from reportkit.safety.worker import part_prefix

    try:
        client = Client(address, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError, ValueError) as error:
        raise ReportError(f'--dask {address}: cannot reach the Dask scheduler there '
                          f'({type(error).__name__}: {str(error)[:120]})') from None
    outputs: dict[int, object] = {}
    try:
        futures = {client.submit(render_task, str(project.root), document.request,
                                 document.target.name, str(cache) if cache else None,
                                 pure=False): i
                   for i, document in enumerate(documents)}
        for future in as_completed(futures):
            i = futures[future]
            document = documents[i]
            result = future.result()
            label = document.request.edition + (
                f' {document.request.item}' if document.request.item else '')
            if isinstance(result, ReportError):
                outputs[i] = result
                progress(6, 'Problems found', f'{label} {document.lang}')
                continue
            outputs[i] = (_write_beside(document.target, result.data, part_prefix),
                          BuildResult(document.request.edition, document.lang,
                                      document.target, result.pages, len(result.data), 0.0,
                                      None, result.timings, reads=result.reads,
                                      item=document.request.item, page=result.page))
            progress(6, 'Rendered on the cluster', f'{label} {document.lang}')
    except BaseException:
        for output in outputs.values():
            if isinstance(output, tuple):
                Path(output[0]).unlink(missing_ok=True)
        raise
    finally:
        client.close()
    return [outputs[i] for i in range(len(documents))]


def _write_beside(target: Path, data: bytes, part_prefix) -> str:
    """The PDF under a hidden name beside its target (renamed into place by the build)."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=part_prefix(target.name), suffix='.part',
                                        dir=target.parent)
        with os.fdopen(handle, 'wb') as stream:
            stream.write(data)
    except OSError as error:
        raise RenderError(f'cannot write to {target.parent}: {error.strerror or error}') \
            from None
    return temp
