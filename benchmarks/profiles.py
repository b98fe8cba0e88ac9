"""Every state trade profile (51 states × 2 languages × 2 editions = 204), built and put
through the checks a reader of an official fact sheet expects (tests/pdfcheck.py:
profile_problems). The test suite samples three states; this checks them all.

    .venv/bin/python benchmarks/profiles.py [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reportkit.cli import main as make_report  # noqa: E402
from reportkit.compose.compose import full_title_of  # noqa: E402
from reportkit.load.edition import load_edition  # noqa: E402
from reportkit.project import Project  # noqa: E402
from tests.pdfcheck import profile_problems  # noqa: E402

EDITIONS = ['state-trade/2016', 'state-trade/2022']


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', type=Path, help='keep the PDFs here')
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix='profiles-'))
    started = time.perf_counter()
    for edition in EDITIONS:
        if make_report(['build', edition, '--out-dir', str(out), '-j', '2']) != 0:
            return 1
    built = time.perf_counter() - started
    with (ROOT / 'data' / 'us_states.csv').open(encoding='utf-8') as stream:
        names = {row['state_code']: row for row in csv.DictReader(stream)}
    project, failures, checked = Project.at(ROOT), [], 0
    for name in EDITIONS:
        edition = load_edition(project, name)
        config = edition.config
        for lang in config.languages:
            for code, row in names.items():
                pdf = out / f'state-trade-{config.id}-{code.lower()}-{lang}-r1.pdf'
                state = row[f'name_{lang}']
                title = full_title_of(config.title[lang].replace('{name}', state),
                                      config.subtitle[lang], lang)
                problems = profile_problems(pdf, title, edition.series.lang_tag(lang), state)
                checked += 1
                failures += [f'{pdf.name}: {problem}' for problem in problems]
    print('\n'.join(failures) or 'no problems')
    print(f'{checked} profiles checked ({built:.0f} s to build, '
          f'{time.perf_counter() - started - built:.0f} s to check), '
          f'{len(failures)} problems; PDFs in {out}')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
