"""One measured run, in a fresh process (called by benchmarks/run.py; prints JSON).

    driver.py build PROJECT OUT [--html FILE] [--no-cache]   our build, timings by stage
    driver.py floor HTML OUT                                  WeasyPrint alone, same variant
"""

from __future__ import annotations

import json
import os
import sys
import time

STARTED = time.perf_counter()
ROOT = __file__.rsplit('/benchmarks/', 1)[0]
sys.path.insert(0, ROOT)


def build(project: str, out: str, html: str | None, use_cache: bool) -> dict:
    from pathlib import Path

    from reportkit.run.build import build as run
    from reportkit.run.prepare import BuildRequest
    from reportkit.project import Project
    imported = time.perf_counter()
    (result,) = run(Project.at(project),
                    BuildRequest('2015', ['en'], out=Path(out), html=Path(html) if html else None),
                    use_cache=use_cache, jobs=os.cpu_count() or 1)  # as the command line
    done = time.perf_counter()
    return {'startup': imported - STARTED, **result.timings, 'cached': result.cached,
            'total': done - STARTED}


def floor(html: str, out: str) -> dict:
    import weasyprint

    from reportkit.render.pdf import PDF_VARIANT
    imported = time.perf_counter()
    document = weasyprint.HTML(filename=html).render(pdf_variant=PDF_VARIANT)
    laid_out = time.perf_counter()
    document.write_pdf(out, pdf_variant=PDF_VARIANT)
    done = time.perf_counter()
    return {'startup': imported - STARTED, 'layout': laid_out - imported,
            'write': done - laid_out, 'total': done - STARTED}


if __name__ == '__main__':
    mode, *args = sys.argv[1:]
    if mode == 'build':
        html = args[args.index('--html') + 1] if '--html' in args else None
        print(json.dumps(build(args[0], args[1], html, '--no-cache' not in args)))
    else:
        print(json.dumps(floor(args[0], args[1])))
