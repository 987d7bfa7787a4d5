"""Fair use and room on disk: how many pictures a user may send a minute, how many jobs a
day, and whether ``DATA_DIR`` has room. Counters live in ``DATA_DIR/limits.sqlite3``, so a
restart does not hand out fresh allowances.
"""

from __future__ import annotations

import datetime as dtm
import time
from collections.abc import Callable
from pathlib import Path

from .store import Database

DATABASE = "limits.sqlite3"
WINDOW_SECONDS = 60.0  # the picture rate is counted over the last minute
SIZE_CACHE_SECONDS = 10.0  # DATA_DIR is measured at most this often

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pictures (user_id INTEGER NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS pictures_by_user ON pictures (user_id, at);
CREATE TABLE IF NOT EXISTS jobs_per_day (
    user_id INTEGER NOT NULL, day TEXT NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (user_id, day)
);
"""


# Mutation testing: SQL ignores the case of keywords and names, so mutants below that change
# only the case of a statement are equivalent.


class Limits:
    """Per-user allowances; each check answers None (go ahead) or seconds until it is fine."""

    def __init__(
        self,
        data_dir: Path,
        *,
        pictures_per_minute: int,
        jobs_per_day: int,
        data_max_mb: int,
        measured: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.data_dir = Path(data_dir)  # where the counters live (a front-end's own folder)
        #: What DATA_MAX_MB caps: all of DATA_DIR, whichever front-end's folder this is.
        self.measured = Path(measured or data_dir)
        self.pictures_per_minute = pictures_per_minute
        self.jobs_per_day = jobs_per_day
        self.data_max_mb = data_max_mb
        self._clock = clock
        self.database = Database(self.data_dir, DATABASE, _SCHEMA)
        self._size: tuple[float, int] | None = None  # (measured at, bytes)

    def open(self) -> None:
        self.database.open()

    def close(self) -> None:
        self.database.close()

    def take_picture(self, user_id: int) -> float | None:
        """Count one incoming picture; if over the rate, seconds until one more is fine."""
        now = self._clock()
        db = self.database
        # a picture WINDOW_SECONDS old has left the minute: the wait returned below ends then
        db.execute("DELETE FROM pictures WHERE at <= ?", (now - WINDOW_SECONDS,))
        recent = [
            float(at)
            for (at,) in db.execute(
                "SELECT at FROM pictures WHERE user_id = ? ORDER BY at", (user_id,)
            )
        ]
        if len(recent) >= self.pictures_per_minute:
            return recent[len(recent) - self.pictures_per_minute] + WINDOW_SECONDS - now
        db.execute("INSERT INTO pictures VALUES (?, ?)", (user_id, now))
        return None

    def job_refusal(self, user_id: int) -> float | None:
        """Seconds until the user's daily allowance renews, if it is used up (0: unlimited)."""
        if not self.jobs_per_day or self.jobs_today(user_id) < self.jobs_per_day:
            return None
        today = dtm.datetime.fromtimestamp(self._clock(), dtm.UTC)
        midnight = dtm.datetime.combine(today.date() + dtm.timedelta(days=1), dtm.time(), dtm.UTC)
        return (midnight - today).total_seconds()

    def jobs_today(self, user_id: int) -> int:
        row = self.database.execute(
            "SELECT count FROM jobs_per_day WHERE user_id = ? AND day = ?",
            (user_id, self._day()),
        ).fetchone()
        return int(row[0]) if row else 0

    def count_job(self, user_id: int) -> None:
        self.database.execute(
            "INSERT INTO jobs_per_day VALUES (?, ?, 1) ON CONFLICT (user_id, day)"
            " DO UPDATE SET count = count + 1",
            (user_id, self._day()),
        )

    def disk_full(self) -> bool:
        """Whether DATA_DIR holds DATA_MAX_MB or more (never, without a cap)."""
        return bool(self.data_max_mb) and self.data_bytes() >= self.data_max_mb * 1024 * 1024

    def data_bytes(self) -> int:
        """What DATA_DIR holds, measured at most every few seconds."""
        now = self._clock()
        # ">" vs ">=" both measure at most every SIZE_CACHE_SECONDS: that instant is no contract
        if self._size is None or now - self._size[0] > SIZE_CACHE_SECONDS:
            size = sum(p.stat().st_size for p in self.measured.rglob("*") if p.is_file())
            self._size = (now, size)
        return self._size[1]

    def _day(self) -> str:
        return dtm.datetime.fromtimestamp(self._clock(), dtm.UTC).date().isoformat()
