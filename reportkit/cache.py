"""A content-addressed store of rendered PDFs: the same inputs give the same bytes, so a
PDF whose inputs (every file, the software, the variant) have not changed is reused
instead of rendered again. Keys come from :func:`reportkit.inputs.key`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from reportkit.files import Journal, unchanged, write_atomically
from reportkit.inputs import key, sha256_file


@dataclass(frozen=True)
class CacheEntry:
    path: Path
    pages: int
    attachments: list[str] = field(default_factory=list)
    web: dict[str, Path] | None = None
    """The files of the document's web page made with this PDF, if one was: relative
    name -> its blob in the store (shared by every page that has the same file)."""
    review: Path | None = None
    """The document's review form made with this PDF (an archival one), if one was."""


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
        review = self.root / f'{key}.review.json'
        return CacheEntry(pdf, info['pages'], info.get('attachments', []), self._web(key),
                          review if review.is_file() else None)

    def _web(self, key: str) -> dict[str, Path] | None:
        try:
            names = json.loads((self.root / f'{key}.web.json').read_text())
            web = {name: self.root / 'blobs' / digest for name, digest in names.items()}
        except (OSError, ValueError, AttributeError):
            return None
        return web if 'index.html' in web and all(p.is_file() for p in web.values()) else None

    @staticmethod
    def web_files(entry: CacheEntry) -> dict[str, bytes]:
        """The web page's files of a cache entry, each checked against its digest."""
        found = {}
        for name, blob in entry.web.items():
            data = blob.read_bytes()
            if hashlib.sha256(data).hexdigest() != blob.name:
                raise OSError(f'the cached file {blob} is damaged; build with --no-cache')
            found[name] = data
        return found

    def put(self, key: str, source: Path, pages: int, attachments: list[str] = (),
            web: dict[str, bytes] | None = None, review: bytes | None = None) -> None:
        data = source.read_bytes()
        info = {'sha256': hashlib.sha256(data).hexdigest(), 'size': len(data),
                'pages': pages, 'attachments': list(attachments)}
        # The PDF first: a description never names bytes that are not there yet.
        write_atomically(self.root / f'{key}.pdf', data)
        write_atomically(self.root / f'{key}.json', json.dumps(info).encode('utf-8'))
        if web is not None:   # each file stored once, however many pages share it
            names = {}
            for name, data in sorted(web.items()):
                names[name] = hashlib.sha256(data).hexdigest()
                blob = self.root / 'blobs' / names[name]
                if not blob.is_file():
                    write_atomically(blob, data)
            write_atomically(self.root / f'{key}.web.json',
                             json.dumps(names, sort_keys=True).encode('utf-8'))
        if review is not None:
            write_atomically(self.root / f'{key}.review.json', review)


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
