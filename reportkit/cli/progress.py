"""What a run prints while it works: a line per stage for a few documents, a progress bar
with counts and time left for a batch (rich)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)

from reportkit.run.prepare import RENDERED, STAGES

BATCH = 6
"""From this many documents to build on, a run shows a progress bar."""


def progress_printer(console: Console):
    """Prints each stage of the work as it starts: '[2/6] Checking the data (…)'."""
    def progress(step: int, stage: str, detail: str) -> None:
        console.print(f'\\[{step}/{len(STAGES)}] {stage} [dim]({escape(detail)})[/]',
                      soft_wrap=True)
    return progress


class BatchProgress:
    """A run's progress: stage lines, or, once the run turns out to be a batch, one bar
    that counts each document checked (stages 1–5) and rendered (stage 6)."""

    def __init__(self, console: Console) -> None:
        self.console, self.lines = console, progress_printer(console)
        self.bar: Progress | None = None
        self.task = None

    def planned(self, documents: int, todo: int) -> None:
        if todo < BATCH:
            return
        self.bar = Progress(TextColumn('{task.description}'), BarColumn(),
                            MofNCompleteColumn(), TextColumn('steps'), TimeElapsedColumn(),
                            TextColumn('left'), TimeRemainingColumn(), console=self.console)
        self.task = self.bar.add_task(f'{todo} of {documents} documents', total=2 * todo)
        self.bar.start()

    def __call__(self, step: int, stage: str, detail: str) -> None:
        if self.bar is None:
            if stage != RENDERED:   # a line says a render starts; the 'wrote' lines, its end
                self.lines(step, stage, detail)
        elif step >= 5 and not detail.endswith('from the cache') and stage != STAGES[5]:
            # One step per document checked (stage 5) and one per document rendered
            # (when it is done, not as it starts).
            self.bar.update(self.task, advance=1, description=f'{stage}: {escape(detail)}')

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
