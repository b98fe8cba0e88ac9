"""Row 18 of the benchmark: ``diff 2015 --from archive`` with one change, a fresh process
each run (``make_report.py diff 2015 --archive A``), after 2015 was published into the
benchmark's own archive. Nothing is rendered: the current inputs go through phase 1 (the
data view and the charts' rows, from the build cache when unchanged), the archived
revision is read from its review forms.

18a. one data cell changed since the revision (2015 two-way goods trade, a different
     value each run): the data view is made again; target ≤ 2 s in every run;
18b. one sentence changed (a different word each run), in English and French, the French
     recorded as translated: target ≤ 2 s in every run.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from rich.table import Table

GOODS = 'data/us_canada_two_way_goods_trade_2002_2017.csv'
CELL = '\n2015,577.16,'
EN = 'reports/beyond-the-border/2015/en/executive-summary.md'
FR = 'reports/beyond-the-border/2015/fr/executive-summary.md'
EN_WORDS = 'all depend on it.'
FR_WORDS = 'en dépendent tous.'


def measure_review(code: Path, project: Path, base: Path, runs: int) -> dict:
    """The wall seconds of each ``diff`` run, for a changed cell and a changed sentence."""
    make = [sys.executable, str(code / 'make_report.py'), '--project', str(project)]
    archive = base / 'review-archive'
    subprocess.run(make + ['publish', '2015', '--archive', str(archive)], check=True,
                   capture_output=True)
    found: dict[str, list[float]] = {'cell': [], 'sentence': []}
    goods, en, fr = project / GOODS, project / EN, project / FR
    originals = {path: path.read_text(encoding='utf-8') for path in (goods, en, fr)}
    try:
        for n in range(runs):
            goods.write_text(originals[goods].replace(CELL, f'\n2015,{578 + n}.0,'),
                             encoding='utf-8')
            found['cell'].append(_timed(make + ['diff', '2015', '--archive', str(archive)]))
            goods.write_text(originals[goods], encoding='utf-8')
            en.write_text(originals[en].replace(EN_WORDS, f'all depend on it, {n}.'),
                          encoding='utf-8')
            fr.write_text(originals[fr].replace(FR_WORDS, f'en dépendent tous, {n}.'),
                          encoding='utf-8')
            subprocess.run(make + ['translations', '2015', '--done', 'executive-summary'],
                           check=True, capture_output=True)
            found['sentence'].append(_timed(make + ['diff', '2015', '--archive',
                                                    str(archive)]))
    finally:
        for path, text in originals.items():
            path.write_text(text, encoding='utf-8')
    return found


def _timed(command: list[str]) -> float:
    """Wall seconds of one diff that finds a change (exit status 1)."""
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 1:
        raise SystemExit(f'benchmark: diff found no change or failed ({done.returncode}):\n'
                         f'{done.stdout}{done.stderr}')
    return seconds


def review_table(found: dict, spread) -> Table:
    runs = len(found['cell'])
    table = Table(title=f'Benchmark: diff 2015 --from archive, one change ({runs} runs, '
                        'min–max, seconds)', title_justify='left')
    for column in ('measurement', 'seconds', 'median', 'target'):
        table.add_column(column, justify='right' if column in ('seconds', 'median') else 'left')
    for row, key, what in (('18a', 'cell', 'one data cell changed'),
                           ('18b', 'sentence', 'one sentence changed (en and fr)')):
        ok = max(found[key]) <= 2.0
        table.add_row(f'{row}. {what}', spread(found[key]),
                      f'{statistics.median(found[key]):.2f}',
                      f"≤ 2 s in every run: {'[green]met[/]' if ok else '[red]missed[/]'}")
    return table
