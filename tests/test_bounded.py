"""Bounded work: a small hostile input ends in a one-line message, fast, in little memory.

Each case plants one input of a few KB (or a special file) in a copy of the project that
would, unchecked, run for minutes or take gigabytes, and runs the real command line in a
child process under an address-space limit and a timeout (:mod:`tests.bounded`). It must
exit 1 with one message naming the file (and line), within the budget below. The
measured seconds and peak memory are printed (``pytest -s``) for the closing figures.
"""

from __future__ import annotations

import os
import stat
import struct
import zlib
from pathlib import Path

import pytest

from .bounded import one_line_error, run_bounded
from .conftest import copy_project, replace

SECONDS = 30
"""Budget of one refused build: reading and checking take under 2 s on this machine."""
PEAK_MB = 600
"""Budget of its resident memory: a normal build peaks at about 200 MB."""


def append(path: Path, text: str) -> None:
    with path.open('a', encoding='utf-8') as stream:
        stream.write(text)


def png_bomb(width: int = 40_000, height: int = 40_000) -> bytes:
    """A 1-bit PNG of ``width`` × ``height`` zero pixels: about 200 KB on disk, 1.6
    gigapixels decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack('>I', len(data)) + kind + data
                + struct.pack('>I', zlib.crc32(kind + data) & 0xFFFFFFFF))
    row = b'\0' * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    body = b''.join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack('>IIBBBBB', width, height, 1, 0, 0, 0, 0)
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) + chunk(b'IDAT', body)
            + chunk(b'IEND', b''))


def svg_bomb(levels: int = 10, fan: int = 10) -> str:
    """Nested <use>: ``fan`` ** ``levels`` rectangles from a 2 KB file."""
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" '
             'xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10">',
             '<defs><rect id="l0" width="1" height="1"/>']
    for level in range(1, levels + 1):
        uses = ''.join(f'<use xlink:href="#l{level - 1}"/>' for _ in range(fan))
        parts.append(f'<g id="l{level}">{uses}</g>')
    parts.append(f'</defs><use xlink:href="#l{levels}"/></svg>')
    return ''.join(parts)


def fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def zero_device(path: Path) -> None:
    path.unlink()
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 5))   # /dev/zero, inside the project


TRADE = 'reports/beyond-the-border/2015/en/trade.md'
THREATS = 'reports/beyond-the-border/2015/en/threats.md'

CASES = {
    '1,000 calls of one footnote': (
        lambda p: append(p / THREATS, '\n' + 'Text.[^zz] ' * 1000 + '\n\n[^zz]: A note.\n'),
        f'{THREATS}:', 'is called more than 3 times'),
    'an SVG of nested <use>': (
        lambda p: ((p / 'reports/beyond-the-border/2015/en/bomb.svg').write_text(svg_bomb()),
                   append(p / TRADE, '\n![Crossings by month](bomb.svg)\n')),
        f'{TRADE}:', 'bomb.svg'),
    'a PNG that decodes to 1.6 gigapixels': (
        lambda p: ((p / 'reports/beyond-the-border/2015/en/bomb.png').write_bytes(png_bomb()),
                   append(p / TRADE, '\n![Crossings by month](bomb.png)\n')),
        f'{TRADE}:', 'pixels'),
    "{{ 'a' * 10**7 }}": (
        lambda p: append(p / THREATS, "\n{{ 'a' * 10**7 }}\n"),
        f'{THREATS}:', ''),
    'two nested loops of 100,000': (
        lambda p: append(p / THREATS, '\n{% for i in range(100000) %}{% for j in '
                                      'range(100000) %}{% endfor %}{% endfor %}\n'),
        f'{THREATS}:', ''),
    "'%0*d' % (10**8, 1)": (
        lambda p: append(p / THREATS, "\n{{ '%0*d' % (10**8, 1) }}\n"),
        f'{THREATS}:', ''),
    'a word of 240,000 characters': (
        lambda p: append(p / THREATS, '\n' + '[' * 240_000 + '\n'),
        f'{THREATS}:', '240,000 characters without a space'),
    'a 250 KB title': (
        lambda p: replace(p / THREATS, 'title: ', 'title: ' + 'Long ' * 50_000),
        f'{THREATS}:', "'title' is 250,"),
    'a chart title {first_x:>5000000}': (
        lambda p: replace(p / 'reports/beyond-the-border/charts.toml', 'title.en = "', 'title.en = "{first_x:>5000000}'),
        'reports/beyond-the-border/charts.toml', ''),
    'a FIFO as a data file': (
        lambda p: fifo(p / 'data/us_states.csv'),
        'data/us_states.csv:', 'not a regular file'),
    'a FIFO as edition.toml': (
        lambda p: fifo(p / 'reports/beyond-the-border/2015/edition.toml'),
        'reports/beyond-the-border/2015/edition.toml:', 'not a regular file'),
    'a device as a data file': (
        lambda p: zero_device(p / 'data/us_states.csv'),
        'data/us_states.csv:', 'not a regular file'),
}


@pytest.mark.parametrize('case', CASES, ids=list(CASES))
def test_small_hostile_input_ends_in_a_message_within_budget(case, tmp_path):
    plant, where, words = CASES[case]
    project = copy_project(tmp_path / 'project')
    plant(project)
    out = tmp_path / 'out' / 'report.pdf'
    out.parent.mkdir()
    out.write_bytes(b'previous good PDF')
    result = run_bounded(['--project', str(project), 'build', '2015', '--lang', 'en',
                          '--out', str(out), '--no-cache'], seconds=SECONDS * 3)
    print(f'\n{case}: {result.seconds:.2f} s, {result.peak_mb:.0f} MB peak')
    assert result.status == 1, result.stderr[-3000:]
    one_line_error(result)
    assert where in result.stderr and words in result.stderr, result.stderr[-3000:]
    assert result.seconds < SECONDS
    assert result.peak_mb < PEAK_MB
    assert out.read_bytes() == b'previous good PDF'
    assert sorted(p.name for p in out.parent.iterdir()) == ['report.pdf']
