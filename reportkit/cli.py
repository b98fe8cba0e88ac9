"""Command line: ``python make_report.py build 2015 --lang en`` and friends."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from . import __version__
from .build import STAGES, BuildRequest, build
from .errors import ReportError
from .project import Project

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: given before or after the command, an option is kept (argparse would
    # otherwise let the sub-command's default overwrite it).
    common.add_argument('--debug', action='store_true', default=argparse.SUPPRESS,
                        help='show the full Python traceback when something fails')
    common.add_argument('--project', type=Path, metavar='DIR', default=argparse.SUPPRESS,
                        help='the project folder (default: the folder of make_report.py)')
    parser = argparse.ArgumentParser(
        prog='make_report.py', parents=[common],
        description='Build the official PDF editions of a report series from its '
                    'narrative (reports/), data (data/), charts (charts/) and '
                    'templates (templates/).',
        epilog='Example: python make_report.py build 2015 --lang en')
    parser.add_argument('--version', action='version', version=f'%(prog)s {__version__}')
    commands = parser.add_subparsers(dest='command', metavar='COMMAND')
    commands.required = True

    b = commands.add_parser(
        'build', parents=[common], help='build an edition as PDF',
        description='Build one edition as PDF: check every input first, then write. '
                    'Nothing is written if any input has a problem.',
        epilog='Examples:\n  python make_report.py build 2015 --lang en\n'
               '  python make_report.py build 2015 --lang en --out report.pdf\n'
               '  python make_report.py build 2015 --lang en --html review/report.html',
        formatter_class=argparse.RawDescriptionHelpFormatter)
    b.add_argument('edition', help='edition to build: a folder of reports/, e.g. 2015')
    b.add_argument('--lang', choices=['en', 'fr'], action='append', dest='languages',
                   help='language to build (default: every language the edition lists)')
    b.add_argument('--out', type=Path, metavar='FILE',
                   help='write the PDF to FILE (default: dist/<series>-<edition>-<lang>-r<revision>.pdf)')
    b.add_argument('--out-dir', type=Path, metavar='DIR',
                   help='write the PDFs into DIR instead of dist/')
    b.add_argument('--html', type=Path, metavar='FILE',
                   help='also write the composed HTML to FILE, with its assets beside it '
                        '(render it with: weasyprint FILE out.pdf)')
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 when everything succeeded)."""
    args = _parser().parse_args(argv)
    args.debug = getattr(args, 'debug', False)
    args.project = getattr(args, 'project', None)
    console = Console(stderr=True, highlight=False)
    project = Project.at(args.project or PROJECT_ROOT)
    try:
        if args.command == 'build':
            return _build(project, args, console)
    except ReportError as error:
        if args.debug:
            console.print_exception()
        console.print(f'[bold red]error:[/] {escape(str(error))}', soft_wrap=True)
        return 1
    except KeyboardInterrupt:
        console.print('interrupted; nothing was replaced')
        return 130
    except Exception as error:  # a bug in the pipeline, not in the inputs
        if args.debug:
            console.print_exception()
        else:
            console.print(f'[bold red]internal error:[/] {type(error).__name__}: '
                          f'{escape(str(error))}\n'
                          'Run the same command with --debug for the details, and '
                          'report it with that output.', soft_wrap=True)
        return 2
    return 0


def _build(project: Project, args, console: Console) -> int:
    if args.html and args.languages and len(args.languages) > 1:
        raise ReportError('--html names one file: build one language at a time')
    started = time.perf_counter()

    def progress(step: int, stage: str, detail: str) -> None:
        console.print(f'\\[{step}/{len(STAGES)}] {stage} [dim]({escape(detail)})[/]',
                      soft_wrap=True)

    request = BuildRequest(args.edition, args.languages, args.out, args.html, args.out_dir)
    results = build(project, request, progress)
    for result in results:
        console.print(f'[green]wrote[/] {project.show(result.pdf)} '
                      f'({result.pages} pages, {result.size / 1024:,.0f} KB)', soft_wrap=True)
        if result.html:
            console.print(f'[green]wrote[/] {project.show(result.html)} (HTML and assets)',
                          soft_wrap=True)
    console.print(f'done in {time.perf_counter() - started:.1f} s')
    return 0


if __name__ == '__main__':  # pragma: no cover
    sys.exit(main())
