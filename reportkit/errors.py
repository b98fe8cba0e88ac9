"""Errors a user can act on: each names the file and, where known, the line."""

from __future__ import annotations

from pathlib import Path


class ReportError(Exception):
    """A problem with the inputs or the build, shown to the user as one message.

    ``str(error)`` is the message, prefixed with ``file:line:`` when known.
    """

    def __init__(self, message: str, *, path: str | Path | None = None,
                 line: int | None = None) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        super().__init__(self.__str__())

    def __reduce__(self):
        # Errors travel back from worker processes (build -j): keep them picklable.
        return _rebuild, (type(self), self.message, self.path, self.line)

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        where = self.path if self.line is None else f'{self.path}:{self.line}'
        return f'{where}: {self.message}'


class ConfigError(ReportError):
    """The edition configuration is malformed or incomplete."""


class ContentError(ReportError):
    """A narrative section cannot be read, expanded or converted."""


class DataError(ReportError):
    """A data file does not match its declared schema."""


class ChartError(ReportError):
    """A chart definition is wrong or its data cannot be drawn."""


class RenderError(ReportError):
    """WeasyPrint reported a problem, or the PDF could not be written."""


class ProblemList(ReportError):
    """Several problems found in one pass, reported together."""

    def __init__(self, problems: list[ReportError], summary: str) -> None:
        self.problems = problems
        self.summary = summary
        super().__init__(summary)

    def __reduce__(self):
        return ProblemList, (self.problems, self.summary)

    def __str__(self) -> str:
        lines = [f'{self.summary} ({len(self.problems)} problem'
                 f'{"s" if len(self.problems) != 1 else ""}):']
        lines += [f'  {problem}' for problem in self.problems]
        return '\n'.join(lines)


def _rebuild(cls, message, path, line):
    return cls(message, path=path, line=line)


def problems_of(error: ReportError) -> list[ReportError]:
    """The single problems an error stands for (a ProblemList holds several)."""
    if isinstance(error, ProblemList):
        return [item for problem in error.problems for item in problems_of(problem)]
    return [error]


def raise_all(problems: list[ReportError], summary: str) -> None:
    """Raise the single problem, or all of them together; do nothing if none."""
    problems = [item for problem in problems for item in problems_of(problem)]
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise ProblemList(problems, summary)


def unique(problems: list[ReportError]) -> list[ReportError]:
    """Each problem once (the same one found twice, e.g. by two languages or documents
    reading one data file), in the order first found."""
    seen: dict[str, ReportError] = {}
    for problem in problems:
        seen.setdefault(str(problem), problem)
    return list(seen.values())
