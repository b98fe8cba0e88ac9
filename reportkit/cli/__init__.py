"""Command line: ``python make_report.py build 2015 --lang en`` and friends."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from reportkit import __version__
from reportkit.errors import ReportError
from reportkit.project import Project

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent


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

    # Which documents: editions by name or --all, in some or every language.
    selection = argparse.ArgumentParser(add_help=False)
    selection.add_argument('editions', nargs='*', metavar='EDITION',
                           help='edition(s): <series>/<edition>, or the edition alone when '
                                'only one series has it (2015), or a series for all its '
                                'editions')
    selection.add_argument('--all', action='store_true',
                           help='every edition of every series in reports/')
    selection.add_argument('--only', metavar='KEYS', type=_keys,
                           help="a batch series' documents to build, e.g. --only MI,TX")
    selection.add_argument('--lang', choices=['en', 'fr'], action='append', dest='languages',
                           help='a language (default: every language the edition lists)')

    b = commands.add_parser(
        'build', parents=[common, selection], help='build editions as PDF',
        description='Build editions as PDF: check every input of every edition first, '
                    'then write. Nothing is written if any input has a problem.',
        epilog='Examples:\n  python make_report.py build 2015 --lang en\n'
               '  python make_report.py build 2015            (every language it lists)\n'
               '  python make_report.py build --all --out-dir review/\n'
               '  python make_report.py build 2015 --lang en --out report.pdf\n'
               '  python make_report.py build 2015 --lang en --html review/report.html',
        formatter_class=argparse.RawDescriptionHelpFormatter)
    b.add_argument('--out', type=Path, metavar='FILE',
                   help='write the PDF to FILE (one edition, one language)')
    b.add_argument('--out-dir', type=Path, metavar='DIR',
                   help='write every PDF of this run into DIR (default: dist/); names are '
                        '<series>-<edition>-<lang>-r<revision>[-DRAFT].pdf')
    b.add_argument('--html', type=Path, metavar='FILE',
                   help='also write the composed HTML to FILE, with its assets beside it '
                        '(one edition, one language)')
    b.add_argument('--format', dest='formats', type=_formats, default=('pdf',),
                   metavar='pdf|web|pdf,web',
                   help="what to write of each document: its PDF (the default), its web "
                        "edition (a folder named like the PDF, with index.html and every "
                        "file it uses), or both")
    b.add_argument('--no-cache', action='store_true',
                   help='check, draw and render everything again, even what has not changed')
    b.add_argument('--dask', metavar='ADDRESS',
                   help='check and render the documents on this Dask cluster '
                        '(e.g. tcp://10.0.0.5:8786; needs the cluster extra)')
    b.add_argument('-j', '--jobs', type=int, default=os.cpu_count() or 1, metavar='N',
                   help='documents built at once, each in its own process '
                        '(default: the number of cores, here %(default)s)')

    commands.add_parser(
        'check', parents=[common, selection], help='run every check without writing a PDF',
        description='Check editions without writing anything: the configuration, every '
                    'section, the data, the charts, the translations, the accessibility of '
                    'the composed document, and the PDF rendered in memory (tagged, '
                    'language, title, fonts, bookmarks). Every problem is listed.',
        epilog='Example: python make_report.py check 2015')

    commands.add_parser(
        'list', parents=[common], help='list the editions with their languages, revision '
        'and status',
        description='List every edition in reports/: the year it covers, its data cut-off, '
                    'languages, revision, status and publication date.')

    n = commands.add_parser(
        'new-edition', parents=[common], help="start next year's edition from an earlier one",
        description='Start a new edition: copy the configuration and the sections of an '
                    'earlier edition, move its years on, and set it to draft, revision 1. '
                    'Then update the narrative and build it.',
        epilog='Example: python make_report.py new-edition 2016 --from 2015')
    n.add_argument('edition', help='the new edition: the year it covers, e.g. 2016')
    n.add_argument('--from', dest='source', required=True, metavar='EDITION',
                   help='the edition to start from, e.g. 2015')

    pv = commands.add_parser(
        'preview', parents=[common],
        help='show a document in a browser, updated at every save',
        description='Show the web page of one document at an address on this computer '
                    '(127.0.0.1 only), and build it again each time one of its files is '
                    'saved (a section, a data file, a chart, a template or style, '
                    'edition.toml): the open page updates itself. A problem is shown in '
                    'the page, over the last version that built, until it is fixed. The '
                    'page links to its PDF (made when you open it) and to its other '
                    'languages; /compare shows every language side by side.',
        epilog='Examples:\n  python make_report.py preview 2015\n'
               '  python make_report.py preview 2015 --lang fr --port 8001\n'
               '  python make_report.py preview SERIES/EDITION --only KEY   (a batch series: one document)',
        formatter_class=argparse.RawDescriptionHelpFormatter)
    pv.add_argument('edition', metavar='EDITION', help='the edition to show, e.g. 2015')
    pv.add_argument('--lang', choices=['en', 'fr'],
                    help='the language to open first (default: the edition\'s first)')
    pv.add_argument('--only', metavar='KEY', type=_keys,
                    help="a batch series' document, e.g. --only MI")
    pv.add_argument('--port', type=int, default=8000, metavar='N',
                    help='the port to listen on (default: 8000; 0: any free port)')

    tr = commands.add_parser(
        'translations', parents=[common],
        help='which translated sections are up to date with their source',
        description='List, for each section of each language other than the source '
                    '(English), whether it was brought up to date after its source section '
                    'last changed, and show what changed in the source since. Exit status 0 '
                    'when every translation is up to date, 1 when one is not. With --done, '
                    'record that a section\'s translation is up to date now.',
        epilog='Examples:\n  python make_report.py translations 2015\n'
               '  python make_report.py translations 2015 --done trade',
        formatter_class=argparse.RawDescriptionHelpFormatter)
    tr.add_argument('edition', metavar='EDITION', help='the edition, e.g. 2015')
    tr.add_argument('--lang', choices=['fr', 'en'], action='append', dest='languages',
                    help='only this language (default: every translated one)')
    tr.add_argument('--done', metavar='SECTION',
                    help="record that SECTION's translation is up to date with its source "
                         '(e.g. trade)')

    archive_option = argparse.ArgumentParser(add_help=False)
    archive_option.add_argument('--archive', type=Path, metavar='DIR',
                                help='the archive folder (default: archive/ in the project)')
    df = commands.add_parser(
        'diff', parents=[common, archive_option],
        help='what changed: since the published revision, between revisions or editions',
        description='Compare two versions of an edition, chapter by chapter, in every '
                    'language: the sentences that changed (word by word), the values that '
                    'changed (exports[2015]: old -> new), the figures and tables whose '
                    'rows changed, and the sections added, removed or moved. Nothing is '
                    'rendered. Exit status 0 when nothing changed, 1 when something did, 2 '
                    'when the comparison could not be made.',
        epilog='Examples:\n  python make_report.py diff 2015                 (the archive -> now)\n'
               '  python make_report.py diff 2015 --from r1 --to r2\n'
               '  python make_report.py diff 2015 --from 2014\n'
               '  python make_report.py diff 2015 --html review/changes.html',
        formatter_class=argparse.RawDescriptionHelpFormatter)
    df.add_argument('edition', metavar='EDITION', help='the edition, e.g. 2015')
    df.add_argument('--from', dest='source', default='archive',
                    metavar='archive|REVISION|EDITION',
                    help='what to compare from: the latest archived revision (the default), '
                         'an archived revision (r1), or another edition (2014)')
    df.add_argument('--to', dest='target', default='current', metavar='current|REVISION',
                    help='what to compare to: the current inputs (the default) or an '
                         'archived revision (r2)')
    df.add_argument('--lang', choices=['en', 'fr'], action='append', dest='languages',
                    help='only this language (default: every language)')
    df.add_argument('--only', metavar='KEYS', type=_keys,
                    help="a batch series' documents, e.g. --only MI,TX")
    df.add_argument('--html', type=Path, metavar='FILE',
                    help='also write the review as a web page to FILE')
    pub = commands.add_parser(
        'publish', parents=[common, archive_option],
        help='add a final edition to the archive, for good',
        description='Publish a final edition: build it in every language as archival '
                    'PDF/A-3a with its source data embedded, and add it to the archive as a '
                    'new revision with a manifest of checksums. An archived revision never '
                    'changes: publishing it again is refused; a correction is the next '
                    'revision. Drafts cannot be published.',
        epilog='Example: python make_report.py publish 2015')
    pub.add_argument('edition', help='the edition to publish, e.g. 2015')

    a = commands.add_parser('archive', parents=[common], help='list or verify the archive',
                            description='Look after the archive of published editions.')
    acts = a.add_subparsers(dest='action', metavar='ACTION')
    acts.required = True
    acts.add_parser('list', parents=[common, archive_option],
                    help='every archived edition, revision and file, with checksums')
    v = acts.add_parser(
        'verify', parents=[common, archive_option],
        help='check every archived file against its manifest',
        description='Re-hash every archived file against the manifests. Exit status 0 when '
                    'all match; a changed, missing or unexpected file is named, with exit '
                    'status 1.')
    d = commands.add_parser(
        'distribute', parents=[common, archive_option],
        help='email the published edition to stakeholders',
        description='Send every stakeholder who wants this edition one email, in their '
                    'language, with the archived PDF of the latest published revision '
                    'attached. A ledger remembers what was sent: running it again sends only '
                    'what is missing. Without --smtp, messages are written as .eml files into '
                    'an outbox folder. SMTP login: environment variables REPORT_SMTP_USER and '
                    'REPORT_SMTP_PASSWORD.',
        epilog='Examples:\n  python make_report.py distribute 2015 --dry-run\n'
               '  python make_report.py distribute 2015                     (to the outbox)\n'
               '  python make_report.py distribute 2015 --smtp smtp.example.org:587 --starttls\n'
               '  python make_report.py distribute 2015 --status',
        formatter_class=argparse.RawDescriptionHelpFormatter)
    d.add_argument('edition', help='the edition to send, e.g. 2015')
    d.add_argument('--list', type=Path, metavar='FILE', dest='stakeholders',
                   help='the stakeholder list (default: distribution/stakeholders.csv)')
    d.add_argument('--ledger', type=Path, metavar='FILE',
                   help='the delivery ledger (default: distribution/ledger.sqlite)')
    d.add_argument('--smtp', metavar='HOST:PORT', help='send through this SMTP server')
    d.add_argument('--starttls', action='store_true', help='use STARTTLS with --smtp')
    d.add_argument('--outbox', type=Path, metavar='DIR',
                   help='without --smtp: where the .eml files go '
                        '(default: distribution/outbox/)')
    d.add_argument('--sender', metavar='"NAME <ADDRESS>"',
                   help='the From of the messages (default: distribution/settings.toml)')
    d.add_argument('--dry-run', action='store_true',
                   help='list what would be sent to whom, and send nothing')
    d.add_argument('--status', action='store_true',
                   help='print the ledger for this edition, and send nothing')
    d.add_argument('--retries', type=int, default=3, metavar='N',
                   help='attempts per message on temporary failures (default: 3)')
    d.add_argument('--retry-delay', type=float, default=2.0, metavar='SECONDS',
                   help='first wait before a retry; doubles each time (default: 2)')

    v.add_argument('--rebuild', metavar='EDITION',
                   help='also rebuild EDITION from the current inputs and say whether the '
                        'bytes equal the archived ones, and which inputs differ')
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 when everything succeeded)."""
    args = _parser().parse_args(argv)
    args.debug = getattr(args, 'debug', False)
    args.project = getattr(args, 'project', None)
    console = Console(stderr=True, highlight=False)
    project = Project.at(args.project or PROJECT_ROOT)
    from reportkit.safety.worker import interrupt_on_termination
    restore = interrupt_on_termination()   # SIGTERM, SIGHUP: like Ctrl-C, every finally runs
    try:
        if args.command in ('build', 'check', 'publish', 'preview') or getattr(args, 'rebuild', None):
            from reportkit.safety.budget import Budget
            Budget.from_environment()   # a bad REPORT_RENDER_* value: one line, before work
        if args.command in ('build', 'check', 'list', 'new-edition', 'translations'):
            from reportkit.cli import build as cli_build
            command = {'build': cli_build.build_command, 'check': cli_build.check_command,
                       'list': cli_build.list_command,
                       'new-edition': cli_build.new_edition_command,
                       'translations': cli_build.translations_command}[args.command]
            return command(project, args, console)
        if args.command == 'diff':
            from reportkit.cli.review import diff_command
            return diff_command(project, args, console)
        if args.command == 'preview':
            from reportkit.cli.preview import preview_command
            return preview_command(project, args, console)
        if args.command in ('publish', 'archive', 'distribute'):
            from reportkit.cli import archive as cli_archive
            command = {'publish': cli_archive.publish_command,
                       'archive': cli_archive.archive_command,
                       'distribute': cli_archive.distribute_command}[args.command]
            return command(project, args, console)
    except ReportError as error:
        if args.debug:
            console.print_exception()
        console.print(f'[bold red]error:[/] {escape(str(error))}', soft_wrap=True)
        return 1
    except KeyboardInterrupt as error:   # Ctrl-C: 130; SIGTERM 143, SIGHUP 129 (Terminated)
        console.print('interrupted; nothing was replaced')
        return getattr(error, 'exit_status', 130)
    except Exception as error:  # a bug in the pipeline, not in the inputs
        if args.debug:
            console.print_exception()
        else:
            console.print(f'[bold red]internal error:[/] {type(error).__name__}: '
                          f'{escape(str(error))}\n'
                          'Run the same command with --debug for the details, and '
                          'report it with that output.', soft_wrap=True)
        return 2
    finally:
        restore()
    return 0


FORMATS = ('pdf', 'web')


def _formats(text: str) -> tuple[str, ...]:
    """'pdf', 'web' or 'pdf,web' -> the formats, in that order."""
    asked = [part.strip().lower() for part in text.split(',') if part.strip()]
    unknown = [part for part in asked if part not in FORMATS]
    if unknown or not asked:
        raise argparse.ArgumentTypeError(f"{text!r}: give pdf, web or pdf,web")
    return tuple(kind for kind in FORMATS if kind in asked)


def _keys(text: str) -> list[str]:
    """'MI, tx' -> ['MI', 'TX']: a batch series' document keys."""
    keys = [part.strip().upper() for part in text.split(',') if part.strip()]
    if not keys:
        raise argparse.ArgumentTypeError('name at least one document, e.g. MI,TX')
    return list(dict.fromkeys(keys))


if __name__ == '__main__':  # pragma: no cover
    sys.exit(main())
