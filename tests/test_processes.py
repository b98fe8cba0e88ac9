"""Processes: whatever ends a build ends its workers; SIGTERM cleans up like Ctrl-C; what a
SIGKILL leaves is removed by the next build; every render runs under a time and memory
budget. Real builds in real processes, killed for real; ``pytest -s`` shows the figures."""

from __future__ import annotations

import csv
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reportkit.cli import main
from reportkit.run.render import RENDERS_PER_RENDERER

from .conftest import ROOT, copy_project

PREVIOUS = b'%PDF-1.7 the previous good edition\n'
NAME = 'beyond-the-border-2015-en-r1.pdf'


# -- watching processes through /proc ------------------------------------------------

def _stat(pid: int) -> tuple[str, int] | None:
    """(state, start time) of a process; None when it no longer exists."""
    try:
        text = Path(f'/proc/{pid}/stat').read_text()
    except OSError:
        return None
    fields = text[text.rindex(')') + 2:].split()
    return fields[0], int(fields[19])


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    try:
        for task in os.listdir(f'/proc/{pid}/task'):
            found |= {int(x) for x in
                      Path(f'/proc/{pid}/task/{task}/children').read_text().split()}
    except OSError:
        pass
    return found


class Tree:
    """Every process ever seen below ``root`` (children, theirs…), by PID and start time,
    so that a PID used again by an unrelated process is not mistaken for ours."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.seen: dict[int, int] = {}
        self.depth: dict[int, int] = {}

    def look(self) -> None:
        todo = [(self.root, 0)]
        while todo:
            pid, depth = todo.pop()
            for child in _children(pid):
                stat = _stat(child)
                if stat and child not in self.seen:
                    self.seen[child], self.depth[child] = stat[1], depth + 1
                todo.append((child, depth + 1))

    def alive(self) -> list[int]:
        """The processes seen that still run (a zombie has ended)."""
        running = []
        for pid, started in self.seen.items():
            stat = _stat(pid)
            if stat and stat[1] == started and stat[0] not in 'ZX':
                running.append(pid)
        return running

    def pythons(self, depth: int | None = None) -> list[int]:
        """Alive descendants still running our Python (forks, not compilers or ldconfig)."""
        found = []
        for pid in self.alive():
            try:
                exe = os.readlink(f'/proc/{pid}/exe')
            except OSError:
                continue
            if Path(exe).resolve() == Path(sys.executable).resolve() and (
                    depth is None or self.depth[pid] == depth):
                found.append(pid)
        return found

    def describe(self, pids) -> str:
        names = []
        for pid in pids:
            try:
                names.append(f'{pid}:{Path(f"/proc/{pid}/comm").read_text().strip()}')
            except OSError:
                names.append(f'{pid}:gone')
        return ', '.join(names) or 'none'


class Build:
    """``make_report.py ARGS`` on a project copy, in its own session, watched."""

    def __init__(self, project: Path, logs: Path, *args: str, env: dict | None = None,
                 edition: str = '2015'):
        environ = {k: v for k, v in os.environ.items() if not k.startswith('REPORT_RENDER')}
        environ.update(env or {})
        self.err_path = logs / f'stderr-{time.monotonic_ns()}.txt'
        self.started = time.perf_counter()
        with open(self.err_path, 'w') as err:   # a file: orphans cannot hold a pipe open
            self.process = subprocess.Popen(
                [sys.executable, str(ROOT / 'make_report.py'), '--project', str(project),
                 'build', edition, *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err,
                stdin=subprocess.DEVNULL, env=environ, start_new_session=True)
        self.tree = Tree(self.process.pid)

    def watch_until(self, ready, timeout: float = 60.0) -> float:
        """Look at the processes every 10 ms until ``ready()``; the seconds it took."""
        while not ready():
            self.tree.look()
            assert self.process.poll() is None, f'the build ended first:\n{self.stderr}'
            assert time.perf_counter() - self.started < timeout, 'never ready'
            time.sleep(0.01)
        self.tree.look()
        return time.perf_counter() - self.started

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def wait(self, timeout: float = 120) -> int:
        return self.process.wait(timeout)

    @property
    def stderr(self) -> str:
        return self.err_path.read_text()

    def reap_everything(self) -> None:
        """After the test: kill whatever of this build survived (a failing test must not
        leave processes behind either), by PID, checking each is still the one we saw."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for pid in self.tree.alive():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture
