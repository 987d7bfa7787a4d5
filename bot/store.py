"""The bot's own state on disk: each store (the sessions, the limits) is one SQLite file under
``DATA_DIR``, opened here the one way.

Autocommit (each statement is its own transaction, written at once), WAL (a reader never
waits for the writer), the schema made if missing, rows readable by column name, and one
connection usable from any thread. The queue's database is the queue's own
(``jobqueue.embedded``).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any


class Database:
    """One SQLite file under ``data_dir`` holding ``schema``: ``open()`` before use,
    ``close()`` at the end (used while closed, it raises ``RuntimeError``)."""

    def __init__(self, data_dir: Path, name: str, schema: str) -> None:
        self.path = Path(data_dir) / name
        self._schema = schema
        self._connection: sqlite3.Connection | None = None

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA journal_mode=WAL")
        connection.executescript(self._schema)
        self._connection = connection

    def close(self) -> None:
        """Close the file (again is fine); the data stays for the next start."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def execute(self, sql: str, parameters: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        """Run one statement (committed at once)."""
        if self._connection is None:
            raise RuntimeError(f"{self.path.name} is not open")
        return self._connection.execute(sql, parameters)
