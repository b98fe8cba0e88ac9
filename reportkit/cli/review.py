"""The command line's ``diff``: what changed between two versions of an edition (``cli``
parses the line and dispatches here)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from reportkit.errors import ReportError
from reportkit.project import Project

NO_CHANGE, CHANGED, FAILED = 0, 1, 2


def diff_command(project: Project, args, console: Console) -> int:
    """Exit status 0: nothing changed; 1: something did; 2: the comparison failed."""
    from reportkit.cli.archive import archive_dir
    from reportkit.review.versions import version

    try:
        name = project.resolve(args.edition)
        html = project.output(args.html, '--html') if args.html else None
        archive = archive_dir(project, args)
        if args.source == args.target:
            raise ReportError(f'--from and --to name the same version ({args.source})')
        old = version(project, name, args.source, archive, args.languages, args.only)
        new = version(project, name, args.target, archive, args.languages, args.only)
        if old.label == new.label:
            raise ReportError(f'--from and --to name the same version ({old.label})')
        return _report(project, name, old, new, html, console)
    except ReportError as error:
        if args.debug:
            console.print_exception()
        console.print(f'[bold red]error:[/] {escape(str(error))}', soft_wrap=True)
        return FAILED


def _report(project: Project, name: str, old, new, html, console: Console) -> int:
    from reportkit.files import write_atomically
    from reportkit.review.page import review_page
    from reportkit.review.review import print_review, review

    found = review(name, old, new)
    if html is not None:   # made before anything is printed: a template problem is one line
        page = review_page(project, found)
    print_review(found, Console(highlight=False))
    if html is not None:
        html.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(html, page)
        console.print(f'review page: {escape(project.show(html))}', soft_wrap=True)
    return CHANGED if found.changed else NO_CHANGE