def builds(tmp_path):
    started: list[Build] = []
    project = copy_project(tmp_path / 'project')
    out = tmp_path / 'out' / 'report.pdf'
    out.parent.mkdir()
    out.write_bytes(PREVIOUS)

    def start(*args: str, env: dict | None = None, edition: str = '2015') -> Build:
        build = Build(project, tmp_path, *args, env=env, edition=edition)
        started.append(build)
        return build

    start.project, start.out = project, out
    yield start
    for build in started:
        build.reap_everything()


def gone_within(tree: Tree, seconds: float) -> tuple[list[int], float]:
    """Wait up to ``seconds`` for every process of ``tree`` to end; (survivors, seconds)."""
    started = time.perf_counter()
    while tree.alive() and time.perf_counter() - started < seconds:
        time.sleep(0.05)
    return tree.alive(), time.perf_counter() - started


def rendering(project: Path, out_dir: Path, count: int = 1):
    """True once ``count`` renders are under way: staging folders in build/ and
    temporary PDFs beside the target."""
    def ready() -> bool:
        build = project / 'build'
        staging = [p for p in build.iterdir() if p.name.startswith('.staging-')] \
            if build.is_dir() else []
        parts = [p for p in out_dir.iterdir() if p.name.endswith('.part')]
        return len(staging) >= count and len(parts) >= count
    return ready


def leftovers(project: Path, out_dir: Path) -> list[str]:
    """Temporary files beside the targets and staging folders in build/."""
    found = [p.name for p in out_dir.iterdir() if p.name.endswith('.part')]
    build = project / 'build'
    if build.is_dir():
        found += [p.name for p in build.iterdir() if p.name.startswith('.staging-')]
    return found


# -- 1. a killed build takes its workers with it -------------------------------------

@pytest.mark.parametrize('moment', ['drawing', 'rendering'])
def test_a_killed_build_takes_its_workers_with_it(builds, moment):
    """-j 2, one document: killed as soon as the renderer (loading WeasyPrint) and the
    drawer (loading matplotlib) both run, under a second in; or 0.3 s into the render,
    2 to 2.5 s in. The moments are watched for, not timed: machines differ."""
    build = builds('--lang', 'en', '--no-cache', '--out', str(builds.out), '-j', '2')
    under_way = rendering(builds.project, builds.out.parent)
    began: list[float] = []

    def ready() -> bool:
        if moment == 'drawing':   # the renderer and the drawer, both started
            return len(build.tree.pythons(depth=1)) >= 2
        if not began and build.tree.pythons() and under_way():
            began.append(time.perf_counter())
        return bool(began) and time.perf_counter() - began[0] > 0.3

    build.watch_until(ready)
    running = build.tree.pythons()
    os.kill(build.process.pid, signal.SIGKILL)
    assert build.wait() == -signal.SIGKILL
    survivors, took = gone_within(build.tree, 5)
    print(f'\nSIGKILL at {build.elapsed():.2f} s with {len(running)} worker(s) running '
          f'({build.tree.describe(running)}): all gone {took:.2f} s later')
    assert running, 'no worker had started: nothing was tested'
    assert survivors == [], f'left running: {build.tree.describe(survivors)}'


def test_a_killed_build_in_one_process_takes_its_render_fork_with_it(builds):
    """-j 1: the render runs in a fork of the build, which must end with it."""
    build = builds('--lang', 'en', '--no-cache', '--out', str(builds.out), '-j', '1')
    first: dict[int, float] = {}

    def forked() -> bool:   # the same fork for 0.2 s (not a compiler about to exec)
        now = time.perf_counter()
        current = build.tree.pythons(depth=1)
        for pid in current:
            first.setdefault(pid, now)
        return any(now - first[pid] > 0.2 for pid in current)

    build.watch_until(forked)
    running = build.tree.pythons()
    os.kill(build.process.pid, signal.SIGKILL)
    build.wait()
    survivors, took = gone_within(build.tree, 1)   # long before the render would end
    print(f'\nSIGKILL at {build.elapsed():.2f} s while the fork renders '
          f'({build.tree.describe(running)}): gone {took:.2f} s later')
    assert survivors == [], f'left running: {build.tree.describe(survivors)}'


def renderers(tree: Tree, among: list[int] | None = None) -> list[int]:
    """The warm renderers (they call themselves 'rendering') alive among ``among``."""
    found = []
    for pid in tree.pythons() if among is None else among:
        try:
            if Path(f'/proc/{pid}/comm').read_text().strip() == 'rendering':
                found.append(pid)
        except OSError:
            pass
    return found


