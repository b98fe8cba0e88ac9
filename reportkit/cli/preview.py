"""The preview command: ``make_report.py preview 2015 --lang fr`` serves one document's
web pages on 127.0.0.1 and builds them again at every save (:mod:`reportkit.preview`)."""

from __future__ import annotations

import time

from rich.console import Console
from rich.markup import escape

from reportkit.errors import ReportError
from reportkit.project import Project


def preview_command(project: Project, args, console: Console) -> int:
    from reportkit.preview.server import Server
    from reportkit.preview.session import Preview
    from reportkit.preview.watch import watch, watched

    preview = Preview(project, args.edition, args.lang, _item(args.only))
    server = Server(preview, args.port)   # the port is taken (or refused) before building
    try:
        _rebuilt(preview, console, None)
        preview.start_renderer()
        server.start()
        folders = ', '.join(f'{project.show(folder)}/' for folder in watched(project))
        console.print(f'[bold]Preview of {escape(preview.edition)}'
                      f'{" " + escape(preview.item) if preview.item else ""}[/] at '
                      f'[link={server.address}]{server.address}[/link]', soft_wrap=True)
        console.print(f'Open it in a browser: it shows each save. Watching {escape(folders)}. '
                      'Press Ctrl-C to stop.', soft_wrap=True)
        try:
            watch(project, lambda names: _rebuilt(preview, console, names))
        except KeyboardInterrupt:
            pass
        console.print('preview stopped')
        return 0
    finally:
        server.stop()
        preview.close()


def _item(only: list[str] | None) -> str | None:
    if only and len(only) > 1:
        raise ReportError(f"preview shows one document: name one with --only "
                          f"(not {', '.join(only)})")
    return only[0] if only else None


def _rebuilt(preview, console: Console, names: list[str] | None) -> None:
    """Build again, and say so in one line (or the problem, as build would say it)."""
    seconds = preview.rebuild()
    when = time.strftime('%H:%M:%S')
    what = (f'{escape(", ".join(names[:3]))}{" …" if len(names) > 3 else ""} changed: '
            if names else '')
    if preview.problem is not None:
        console.print(f'{when} {what}[bold red]error:[/] {escape(str(preview.problem))}\n'
                      '(shown in the page until it is fixed)', soft_wrap=True)
    else:
        console.print(f'{when} {what}built in {seconds:.2f} s', soft_wrap=True)
