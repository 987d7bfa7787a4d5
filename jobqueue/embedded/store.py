"""The embedded queue's table of jobs in SQLite: every statement the queue runs, in one place.

All of them run on the event loop's thread (they are small). The pictures and the finished
PNG are stored in the row of their job, so a job and its pictures are written (and
recovered) together. The order a job asks for lives in the column ``options``: its name from
before orders were typed, kept so that a ``DATA_DIR`` made then still opens.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

from ..model import (
    Ending,
    Failed,
    Finished,
    JobRecord,
    JobSpec,
    JobState,
    Painted,
    ProgressInfo,
    QueueStats,
    ResultInfo,
    ended_state,
)
from ..orders import JobOrder

logger = logging.getLogger(__name__)

DATABASE = "queue.sqlite3"
# Mutation testing: SQL and sqlite3.Row's column names ignore case, so mutants that change only
# the case of a statement or of a column name below are equivalent.

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    owner        TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    options      TEXT    NOT NULL,
    meta         TEXT    NOT NULL,
    content      BLOB,
    style        BLOB,
    result       BLOB,
    result_info  TEXT,
    making_of    BLOB,
    error        TEXT,
    error_code   TEXT,
    error_params TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    acknowledged INTEGER NOT NULL DEFAULT 0,
    created      REAL    NOT NULL,
    ended        REAL
);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, id);
CREATE INDEX IF NOT EXISTS jobs_by_owner ON jobs (owner, state);
"""
#: The columns a record is made of.
_RECORD_COLUMNS = (
    "id, owner, state, options, meta, result_info, error, error_code, error_params, acknowledged"
)