def test_a_killed_parallel_build_takes_its_pool_with_it(builds):
    """Several documents with -j 2: killed while its two warm renderers render (the
    pool's workers, which checked and composed, are gone by then)."""
    build = builds('--no-cache', '--out-dir', str(builds.out.parent), '-j', '2')
    build.watch_until(lambda: len(renderers(build.tree)) >= 2)
    time.sleep(0.2)
    build.tree.look()
    running = build.tree.pythons()
    rendering = renderers(build.tree, running)
    os.kill(build.process.pid, signal.SIGKILL)
    build.wait()
    survivors, took = gone_within(build.tree, 5)
    print(f'\nSIGKILL at {build.elapsed():.2f} s with {len(running)} processes '
          f'({build.tree.describe(running)}): gone {took:.2f} s later')
    assert len(rendering) == 2
    assert survivors == [], f'left running: {build.tree.describe(survivors)}'


def test_a_child_whose_parent_died_before_it_asked_leaves(tmp_path):
    """The parent may die between the fork and the child's request to die with it: the
    child checks its parent, and leaves instead of running on, reparented."""
    code = f'''
import os, sys, time
sys.path.insert(0, {str(ROOT)!r})
from reportkit.safety.worker import die_with_parent
parent = os.getpid()
pid = os.fork()
if pid == 0:
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)          # not holding the pipe that subprocess.run reads to its end
    os.dup2(quiet, 2)
    time.sleep(0.5)            # the parent is gone by now
    die_with_parent(parent)
    time.sleep(30)             # what an orphan would do: run on
    os._exit(0)
print(pid, flush=True)
os._exit(0)
'''
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          check=True)
    child = int(done.stdout)
    started = _stat(child)
    assert started is not None   # still asleep, its parent gone
    tree = Tree(0)
    tree.seen[child] = started[1]
    survivors, took = gone_within(tree, 5)
    print(f'\nthe orphaned child ended {took:.2f} s after its parent')
    assert survivors == []


# -- 2. SIGTERM and SIGHUP clean up like Ctrl-C -------------------------------------

@pytest.mark.parametrize('jobs, number, status', [('2', signal.SIGTERM, 143),
                                                  ('1', signal.SIGTERM, 143),
                                                  ('2', signal.SIGHUP, 129)])
def test_sigterm_during_the_render_replaces_nothing_and_leaves_nothing(builds, jobs,
                                                                       number, status):
    build = builds('--lang', 'en', '--no-cache', '--out', str(builds.out), '-j', jobs)
    build.watch_until(rendering(builds.project, builds.out.parent))
    time.sleep(0.3)   # in the middle of WeasyPrint's layout
    build.tree.look()
    sent = build.elapsed()
    os.kill(build.process.pid, number)
    assert build.wait(30) == status, build.stderr
    print(f'\n{signal.Signals(number).name} at {sent:.2f} s: exit {status} '
          f'{build.elapsed() - sent:.2f} s later')
    assert build.stderr.rstrip().endswith('interrupted; nothing was replaced')
    assert 'Traceback' not in build.stderr
    assert builds.out.read_bytes() == PREVIOUS
    assert leftovers(builds.project, builds.out.parent) == []
    survivors, _ = gone_within(build.tree, 5)
    assert survivors == [], f'left running: {build.tree.describe(survivors)}'


def test_sigterm_during_a_parallel_build_leaves_nothing(builds):
    """Several documents with -j 2: the pool's workers are killed, and the temporary
    files they had made are removed by the build on its way out."""
    out_dir = builds.out.parent
    build = builds('--no-cache', '--out-dir', str(out_dir), '-j', '2')
    build.watch_until(rendering(builds.project, out_dir, count=2))
    build.tree.look()
    sent = build.elapsed()
    os.kill(build.process.pid, signal.SIGTERM)
    assert build.wait(30) == 143, build.stderr
    print(f'\nSIGTERM at {sent:.2f} s (two renders under way): exit 143 '
          f'{build.elapsed() - sent:.2f} s later')
    assert 'interrupted; nothing was replaced' in build.stderr
    assert sorted(p.name for p in out_dir.iterdir()) == ['report.pdf']
    assert leftovers(builds.project, out_dir) == []
    survivors, _ = gone_within(build.tree, 5)
    assert survivors == [], f'left running: {build.tree.describe(survivors)}'


