"""Reading a built PDF the way a reviewer would: pages, text, fonts, structure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pdfplumber
import pikepdf

MM = 72 / 25.4


def page_texts(pdf: Path) -> list[str]:
    with pdfplumber.open(pdf) as document:
        return [page.extract_text() or '' for page in document.pages]


def plain(text: str) -> str:
    """Text with no-break spaces as plain spaces and typographic apostrophes as typed
    (as a reader compares it with the sources)."""
    return (text.replace('\u00a0', ' ').replace('\u202f', ' ')
            .replace('\u2019', "'").replace('\u2018', "'"))


def flat(text: str) -> str:
    """Text with line breaks (and words hyphenated across them) joined up."""
    text = text.replace('\u00a0', ' ').replace('\u2010', '-')
    text = re.sub(r'(\w)[-\u2010]\n(\w)', r'\1\2', text)
    return re.sub(r'\s+', ' ', text)


def contents_entries(texts: list[str], heading: str = 'Contents') -> list[tuple[str, int]]:
    """(entry text, page number) for each entry of the contents page; an entry that
    wraps is joined up."""
    page = next(t for t in texts if t.lstrip().startswith(heading))
    entry_start = re.compile(r'^([IVX]+\.|\w+ [A-Z]\s?:|\w+ \d+\.)')
    entries, pending = [], ''
    for line in page.splitlines():
        line = line.strip()
        match = re.match(r'^(.*?)[\s.]*\s(\d+)$', line)
        if match and not line.startswith('Page '):
            text = f'{pending} {match[1]}' if pending else match[1]
            entries.append((text.strip(' .'), int(match[2])))
            pending = ''
        elif entry_start.match(line):
            pending = line      # an entry that wraps onto the next line
    return entries


@dataclass
class Line:
    top: float
    bottom: float
    size: float
    font: str
    text: str


def body_lines(pdf: Path, page_number: int, *, margin_mm: float = 24) -> list[Line]:
    """Lines of text inside the page's body area, top to bottom (running heads excluded)."""
    with pdfplumber.open(pdf) as document:
        page = document.pages[page_number - 1]
        top_limit, bottom_limit = margin_mm * MM - 1, page.height - margin_mm * MM + 1
        rows: dict[int, list] = {}
        for char in page.chars:
            if char['top'] >= top_limit and char['bottom'] <= bottom_limit and char['text'].strip():
                rows.setdefault(round(char['bottom']), []).append(char)
    lines = []
    for bottom in sorted(rows):
        chars = sorted(rows[bottom], key=lambda c: c['x0'])
        biggest = max(chars, key=lambda c: c['size'])
        lines.append(Line(min(c['top'] for c in chars), bottom, biggest['size'],
                          biggest['fontname'], ''.join(c['text'] for c in chars)))
    return lines


def fonts(pdf: Path) -> dict[str, dict]:
    """Every font used on any page, with whether it is embedded and has ToUnicode."""
    found = {}
    with pikepdf.open(pdf) as document:
        for page in document.pages:
            resources = page.obj.get('/Resources', {})
            for _, font in resources.get('/Font', {}).items():
                name = str(font.get('/BaseFont'))
                descendant = font['/DescendantFonts'][0] if '/DescendantFonts' in font else font
                descriptor = descendant.get('/FontDescriptor', {})
                found[name] = {
                    'embedded': any(key in descriptor for key in
                                    ('/FontFile', '/FontFile2', '/FontFile3')),
                    'to_unicode': '/ToUnicode' in font,
                }
    return found


def header_text(pdf: Path, page_number: int, *, margin_mm: float = 24) -> str:
    """The running header: text above the page's top margin."""
    with pdfplumber.open(pdf) as document:
        page = document.pages[page_number - 1]
        top = page.crop((0, 0, page.width, margin_mm * MM))
        return (top.extract_text() or '').replace('\u00a0', ' ')


def profile_problems(pdf: Path, title: str, lang_tag: str, state: str,
                     margin_mm: float = 17) -> list[str]:
    """What a reader of an official fact sheet would not accept in one profile: not two
    letter pages, untagged, no language or title, no bookmarks, a font not embedded, a
    heading alone at a page bottom, text off the page, the state's name missing."""
    import pikepdf
    import pdfplumber
    from pypdf import PdfReader

    problems = []
    reader = PdfReader(pdf)
    if len(reader.pages) != 2:
        problems.append(f'{len(reader.pages)} pages, not 2')
    for page in reader.pages:
        if (round(float(page.mediabox.width)), round(float(page.mediabox.height))) != (612, 792):
            problems.append('not a letter page')
    if reader.metadata.title != title:
        problems.append(f'title {reader.metadata.title!r}, not {title!r}')
    with pikepdf.open(pdf) as document:
        root = document.Root
        if '/StructTreeRoot' not in root or not bool(root.MarkInfo.Marked):
            problems.append('not tagged')
        if str(root.get('/Lang')) != lang_tag:
            problems.append(f'language {root.get("/Lang")}, not {lang_tag}')
        if 'pdfuaid' not in str(document.open_metadata()):
            problems.append('no PDF/UA identification')
    outline = [plain(item.title) for item in reader.outline if not isinstance(item, list)]
    if not outline or plain(state) not in outline[0]:
        problems.append(f'the first bookmark does not name {state}: {outline[:1]}')
    problems += [f'font {name} not embedded or not mapped' for name, info in fonts(pdf).items()
                 if not (info['embedded'] and info['to_unicode'])]
    texts = page_texts(pdf)
    if plain(state) not in plain(texts[0]):
        problems.append(f'page 1 does not name {state}')
    for number in range(1, len(texts) + 1):
        flow = [line for line in body_lines(pdf, number, margin_mm=16) if line.size >= 7.9]
        if number < len(texts) and flow and 'Lato' in flow[-1].font:
            problems.append(f'page {number} ends with the heading {flow[-1].text!r}')
    with pdfplumber.open(pdf) as document:
        for number, page in enumerate(document.pages, start=1):
            off = [c for c in page.chars if c['x0'] < margin_mm * MM - 1
                   or c['x1'] > page.width - margin_mm * MM + 1]
            if off:
                problems.append(f'page {number}: {off[0]["text"]!r} outside the margins')
    return problems
