"""Rows 12-13 of the benchmark: the web edition of the 2015 English report.

12. ``build 2015 --lang en --format web``, cold (no cache), against ``--format pdf``:
    the page is made from the composed document, so the PDF (whose pages and size it
    states) is rendered either way;
13. ``--format pdf,web`` against ``--format pdf``, both cold, in turns: target ≤ 1.1 ×.

Each run is a fresh process on the benchmark's copy of the project (see run.py).
"""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

from rich.table import Table


def measure_web(code: Path, project: Path, base: Path, runs: int, run_with_rss) -> dict:
    """The wall seconds of each format's cold build, ``runs`` times each, in turns, and the
    CPU seconds (user + system) of its processes (``cpu <format>``): the work done, which
    a busy shared machine's wall times hide."""
    found: dict[str, list[float]] = {'pdf': [], 'web': [], 'pdf,web': []}
    cpu: dict[str, list[float]] = {formats: [] for formats in found}
    for _ in range(runs):
        for formats in list(found):
            command = [sys.executable, str(code / 'make_report.py'), '--project',
                       str(project), 'build', '2015', '--lang', 'en', '--no-cache',
                       '--format', formats, '--out-dir', str(base / 'web-rows')]
            before = os.times()
            found[formats].append(run_with_rss(command)[0])
            after = os.times()
            cpu[formats].append(after.children_user - before.children_user
                                + after.children_system - before.children_system)
    return {**found, **{f'cpu {formats}': seconds for formats, seconds in cpu.items()}}


def web_table(found: dict[str, list[float]], spread) -> Table:
    table = Table(title=f"Benchmark: the web edition, 2015 English (each of {len(found['pdf'])} "
                        'runs, min–max, seconds)', title_justify='left')
    for column in ('measurement', 'seconds', 'ratio', 'target'):
        table.add_column(column, justify='right' if column in ('seconds', 'ratio') else 'left')
    ratios = [both / pdf for both, pdf in zip(found['pdf,web'], found['pdf'])]
    web_ratios = [web / pdf for web, pdf in zip(found['web'], found['pdf'])]
    met = '[green]met[/]' if max(ratios) <= 1.1 else '[red]missed[/]'
    table.add_row('12. --format web, cold', spread(found['web']),
                  f'{spread(web_ratios)} × pdf (median {statistics.median(web_ratios):.2f})', '')
    table.add_row('    --format pdf, cold', spread(found['pdf']),
                  f"1.00 (median {statistics.median(found['pdf']):.2f} s)", '')
    table.add_row('13. --format pdf,web, cold', spread(found['pdf,web']),
                  f'{spread(ratios)} × pdf (median {statistics.median(ratios):.2f})',
                  f'≤ 1.1 × in every run: {met}')
    cpu = [both / pdf for both, pdf in zip(found['cpu pdf,web'], found['cpu pdf'])]
    table.add_row('    CPU seconds of the processes, pdf / pdf,web',
                  f"{statistics.median(found['cpu pdf']):.2f} / "
                  f"{statistics.median(found['cpu pdf,web']):.2f}",
                  f'{spread(cpu)} × pdf (median {statistics.median(cpu):.2f})', '')
    return table
