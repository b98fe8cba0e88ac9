"""Stage 6 for the web: a document's web page (composed in phase 1,
:mod:`reportkit.compose.web`) -> the files of its folder, beside its PDF.

Nothing is rendered: the page is HTML already. What is left is to say the PDF's pages
and size, known once it is rendered; the build puts the folder in place whole
(:func:`reportkit.files.stage_folder`, :func:`reportkit.files.replace_folder`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from reportkit.compose.web import WebPage


def web_folder(pdf: Path) -> Path:
    """A document's web folder: its PDF's path without ``.pdf``."""
    return pdf.with_name(pdf.name.removesuffix('.pdf'))


def page_files(page: WebPage, pages: int | None, size: int | None) -> dict[str, bytes]:
    """Every file of the page's folder, the page saying its PDF's ``pages`` and ``size``
    (in bytes): '26 pages, 188 KB' / '26 pages, 188 Ko'; or, with None (a preview, whose
    PDF is rendered when its link is opened), 'made when you open it'."""
    from babel.numbers import format_decimal

    words = page.words
    if pages is None or size is None:
        facts = words['on request']
    else:
        kilobytes = format_decimal(max(1, round(size / 1024)), locale=page.locale)
        facts = (f"{format_decimal(pages, locale=page.locale)} "
                 f"{words['page'] if pages == 1 else words['pages']}, {kilobytes} {words['KB']}")
    html = page.html.replace(page.marker, facts)
    return {'index.html': html.encode('utf-8'), **page.files}