# -- what a SIGKILL leaves, the next build removes ------------------------------------

def dead_pid() -> int:
    """The PID of a process that has ended (and been reaped)."""
    done = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_what_a_killed_build_left_the_next_build_removes(builds):
    project, out = builds.project, builds.out
    build = builds('--lang', 'en', '--no-cache', '--out', str(out), '-j', '2')
    build.watch_until(rendering(project, out.parent))
    os.kill(build.process.pid, signal.SIGKILL)
    build.wait()
    left = leftovers(project, out.parent)
    pid = build.process.pid
    assert any(name.endswith('.part') and f'.{pid}@' in name for name in left), left
    assert any(name.startswith(f'.staging-{pid}@') for name in left), left

    # Not ours, or not abandoned: never touched.
    from reportkit.safety import worker
    host = worker._host()
    other = dead_pid()
    keep = {
        out.parent / 'notes.txt': b'a reviewer\'s notes',
        out.parent / f'.report.pdf.{other}.abcd1234.part': b'no machine named: not ours',
        out.parent / f'.report.pdf.{other}@another-machine.abcd1234.part': b'shared folder',
        out.parent / f'.report.pdf.{os.getpid()}@{host}.abcd1234.part': b'a live process',
        out.parent / f'.report.pdf.0@{host}.abcd1234.part': b'no process is 0',
        project / 'build' / f'2015-en-{other}' / 'index.html': b'an older naming',
        project / 'build' / f'.staging-{os.getpid()}@{host}-abcd1234' / 'x': b'live',
        project / 'reports' / f'.staging-{other}@{host}-abcd1234' / 'x': b'not our folder',
    }
    for path, data in keep.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    outside = project.parent / 'outside.pdf'
    outside.write_bytes(b'outside the folders we write to')
    link = out.parent / f'.report.pdf.{other}@{host}.linked00.part'
    link.symlink_to(outside)

    again = builds('--lang', 'en', '--no-cache', '--out', str(out), '-j', '2')
    assert again.wait() == 0, again.stderr
    remaining = set(leftovers(project, out.parent))
    print(f'\nleft by the killed build: {sorted(left)}; still there after the next: '
          f'{sorted(remaining & set(left))}')
    assert remaining & set(left) == set()
    for path, data in keep.items():
        assert path.read_bytes() == data, path
    assert link.is_symlink() and outside.read_bytes() == b'outside the folders we write to'
    assert out.read_bytes().startswith(b'%PDF-') and out.read_bytes() != PREVIOUS


def test_remove_abandoned_looks_at_nothing_else(tmp_path):
    from reportkit.safety import worker
    host, other = worker._host(), dead_pid()
    abandoned = tmp_path / f'.x.pdf.{other}@{host}.abcd1234.part'
    abandoned.write_bytes(b'')
    folder_named_as_file = tmp_path / f'.y.pdf.{other}@{host}.abcd1234.part'
    (folder_named_as_file / 'inside').mkdir(parents=True)
    staging = tmp_path / f'.staging-{other}@{host}-abcd1234'
    (staging / 'assets').mkdir(parents=True)
    file_named_as_staging = tmp_path / f'.staging-{other}@{host}-efgh5678'
    file_named_as_staging.write_bytes(b'')
    assert sorted(worker.remove_abandoned(tmp_path)) == sorted([abandoned.name,
                                                                staging.name])
    assert folder_named_as_file.is_dir() and file_named_as_staging.is_file()
    assert worker.remove_abandoned(tmp_path / 'missing') == []


# -- 3. the render budget --------------------------------------------------------------

def error_lines(build: Build) -> list[str]:
    """The lines that are not progress ("[n/6] …")."""
    return [line for line in build.stderr.splitlines() if not line.startswith('[')]


@pytest.mark.parametrize('jobs', ['1', '2'])
def test_a_render_over_time_is_stopped_with_one_line(builds, jobs):
    build = builds('--lang', 'en', '--no-cache', '--out', str(builds.out), '-j', jobs,
                   env={'REPORT_RENDER_SECONDS': '0.5'})
    status = build.wait(60)
    took = build.elapsed()
    print(f'\n-j {jobs}, 0.5 s to render: failed after {took:.2f} s in all')
    assert status == 1, build.stderr
    assert error_lines(build) == [
        f'error: {builds.out.name}: rendering took longer than 0.5 s (the limit, '
        'REPORT_RENDER_SECONDS); nothing was written']
    assert took < 20
    assert builds.out.read_bytes() == PREVIOUS
    assert leftovers(builds.project, builds.out.parent) == []
    assert gone_within(build.tree, 5)[0] == []


