"""A real ``make_report.py preview`` in a process of its own, on a free loopback port,
for the tests and the benchmark: started as a writer starts it, stopped with Ctrl-C
(SIGINT), as a writer stops it."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADDRESS = re.compile(r'http://127\.0\.0\.1:(\d+)/')


class PreviewProcess:
    """``preview ARGS`` on the project at ``project``; its stderr is kept in
    :attr:`lines` as it comes."""

    def __init__(self, project: Path, *args: str, timeout: float = 90) -> None:
        command = [sys.executable, str(ROOT / 'make_report.py'), '--project', str(project),
                   'preview', *args, '--port', '0']
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True,
                                        env={**os.environ, 'COLUMNS': '200'})
        self.lines: list[str] = []
        self.port: int | None = None
        found = threading.Event()
        self._reader = threading.Thread(target=self._read, args=(found,), daemon=True)
        self._reader.start()
        if not found.wait(timeout) or self.port is None:
            self.stop()
            raise AssertionError('the preview did not start:\n' + ''.join(self.lines))

    def _read(self, found: threading.Event) -> None:
        for line in self.process.stdout:
            self.lines.append(line)
            match = ADDRESS.search(line)
            if match and self.port is None:
                self.port = int(match.group(1))
                found.set()
        found.set()   # ended

    @property
    def address(self) -> str:
        return f'http://127.0.0.1:{self.port}/'

    def request(self, path: str, host: str | None = None) -> tuple[int, dict, bytes]:
        """A raw GET of ``path`` exactly as given (no client-side normalising)."""
        connection = http.client.HTTPConnection('127.0.0.1', self.port, timeout=60)
        try:
            connection.putrequest('GET', path, skip_host=True)
            connection.putheader('Host', host or f'127.0.0.1:{self.port}')
            connection.endheaders()
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def status(self) -> dict:
        code, _, body = self.request('/_preview/status')
        assert code == 200, body
        return json.loads(body)

    def wait_for(self, condition, timeout: float = 30, what: str = 'the preview') -> dict:
        """Poll the status until ``condition(status)`` holds; the status then."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.status()
            if condition(status):
                return status
            if time.monotonic() > deadline:
                raise AssertionError(f'{what}: not within {timeout} s; status {status}; '
                                     f'output:\n{"".join(self.lines[-20:])}')
            time.sleep(0.05)

    def stop(self, timeout: float = 20) -> int:
        """Ctrl-C; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(5)
        return self.process.returncode


def save(path: Path, text: str) -> None:
    """Write a file as an editor that saves in place does."""
    path.write_text(text, encoding='utf-8')


def save_by_rename(path: Path, text: str) -> None:
    """Write a file as editors that save safely do: a new file, renamed over the old."""
    temporary = path.with_name(f'.{path.name}.saving')
    temporary.write_text(text, encoding='utf-8')
    os.replace(temporary, path)
