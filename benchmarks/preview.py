"""Rows 14-17 of the benchmark: the live preview of the 2015 English report
(``make_report.py preview 2015 --lang en``), one sentence edited at a time.

14. from the file's write to the reload event the page's script listens to (an event
    stream read here, as the script reads it), for each edit: target ≤ 0.5 s (median);
15. from the write to the new sentence in a real browser (chromium) that shows the page,
    updated in place by its own script: the animation frame in which the page has it
    (:data:`SHOWN`); target ≤ 0.5 s (median);
16. the PDF asked for after an edit (not in the cache), against its floor: WeasyPrint
    alone rendering the same composed document, warm, in a process of its own (as row
    9's ideal): target ≤ 1.1 ×. 16a is the session's first PDF (rendered when asked
    for); the runs of 16 follow it, as a writer who opened the PDF once asks again after
    each edit (the preview renders it ahead at each change);
17. the preview's memory (resident, the server process) at the start and after 200
    edits, each built: target ≤ 50 MB above the start.
"""

from __future__ import annotations

import http.client
import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from rich.table import Table

SECTION = 'reports/beyond-the-border/2015/en/trade.md'
FIRST = 'The second area of cooperation aims'
EDITION = 'reports/beyond-the-border/2015/edition.toml'
PAGE = 'beyond-the-border-2015-en-r1-DRAFT'
PDF = 'beyond-the-border-2015-en-r1-DRAFT.pdf'
SHOWN = ('sentence => document.body && document.body.textContent.includes(sentence) '
         '&& performance.timeOrigin + performance.now()')
"""Row 15's check, run by the page at each of its animation frames (the frame in which
the sentence is first there is the one painted next): when, on the system's clock (ms).
(Playwright's own waiting for a text looks at growing intervals, up to 0.5 s apart: it
would count its own lateness.)"""


class Events:
    """The page's event stream, read in a thread: the time each version arrived."""

    def __init__(self, port: int) -> None:
        self.arrived: list[tuple[float, int]] = []
        self.changed = threading.Condition()
        self.connection = http.client.HTTPConnection('127.0.0.1', port, timeout=600)
        self.connection.request('GET', f'/_preview/events?page={PAGE}')
        self.response = self.connection.getresponse()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        event = None
        try:
            for raw in self.response:
                line = raw.decode().rstrip('\n')
                if line.startswith('event: '):
                    event = line[7:]
                elif line.startswith('data: ') and event == 'version':
                    with self.changed:
                        self.arrived.append((time.perf_counter(), int(line[6:])))
                        self.changed.notify_all()
        except (OSError, ValueError, AttributeError):   # (closed: the rows are done)
            pass

    def after(self, count: int, timeout: float = 30) -> float:
        """When event number ``count`` (from 0) arrived."""
        with self.changed:
            if not self.changed.wait_for(lambda: len(self.arrived) > count, timeout):
                raise SystemExit('benchmark: the preview sent no reload event')
            return self.arrived[count][0]

    def close(self) -> None:
        self.connection.close()


def rss_mb(pid: int) -> float:
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
    return 0.0


def measure_preview(code: Path, project: Path, base: Path, runs: int, edits: int = 200) -> dict:
    sys.path.insert(0, str(code))
    from tests.browser import browser
    from tests.previewing import PreviewProcess

    section, settings = project / SECTION, project / EDITION
    original, final = section.read_text(encoding='utf-8'), settings.read_text(encoding='utf-8')
    # A draft, as writers edit it: a final whose English changed is refused until its
    # French is brought up to date.
    settings.write_text(final.replace('status = "final"', 'status = "draft"', 1), encoding='utf-8')
    preview = PreviewProcess(project, '2015', '--lang', 'en')
    found: dict = {'event': [], 'visible': [], 'pdf': [], 'floor': []}
    try:
        def edit(n: int) -> str:
            sentence = f'Benchmark sentence {n} saved by the writer.'
            section.write_text(original.replace(FIRST, f'{sentence} {FIRST}', 1), encoding='utf-8')
            return sentence

        def built(before: int) -> None:
            preview.wait_for(lambda s: s['builds'] > before and s['problem'] is None,
                             timeout=60)

        events = Events(preview.port)
        events.after(0)
        with browser() as chromium:
            page = chromium.new_page(viewport={'width': 1280, 'height': 900})
            page.goto(preview.address, wait_until='load')
            for n in range(runs):   # 14-15
                time.sleep(0.8)   # every language built, the page settled
                seen, before = len(events.arrived), preview.status()['builds']
                wall, started = time.time(), time.perf_counter()
                sentence = edit(n)
                shown = page.wait_for_function(SHOWN, arg=sentence, polling='raf',
                                               timeout=30_000).json_value()
                found['event'].append(events.after(seen) - started)
                found['visible'].append(shown / 1000 - wall)
                built(before)
        events.close()
        preview.wait_for(lambda s: s['problem'] is None)
        # 16a. The session's first PDF: rendered when asked for.
        before = preview.status()['builds']
        edit(999)
        built(before)
        started = time.perf_counter()
        code_, _, data = preview.request(f'/{PDF}')
        found['pdf first'] = time.perf_counter() - started
        assert code_ == 200 and data.startswith(b'%PDF'), data[:200]
        found['floor first'] = _floor(code, project, base)
        for n in range(runs):   # 16. Asked for before: rendered ahead at each edit.
            before = preview.status()['builds']
            edit(1000 + n)
            built(before)
            started = time.perf_counter()
            code_, _, data = preview.request(f'/{PDF}')
            found['pdf'].append(time.perf_counter() - started)
            assert code_ == 200 and data.startswith(b'%PDF'), data[:200]
            found['floor'].append(_floor(code, project, base))
        found['rss start'] = rss_mb(preview.process.pid)
        for n in range(edits):   # 17
            before = preview.status()['builds']
            edit(2000 + n)
            built(before)
        found['rss after'] = rss_mb(preview.process.pid)
        found['edits'] = edits
    finally:
        preview.stop()
        section.write_text(original, encoding='utf-8')
        settings.write_text(final, encoding='utf-8')
    return found


