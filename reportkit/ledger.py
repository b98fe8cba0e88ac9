"""The delivery ledger (SQLite): what was sent to whom, so nobody gets a revision twice.

One row per stakeholder address, edition and revision. A row is written as
``sending`` before the message goes out and becomes ``sent`` (or ``failed``) as soon
as the server answers, so an interrupted run knows where it stopped.

The address is stored in its canonical form (:func:`stakeholders.address_key`: the
local part lower-cased too), whatever case the list gives it in, so ``Alex.Martin@…``
and ``alex.martin@…`` are one stakeholder. Ledgers written before that (format 0) are
migrated when opened: rows whose address differs only in case become one row, the one
that says most about what the stakeholder has (sent, then sending, then failed; the
latest first). The migration runs in one transaction and is safe to run again.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path

from .errors import ReportError
from .stakeholders import address_key

FORMAT = 1
"""``PRAGMA user_version``: 1 = addresses in their canonical form."""
COLUMNS = ('email, name, series, edition, revision, language, attachment, sha256, '
           'message_id, transport, outcome, detail, attempts, updated_at')
_RANK = {'sent': 2, 'sending': 1, 'failed': 0}

SCHEMA = '''
CREATE TABLE IF NOT EXISTS deliveries (
    email       TEXT NOT NULL,      -- canonical form (address_key)
    name        TEXT NOT NULL,
    series      TEXT NOT NULL,
    edition     TEXT NOT NULL,
    revision    INTEGER NOT NULL,
    language    TEXT NOT NULL,
    attachment  TEXT NOT NULL,      -- file name of the PDF
    sha256      TEXT NOT NULL,      -- of the attached PDF
    message_id  TEXT NOT NULL,
    transport   TEXT NOT NULL,      -- smtp://host:port or outbox:<folder>
    outcome     TEXT NOT NULL CHECK (outcome IN ('sending', 'sent', 'failed')),
    detail      TEXT NOT NULL DEFAULT '',
    attempts    INTEGER NOT NULL DEFAULT 0,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (email, series, edition, revision)
);
'''


@dataclass(frozen=True)
class Delivery:
    email: str
    name: str
    edition: str
    revision: int
    language: str
    attachment: str
    sha256: str
    message_id: str
    transport: str
    outcome: str
    detail: str
    attempts: int
    updated_at: str


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


class Ledger:
    def __init__(self, path: Path, shown: str | None = None) -> None:
        shown = shown or str(path)
        try:
            info = os.stat(path)
        except FileNotFoundError:
            info = None
        except OSError as problem:
            raise ReportError(f'the ledger cannot be read ({problem.strerror})',
                              path=shown) from None
        if info is not None and not stat.S_ISREG(info.st_mode):
            raise ReportError('the ledger is not a regular file (a folder, a device or a '
                              'pipe); name another with --ledger', path=shown)
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
        except (OSError, sqlite3.Error) as problem:
            raise ReportError(f'the ledger cannot be opened ({problem})', path=shown) from None
        try:
            self.db.execute('PRAGMA journal_mode=WAL')
            self.db.execute('PRAGMA synchronous=FULL')
            self.db.executescript(SCHEMA)
            if self.db.execute('PRAGMA user_version').fetchone()[0] < FORMAT:
                self._migrate()
        except sqlite3.DatabaseError as problem:
            self.db.close()
            raise ReportError(f'not a delivery ledger, or a damaged one ({problem}); name '
                              'another with --ledger', path=shown) from None

    def _migrate(self) -> None:
        """Format 0 -> 1: every address in its canonical form, one row per stakeholder,
        edition and revision."""
        self.db.execute('BEGIN IMMEDIATE')
        try:
            if self.db.execute('PRAGMA user_version').fetchone()[0] < FORMAT:
                groups: dict[tuple, list[tuple]] = {}
                for row in self.db.execute(f'SELECT {COLUMNS} FROM deliveries'):
                    groups.setdefault((address_key(row[0]), *row[2:5]), []).append(row)
                for (key, series, edition, revision), rows in groups.items():
                    if len(rows) == 1 and rows[0][0] == key:
                        continue
                    best = max(rows, key=lambda r: (_RANK.get(r[10], -1), r[13]))
                    self.db.execute('DELETE FROM deliveries WHERE series = ? AND edition = ?'
                                    ' AND revision = ? AND email IN (%s)'
                                    % ', '.join('?' * len(rows)),
                                    (series, edition, revision, *(r[0] for r in rows)))
                    self.db.execute(f'INSERT INTO deliveries ({COLUMNS}) VALUES '
                                    f'({", ".join("?" * 14)})', (key, *best[1:]))
                self.db.execute(f'PRAGMA user_version = {FORMAT}')
            self.db.execute('COMMIT')
        except BaseException:
            self.db.execute('ROLLBACK')
            raise

    def close(self) -> None:
        self.db.close()

    def get(self, email: str, series: str, edition: str, revision: int) -> Delivery | None:
        email = address_key(email)
        row = self.db.execute(
            'SELECT email, name, edition, revision, language, attachment, sha256, message_id,'
            ' transport, outcome, detail, attempts, updated_at FROM deliveries'
            ' WHERE email = ? AND series = ? AND edition = ? AND revision = ?',
            (email, series, edition, revision)).fetchone()
        return Delivery(*row) if row else None

    def record(self, *, email: str, name: str, series: str, edition: str, revision: int,
               language: str, attachment: str, sha256: str, message_id: str,
               transport: str, outcome: str, detail: str = '', attempts: int = 0) -> None:
        email = address_key(email)
        self.db.execute(
            'INSERT INTO deliveries (email, name, series, edition, revision, language,'
            ' attachment, sha256, message_id, transport, outcome, detail, attempts,'
            ' updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'
            ' ON CONFLICT (email, series, edition, revision) DO UPDATE SET'
            ' name = excluded.name, language = excluded.language,'
            ' attachment = excluded.attachment, sha256 = excluded.sha256,'
            ' message_id = excluded.message_id, transport = excluded.transport,'
            ' outcome = excluded.outcome, detail = excluded.detail,'
            ' attempts = excluded.attempts, updated_at = excluded.updated_at',
            (email, name, series, edition, revision, language, attachment, sha256,
             message_id, transport, outcome, detail, attempts, _now()))

    def for_edition(self, series: str, edition: str) -> list[Delivery]:
        rows = self.db.execute(
            'SELECT email, name, edition, revision, language, attachment, sha256, message_id,'
            ' transport, outcome, detail, attempts, updated_at FROM deliveries'
            ' WHERE series = ? AND edition = ? ORDER BY revision, email',
            (series, edition)).fetchall()
        return [Delivery(*row) for row in rows]