@pytest.mark.parametrize('jobs', ['1', '2'])
def test_a_render_over_memory_is_stopped_with_one_line(builds, jobs):
    """20 MB more than the render process holds is far too little for WeasyPrint: a
    Python allocation fails (MemoryError), or a native one ends the process. (Once in a
    full run of the suite a starved render hung instead; the time budget then stops it,
    so the test sets one well inside its own wait.)"""
    build = builds('--lang', 'en', '--no-cache', '--out', str(builds.out), '-j', jobs,
                   env={'REPORT_RENDER_MEMORY_MB': '20', 'REPORT_RENDER_SECONDS': '30'})
    status = build.wait(60)
    print(f'\n-j {jobs}, 20 MB to render: {error_lines(build)} after {build.elapsed():.2f} s')
    assert status == 1, build.stderr
    (line,) = error_lines(build)
    assert line in (
        f'error: {builds.out.name}: rendering needed more than 20 MB of memory (the limit, '
        'REPORT_RENDER_MEMORY_MB); nothing was written',
        *(f'error: {builds.out.name}: rendering crashed ({name}), most likely for want of '
          'memory: it may take 20 MB (the limit, REPORT_RENDER_MEMORY_MB); nothing was '
          'written' for name in ('SIGTRAP', 'SIGABRT', 'SIGSEGV', 'SIGBUS')),
        f'error: {builds.out.name}: rendering took longer than 30 s (the limit, '
        'REPORT_RENDER_SECONDS); nothing was written')
    assert build.elapsed() < (45 if 'longer than' in line else 20)
    assert builds.out.read_bytes() == PREVIOUS
    assert leftovers(builds.project, builds.out.parent) == []


def test_the_budget_holds_in_a_parallel_build(builds):
    out_dir = builds.out.parent
    build = builds('--no-cache', '--out-dir', str(out_dir), '-j', '2',
                   env={'REPORT_RENDER_SECONDS': '0.5'})
    assert build.wait(60) == 1, build.stderr
    print(f'\n-j 2, two documents, 0.5 s each: failed after {build.elapsed():.2f} s')
    for lang in ('en', 'fr'):
        assert (f'beyond-the-border-2015-{lang}-r1.pdf: rendering took longer than 0.5 s'
                in build.stderr)
    assert sorted(p.name for p in out_dir.iterdir()) == ['report.pdf']
    assert leftovers(builds.project, out_dir) == []


def test_a_renderer_killed_at_its_budget_is_replaced_for_the_next_document(builds):
    """-j 1, two documents, one warm renderer: the first render overruns and its renderer
    is killed; the second document is rendered by a new one (and overruns too): both
    are named, neither is written."""
    out_dir = builds.out.parent
    build = builds('--no-cache', '--out-dir', str(out_dir), '-j', '1',
                   env={'REPORT_RENDER_SECONDS': '0.5'})
    assert build.wait(60) == 1, build.stderr
    print(f'\n-j 1, two documents, 0.5 s each: failed after {build.elapsed():.2f} s')
    lines = error_lines(build)
    assert lines[0] == 'error: no PDF was written (2 problems):'
    assert sorted(lines[1:]) == [
        f'  beyond-the-border-2015-{lang}-r1.pdf: rendering took longer than 0.5 s '
        '(the limit, REPORT_RENDER_SECONDS); nothing was written' for lang in ('en', 'fr')]
    assert sorted(p.name for p in out_dir.iterdir()) == ['report.pdf']
    assert leftovers(builds.project, out_dir) == []