class Store:
    """The jobs table of ``path``, with the running jobs' latest progress (kept in memory
    only: a job that starts again starts from the beginning)."""

    def __init__(self, path: Path, clock: Callable[[], float]) -> None:
        self.path = path
        self.progress: dict[str, ProgressInfo] = {}
        self.clock = clock  # the queue's time: a test moves it on
        self._db: sqlite3.Connection | None = None

    def open(self) -> None:
        """Open (or make) the database, bring an older one up to date."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread: equivalent today (every statement runs on the loop's thread)
        db = self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA auto_vacuum=INCREMENTAL")  # freed pages can go back: see upkeep
        db.execute("PRAGMA journal_mode=WAL")  # a reader never waits for the writer
        db.execute("PRAGMA synchronous=NORMAL")  # durable against a crash of this process
        db.executescript(_SCHEMA)
        self._migrate()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the queue is not started (or already closed)")
        return self._db

    def one(self, sql: str, *params: object) -> sqlite3.Row:
        """The one row ``sql`` must find."""
        row: sqlite3.Row | None = self.db.execute(sql, params).fetchone()
        assert row is not None, sql
        return row

    # ---- a job's life --------------------------------------------------------------------

    def insert(self, spec: JobSpec) -> str:
        """A new waiting job; its id."""
        (job_id,) = self.one(
            "INSERT INTO jobs (owner, state, options, meta, content, style, created)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            spec.owner,
            JobState.QUEUED,
            json.dumps(spec.order.to_json()),
            json.dumps(spec.meta),
            spec.content,
            spec.style,
            self.clock(),
        )
        return str(job_id)

    def take_next(self) -> tuple[str, int] | None:
        """The oldest waiting job, now running: its id and how many runs it has had."""
        row = self.db.execute(
            "UPDATE jobs SET state = ?, attempts = attempts + 1 WHERE id ="
            " (SELECT id FROM jobs WHERE state = ? ORDER BY id LIMIT 1) RETURNING id, attempts",
            (JobState.RUNNING, JobState.QUEUED),
        ).fetchone()
        return None if row is None else (str(row["id"]), int(row["attempts"]))

    def work_of(self, job_id: str) -> tuple[bytes, bytes, JobOrder]:
        """What a running job asks of its painter."""
        content, style, order = self.one(
            "SELECT content, style, options FROM jobs WHERE id = ?", int(job_id)
        )
        return bytes(content), bytes(style), JobOrder.from_json(json.loads(order))

    def conclude(self, job_id: str, ending: Ending, painted: Painted | None = None) -> None:
        """Record how the job ended (a finished one with its ``painted`` picture); its
        pictures go."""
        failed = ending if isinstance(ending, Failed) else None
        info = ending.result if isinstance(ending, Finished) else None
        assert (info is None) == (painted is None), "a finished job comes with its picture"
        self.db.execute(
            "UPDATE jobs SET state = ?, result = ?, result_info = ?, making_of = ?, error = ?,"
            " error_code = ?, error_params = ?, content = NULL, style = NULL, ended = ?"
            " WHERE id = ?",
            (
                ended_state(ending),
                painted and painted.png,
                info and json.dumps(info.to_json()),
                painted and painted.making_of,
                failed and failed.reason,
                failed and failed.code,
                json.dumps(failed.params) if failed and failed.params else None,
                self.clock(),
                int(job_id),
            ),
        )

    def requeue(self, job_id: str) -> None:
        """Back to the queue at its old place (ids keep the order); the run it had does not
        count (``policy.MAX_ATTEMPTS``)."""
        self.db.execute(
            "UPDATE jobs SET state = ?, attempts = attempts - 1 WHERE id = ?",
            (JobState.QUEUED, int(job_id)),
        )

    def recover(self) -> None:
        """What a crash or a stop left: running jobs wait again (that run counts)."""
        resumed = self.db.execute(
            "UPDATE jobs SET state = ? WHERE state = ? RETURNING id",
            (JobState.QUEUED, JobState.RUNNING),
        ).fetchall()
        for row in resumed:
            logger.info("Job %s was running when the process stopped; queued again", row["id"])

    def annotate(self, job_id: str, meta: dict[str, object]) -> None:
        record = self.record(job_id)
        if record is not None:
            merged = {**record.meta, **meta}
            self.db.execute(
                "UPDATE jobs SET meta = ? WHERE id = ?", (json.dumps(merged), int(job_id))
            )

    def acknowledge(self, job_id: str) -> None:
        """An ended job's pictures go; its row stays (``policy.KEEP_ENDED_SECONDS``)."""
        self.db.execute(
            "UPDATE jobs SET acknowledged = 1, content = NULL, style = NULL, result = NULL"
            " WHERE id = ? AND state NOT IN (?, ?)",
            (int(job_id), JobState.QUEUED, JobState.RUNNING),
        )

    # ---- reading ---------------------------------------------------------------------------

    def record(self, job_id: str) -> JobRecord | None:
        try:
            key = int(job_id)
        except ValueError:
            return None
        row = self.db.execute(f"SELECT {_RECORD_COLUMNS} FROM jobs WHERE id = ?", (key,)).fetchone()
        if row is None:
            return None
        queued = JobState(row["state"]) is JobState.QUEUED
        # only to save a query: _from_row places waiting jobs only (always: equivalent)
        return self._from_row(row, self.positions() if queued else {})

    def active_job_of(self, owner: str) -> str | None:
        row = self.db.execute(
            "SELECT id FROM jobs WHERE owner = ? AND state IN (?, ?) ORDER BY id LIMIT 1",
            (owner, JobState.QUEUED, JobState.RUNNING),
        ).fetchone()
        return None if row is None else str(row["id"])

    def unacknowledged(self) -> list[JobRecord]:
        """Jobs not yet acknowledged, oldest first."""
        rows = self.db.execute(
            f"SELECT {_RECORD_COLUMNS} FROM jobs WHERE acknowledged = 0 ORDER BY id"
        ).fetchall()
        positions = self.positions()  # once for all, not once a job
        return [self._from_row(row, positions) for row in rows]

    def count(self, state: JobState) -> int:
        (count,) = self.one("SELECT COUNT(*) FROM jobs WHERE state = ?", state)
        return int(count)

    def positions(self) -> dict[str, int]:
        """Each waiting job's place: the jobs running plus those queued before it."""
        running = self.count(JobState.RUNNING)
        waiting = self.db.execute(
            "SELECT id FROM jobs WHERE state = ? ORDER BY id", (JobState.QUEUED,)
        )
        return {str(row["id"]): running + index for index, row in enumerate(waiting)}

    def picture(self, job_id: str, column: str) -> bytes | None:
        """A job's ``result`` or ``making_of``; None if it has none (or no such job)."""
        assert column in ("result", "making_of")
        try:
            key = int(job_id)
        except ValueError:
            return None
        row = self.db.execute(f"SELECT {column} FROM jobs WHERE id = ?", (key,)).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    def stats(self, since: float, workers: int) -> QueueStats:
        counts = dict(self.db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall())
        ended = self.db.execute(
            "SELECT state, result_info FROM jobs WHERE ended >= ?", (since,)
        ).fetchall()
        outcomes = {state: 0 for state in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)}
        durations = []
        for row in ended:  # each is an ending ``outcomes`` holds: the default 0 is never used
            outcomes[row["state"]] = outcomes.get(row["state"], 0) + 1
            if row["result_info"]:
                durations.append(float(json.loads(row["result_info"])["elapsed"]))
        return QueueStats(
            waiting=counts.get(JobState.QUEUED, 0),
            running=counts.get(JobState.RUNNING, 0),
            outcomes={str(state): count for state, count in outcomes.items()},
            durations=durations,
            workers=workers,
        )

    def _from_row(self, row: sqlite3.Row, positions: dict[str, int]) -> JobRecord:
        """A record from its row; ``positions`` holds the waiting jobs' places."""
        job_id = str(row["id"])
        state = JobState(row["state"])
        info = json.loads(row["result_info"]) if row["result_info"] else None
        return JobRecord(
            id=job_id,
            owner=row["owner"],
            state=state,
            order=JobOrder.from_json(json.loads(row["options"])),
            meta=json.loads(row["meta"]),
            # every waiting job is in ``positions`` (its default 0 is never used) and no other
            # job is (dropping the state test: equivalent)
            ahead=positions.get(job_id, 0) if state is JobState.QUEUED else 0,
            progress=self.progress.get(job_id),
            error=row["error"],
            error_code=row["error_code"],
            error_params=json.loads(row["error_params"]) if row["error_params"] else {},
            result=ResultInfo.from_json(info) if info else None,
            acknowledged=bool(row["acknowledged"]),
        )

    def _migrate(self) -> None:
        """Columns added since a DATA_DIR was made: added to its table too."""
        have = {row["name"] for row in self.db.execute("PRAGMA table_info(jobs)")}
        # SQLite reads a type by the word in it ("XXBLOBXX" is a BLOB): such mutants are equivalent
        for column, kind in (
            ("making_of", "BLOB"),
            ("error_code", "TEXT"),
            ("error_params", "TEXT"),
        ):
            if column not in have:
                self.db.execute(f"ALTER TABLE jobs ADD COLUMN {column} {kind}")
        (auto_vacuum,) = self.one("PRAGMA auto_vacuum")
        if auto_vacuum != 2:  # made before the queue gave space back: converted once
            logger.info(
                "Rewriting %s once so that it can shrink (incremental auto-vacuum)", self.path
            )
            self.db.execute("VACUUM")
