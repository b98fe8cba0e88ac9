"""The command line's commands for published editions: ``publish``, ``archive list``,
``archive verify`` and ``distribute`` (``cli.py`` parses the line and dispatches here)."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from reportkit.cli.progress import progress_printer
from reportkit.errors import ReportError
from reportkit.project import Project


def archive_dir(project: Project, args) -> Path:
    """The archive folder (--archive, or archive/ in the project), resolved: a folder or
    a path not yet made, never a file nor a place among the project's inputs."""
    from reportkit.publish.place import check_place
    shown = str(args.archive) if args.archive else project.show(project.archive)
    return check_place(project, args.archive or project.archive, shown)


def publish_command(project: Project, args, console: Console) -> int:
    from reportkit.publish.publish import publish
    archive = archive_dir(project, args)
    published = publish(project, args.edition, archive, progress_printer(console))
    m = published.manifest
    console.print(f'[green]published[/] edition {escape(m["edition"])} revision '
                  f'{m["revision"]} to {escape(project.show(published.folder))}/', soft_wrap=True)
    for item in m['files']:
        how = ' (unchanged inputs: reused)' if item['lang'] in published.reused else ''
        console.print(f'  {escape(item["name"])}: {item["pages"]} pages, '
                      f'{item["size"] / 1024:,.0f} KB, SHA-256 {item["sha256"]}{how}',
                      soft_wrap=True)
    from reportkit.publish.archive import MANIFEST
    from reportkit.inputs import sha256_file
    console.print(f'  {MANIFEST}: SHA-256 {sha256_file(published.folder / MANIFEST)} (keep this '
                  'line outside the archive: it proves the revision later)', soft_wrap=True)
    console.print(f'publications page: {escape(project.show(published.index))}', soft_wrap=True)
    return 0


def archive_command(project: Project, args, console: Console) -> int:
    from reportkit.publish.archive import KEY_VARIABLE, revisions
    from reportkit.publish.publish import rebuild_and_compare
    from reportkit.publish.verify import verify_archive
    archive = archive_dir(project, args)
    if args.action == 'list':
        found = revisions(archive) if archive.is_dir() else []
        if not found:
            console.print(f'the archive {escape(project.show(archive))} holds no edition yet '
                          '(publish one with: publish 2015)')
            return 0
        table = Table(title=f'Archive {project.show(archive)}', title_justify='left')
        for name in ('Edition', 'Rev.', 'Lang', 'Dated', 'Published', 'Pages', 'Size',
                     'SHA-256'):
            table.add_column(name, no_wrap=name == 'SHA-256')
        for revision in found:
            m = revision.manifest
            for item in m['files']:
                table.add_row(m['edition'], str(m['revision']), item['lang'],
                              m['publication_date'], m['published_at'][:10], str(item['pages']),
                              f'{item["size"] / 1024:,.0f} KB', item['sha256'])
        Console(highlight=False, width=160).print(table)
        return 0
    checked, findings, done = verify_archive(archive, project)
    status = 0
    if findings:
        console.print(f'[bold red]the archive has {len(findings)} problem'
                      f'{"s" if len(findings) != 1 else ""}:[/]')
        for finding in findings:
            console.print(f'  {escape(str(finding))}', soft_wrap=True)
        status = 1
    else:
        also = ''.join([
            '; index.html is the page they give' if done.index else '',
            f'; {done.signed} manifest signature{"s" if done.signed != 1 else ""} checked'
            if done.signed else '',
            f'; signatures not checked ({KEY_VARIABLE} is not set)'
            if done.unchecked_signatures else ''])
        console.print(f'[green]all {checked} archived files match their manifests[/]'
                      f'{also} ({escape(project.show(archive))})', soft_wrap=True)
    if args.rebuild:
        result = rebuild_and_compare(project, args.rebuild, archive, progress_printer(console))
        for lang, same in result.same.items():
            if same:
                console.print(f'[green]{escape(args.rebuild)} {lang}: the rebuild has exactly '
                              'the archived bytes[/]')
            else:
                console.print(f'[bold red]{escape(args.rebuild)} {lang}: the rebuild differs from '
                              'the archived PDF[/]')
                status = 1
        if result.changed_inputs or result.changed_software:
            console.print('Inputs that differ from the published revision:')
            for line in result.changed_inputs + result.changed_software:
                console.print(f'  {escape(line)}', soft_wrap=True)
        elif not all(result.same.values()):
            console.print('No input differs: the difference comes from the machine '
                          '(report it as a reproducibility bug).')
    return status


