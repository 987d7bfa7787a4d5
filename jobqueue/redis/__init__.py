"""The Redis backend: jobs in Redis through saq, painted by ``stylebot-worker`` processes.

saq does the scheduling: its queue list orders the jobs, a worker moves one to its active
list atomically, ``job.update`` stores progress and doubles as the heartbeat, ``abort``
stops a job, and a worker's periodic sweep hands the job of a worker that stopped beating
(SIGKILL, power loss) back to the queue, up to ``policy.MAX_ATTEMPTS`` runs. Every status
change is published on the job's channel; followers listen to all of them through one
connection. Workers need Redis, not Telegram. Films, records and pictures leave by their
TTLs: nothing here needs a purge.

Where things are:

* ``queue``       ``RedisQueue``, the JobQueue: puts the pieces below together.
* ``records``     our keys next to saq's, and a job's record read back from them.
* ``store``       reading a job, ending it exactly once, leases, figures.
* ``submitting``  the bot's side: submit, cancel, annotate, results, acknowledge.
* ``following``   a job's events, told from successive snapshots; ``notes`` hears changes.
* ``painting``    the worker's side: saq's job function, the painter's thread, its cancel;
                  ``reporter`` writes its progress (and heartbeat).
* ``presence``    whether a painter is online, and giving up jobs while none is.
* ``saq_queue``   saq's queue with the sweep and retries this backend needs.
"""

from ..policy import RESTARTING
from .presence import GAVE_UP
from .queue import RedisQueue
from .records import LOST, NO_PAINTER

__all__ = ["GAVE_UP", "LOST", "NO_PAINTER", "RESTARTING", "RedisQueue"]
