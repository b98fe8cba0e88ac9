"""Golden test of the composed HTML (content only; the PDF is checked in test_pdf.py).

Refresh after an intended change:  .venv/bin/python -m pytest tests/test_golden.py --update-golden
then review the diff of tests/golden/ before committing it.
"""

from __future__ import annotations

import difflib
import subprocess
import sys

from reportkit.run.prepare import BuildRequest, prepare
from reportkit.project import Project

from .conftest import ROOT

GOLDEN = ROOT / 'tests' / 'golden' / '2015-en.html'


def test_composed_html_matches_the_golden_file(update_golden):
    composed = prepare(Project.at(ROOT), BuildRequest('2015', ['en'])).composed
    html = composed['en'].html
    if update_golden:
        GOLDEN.write_text(html, encoding='utf-8')
    expected = GOLDEN.read_text(encoding='utf-8')
    if html != expected:
        diff = ''.join(difflib.unified_diff(expected.splitlines(True), html.splitlines(True),
                                            'golden', 'composed', n=1))
        raise AssertionError('composed HTML differs from tests/golden/2015-en.html '
                             '(refresh with --update-golden if intended):\n' + diff[:4000])


def test_html_export_renders_the_same_document_with_plain_weasyprint(built_2015_en, tmp_path):
    """--html writes a self-contained document: the weasyprint command renders it too."""
    _, html = built_2015_en
    out = tmp_path / 'plain.pdf'
    weasyprint = [sys.executable, '-m', 'weasyprint']
    subprocess.run([*weasyprint, str(html), str(out)], check=True, capture_output=True)
    from pypdf import PdfReader
    assert len(PdfReader(out).pages) == len(PdfReader(built_2015_en[0]).pages)