def _floor(code: Path, project: Path, base: Path) -> float:
    """WeasyPrint alone on the composed document of the current state (composed by the
    build's --html, outside the timing), its second render in one process."""
    folder = base / 'preview-floor'
    subprocess.run([sys.executable, str(code / 'make_report.py'), '--project', str(project),
                    'build', '2015', '--lang', 'en', '--html', str(folder / 'index.html'),
                    '--out', str(folder / 'built.pdf')], check=True, capture_output=True)
    script = ('import json, sys, time, weasyprint\n'
              f'sys.path.insert(0, {str(code)!r})\n'
              'from reportkit.render.pdf import PDF_VARIANT\n'
              'seconds = []\n'
              'for _ in range(2):\n'
              '    started = time.perf_counter()\n'
              f'    weasyprint.HTML(filename={str(folder / "index.html")!r}).write_pdf('
              f'{str(folder / "floor.pdf")!r}, pdf_variant=PDF_VARIANT)\n'
              '    seconds.append(time.perf_counter() - started)\n'
              'print(json.dumps(seconds))\n')
    env = {'FONTCONFIG_FILE': str(project / 'build' / 'fonts.conf'), 'PATH': '/usr/bin:/bin'}
    out = subprocess.run([sys.executable, '-c', script], check=True, capture_output=True,
                         text=True, env=env).stdout
    return json.loads(out)[-1]


def preview_table(found: dict, spread) -> Table:
    runs = len(found['event'])
    table = Table(title=f'Benchmark: the live preview, 2015 English ({runs} one-sentence '
                        'edits; min–max, seconds)', title_justify='left')
    for column in ('measurement', 'seconds', 'median', 'target'):
        table.add_column(column, justify='left' if column in ('measurement', 'target') else 'right')

    def verdict(ok: bool) -> str:
        return '[green]met[/]' if ok else '[red]missed[/]'

    event, visible = statistics.median(found['event']), statistics.median(found['visible'])
    table.add_row('14. write → reload event', spread(found['event']), f'{event:.2f}',
                  f'≤ 0.5 s (median): {verdict(event <= 0.5)}')
    table.add_row('15. write → new text in chromium (the frame that has it)',
                  spread(found['visible']),
                  f'{visible:.2f}', f'≤ 0.5 s (median): {verdict(visible <= 0.5)}')
    first = found['pdf first'] / found['floor first']
    table.add_row("16a. the session's first PDF, after an edit (rendered when asked for)",
                  f"{found['pdf first']:.2f}", f'{first:.2f} × its floor', '')
    ratios = [pdf / floor for pdf, floor in zip(found['pdf'], found['floor'])]
    table.add_row('16. PDF on request after an edit (asked for before: rendered ahead)',
                  spread(found['pdf']), f"{statistics.median(found['pdf']):.2f}", '')
    table.add_row('    floor: WeasyPrint alone, warm', spread(found['floor']),
                  f"{statistics.median(found['floor']):.2f}", '')
    table.add_row('    PDF ÷ floor, run by run', spread(ratios), f'{statistics.median(ratios):.2f}',
                  f'≤ 1.1 × in every run: {verdict(max(ratios) <= 1.1)}')
    grown = found['rss after'] - found['rss start']
    table.add_row(f"17. memory, start → after {found['edits']} edits (MB)",
                  f"{found['rss start']:.0f} → {found['rss after']:.0f}", f'+{grown:.0f}',
                  f'≤ +50 MB: {verdict(grown <= 50)}')
    return table
