"""A content-addressed store of rendered PDFs: the same inputs give the same bytes, so a
PDF whose inputs (every file, the software, the variant) have not changed is reused
instead of rendered again. Keys come from :func:`reportkit.inputs.key`."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .inputs import sha256_file


@dataclass(frozen=True)
class CacheEntry:
    path: Path
    pages: int
    attachments: list[str] = field(default_factory=list)


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
        return CacheEntry(pdf, info['pages'], info.get('attachments', []))

    def put(self, key: str, source: Path, pages: int, attachments: list[str] = ()) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        info = {'sha256': sha256_file(source), 'size': source.stat().st_size,
                'pages': pages, 'attachments': list(attachments)}
        for suffix, write in (('.pdf', lambda p: shutil.copyfile(source, p)),
                              ('.json', lambda p: Path(p).write_text(json.dumps(info)))):
            handle, temp = tempfile.mkstemp(dir=self.root, prefix='.', suffix=suffix)
            os.close(handle)
            write(temp)
            os.replace(temp, self.root / f'{key}{suffix}')