def test_a_warm_renderer_gives_each_document_its_own_budget(builds):
    """More profiles than one renderer renders (RENDERS_PER_RENDERER), 1 s each (a profile
    takes about 0.2 s), in warm renderers: the first renderer's take some 6 s of CPU
    time, which one budget for its whole life (its CPU time limit set once) would not
    allow; the rest go to a fresh renderer."""
    out_dir = builds.out.parent
    count = RENDERS_PER_RENDERER + 8
    with (builds.project / 'data' / 'us_states.csv').open(encoding='utf-8') as stream:
        states = ','.join([row['state_code'] for row in csv.DictReader(stream)][:count])
    build = builds('--no-cache', '--lang', 'en', '--only', states, '--out-dir', str(out_dir),
                   '-j', '1', env={'REPORT_RENDER_SECONDS': '1'}, edition='state-trade/2016')
    seen: set[int] = set()
    while build.process.poll() is None:
        build.tree.look()
        seen.update(renderers(build.tree))
        time.sleep(0.02)
    assert build.wait(90) == 0, build.stderr
    pdfs = sorted(p.name for p in out_dir.glob('state-trade-2016-*-en-r1.pdf'))
    print(f'\n{count} profiles, 1 s each, in {len(seen)} renderer(s): '
          f'{build.elapsed():.2f} s in all')
    assert len(pdfs) == count
    assert len(seen) == math.ceil(count / RENDERS_PER_RENDERER) == 2


def test_a_bad_budget_is_one_line_before_any_work(builds):
    build = builds('--lang', 'en', '--out', str(builds.out),
                   env={'REPORT_RENDER_SECONDS': 'abc'})
    assert build.wait(30) == 1
    print(f'\nREPORT_RENDER_SECONDS=abc: refused in {build.elapsed():.2f} s')
    assert build.stderr.splitlines() == [
        "error: REPORT_RENDER_SECONDS='abc': it must be a number of seconds greater than 0 "
        "and at most 86,400 (unset, it is 300)"]
    assert not (builds.project / 'build').exists()


@pytest.mark.parametrize('variable, value', [
    ('REPORT_RENDER_SECONDS', '0'), ('REPORT_RENDER_SECONDS', '-1'),
    ('REPORT_RENDER_SECONDS', 'nan'), ('REPORT_RENDER_SECONDS', 'inf'),
    ('REPORT_RENDER_SECONDS', '1e9'), ('REPORT_RENDER_MEMORY_MB', '2048.5'),
    ('REPORT_RENDER_MEMORY_MB', '0'), ('REPORT_RENDER_MEMORY_MB', 'lots'),
    ('REPORT_RENDER_MEMORY_MB', '99999999999')])
def test_budget_values_out_of_range_are_refused(variable, value, project_copy, monkeypatch,
                                                capsys, tmp_path):
    monkeypatch.setenv(variable, value)
    status = main(['--project', str(project_copy), 'check', '2015'])
    err = capsys.readouterr().err
    assert status == 1
    assert err.count('\n') == 1 and err.startswith(f'error: {variable}={value!r}: it must be')


def test_budget_defaults_and_settings():
    from reportkit.safety.budget import Budget
    assert Budget.from_environment({}) == Budget(300.0, 2048)
    assert Budget.from_environment({'REPORT_RENDER_SECONDS': ' 12.5 ',
                                    'REPORT_RENDER_MEMORY_MB': '512'}) == Budget(12.5, 512)
    assert Budget.from_environment({'REPORT_RENDER_SECONDS': ''}) == Budget()


def _status(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        key, _, value = line.partition(':')
        if key in ('VmPeak', 'VmHWM'):
            values[key] = int(value.split()[0]) // 1024
    return values


def test_a_normal_render_stays_far_inside_the_default_budget(builds):
    """What a normal render takes, measured: each process's peak address space and
    resident memory (sampled every 10 ms), and the time of the whole build."""
    build = builds('--lang', 'en', '--no-cache', '--out', str(builds.out), '-j', '2')
    peaks: dict[int, dict[str, int]] = {}
    while build.process.poll() is None:
        build.tree.look()
        for pid in [build.process.pid, *build.tree.pythons()]:
            try:
                now = _status(pid)
            except (OSError, ValueError):
                continue
            peaks[pid] = {key: max(value, peaks.get(pid, {}).get(key, 0))
                          for key, value in now.items()}
        time.sleep(0.01)
    assert build.wait() == 0, build.stderr
    from reportkit.safety.budget import Budget
    biggest = max(peaks.values(), key=lambda p: p.get('VmPeak', 0))
    print(f'\nnormal build, -j 2: {build.elapsed():.2f} s; per process, peak address '
          f'space / resident MB: ' + ', '.join(
              f'{pid}{" (build)" if pid == build.process.pid else ""}: '
              f'{p.get("VmPeak")} / {p.get("VmHWM")}' for pid, p in sorted(peaks.items())))
    budget = Budget()
    assert biggest['VmPeak'] < budget.memory_mb / 2
    assert max(p.get('VmHWM', 0) for p in peaks.values()) < 400
    assert build.elapsed() < budget.seconds / 10
