"""Benchmark the 2015 English edition and the state-trade/2016 batch, and print tables.

    .venv/bin/python benchmarks/run.py            # 5 runs of each measurement (medians)
    .venv/bin/python benchmarks/run.py --runs 3
    .venv/bin/python benchmarks/run.py --batch-only --batch-runs 2   # the batch rows alone
    .venv/bin/python benchmarks/run.py --web-only --runs 3           # the web rows alone
    .venv/bin/python benchmarks/run.py --preview-only --runs 10      # the preview rows alone
    .venv/bin/python benchmarks/run.py --diff-only --runs 10         # the diff rows alone

The batch rows (102 two-page profiles: 51 states, English and French) print the range
over their runs, min–max: the cold batch with -j 1 and -j 2, its ideal (WeasyPrint alone
on the same 102 composed documents, one process, divided by the cores), the rebuild after
one state's row changed, and the peak memory of the build's processes for a smaller
batch (as many states as a renderer renders documents before a fresh one takes over) and
for 102 documents. They measure and print; they never fail the run.

Every run is a fresh process (nothing warm but the operating system's file cache), on a
throwaway copy of the project, so the real build/ cache is never touched, with a copy of
the pipeline's code made at the start (edits saved meanwhile change nothing measured).
Times are wall-clock seconds of the whole process, imports included, as a user waits for
them; builds use the command line's defaults (-j = the number of cores) unless a row
says -j. In the split by stage, the stages of phase 1 run in a second process while
WeasyPrint loads.
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
CODE = ROOT
"""The code measured: a copy of the pipeline's code made when the run starts
(:func:`code_copy`)."""
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
SECTION = 'reports/beyond-the-border/2015/en/trade.md'
SERIES = 'beyond-the-border'


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


def code_copy(base: Path) -> Path:
    """The pipeline's code (make_report.py, reportkit/, these benchmarks) as it is when the
    run starts: the run takes many minutes, and edits saved meanwhile in a shared working
    tree would otherwise change what is measured halfway (and, through the code's digests
    in every cache key, make a rebuild render everything again)."""
    code = base / 'code'
    shutil.copytree(ROOT / 'reportkit', code / 'reportkit',
                    ignore=shutil.ignore_patterns('__pycache__'))
    shutil.copy2(ROOT / 'make_report.py', code / 'make_report.py')
    (code / 'benchmarks').mkdir()
    for name in ('run.py', 'driver.py', 'web.py', 'preview.py', 'review.py'):
        shutil.copy2(ROOT / 'benchmarks' / name, code / 'benchmarks' / name)
    (code / 'tests').mkdir()   # the preview rows run it as the tests do
    for name in ('__init__.py', 'browser.py', 'previewing.py'):
        shutil.copy2(ROOT / 'tests' / name, code / 'tests' / name)
    return code


def project_copy(base: Path) -> Path:
    project = base / 'project'
    for name in ('reports', 'data', 'charts', 'templates', 'distribution'):
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, project / name)
    return project


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float], digits: int = 2, unit: str = '') -> str:
    """'min–max' of the runs (one value alone when they are equal at that precision)."""
    low, high = f'{min(values):.{digits}f}', f'{max(values):.{digits}f}'
    return (low if low == high else f'{low}–{high}') + unit


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f'/proc/{pid}/task'):
            with open(f'/proc/{pid}/task/{task}/children') as stream:
                found.extend(int(child) for child in stream.read().split())
    except OSError:   # it has just ended
        pass
    return found


def _peak_kb(pid: int) -> int | None:
    try:
        with open(f'/proc/{pid}/status') as stream:
            for line in stream:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _command(pid: int) -> bytes | None:
    try:
        with open(f'/proc/{pid}/cmdline', 'rb') as stream:
            return stream.read()
    except OSError:
        return None


def _name(pid: int) -> str:
    try:
        with open(f'/proc/{pid}/comm') as stream:
            return stream.read().strip()
    except OSError:
        return ''


RENDERER = 'rendering'
"""What a warm renderer calls itself (/proc/PID/comm; reportkit.safety.worker)."""


def run_tree(command: list[str], jobs: int, env: dict | None = None) -> dict:
    """One build, watched: wall seconds; the peak resident memory (MB) of the whole tree
    of processes (os.wait4 of the build counts every descendant it reaped: the build's
    maximum RSS and its children's, as RUSAGE_CHILDREN of a wrapper would); by /proc,
    every 50 ms, each process's own peak (VmHWM) by role: the build's main process, its
    workers that check and compose (-j 2: the pool's forks of the build), its warm
    renderers (forks of the build that call themselves 'rendering', each rendering one
    document after another); and the output (stdout and stderr together). The programs
    that loading WeasyPrint runs (gcc, ldconfig: ctypes' find_library) are in no role
    (the whole tree's figure counts them)."""
    started = time.perf_counter()
    parents: dict[int, int] = {}
    peaks: dict[int, int] = {}
    commands: dict[int, bytes] = {}
    seen: dict[int, int] = {}   # samples in which a process had the build's command line
    names: dict[int, str] = {}
    with tempfile.TemporaryFile('w+') as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env,
                                   text=True)
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            stack = [process.pid]
            while stack:
                current = stack.pop()
                peak, line = _peak_kb(current), _command(current)
                if peak is not None:
                    peaks[current] = max(peaks.get(current, 0), peak)
                if _name(current) == RENDERER:
                    names[current] = RENDERER
                if line:   # (empty: a zombie's)
                    commands[current] = line   # the last seen: after an exec, the program
                    if line == commands.get(process.pid):
                        seen[current] = seen.get(current, 0) + 1
                for child in _children(current):
                    parents.setdefault(child, current)
                    stack.append(child)
            time.sleep(0.05)
        wall = time.perf_counter() - started
        out.seek(0)
        text = out.read()
    if status != 0:
        raise SystemExit(f'benchmark command failed: {" ".join(command)}\n{text[-3000:]}')
    main_pid = process.pid
    # A fork: the build's command line in 3 samples or more (a program that loading
    # WeasyPrint runs, gcc or ldconfig, can be caught once between its fork and its exec).
    forks = {pid for pid, line in commands.items()
             if line == commands.get(main_pid) and pid != main_pid and seen.get(pid, 0) >= 3}
    top = {pid for pid in forks if parents.get(pid) == main_pid}
    renders = {pid for pid in top if names.get(pid) == RENDERER}
    workers = top - renders

    def peak_mb(pids: set[int]) -> float:
        return max((peaks.get(pid, 0) for pid in pids), default=0) / 1024

    return {'wall': wall, 'tree': usage.ru_maxrss / 1024, 'text': text,
            'main': peak_mb({main_pid}), 'worker': peak_mb(workers),
            'render': peak_mb(renders), 'workers': len(workers), 'renders': len(renders),
            'jobs': jobs}


def count_renders(text: str) -> dict[str, int]:
    """What a build says it did with each document: its "wrote" lines, one per PDF, say
    ", unchanged" for a PDF not rendered again (its inputs unchanged: from the cache; or
    its composed content unchanged: "not rendered again"). (The progress lines that say
    it too are a bar, not lines, from a few documents on.)"""
    wrote = [line for line in text.splitlines() if line.startswith('wrote ')
             and '.pdf (' in line]
    kept = sum(', unchanged)' in line for line in wrote)
    return {'written': len(wrote), 'kept': kept, 'rendered': len(wrote) - kept}


BATCH = 'state-trade/2016'
STATE_FILE = 'data/us_state_trade_with_canada_2016.csv'
PDF_NAME = re.compile(r'state-trade-2016-([a-z]{2})-([a-z]{2})-r\d+(-DRAFT)?\.pdf$')


def compose_batch(project: str, folder: str, documents: list[str]) -> None:
    """(In its own process.) Every ``XX-lang`` document of the batch (XX: a state's code)
    composed by the library, as the build composes it, and written to
    ``folder/XX-lang/index.html`` with its assets. Data and charts go through a scratch
    cache in ``folder``, not the project's."""
    sys.path.insert(0, str(ROOT))
    from reportkit.run.prepare import BuildRequest, prepare
    from reportkit.project import Project

    root = Project.at(project)
    for document in documents:
        code, lang = document.split('-')
        prepared = prepare(root, BuildRequest(BATCH, [lang], item=code),
                           cache=Path(folder) / 'cache')
        prepared.composed[lang].write(Path(folder) / document)


def floor_batch(out: str, pages: list[str]) -> None:
    """(In its own process, with the build's Fontconfig file.) WeasyPrint, imported once,
    renders each composed document in turn, same variant as the build; prints JSON:
    the seconds of each write_pdf."""
    sys.path.insert(0, str(ROOT))
    import weasyprint

    from reportkit.render.pdf import PDF_VARIANT
    seconds = []
    for page in pages:
        started = time.perf_counter()
        weasyprint.HTML(filename=page).write_pdf(out, pdf_variant=PDF_VARIANT)
        seconds.append(time.perf_counter() - started)
    print(json.dumps(seconds))


def batch_rows(project: Path, base: Path, runs: int, cheap_runs: int,
               console: Console) -> dict:
    """The state-trade/2016 batch: every measurement of the batch table; the cold
    batches and their ideal ``runs`` times, the smaller batch and the rebuild after
    an edit ``cheap_runs`` times."""
    python = sys.executable
    helper = str(CODE / 'benchmarks' / 'run.py')   # its _compose and _floor
    cores = 2   # the target's machine; the ideal is divided by it
    out_dir = base / 'batch'

    def build(*options: str, jobs: int = 2, use_cache: bool = False) -> list[str]:
        return [python, str(CODE / 'make_report.py'), '--project', str(project), 'build',
                BATCH, *options, *([] if use_cache else ['--no-cache']), '-j', str(jobs),
                '--out-dir', str(out_dir)]

    found: dict = {'serial': [], 'parallel': [], 'ideal': [], 'ratio': [], 'rss102': [],
                   'rss20': [], 'edit': [], 'edit_counts': [], 'serial_rss': []}
    composed = base / 'composed'
    env = None
    documents: list[str] = []
    for run in range(runs):
        # 1. The cold batch, one process at a time and two at once, watched.
        serial = run_tree(build(jobs=1), jobs=1)
        parallel = run_tree(build(jobs=2), jobs=2)
        for watched in (serial, parallel):
            counts = count_renders(watched['text'])
            if not counts['written'] == counts['rendered'] == 102:
                console.print(f'[yellow]warning: the cold batch wrote {counts["written"]} '
                              f'PDFs, {counts["rendered"]} rendered; not 102[/]')
        found['serial'].append(serial['wall'])
        found['parallel'].append(parallel['wall'])
        found['serial_rss'].append(serial)
        found['rss102'].append(parallel)
        if not documents:
            # 2. The 102 composed documents, once (outside any timing), as the build
            # composes them, for the ideal.
            documents = sorted(f'{m[1].upper()}-{m[2]}' for p in out_dir.iterdir()
                               if (m := PDF_NAME.search(p.name)))
            subprocess.run([python, helper, '_compose', str(project), str(composed),
                            *documents], check=True)
            env = {**os.environ, 'FONTCONFIG_FILE': str(project / 'build' / 'fonts.conf')}
        # 2. The ideal, in turns with the builds: WeasyPrint alone (imported beforehand,
        # not timed) on each composed document, summed, divided by the cores.
        text = subprocess.run([python, helper, '_floor', str(base / 'floor-batch.pdf'),
                               *(str(composed / d / 'index.html') for d in documents)],
                              check=True, capture_output=True, text=True, env=env).stdout
        seconds = json.loads(text)
        found['ideal'].append(sum(seconds) / cores)
        found.setdefault('per_document', []).extend(seconds)
        found['ratio'].append(parallel['wall'] / found['ideal'][-1])
        console.print(f'[dim]batch run {run + 1}/{runs}: -j 1 {serial["wall"]:.1f} s, '
                      f'-j 2 {parallel["wall"]:.1f} s, ideal {found["ideal"][-1]:.1f} s[/]')
    found['documents'] = len(documents)

    # 4. The same watch on a smaller batch (two languages): each of the two renderers
    # renders its full share there too (RENDERS_PER_RENDERER), as in the whole batch.
    share = int(re.search(r'^RENDERS_PER_RENDERER = (\d+)$', (
        CODE / 'reportkit' / 'run' / 'render.py').read_text(encoding='utf-8'), re.M)[1])
    codes = sorted({d.split('-')[0] for d in documents})[:share]
    found['small'] = 2 * len(codes)
    for _ in range(cheap_runs):
        found['rss20'].append(run_tree(build('--only', ','.join(codes)), jobs=2))

    # 3. One state's row changed: fill the cache, then change Wyoming's imports from
    # Canada (a number only its own two profiles print: +10, +20, ... US$ millions) and
    # rebuild with the cache.
    state_file = project / STATE_FILE
    original = state_file.read_text(encoding='utf-8')
    found['fill'] = run_tree(build(use_cache=True), jobs=2)['wall']
    try:
        for run in range(cheap_runs):
            lines = original.splitlines(keepends=True)
            (row,) = [i for i, line in enumerate(lines) if ',WY,' in line]
            fields = lines[row].split(',', 5)
            fields[4] = f'{float(fields[4]) + 10 * (run + 1):.6f}'
            lines[row] = ','.join(fields)
            state_file.write_text(''.join(lines), encoding='utf-8')
            watched = run_tree(build(use_cache=True), jobs=2)
            found['edit'].append(watched['wall'])
            found['edit_counts'].append({**count_renders(watched['text']),
                                         'forks': watched['renders']})
            console.print(f'[dim]edit {run + 1}/{cheap_runs}: {watched["wall"]:.2f} s, '
                          f'{found["edit_counts"][-1]["rendered"]} rendered again[/]')
    finally:
        state_file.write_text(original, encoding='utf-8')
    return found


def batch_table(found: dict) -> Table:
    def check(ok: bool) -> str:
        return '[green]met[/]' if ok else '[red]missed[/]'

    table = Table(title=f'Benchmark: {BATCH} batch, {found["documents"]} documents, cold '
                        f'(--no-cache) unless said (range over runs, min–max, seconds)',
                  title_justify='left')
    table.add_column('measurement')
    table.add_column('seconds', justify='right')
    table.add_column('ratio', justify='right')
    table.add_column('target')
    serial, parallel, ideal = found['serial'], found['parallel'], found['ideal']
    speedups = [s / p for s, p in zip(serial, parallel)]
    table.add_row(f'8. batch, -j 1 ({len(serial)} runs)', spread(serial, 1), '', '')
    table.add_row(f'   batch, -j 2 ({len(parallel)} runs)', spread(parallel, 1),
                  f'{spread(speedups)} × faster than -j 1', '')
    per = found['per_document']
    table.add_row('9. ideal: WeasyPrint alone, summed, ÷ 2 cores', spread(ideal, 1), '', '')
    table.add_row(f'   one document: {spread(per)} s (median {median(per):.2f})', '', '', '')
    ratio = median(found['ratio'])
    verdict = check(ratio <= 1.2)
    if min(found['ratio']) <= 1.2 < max(found['ratio']):
        verdict += ' (not in every run)'
    table.add_row('   batch -j 2 ÷ ideal, run by run', '',
                  f'{spread(found["ratio"])} × (median {ratio:.2f})', f'≤ 1.2 ×: {verdict}')
    edits = found['edit']
    counts = found['edit_counts']
    rendered = sorted({c['rendered'] for c in counts})
    kept = sorted({c['kept'] for c in counts})
    forks = sorted({c['forks'] for c in counts})
    table.add_row(f'10. rebuild, one state\'s row changed ({len(edits)} runs)', spread(edits),
                  '',
                  f'≤ 3 s: {check(median(edits) <= 3)}'
                  + (' (not in every run)' if min(edits) <= 3 < max(edits) else ''))
    table.add_row(f'    rendered again: {"/".join(map(str, rendered))} of '
                  f'{counts[0]["written"]} (renderers started: {"/".join(map(str, forks))}), '
                  f'not: {"/".join(map(str, kept))}', '', '',
                  f'the changed state\'s 2: {check(rendered == [2])}')
    table.add_row(f'    (cache, -j 2; the build that filled it: {found["fill"]:.1f} s)',
                  '', '', '')

    def memory(name: str, watched: list[dict]) -> None:
        renders = [w['render'] for w in watched]
        workers = [w['worker'] for w in watched]
        mains = [w['main'] for w in watched]
        trees = [w['tree'] for w in watched]
        table.add_row(f'11. peak RSS of a warm renderer, {name}, -j 2',
                      spread(renders, 0, ' MB'), '',
                      f'≤ 300 MB: {check(max(renders) <= 300)}')
        table.add_row(f'    checking workers {spread(workers, 0)} '
                      f'({check(max(workers) <= 300)}), main {spread(mains, 0)}, '
                      f'whole tree {spread(trees, 0)} MB', '', '', '')

    memory(f"{found['small']} docs", found['rss20'])
    memory(f'{found["documents"]} docs', found['rss102'])
    for role, what in (('render', 'a renderer'), ('worker', 'a checking worker')):
        growth = median([w[role] for w in found['rss102']]) - median(
            [w[role] for w in found['rss20']])
        table.add_row(f"    {what}, 102 docs minus {found['small']} (medians)",
                      f'{growth:+.0f} MB', '',
                      f'not growing (≤ +10 MB): {check(growth <= 10)}')
    serial_rss = found['serial_rss']
    table.add_row(f'    -j 1, {found["documents"]} docs: main '
                  f'{spread([w["main"] for w in serial_rss], 0)}, renderer '
                  f'{spread([w["render"] for w in serial_rss], 0)} MB', '', '', '')
    return table


def measure_single(project: Path, base: Path, runs: int) -> dict:
    """Rows 1-7: the 2015 English edition, and the series' every edition."""
    python = sys.executable
    driver = str(CODE / 'benchmarks' / 'driver.py')
    out, html = base / 'out.pdf', base / 'html' / 'index.html'
    rows = {}
    # 1-4 run in turns (cold, floor, edit, unchanged, cold, floor, ...), so that a
    # slower or faster spell of a shared machine weighs on every measurement alike.
    # The floor is WeasyPrint alone on the same composed HTML, same PDF variant, same
    # fonts (our private Fontconfig file), in the same kind of fresh process.
    env = {**os.environ, 'FONTCONFIG_FILE': str(project / 'build' / 'fonts.conf')}
    build_cmd = [python, str(CODE / 'make_report.py'), '--project', str(project),
                 'build', '2015', '--lang', 'en', '--out', str(out)]
    section = project / SECTION
    original = section.read_text(encoding='utf-8')
    cold, stages, floor, floor_stages, edited, unchanged = [], [], [], [], [], []
    for run in range(runs):
        # 1. Cold: no cache of any kind, timings by stage.
        shutil.rmtree(project / 'build', ignore_errors=True)
        wall, _, text = run_with_rss([python, driver, 'build', str(project),
                                      str(out), '--html', str(html), '--no-cache'])
        cold.append(wall)
        stages.append(json.loads(text))
        # 2. The floor.
        wall, _, text = run_with_rss([python, driver, 'floor', str(html),
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
    # The English as it was: with it edited, the final's French is out of date, and row
    # 5's build of the French is refused.
    section.write_text(original, encoding='utf-8')
    rows['cold'], rows['floor'] = median(cold), median(floor)
    rows['edit'], rows['unchanged'] = median(edited), median(unchanged)

    # 6. Peak memory: the whole build in one process (-j 1), so that one number holds it.
    rss = [run_with_rss([python, str(CODE / 'make_report.py'), '--project', str(project),
                         'build', '2015', '--lang', 'en', '--no-cache', '-j', '1',
                         '--out', str(out)])[1] for _ in range(runs)]

    # 5. Every edition of the series in every language (8 PDFs), one process at a time and
    # two at once. (What --all built before the batch series came; --all now builds their
    # 204 profiles too, which rows 8-11 measure.)
    serial, parallel = [], []
    for _ in range(runs):
        for jobs, bucket in (('1', serial), ('2', parallel)):
            wall, _, _ = run_with_rss([python, str(CODE / 'make_report.py'), '--project',
                                       str(project), 'build', SERIES, '--no-cache',
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

    return {'rows': rows, 'stages': stages, 'floor_stages': floor_stages, 'rss': rss,
            'chromium': chromium}


def single_table(measured: dict, runs: int) -> Table:
    rows, stages, floor_stages = measured['rows'], measured['stages'], measured['floor_stages']
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
    table.add_row(f'5. build {SERIES} (8 PDFs), -j 1', f'{rows["serial"]:.2f}', '', '')
    table.add_row(f'   build {SERIES} (8 PDFs), -j 2', f'{rows["parallel"]:.2f}',
                  f'{speedup:.2f} × faster', f'≥ 1.7 ×: {check(speedup >= 1.7)}')
    peak = median(measured['rss'])
    table.add_row('6. peak memory (RSS) of one cold build, in one process (-j 1)',
                  f'{peak:.0f} MB', '',
                  f'≤ 400 MB: {check(peak <= 400)}')
    chromium = measured['chromium']
    if chromium:
        table.add_row('7. Chromium print-to-PDF of the same HTML', f'{median(chromium):.2f}',
                      f'{median(chromium) / floor_time:.2f} × floor', 'reference only')
    else:
        table.add_row('7. Chromium print-to-PDF', 'not installed', '', '')
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--runs', type=int, default=5,
                        help='runs of each measurement (at least 3; default 5), the '
                             "batch's smaller build and one-row edit included")
    parser.add_argument('--batch-runs', type=int, default=3,
                        help='runs of the cold batch builds and their ideal, which take '
                             'minutes each (at least 2; default 3)')
    parser.add_argument('--single-only', action='store_true',
                        help='only the rows of the single report (1-7)')
    parser.add_argument('--batch-only', action='store_true',
                        help='only the rows of the state-trade/2016 batch (8-11)')
    parser.add_argument('--web-only', action='store_true',
                        help='only the rows of the web edition (12-13)')
    parser.add_argument('--preview-only', action='store_true',
                        help='only the rows of the live preview (14-17)')
    parser.add_argument('--diff-only', action='store_true',
                        help='only the rows of diff (18)')
    args = parser.parse_args(argv)
    runs = max(3, args.runs)
    batch_runs = max(2, args.batch_runs)
    console = Console(highlight=False, width=120)
    global CODE
    base = Path(tempfile.mkdtemp(prefix='report-bench-'))
    CODE = code_copy(base)
    project = project_copy(base)
    measured = found = web = previewed = reviewed = None
    alone = (args.single_only or args.batch_only or args.web_only or args.preview_only
             or args.diff_only)
    try:
        console.print(f'[dim]project copy in {base}; {runs} runs each, '
                      f'{batch_runs} of the cold batch[/]')
        sys.path.insert(0, str(CODE / 'benchmarks'))
        if args.single_only or not alone:
            measured = measure_single(project, base, runs)
        if args.batch_only or not alone:   # 8-11. The state-trade/2016 batch: 102 documents.
            found = batch_rows(project, base, batch_runs, runs, console)
        if args.web_only or not alone:   # 12-13. The web edition.
            from web import measure_web
            web = measure_web(CODE, project, base, runs, run_with_rss)
        if args.preview_only or not alone:   # 14-17. The live preview.
            from preview import measure_preview
            previewed = measure_preview(CODE, project, base, runs)
        if args.diff_only or not alone:   # 18. diff, against the archived revision.
            from review import measure_review
            reviewed = measure_review(CODE, project, base, runs)
    finally:
        shutil.rmtree(base, ignore_errors=True)

    if measured:
        console.print(single_table(measured, runs))
    if found:
        console.print(batch_table(found))
    if web:
        from web import web_table
        console.print(web_table(web, spread))
    if previewed:
        from preview import preview_table
        console.print(preview_table(previewed, spread))
    if reviewed:
        from review import review_table
        console.print(review_table(reviewed, spread))
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
    if sys.argv[1:2] == ['_compose']:     # helpers of the batch rows, in their own process
        sys.exit(compose_batch(sys.argv[2], sys.argv[3], sys.argv[4:]))
    if sys.argv[1:2] == ['_floor']:
        sys.exit(floor_batch(sys.argv[2], sys.argv[3:]))
    sys.exit(main())
