"""The delivery ledger (SQLite): what was sent to whom, so nobody gets a revision twice.

One row per stakeholder address, edition, revision and document (``''`` for an edition
of one document per language; a batch document's key, ``MI``, otherwise): one row per
message. A row is written as ``sending`` before the message goes out and becomes
``sent`` (or ``failed``) as soon as the server answers, so an interrupted run knows
where it stopped.

The address is stored in its canonical form (:func:`stakeholders.address_key`: the
local part lower-cased too), whatever case the list gives it in, so ``Alex.Martin@…``
and ``alex.martin@…`` are one stakeholder. Ledgers written before that (format 0) are
migrated when opened: rows whose address differs only in case become one row, the one
that says most about what the stakeholder has (sent, then sending, then failed; the
latest first). Ledgers written before batch editions (format 1) get the ``document``
column, ``''`` in every row they hold: their key gains it, so the table is rebuilt
(SQLite cannot change a primary key in place). Each migration runs in one transaction
and is safe to run again.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path

from reportkit.errors import ReportError
from reportkit.distribute.stakeholders import address_key

FORMAT = 2
"""``PRAGMA user_version``: 1 = addresses in their canonical form; 2 = a document in the
key (batch editions)."""
COLUMNS = ('email, name, series, edition, revision, document, language, attachment, '
           'sha256, message_id, transport, outcome, detail, attempts, updated_at')
KEY = 'email, series, edition, revision, document'
_READ = COLUMNS.replace(' series,', '')
"""The columns a :class:`Delivery` holds, in its order."""
_OUTCOME, _UPDATED = 11, 14   # their places in COLUMNS
_RANK = {'sent': 2, 'sending': 1, 'failed': 0}

SCHEMA = '''
CREATE TABLE IF NOT EXISTS deliveries (
    email       TEXT NOT NULL,      -- canonical form (address_key)
    name        TEXT NOT NULL,
    series      TEXT NOT NULL,
    edition     TEXT NOT NULL,
    revision    INTEGER NOT NULL,
    document    TEXT NOT NULL DEFAULT '',   -- a batch document's key; '' for one per language
    language    TEXT NOT NULL,
    attachment  TEXT NOT NULL,      -- file name of the PDF
    sha256      TEXT NOT NULL,      -- of the attached PDF
    message_id  TEXT NOT NULL,
    transport   TEXT NOT NULL,      -- smtp://host:port or outbox:<folder>
    outcome     TEXT NOT NULL CHECK (outcome IN ('sending', 'sent', 'failed')),
    detail      TEXT NOT NULL DEFAULT '',
    attempts    INTEGER NOT NULL DEFAULT 0,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (email, series, edition, revision, document)
);
'''


@dataclass(frozen=True)
class Delivery:
    email: str
    name: str
    edition: str
    revision: int
    document: str
    """'' for an edition of one document per language."""
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
        """Bring a ledger of an earlier format to :data:`FORMAT`, in one transaction."""
        self.db.execute('BEGIN IMMEDIATE')
        try:
            version = self.db.execute('PRAGMA user_version').fetchone()[0]
            if version < FORMAT:
                # NOTE: the document column first: the case merge reads and writes them all.
                self._add_document()
                if version < 1:
                    self._merge_cases()
                self.db.execute(f'PRAGMA user_version = {FORMAT}')
            self.db.execute('COMMIT')
        except BaseException:
            self.db.execute('ROLLBACK')
            raise

    def _add_document(self) -> None:
        """Format 1 -> 2: the ``document`` column, '' in every row, and in the key. A new
        ledger has it already (SCHEMA); an old one is copied into a table made by SCHEMA,
        which then takes its name."""
        columns = [row[1] for row in self.db.execute('PRAGMA table_info(deliveries)')]
        if 'document' in columns:
            return
        self.db.execute('ALTER TABLE deliveries RENAME TO deliveries_format1')
        self.db.execute(SCHEMA)   # not executescript: that would commit first
        kept = COLUMNS.replace(' document,', '')
        self.db.execute(f'INSERT INTO deliveries ({kept}) '   # document: its default, ''
                        f'SELECT {kept} FROM deliveries_format1')
        self.db.execute('DROP TABLE deliveries_format1')

    def _merge_cases(self) -> None:
        """Format 0 -> 1: every address in its canonical form, one row per stakeholder,
        edition, revision and document."""
        groups: dict[tuple, list[tuple]] = {}
        for row in self.db.execute(f'SELECT {COLUMNS} FROM deliveries'):
            groups.setdefault((address_key(row[0]), *row[2:6]), []).append(row)
        for (key, series, edition, revision, document), rows in groups.items():
            if len(rows) == 1 and rows[0][0] == key:
                continue
            best = max(rows, key=lambda r: (_RANK.get(r[_OUTCOME], -1), r[_UPDATED]))
            self.db.execute('DELETE FROM deliveries WHERE series = ? AND edition = ?'
                            ' AND revision = ? AND document = ? AND email IN (%s)'
                            % ', '.join('?' * len(rows)),
                            (series, edition, revision, document, *(r[0] for r in rows)))
            self.db.execute(f'INSERT INTO deliveries ({COLUMNS}) VALUES '
                            f'({", ".join("?" * len(best))})', (key, *best[1:]))

    def close(self) -> None:
        self.db.close()

    def get(self, email: str, series: str, edition: str, revision: int,
            document: str = '') -> Delivery | None:
        """The delivery of ``document`` ('' for one document per language) to ``email``."""
        row = self.db.execute(
            f'SELECT {_READ} FROM deliveries WHERE email = ? AND series = ? AND edition = ?'
            ' AND revision = ? AND document = ?',
            (address_key(email), series, edition, revision, document)).fetchone()
        return Delivery(*row) if row else None

    def record(self, *, email: str, name: str, series: str, edition: str, revision: int,
               language: str, attachment: str, sha256: str, message_id: str,
               transport: str, outcome: str, detail: str = '', attempts: int = 0,
               document: str = '') -> None:
        values = (address_key(email), name, series, edition, revision, document, language,
                  attachment, sha256, message_id, transport, outcome, detail, attempts,
                  _now())
        updated = ', '.join(f'{c} = excluded.{c}' for c in COLUMNS.split(', ')
                            if c not in KEY.split(', '))
        self.db.execute(f'INSERT INTO deliveries ({COLUMNS}) VALUES '
                        f'({", ".join("?" * len(values))})'
                        f' ON CONFLICT ({KEY}) DO UPDATE SET {updated}', values)

    def for_edition(self, series: str, edition: str) -> list[Delivery]:
        rows = self.db.execute(
            f'SELECT {_READ} FROM deliveries WHERE series = ? AND edition = ?'
            ' ORDER BY revision, email, document', (series, edition)).fetchall()
        return [Delivery(*row) for row in rows]
