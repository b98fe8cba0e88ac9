"""A content-addressed store of rendered PDFs: the same inputs give the same bytes, so a
PDF whose inputs (every file, the software, the variant) have not changed is reused
instead of rendered again. Keys come from :func:`reportkit.inputs.key`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from reportkit.files import (Journal, replace_folder, stage_folder, unchanged,
                             write_atomically)
from reportkit.inputs import key, sha256_file


@dataclass(frozen=True)
class CacheEntry:
    path: Path
    pages: int
    attachments: list[str] = field(default_factory=list)
    web: Path | None = None
    """The folder of the document's web page made with this PDF, if one was."""


class PdfCache:
    def __init__(self, root: Path) -> None:
        self.root = root

    def get(self, key: str) -> CacheEntry | None:
        pdf, meta = self.root / f'{key}.pdf', self.root / f'{key}.json'
        try:
            info = json.loads(meta.read_text())
            if pdf.stat().st_size != info['size'] or sha256_file(pdf) != info['sha256']:
                return None     # damaged: render again
        except (OSError, ValueError, KeyError):
            return None
        web = self.root / f'{key}.web'
        return CacheEntry(pdf, info['pages'], info.get('attachments', []),
                          web if (web / 'index.html').is_file() else None)

    def put(self, key: str, source: Path, pages: int, attachments: list[str] = (),
            web: dict[str, bytes] | None = None) -> None:
        data = source.read_bytes()
        info = {'sha256': hashlib.sha256(data).hexdigest(), 'size': len(data),
                'pages': pages, 'attachments': list(attachments)}
        # The PDF first: a description never names bytes that are not there yet.
        write_atomically(self.root / f'{key}.pdf', data)
        write_atomically(self.root / f'{key}.json', json.dumps(info).encode('utf-8'))
        if web is not None:
            replace_folder(stage_folder(web, self.root / f'{key}.web'),
                           self.root / f'{key}.web')


class Depends:
    """What each cached result was made from: the files its build read (a
    :class:`~.files.Journal`), kept under the result's *plan* (what was asked for: the
    document, the variant, the code, the software). A result is reused only when every
    file it read is unchanged; its full key is the plan plus those files' digests, so an
    image replaced, a section edited or a font swapped each make a new key."""

    def __init__(self, folder: Path, root: Path) -> None:
        self.folder, self.root = folder, root

    def lookup(self, plan: str) -> tuple[str, Journal] | None:
        """(full key, journal) of the last result for ``plan``, if its inputs are
        unchanged."""
        try:
            journal = Journal.from_dict(json.loads(
                (self.folder / f'{plan}.deps.json').read_text(encoding='utf-8')))
        except (OSError, ValueError, TypeError, AttributeError):
            return None
        if not unchanged(self.root, journal):
            return None
        return full_key(plan, journal), journal

    def remember(self, plan: str, journal: Journal) -> str:
        """Record what the result for ``plan`` read; returns its full key."""
        write_atomically(self.folder / f'{plan}.deps.json',
                         json.dumps(journal.as_dict(), ensure_ascii=False).encode('utf-8'))
        return full_key(plan, journal)


def full_key(plan: str, journal: Journal) -> str:
    return key(plan, journal.as_dict())
