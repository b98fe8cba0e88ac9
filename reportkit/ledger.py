"""The delivery ledger (SQLite): what was sent to whom, so nobody gets a revision twice.

One row per stakeholder address, edition and revision. A row is written as
``sending`` before the message goes out and becomes ``sent`` (or ``failed``) as soon
as the server answers, so an interrupted run knows where it stopped.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path

SCHEMA = '''
CREATE TABLE IF NOT EXISTS deliveries (
    email       TEXT NOT NULL,
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
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self.db.execute('PRAGMA journal_mode=WAL')
        self.db.execute('PRAGMA synchronous=FULL')
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def get(self, email: str, series: str, edition: str, revision: int) -> Delivery | None:
        row = self.db.execute(
            'SELECT email, name, edition, revision, language, attachment, sha256, message_id,'
            ' transport, outcome, detail, attempts, updated_at FROM deliveries'
            ' WHERE email = ? AND series = ? AND edition = ? AND revision = ?',
            (email, series, edition, revision)).fetchone()
        return Delivery(*row) if row else None

    def record(self, *, email: str, name: str, series: str, edition: str, revision: int,
               language: str, attachment: str, sha256: str, message_id: str,
               transport: str, outcome: str, detail: str = '', attempts: int = 0) -> None:
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
