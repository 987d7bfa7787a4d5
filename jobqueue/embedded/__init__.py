"""The embedded backend: jobs in SQLite under ``DATA_DIR``, painted in this process.

No server to run. A SIGKILL loses nothing that ``submit`` returned: at the next start a job
that was running is queued again, ahead of everything that came after it, and a finished
job nobody acknowledged is still there.

``queue`` holds the queue (events, positions, the painter's thread), ``store`` the table of
jobs (every SQL statement), ``upkeep`` the purge that keeps ``DATA_DIR`` small.
"""

from .queue import EmbeddedQueue
from .store import DATABASE

__all__ = ["DATABASE", "EmbeddedQueue"]
