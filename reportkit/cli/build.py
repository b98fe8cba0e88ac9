"""The commands that make documents: build, check, list, new-edition (the command line
itself, parsing and dispatch, is :mod:`.cli`)."""

from __future__ import annotations

import time

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from reportkit.run.build import build_many
from reportkit.cli.progress import BatchProgress, progress_printer
from reportkit.errors import ReportError
from reportkit.run.prepare import BuildRequest
from reportkit.project import Project


def selected(project: Project, args, verb: str) -> list[str]:
    """The editions a command names (full names), or every edition with --all."""
    if args.all and args.editions:
        raise ReportError('give edition names or --all, not both')
    names = []
    for name in args.editions:   # a series' name stands for every edition of it
        names += project.editions(name) if name in project.series() else \
            [project.resolve(name)]
    editions = project.editions() if args.all else list(dict.fromkeys(names))
    if not editions:
        known = ', '.join(project.editions()) or 'none'
        raise ReportError(f'name the edition to {verb}, e.g. {verb} 2015, or use --all '
                          f'(editions: {known})')
    return editions


def build_command(project: Project, args, console: Console) -> int:
    editions = selected(project, args, 'build')
    single = len(editions) == 1 and len(args.languages or []) <= 1
    for option, value in (('--out', args.out), ('--html', args.html)):
        if value and not single:
            raise ReportError(f'{option} names one file: build one edition in one language '
                              '(use --out-dir for several)')
    out = project.output(args.out, '--out') if args.out else None
    html = project.output(args.html, '--html') if args.html else None
    if html:
        project.output(html.parent, '--html', folder=True)
    out_dir = project.output(args.out_dir, '--out-dir', folder=True) if args.out_dir else None
    started = time.perf_counter()
    requests = [BuildRequest(edition, args.languages, out, html, out_dir, only=args.only,
                             formats=args.formats)
                for edition in editions]
    progress = BatchProgress(console)
    try:
        results = build_many(project, requests, progress, use_cache=not args.no_cache,
                             jobs=max(1, args.jobs), planned=progress.planned,
                             dask=args.dask)
    finally:
        progress.stop()
    for result in results:
        how = ', unchanged' if result.cached else ''
        if 'pdf' in args.formats:
            console.print(f'[green]wrote[/] {escape(project.show(result.pdf))} '
                          f'({result.pages} pages, {result.size / 1024:,.0f} KB{how})',
                          soft_wrap=True)
        if result.web:
            console.print(f'[green]wrote[/] {escape(project.show(result.web))}/index.html '
                          f'(the web edition{how})', soft_wrap=True)
        if result.html:
            console.print(f'[green]wrote[/] {escape(project.show(result.html))} '
                          '(HTML and assets)', soft_wrap=True)
    from reportkit.load.translations import stale_sections
    for edition in editions:   # (a final with one is refused before anything is written)
        for section in stale_sections(project, edition, args.languages or []):
            console.print(f'[yellow]warning:[/] {escape(section.shown)}: translation pending '
                          '(its source changed since it was translated; it is marked in the '
                          f'draft): see translations {escape(edition)}', soft_wrap=True)
    kinds = {'pdf': 'PDF', 'web': 'web edition'}
    made = ' and '.join(f'{len(results)} {kinds[kind]}{"s" if len(results) != 1 else ""}'
                        for kind in args.formats)
    console.print(f'{made} in {time.perf_counter() - started:.1f} s')
    return 0


def check_command(project: Project, args, console: Console) -> int:
    from reportkit.run.check import check
    editions = selected(project, args, 'check')
    started = time.perf_counter()
    results = check(project, [BuildRequest(edition, args.languages, only=args.only)
                              for edition in editions], progress_printer(console))
    for result in results:
        item = f' {result.item}' if result.item else ''
        console.print(f'[green]ok[/] {result.edition}{item} {result.lang} '
                      f'({result.pages} pages)')
    console.print(f'every check passed; nothing was written '
                  f'({time.perf_counter() - started:.1f} s)')
    return 0


