"""The rules both backends keep, written once so that they cannot drift apart: how long
jobs and films are kept, how often a job is painted again when its painter dies, when a
stopping painter lets a job finish, and what a painter's run makes of its job (``settle``).
"""

from __future__ import annotations

import logging

from .model import (
    FAILURE_MESSAGE,
    Cancelled,
    Ending,
    Failed,
    Finished,
    PaintCancelled,
    Painted,
    PaintRefused,
    ResultInfo,
)

logger = logging.getLogger(__name__)

#: Acknowledged jobs are kept this long (without their pictures), for the operator's figures.
KEEP_ENDED_SECONDS = 30 * 24 * 3600
#: A finished job's making-of film is kept this long after the job ended, for its button.
KEEP_FILMS_SECONDS = 24 * 3600
#: A job that waits while no painter is online is given up after this long without one:
#: longer than a rolling restart or a slow start of the workers, short enough that its user
#: is not left waiting on a queue nobody paints. Counted from the later of the job's
#: submission and the last moment a painter was seen.
NO_PAINTER_GIVE_UP_SECONDS = 15 * 60
#: ``Failed.code`` of a job given up that way; its ``params`` hold ``{"seconds": ...}``.
NO_PAINTER_CODE = "no_painter"

#: Runs a job gets when its painter dies while painting it (the process killed, the machine
#: lost, out of memory); after the last it fails with ``FAILURE_MESSAGE``. Three, not five:
#: two more runs get past a death that was not the job's doing (a deploy that killed instead
#: of stopping, a machine taken back), while a picture that has killed three painters is the
#: likely cause, and each further run kills one more (embedded: the bot itself) and keeps
#: the jobs behind it waiting (on Redis about 30 s a death before it is even noticed). A
#: painter that stops and hands its job back (a restart) costs the job no run.
MAX_ATTEMPTS = 3
#: A painter that stops lets a job this far along finish instead of starting it over.
NEARLY_DONE = 0.9
#: ``Requeued.reason`` of a job whose painter stopped (it starts again, from the beginning).
RESTARTING = "the painter is restarting"


def settle(
    job_id: str, returned: Painted | BaseException, *, cancelled_by_owner: bool
) -> Ending | None:
    """How a painter's run ends its job; ``returned`` is its picture or what it raised.

    None when the painter was stopped by its queue, not by the job's owner (a restart, a
    worker presumed lost): the job is not over, it goes back to the queue.
    """
    if isinstance(returned, Painted):
        logger.info("Job %s done in %.1f s", job_id, returned.elapsed)
        return Finished(ResultInfo.of(returned))
    if isinstance(returned, PaintCancelled):
        if not cancelled_by_owner:
            return None
        logger.info("Job %s cancelled", job_id)
        return Cancelled()
    if isinstance(returned, PaintRefused):  # the user's picture: they can fix it, so say why
        logger.info("Job %s refused a picture: %s", job_id, returned)
        return returned.failed()
    # weights, device, memory, bugs: the operator's to fix, the user's to hear an apology
    logger.error("Job %s failed", job_id, exc_info=returned)
    return Failed(FAILURE_MESSAGE)
