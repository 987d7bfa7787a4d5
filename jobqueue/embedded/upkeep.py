"""Keeping ``DATA_DIR`` small while the bot runs: films past their day and acknowledged rows
past theirs are purged, at start and every ``PURGE_EVERY_SECONDS``, and the file gives the
freed space back (incremental auto-vacuum in small steps, then a WAL checkpoint), so that it
shrinks back instead of growing until ``DATA_MAX_MB`` is reached."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

from ..policy import KEEP_ENDED_SECONDS, KEEP_FILMS_SECONDS
from .store import Store

logger = logging.getLogger(__name__)

#: Films older than ``KEEP_FILMS_SECONDS`` and rows older than ``KEEP_ENDED_SECONDS`` are
#: looked for this often while the queue runs: a film outlives its day by an hour at most.
PURGE_EVERY_SECONDS = 3600.0
#: Films cleared per statement, and free pages given back per vacuum step: each step holds
#: the event loop for tens of milliseconds at most (measured: 256 pages, under 60 ms).
FILMS_PER_STEP = 16
VACUUM_STEP_PAGES = 256


async def purge_now_and_then(store: Store, every: float) -> None:
    """Purge while the queue runs, not only at start: a bot up for weeks keeps films a day."""
    while True:
        await asyncio.sleep(every)
        try:
            await purge(store)
        except sqlite3.Error:  # e.g. a full disk: the queue goes on, the next round retries
            logger.exception("Could not purge old films and jobs")


async def purge(store: Store) -> None:
    """Forget films past their day and acknowledged rows past theirs, then give the space
    back, a few films and pages at a time so that the bot answers meanwhile."""
    db = store.db
    now = store.clock()
    # SQL ignores the case of keywords and names: mutants that change only it are equivalent
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
    await shrink(store)


async def shrink(store: Store) -> None:
    """Hand the file's free pages (purged films, pictures of delivered jobs) back to the
    file system, then empty the WAL. Incremental vacuum costs what was freed; a VACUUM
    would rewrite every live byte (a day of films) each hour, through the WAL, holding the
    event loop for seconds and needing as much free disk again."""
    db = store.db
    # SQL ignores the case of keywords and names: mutants that change only it are equivalent
    (free,) = store.one("PRAGMA freelist_count")
    if not free:
        return  # nothing to give back, nor a WAL to empty
    while free:
        db.executescript(f"PRAGMA incremental_vacuum({VACUUM_STEP_PAGES})")  # runs it out
        (left,) = store.one("PRAGMA freelist_count")
        if left >= free:  # nothing moves (not an auto-vacuum file): leave it
            break
        free = left
        await asyncio.sleep(0)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