def list_command(project: Project, args, console: Console) -> int:
    from reportkit.load.editions import summaries
    out = Console(highlight=False)
    editions = summaries(project)
    if not editions:
        console.print(f'no editions in {project.show(project.reports)}/ '
                      '(start one with: new-edition 2016 --from 2015)')
        return 0
    problems = 0
    for series in dict.fromkeys(item.id.split('/')[0] for item in editions):
        table = Table(title=f'{series}: editions in {project.show(project.reports)}/{series}/',
                      title_justify='left')
        for name in ('Edition', 'Covers', 'Languages', 'Revision', 'Status',
                     'Published'):
            table.add_column(name, no_wrap=True)
        for item in editions:
            if item.id.split('/')[0] != series:
                continue
            c, name = item.config, item.id.split('/', 1)[1]
            if c is None:
                problems += 1
                table.add_row(name, '', '', '', '[red]cannot be read[/]', '')
                continue
            status = '[yellow]draft[/]' if c.status == 'draft' else 'final'
            table.add_row(name, str(c.year), ', '.join(c.languages),
                          str(c.revision), status, c.publication_date.isoformat())
        out.print(table)
    for item in editions:
        if item.problem:
            console.print(f'[bold red]error:[/] {escape(item.problem)}', soft_wrap=True)
    return 1 if problems else 0


def new_edition_command(project: Project, args, console: Console) -> int:
    from reportkit.load.editions import new_edition
    created = new_edition(project, args.edition, args.source)
    shown = project.show(created.folder)
    console.print(f'[green]created[/] {escape(shown)}/ from edition {escape(args.source)}: '
                  f'edition.toml and {len(created.copied)} section files; status draft, '
                  'revision 1', soft_wrap=True)
    console.print('Next steps:')
    console.print(f'  1. Check the dates, data cut-off and figures in {escape(shown)}/edition.toml.')
    if created.typed_years:
        console.print(f'  2. Update the narrative: these files still name years of edition '
                      f'{escape(args.source)}:')
        for path, count in created.typed_years.items():
            console.print(f'       {escape(path)} ({count})', soft_wrap=True)
    else:
        console.print('  2. Update the narrative for the new year.')
    console.print(f'  3. Build a draft: python make_report.py build '
                  f'{escape(created.folder.parent.name)}/{escape(created.folder.name)}')
    return 0


def translations_command(project: Project, args, console: Console) -> int:
    """Which translated sections are up to date with their source; ``--done SECTION``
    records that one is."""
    from reportkit.load.translations import CURRENT, STALE, mark_done, translations

    name = project.resolve(args.edition)
    if args.done:
        for section in mark_done(project, name, args.done, args.languages):
            console.print(f'[green]recorded[/] {escape(section.shown)}: up to date with its '
                          'source as it is now', soft_wrap=True)
        return 0
    folder, found = translations(project, name, args.languages)
    out = Console(highlight=False)
    table = Table(title=f'{name}: translations', title_justify='left')
    for column in ('Section', 'Language', 'State', 'Source'):
        table.add_column(column, no_wrap=column != 'Source')
    colours = {CURRENT: 'green', STALE: 'red'}
    for t in found:
        colour = colours.get(t.state, 'yellow')
        table.add_row(t.section.id, t.section.lang, f'[{colour}]{t.state}[/]',
                      escape(t.source.shown))
    out.print(table)
    for t in found:
        if t.state == STALE:
            out.print(f'\n[bold]{escape(t.section.shown)}[/]: its source changed since it was '
                      f'translated; then run: translations {escape(name)} --done {t.section.id}',
                      soft_wrap=True)
            for line in t.changes(project, folder):
                style = {'+': 'green', '-': 'red', '~': 'yellow'}.get(line[:1], 'dim')
                out.print(f'[{style}]{escape(line)}[/]', soft_wrap=True)
    waiting = [t for t in found if t.state != CURRENT]
    console.print(f'{len(found) - len(waiting)} of {len(found)} translations are up to date'
                  + (f'; {len(waiting)} wait for a translator' if waiting else ''))
    return 1 if waiting else 0