def distribute_command(project: Project, args, console: Console) -> int:
    from reportkit.distribute.distribute import distribute, load_settings, parse_sender, shown_path
    from reportkit.distribute.transport import Outbox, smtp_from_option
    from reportkit.files import inside
    folder = project.root / 'distribution'

    def place(given: Path | None, default: str, what: str) -> Path:
        # Not resolved: a symlink in the project that leads out of it is refused, for
        # the files it reads (the list) and the places it writes (ledger, outbox).
        path = Path(os.path.abspath(given or folder / default))
        if path.is_relative_to(project.root):
            inside(project.root, path, what=what, shown=shown_path(project, path))
        return path

    ledger_path = place(args.ledger, 'ledger.sqlite', 'the ledger')
    if args.status:
        return _status(project, args, ledger_path, console)
    settings = load_settings(project)
    if args.sender is not None:
        sender = parse_sender(args.sender, given='--sender')
    elif settings:
        sender = settings.sender
    else:
        raise ReportError('say who sends the messages: --sender "Name <address>", or '
                          'sender = "..." in distribution/settings.toml')
    if args.smtp:
        transport = smtp_from_option(args.smtp, starttls=args.starttls)
    else:
        transport = Outbox(place(args.outbox, 'outbox', 'the outbox'))
    stakeholders = place(args.stakeholders, 'stakeholders.csv', 'the stakeholder list')
    marks = {'sent': '[green]sent[/]', 'skipped': '[dim]already sent[/]',
             'failed': '[bold red]failed[/]', 'planned': 'would send'}

    def progress(outcome) -> None:
        person = outcome.stakeholder
        detail = f' ({escape(outcome.detail)})' if outcome.detail else ''
        document = f' {escape(outcome.document)}' if outcome.document else ''
        console.print(f'  {marks[outcome.status]} {escape(person.name)} '
                      f'<{escape(person.email)}> \\[{person.language}{document}]{detail}',
                      soft_wrap=True)

    run = distribute(project, args.edition, archive=archive_dir(project, args),
                     stakeholders=stakeholders, ledger_path=ledger_path, transport=transport,
                     sender=sender, signature=settings.signature if settings else None,
                     dry_run=args.dry_run, retries=max(1, args.retries),
                     retry_delay=max(0.0, args.retry_delay), progress=progress)
    where = 'dry run: nothing was sent' if args.dry_run else f'via {run.transport}'
    console.print(f'edition {escape(run.edition)} revision {run.revision}: '
                  f'{run.count("sent")} sent, {run.count("skipped")} already sent, '
                  f'{run.count("failed")} failed'
                  + (f', {run.count("planned")} to send' if args.dry_run else '')
                  + f' ({escape(where)})', soft_wrap=True)
    if not run.complete:
        console.print('[bold red]not everything was delivered;[/] run the same command again '
                      'to retry what failed (nothing is sent twice)')
        return 1
    return 0


def _status(project: Project, args, ledger_path: Path, console: Console) -> int:
    """``distribute --status``: the ledger's rows for the edition (a batch edition's with
    their document); 1 when one of them is not 'sent'."""
    from reportkit.distribute.distribute import known_editions, latest_revision, shown_path
    from reportkit.distribute.ledger import Ledger
    archive = archive_dir(project, args)
    revision = latest_revision(archive, args.edition, known_editions(project, archive))
    ledger = Ledger(ledger_path, shown_path(project, ledger_path))
    try:
        rows = ledger.for_edition(revision.series, revision.edition)
    finally:
        ledger.close()
    if not rows:
        console.print(f'nothing has been sent for edition {escape(args.edition)} yet')
        return 0
    batch = any(row.document for row in rows)
    table = Table(title=f'Deliveries of edition {args.edition} '
                        f'({project.show(ledger_path)})', title_justify='left')
    for name in ('Rev.', 'Stakeholder', 'Address', 'Lang', *(['Document'] if batch else []),
                 'Outcome', 'When', 'Detail'):
        table.add_column(name)
    for row in rows:
        colour = {'sent': 'green', 'failed': 'red'}.get(row.outcome, 'yellow')
        table.add_row(str(row.revision), escape(row.name), escape(row.email), row.language,
                      *([escape(row.document)] if batch else []),
                      f'[{colour}]{row.outcome}[/]', row.updated_at.replace('T', ' '),
                      escape(row.detail))
    Console(highlight=False, width=140).print(table)
    return 0 if all(row.outcome == 'sent' for row in rows) else 1
