"""The embedded backend: jobs in SQLite under ``DATA_DIR``, painted in this process.

No server to run. The pictures and the finished PNG are stored in the database with their
job, so a job and its pictures are written (and recovered) together. A SIGKILL loses nothing
that ``submit`` returned: at the next start a job that was running is queued again, ahead of
everything that came after it, and a finished job nobody acknowledged is still there.

All database work happens on the event loop's thread (the statements are small); only the
painting runs in a worker thread, and its progress comes back with ``call_soon_threadsafe``.

Films and old rows are purged at start and every ``PURGE_EVERY_SECONDS`` while the queue runs,
and the file gives the freed space back (incremental auto-vacuum, in small steps, then a WAL
checkpoint), so ``DATA_DIR`` shrinks back instead of growing until ``DATA_MAX_MB`` is reached.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from .base import Painter
from .logs import current_job
from .model import (
    FAILURE_MESSAGE,
    KEEP_ENDED_SECONDS,
    KEEP_FILMS_SECONDS,
    TERMINAL,
    AlreadyQueued,
    Cancelled,
    Failed,
    Finished,
    JobEvent,
    JobRecord,
    JobSpec,
    JobState,
    PaintCancelled,
    Painted,
    PictureRefused,
    Progressed,
    ProgressInfo,
    Queued,
    QueueFull,
    QueueStats,
    QueueUnavailable,
    Requeued,
    ResultInfo,
    Started,
    current_event,
)

logger = logging.getLogger(__name__)

DATABASE = "queue.sqlite3"
#: A job that was running when the process died this many times is not tried again.
MAX_ATTEMPTS = 3
#: On shutdown a job this close to the end is let finish instead of being started over.
NEARLY_DONE = 0.9
#: Films older than ``KEEP_FILMS_SECONDS`` and rows older than ``KEEP_ENDED_SECONDS`` (the
#: policy of both backends) are looked for this often while the queue runs: a film outlives
#: its day by an hour at most.
PURGE_EVERY_SECONDS = 3600.0
#: Films cleared per statement, and free pages given back per vacuum step: each step holds
#: the event loop for tens of milliseconds at most (measured: 256 pages, under 60 ms).
FILMS_PER_STEP = 16
VACUUM_STEP_PAGES = 256

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
_RECORD = (
    "id, owner, state, options, meta, result_info, error, error_code, error_params, acknowledged"
)


class EmbeddedQueue:
    """The default :class:`~jobqueue.JobQueue`: one process, one painter, SQLite."""

    def __init__(
        self,
        data_dir: Path,
        painter: Painter,
        *,
        max_waiting: int = 20,
        clock: Callable[[], float] = time.time,
        purge_every: float = PURGE_EVERY_SECONDS,
    ) -> None:
        self.path = Path(data_dir) / DATABASE
        self.max_waiting = max_waiting
        self._painter = painter
        self._clock = clock
        self._purge_every = purge_every
        self._db: sqlite3.Connection | None = None
        self._subscribers: dict[str, list[asyncio.Queue[JobEvent]]] = {}
        self._progress: dict[str, ProgressInfo] = {}
        self._running: dict[str, threading.Event] = {}  # job id -> its cancel event
        self._cancelled_by_user: set[str] = set()
        self._ahead: dict[str, int] = {}  # what each waiting job was last told
        self._claims: dict[str, tuple[str, float]] = {}  # job id -> (holder, until)
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._worker: asyncio.Task[None] | None = None
        self._purger: asyncio.Task[None] | None = None
        self._unavailable: str | None = None  # while warming up, jobs wait: not unavailable

    # ---- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA auto_vacuum=INCREMENTAL")  # freed pages can go back: see _shrink
        db.execute("PRAGMA journal_mode=WAL")  # a reader never waits for the writer
        db.execute("PRAGMA synchronous=NORMAL")  # durable against a crash of this process
        db.executescript(_SCHEMA)
        self._migrate()
        self._recover()
        await self._purge()
        self._worker = asyncio.create_task(self._work(), name="embedded painter")
        self._purger = asyncio.create_task(self._purge_now_and_then(), name="embedded purge")

    async def close(self, grace: float = 15.0) -> None:
        """Stop painting; a running job goes back to the queue unless it is nearly done."""
        self._stopping = True
        self._wakeup.set()
        if self._purger is not None:
            self._purger.cancel()
            await asyncio.wait({self._purger})
            self._purger = None
        for job_id, cancel in self._running.items():
            progress = self._progress.get(job_id)
            if progress is None or progress.fraction < NEARLY_DONE:
                cancel.set()
        if self._worker is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._worker), grace)
            except TimeoutError:
                logger.warning("The painter did not stop within %.0f s", grace)
                for cancel in self._running.values():
                    cancel.set()
                await asyncio.wait({self._worker}, timeout=5)
        if self._db is not None:
            self._db.close()
            self._db = None

    @property
    def unavailable(self) -> str | None:
        return self._unavailable

    async def claim(self, job_id: str, holder: str, seconds: float) -> bool:
        """One process holds this queue, but it may follow a job twice by mistake."""
        now = time.monotonic()
        current = self._claims.get(job_id)
        if current is not None and current[0] != holder and current[1] > now:
            return False
        self._claims[job_id] = (holder, now + seconds)
        return True

    async def release(self, job_id: str, holder: str) -> None:
        if self._claims.get(job_id, (None,))[0] == holder:
            del self._claims[job_id]

    async def stats(self, since: float) -> QueueStats:
        db = self._db_()
        counts = dict(db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall())
        ended = db.execute(
            "SELECT state, result_info FROM jobs WHERE ended >= ?", (since,)
        ).fetchall()
        outcomes = {state: 0 for state in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)}
        durations = []
        for row in ended:
            outcomes[row["state"]] = outcomes.get(row["state"], 0) + 1
            if row["result_info"]:
                durations.append(float(json.loads(row["result_info"])["elapsed"]))
        return QueueStats(
            waiting=counts.get(JobState.QUEUED, 0),
            running=counts.get(JobState.RUNNING, 0),
            outcomes={str(state): count for state, count in outcomes.items()},
            durations=durations,
            workers=0 if self._worker is None or self._worker.done() or self._unavailable else 1,
        )

    # ---- the submitter's side ----------------------------------------------------------------

    async def submit(self, spec: JobSpec) -> JobRecord:
        if self._unavailable is not None:  # this process's painter cannot come back by itself
            raise QueueUnavailable(self._unavailable)
        existing = await self.job_of(spec.owner)
        if existing is not None:
            raise AlreadyQueued(existing)
        (waiting,) = self._one("SELECT COUNT(*) FROM jobs WHERE state = ?", JobState.QUEUED)
        if waiting >= self.max_waiting:
            raise QueueFull()
        (job_id,) = self._one(
            "INSERT INTO jobs (owner, state, options, meta, content, style, created)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            spec.owner,
            JobState.QUEUED,
            json.dumps(spec.options),
            json.dumps(spec.meta),
            spec.content,
            spec.style,
            self._clock(),
        )
        record = self._record(str(job_id))
        assert record is not None
        self._ahead[record.id] = record.ahead
        self._wakeup.set()
        return record

    async def get(self, job_id: str) -> JobRecord | None:
        return self._record(job_id)

    async def job_of(self, owner: str) -> JobRecord | None:
        row = (
            self._db_()
            .execute(
                "SELECT id FROM jobs WHERE owner = ? AND state IN (?, ?) ORDER BY id LIMIT 1",
                (owner, JobState.QUEUED, JobState.RUNNING),
            )
            .fetchone()
        )
        return None if row is None else self._record(str(row["id"]))

    async def cancel(self, job_id: str) -> bool:
        record = self._record(job_id)
        if record is None or not record.state.active:
            return False
        if record.state is JobState.RUNNING:
            self._cancelled_by_user.add(job_id)
            self._running[job_id].set()  # the painter stops within a step
            return True
        self._end(job_id, JobState.CANCELLED, Cancelled())
        self._announce_positions()
        return True

    async def events(self, job_id: str) -> AsyncIterator[JobEvent]:
        inbox: asyncio.Queue[JobEvent] = asyncio.Queue()
        self._subscribers.setdefault(job_id, []).append(inbox)
        try:
            record = self._record(job_id)
            if record is None:
                return
            event = current_event(record)
            while True:
                yield event
                if isinstance(event, TERMINAL):
                    return
                event = await inbox.get()
        finally:
            self._subscribers[job_id].remove(inbox)
            if not self._subscribers[job_id]:
                del self._subscribers[job_id]

    async def annotate(self, job_id: str, **meta: object) -> None:
        record = self._record(job_id)
        if record is not None:
            merged = {**record.meta, **meta}
            self._db_().execute(
                "UPDATE jobs SET meta = ? WHERE id = ?", (json.dumps(merged), int(job_id))
            )

    async def result(self, job_id: str) -> bytes:
        (png,) = self._one("SELECT result FROM jobs WHERE id = ?", int(job_id))
        if png is None:
            raise KeyError(f"job {job_id} has no result to hand over")
        return bytes(png)

    async def making_of(self, job_id: str) -> bytes | None:
        row = (
            self._db_()
            .execute("SELECT making_of FROM jobs WHERE id = ?", (int(job_id),))
            .fetchone()
        )
        return None if row is None or row[0] is None else bytes(row[0])

    async def acknowledge(self, job_id: str) -> None:
        self._db_().execute(
            "UPDATE jobs SET acknowledged = 1, content = NULL, style = NULL, result = NULL"
            " WHERE id = ? AND state NOT IN (?, ?)",
            (int(job_id), JobState.QUEUED, JobState.RUNNING),
        )

    async def unfinished(self) -> list[JobRecord]:
        rows = (
            self._db_()
            .execute(f"SELECT {_RECORD} FROM jobs WHERE acknowledged = 0 ORDER BY id")
            .fetchall()
        )
        positions = self._positions()  # once for all, not once a job
        return [self._from_row(row, positions) for row in rows]

    # ---- the painter's side ------------------------------------------------------------------

    async def _work(self) -> None:
        try:
            device = await asyncio.to_thread(self._painter.warm_up)
        except Exception as error:  # jobs still run, and fail with a plain apology
            logger.exception("The painter could not start")
            self._unavailable = f"the painter could not start: {error}"
        else:
            logger.info("Painter ready on %s", device)
            self._unavailable = None
        while not self._stopping:
            job_id = self._claim()
            if job_id is None:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            await self._paint(job_id)

    def _claim(self) -> str | None:
        """The oldest waiting job, now running; a job that keeps killing the process fails."""
        row = (
            self._db_()
            .execute(
                "UPDATE jobs SET state = ?, attempts = attempts + 1 WHERE id ="
                " (SELECT id FROM jobs WHERE state = ? ORDER BY id LIMIT 1) RETURNING id, attempts",
                (JobState.RUNNING, JobState.QUEUED),
            )
            .fetchone()
        )
        if row is None:
            return None
        job_id = str(row["id"])
        self._ahead.pop(job_id, None)
        if row["attempts"] > MAX_ATTEMPTS:
            logger.error("Job %s was running at %d crashes; giving up", job_id, MAX_ATTEMPTS)
            self._end(job_id, JobState.FAILED, Failed(FAILURE_MESSAGE))
            return self._claim()
        self._publish(job_id, Started())
        self._announce_positions()
        return job_id

    async def _paint(self, job_id: str) -> None:
        content, style, options = self._one(
            "SELECT content, style, options FROM jobs WHERE id = ?", int(job_id)
        )
        cancel = self._running[job_id] = threading.Event()
        loop = asyncio.get_running_loop()
        current_job.set(job_id)  # this task's log lines (and the painter thread's) name it

        def report(progress: ProgressInfo) -> None:
            loop.call_soon_threadsafe(self._progressed, job_id, progress)

        logger.info("Job %s started", job_id)
        try:
            painted = await asyncio.to_thread(
                self._painter, bytes(content), bytes(style), json.loads(options), report, cancel
            )
        except PaintCancelled:
            if job_id in self._cancelled_by_user:
                self._end(job_id, JobState.CANCELLED, Cancelled())
            else:
                self._requeue(job_id, "the painter is restarting")
        except PictureRefused as refusal:  # the user's picture: they can fix it, so say why
            logger.info("Job %s refused a picture: %s", job_id, refusal)
            self._end(job_id, JobState.FAILED, refusal.failed())
        except Exception:  # weights, device, memory, bugs: the operator's to fix
            logger.exception("Job %s failed", job_id)
            self._end(job_id, JobState.FAILED, Failed(FAILURE_MESSAGE))
        else:
            self._finish(job_id, painted)
        finally:
            del self._running[job_id]
            self._cancelled_by_user.discard(job_id)
            self._progress.pop(job_id, None)
            self._announce_positions()

    def _progressed(self, job_id: str, progress: ProgressInfo) -> None:
        if job_id in self._running:
            self._progress[job_id] = progress
            self._publish(job_id, Progressed(progress))

    def _finish(self, job_id: str, painted: Painted) -> None:
        info = ResultInfo.of(painted)
        self._db_().execute(
            "UPDATE jobs SET state = ?, result = ?, result_info = ?, making_of = ?,"
            " content = NULL, style = NULL, ended = ? WHERE id = ?",
            (
                JobState.DONE,
                painted.png,
                json.dumps(vars(info)),
                painted.making_of,
                self._clock(),
                int(job_id),
            ),
        )
        logger.info("Job %s done in %.1f s", job_id, painted.elapsed)
        self._publish(job_id, Finished(info))

    def _end(self, job_id: str, state: JobState, event: Failed | Cancelled) -> None:
        failed = event if isinstance(event, Failed) else None
        self._db_().execute(
            "UPDATE jobs SET state = ?, error = ?, error_code = ?, error_params = ?,"
            " content = NULL, style = NULL, ended = ? WHERE id = ?",
            (
                state,
                failed and failed.reason,
                failed and failed.code,
                json.dumps(failed.params) if failed and failed.params else None,
                self._clock(),
                int(job_id),
            ),
        )
        self._ahead.pop(job_id, None)
        self._publish(job_id, event)

    def _requeue(self, job_id: str, reason: str) -> None:
        """Back to the queue at its old place (ids keep the order), not counted as a crash."""
        self._db_().execute(
            "UPDATE jobs SET state = ?, attempts = attempts - 1 WHERE id = ?",
            (JobState.QUEUED, int(job_id)),
        )
        logger.info("Job %s back on the queue: %s", job_id, reason)
        self._publish(job_id, Requeued(reason))

    def _migrate(self) -> None:
        """Columns added since a DATA_DIR was made: added to its table too."""
        db = self._db_()
        have = {row["name"] for row in db.execute("PRAGMA table_info(jobs)")}
        for column, kind in (
            ("making_of", "BLOB"),
            ("error_code", "TEXT"),
            ("error_params", "TEXT"),
        ):
            if column not in have:
                db.execute(f"ALTER TABLE jobs ADD COLUMN {column} {kind}")
        (auto_vacuum,) = self._one("PRAGMA auto_vacuum")
        if auto_vacuum != 2:  # made before the queue gave space back: converted once
            logger.info(
                "Rewriting %s once so that it can shrink (incremental auto-vacuum)", self.path
            )
            db.execute("VACUUM")

    def _recover(self) -> None:
        """What a crash or a stop left: running jobs wait again."""
        db = self._db_()
        resumed = db.execute(
            "UPDATE jobs SET state = ? WHERE state = ? RETURNING id",
            (JobState.QUEUED, JobState.RUNNING),
        ).fetchall()
        for row in resumed:
            logger.info("Job %s was running when the process stopped; queued again", row["id"])

    # ---- keeping the database small ----------------------------------------------------------

    async def _purge_now_and_then(self) -> None:
        """Purge while the queue runs, not only at start: a bot up for weeks keeps films a day."""
        while True:
            await asyncio.sleep(self._purge_every)
            try:
                await self._purge()
            except sqlite3.Error:  # e.g. a full disk: the queue goes on, the next round retries
                logger.exception("Could not purge old films and jobs")

    async def _purge(self) -> None:
        """Forget films past their day and acknowledged rows past theirs, then give the space
        back, a few films and pages at a time so that the bot answers meanwhile."""
        db = self._db_()
        now = self._clock()
        forgotten = db.execute(
            "DELETE FROM jobs WHERE acknowledged = 1 AND ended < ?", (now - KEEP_ENDED_SECONDS,)
        ).rowcount
        films = 0
        while True:  # each freed page is zeroed (SQLite's secure_delete): this takes a moment
            cleared = db.execute(
                "UPDATE jobs SET making_of = NULL WHERE id IN (SELECT id FROM jobs"
                " WHERE making_of IS NOT NULL AND ended < ? LIMIT ?)",
                (now - KEEP_FILMS_SECONDS, FILMS_PER_STEP),
            ).rowcount
            films += cleared
            if cleared < FILMS_PER_STEP:
                break
            await asyncio.sleep(0)
        if forgotten or films:
            logger.info("Purged %d film(s) and %d old job(s)", films, forgotten)
        await self._shrink()

    async def _shrink(self) -> None:
        """Hand the file's free pages (purged films, pictures of delivered jobs) back to the
        file system, then empty the WAL. Incremental vacuum costs what was freed; a VACUUM
        would rewrite every live byte (a day of films) each hour, through the WAL, holding the
        event loop for seconds and needing as much free disk again."""
        db = self._db_()
        (free,) = self._one("PRAGMA freelist_count")
        if not free:
            return  # nothing to give back, nor a WAL to empty
        while free:
            db.executescript(f"PRAGMA incremental_vacuum({VACUUM_STEP_PAGES})")  # runs it out
            (left,) = self._one("PRAGMA freelist_count")
            if left >= free:  # nothing moves (not an auto-vacuum file): leave it
                break
            free = left
            await asyncio.sleep(0)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    # ---- positions, events, records --------------------------------------------------------

    def _announce_positions(self) -> None:
        """Tell every waiting job whose place changed; places only ever get better."""
        for job_id, ahead in self._positions().items():
            if self._ahead.get(job_id) != ahead:
                self._ahead[job_id] = ahead
                self._publish(job_id, Queued(ahead))

    def _positions(self) -> dict[str, int]:
        """Each waiting job's place: the jobs running plus those queued before it."""
        (running,) = self._one("SELECT COUNT(*) FROM jobs WHERE state = ?", JobState.RUNNING)
        waiting = self._db_().execute(
            "SELECT id FROM jobs WHERE state = ? ORDER BY id", (JobState.QUEUED,)
        )
        return {str(row["id"]): running + index for index, row in enumerate(waiting)}

    def _publish(self, job_id: str, event: JobEvent) -> None:
        for inbox in self._subscribers.get(job_id, []):
            inbox.put_nowait(event)

    def _record(self, job_id: str) -> JobRecord | None:
        try:
            key = int(job_id)
        except ValueError:
            return None
        row = self._db_().execute(f"SELECT {_RECORD} FROM jobs WHERE id = ?", (key,)).fetchone()
        if row is None:
            return None
        queued = JobState(row["state"]) is JobState.QUEUED
        return self._from_row(row, self._positions() if queued else {})

    def _from_row(self, row: sqlite3.Row, positions: dict[str, int]) -> JobRecord:
        """A record from its row; ``positions`` holds the waiting jobs' places."""
        job_id = str(row["id"])
        state = JobState(row["state"])
        info = json.loads(row["result_info"]) if row["result_info"] else None
        return JobRecord(
            id=job_id,
            owner=row["owner"],
            state=state,
            options=json.loads(row["options"]),
            meta=json.loads(row["meta"]),
            ahead=positions.get(job_id, 0) if state is JobState.QUEUED else 0,
            progress=self._progress.get(job_id),
            error=row["error"],
            error_code=row["error_code"],
            error_params=json.loads(row["error_params"]) if row["error_params"] else {},
            result=ResultInfo(**info) if info else None,
            acknowledged=bool(row["acknowledged"]),
        )

    def _one(self, sql: str, *params: object) -> sqlite3.Row:
        """The one row ``sql`` must find."""
        row: sqlite3.Row | None = self._db_().execute(sql, params).fetchone()
        assert row is not None, sql
        return row

    def _db_(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the queue is not started (or already closed)")
        return self._db
