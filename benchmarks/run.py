"""Benchmark the 2015 English edition against WeasyPrint alone, and print a table.

    .venv/bin/python benchmarks/run.py            # 5 runs of each measurement (medians)
    .venv/bin/python benchmarks/run.py --runs 3

Every run is a fresh process (nothing warm but the operating system's file cache), on a
throwaway copy of the project, so the real build/ cache is never touched. Times are
wall-clock seconds of the whole process, imports included, as a user waits for them;
builds use the command line's defaults (-j = the number of cores). In the split by
stage, the stages of phase 1 run in a second process while WeasyPrint loads.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
DRIVER = ROOT / 'benchmarks' / 'driver.py'
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
SECTION = 'reports/2015/en/trade.md'


def run_with_rss(command: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak resident memory in MB, stdout) of one process (os.wait4)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile('w+') as out, tempfile.TemporaryFile('w+') as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if status != 0:
            raise SystemExit(f'benchmark command failed: {" ".join(command)}\n{err.read()}')
        return wall, usage.ru_maxrss / 1024, out.read()


def project_copy(base: Path) -> Path:
    project = base / 'project'
    for name in ('reports', 'data', 'charts', 'templates', 'distribution'):
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, project / name)
    return project


def median(values: list[float]) -> float:
    return statistics.median(values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--runs', type=int, default=5,
                        help='runs of each measurement (at least 3; default 5)')
    args = parser.parse_args(argv)
    runs = max(3, args.runs)
    console = Console(highlight=False, width=120)
    python = sys.executable
    base = Path(tempfile.mkdtemp(prefix='report-bench-'))
    project = project_copy(base)
    out, html = base / 'out.pdf', base / 'html' / 'index.html'
    rows = {}
    try:
        console.print(f'[dim]project copy in {base}; {runs} runs each[/]')

        # 1-4 run in turns (cold, floor, edit, unchanged, cold, floor, ...), so that a
        # slower or faster spell of a shared machine weighs on every measurement alike.
        # The floor is WeasyPrint alone on the same composed HTML, same PDF variant, same
        # fonts (our private Fontconfig file), in the same kind of fresh process.
        env = {**os.environ, 'FONTCONFIG_FILE': str(project / 'build' / 'fonts.conf')}
        build_cmd = [python, str(ROOT / 'make_report.py'), '--project', str(project),
                     'build', '2015', '--lang', 'en', '--out', str(out)]
        section = project / SECTION
        cold, stages, floor, floor_stages, edited, unchanged = [], [], [], [], [], []
        for run in range(runs):
            # 1. Cold: no cache of any kind, timings by stage.
            shutil.rmtree(project / 'build', ignore_errors=True)
            wall, _, text = run_with_rss([python, str(DRIVER), 'build', str(project),
                                          str(out), '--html', str(html), '--no-cache'])
            cold.append(wall)
            stages.append(json.loads(text))
            # 2. The floor.
            wall, _, text = run_with_rss([python, str(DRIVER), 'floor', str(html),
                                          str(base / 'floor.pdf')], env=env)
            floor.append(wall)
            floor_stages.append(json.loads(text))
            # 3. One sentence of one section changed: data and charts from the cache.
            subprocess.run(build_cmd, check=True, capture_output=True)   # fill the caches
            text = section.read_text(encoding='utf-8')
            text = re.sub(r'(trade in goods)( \(edit \d+\))?', rf'\1 (edit {run})', text,
                          count=1)
            section.write_text(text, encoding='utf-8')
            edited.append(run_with_rss(build_cmd)[0])
            # 4. Nothing changed: the PDF comes from the cache.
            unchanged.append(run_with_rss(build_cmd)[0])
        rows['cold'], rows['floor'] = median(cold), median(floor)
        rows['edit'], rows['unchanged'] = median(edited), median(unchanged)

        # 6. Peak memory: the whole build in one process (-j 1), so that one number holds it.
        rss = [run_with_rss([python, str(ROOT / 'make_report.py'), '--project', str(project),
                             'build', '2015', '--lang', 'en', '--no-cache', '-j', '1',
                             '--out', str(out)])[1] for _ in range(runs)]

        # 5. Every edition in every language, one process at a time and two at once.
        serial, parallel = [], []
        for _ in range(runs):
            for jobs, bucket in (('1', serial), ('2', parallel)):
                wall, _, _ = run_with_rss([python, str(ROOT / 'make_report.py'), '--project',
                                           str(project), 'build', '--all', '--no-cache',
                                           '-j', jobs, '--out-dir', str(base / 'all')])
                bucket.append(wall)
        rows['serial'], rows['parallel'] = median(serial), median(parallel)

        # 7. For reference: Chromium printing the same HTML to PDF.
        chromium = []
        if CHROMIUM:
            for _ in range(runs):
                wall, _, _ = run_with_rss([CHROMIUM, '--headless', '--no-sandbox',
                                           '--disable-gpu', '--no-pdf-header-footer',
                                           f'--print-to-pdf={base / "chromium.pdf"}',
                                           html.as_uri()])
                chromium.append(wall)
    finally:
        shutil.rmtree(base, ignore_errors=True)

    stage_names = ['startup', 'libraries', 'load', 'data', 'narrative', 'charts', 'compose',
                   'weasyprint', 'layout', 'write']
    by_stage = {name: median([s.get(name, 0.0) for s in stages]) for name in stage_names}
    floor_split = {name: median([s[name] for s in floor_stages])
                   for name in ('startup', 'layout', 'write')}

    table = Table(title='Benchmark: 2015 English edition '
                        f'(medians of {runs} runs, seconds)', title_justify='left')
    table.add_column('measurement')
    table.add_column('seconds', justify='right')
    table.add_column('ratio', justify='right')
    table.add_column('target')
    floor_time = rows['floor']

    def check(ok: bool) -> str:
        return '[green]met[/]' if ok else '[red]missed[/]'

    table.add_row('1. cold build (no caches)', f'{rows["cold"]:.2f}',
                  f'{rows["cold"] / floor_time:.2f} × floor',
                  f'≤ 1.25 × floor: {check(rows["cold"] <= 1.25 * floor_time)}')
    split = ', '.join(f'{name} {seconds:.2f}' for name, seconds in by_stage.items())
    table.add_row(f'   by stage: {split}', '', '', '')
    table.add_row('2. floor: WeasyPrint alone, same HTML and variant', f'{floor_time:.2f}',
                  '1.00', '')
    table.add_row('   ' + ', '.join(f'{k} {v:.2f}' for k, v in floor_split.items()), '', '', '')
    table.add_row('3. rebuild after a one-sentence edit', f'{rows["edit"]:.2f}',
                  f'{rows["edit"] / floor_time:.2f} × floor',
                  f'≤ 1.05 × floor: {check(rows["edit"] <= 1.05 * floor_time)}')
    table.add_row('4. rebuild, nothing changed', f'{rows["unchanged"]:.2f}', '',
                  f'≤ 0.5 s: {check(rows["unchanged"] <= 0.5)}')
    speedup = rows['serial'] / rows['parallel']
    table.add_row('5. build --all, -j 1', f'{rows["serial"]:.2f}', '', '')
    table.add_row('   build --all, -j 2', f'{rows["parallel"]:.2f}', f'{speedup:.2f} × faster',
                  f'≥ 1.7 ×: {check(speedup >= 1.7)}')
    peak = median(rss)
    table.add_row('6. peak memory (RSS) of one cold build, in one process (-j 1)',
                  f'{peak:.0f} MB', '',
                  f'≤ 400 MB: {check(peak <= 400)}')
    if chromium:
        table.add_row('7. Chromium print-to-PDF of the same HTML', f'{median(chromium):.2f}',
                      f'{median(chromium) / floor_time:.2f} × floor', 'reference only')
    else:
        table.add_row('7. Chromium print-to-PDF', 'not installed', '', '')
    console.print(table)
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(':', 1)[1].strip() for line in
                   Path('/proc/cpuinfo').read_text().splitlines() if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    console.print(f'{dt.date.today().isoformat()} · {os.cpu_count()} cores · {cpu} · '
                  f'Python {platform.python_version()}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
