"""Per-user conversation state: the pictures collected so far, the pair they make, the job.

A session belongs to one user in one chat, so two people in a group never mix their
pictures. The conversation's stage is derived from what the session holds (one source of
truth): no content yet, content but no style, or a full pair.
"""

from __future__ import annotations

import enum
import logging
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from engine.queue import Job

logger = logging.getLogger(__name__)

#: A session without a job is forgotten (files and all) after this long without a message.
MAX_IDLE_SECONDS = 24 * 3600
SWEEP_EVERY_SECONDS = 600


class Stage(enum.Enum):
    NEED_CONTENT = "need content"
    NEED_STYLE = "need style"
    READY = "ready"


@dataclass(frozen=True)
class Picture:
    """One received image: the validated file on disk and a small copy for previews."""

    path: Path
    thumbnail: Image.Image = field(repr=False, compare=False)


@dataclass(frozen=True)
class ActiveJob:
    """The user's job and the pair it was made from (its buttons carry that pair id)."""

    job: Job
    pair_id: str


@dataclass
class Session:
    chat_id: int
    user_id: int
    folder: Path  # this user's pictures; created on first use, removed by clear()
    content: Picture | None = None
    style: Picture | None = None
    pair_id: str | None = None  # new whenever the pair changes, so old buttons go stale
    pair_preview_file_id: str | None = None  # the pair preview photo, re-sent by file id
    active: ActiveJob | None = None
    last_seen: float = 0.0  # clock reading of the user's latest update

    @property
    def stage(self) -> Stage:
        if self.content is None:
            return Stage.NEED_CONTENT
        if self.style is None:
            return Stage.NEED_STYLE
        return Stage.READY

    @property
    def job(self) -> ActiveJob | None:
        """The job still queued or running, if any."""
        if self.active is not None and not self.active.job.finished:
            return self.active
        return None

    def new_file(self, suffix: str) -> Path:
        """A fresh path in the session's folder for a picture about to be stored."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / f"{secrets.token_hex(8)}{suffix}"

    def add(self, picture: Picture) -> Stage:
        """The first picture is the content, the second the style; later ones replace the style."""
        if self.content is None:
            self.content = picture
        else:
            self._discard(self.style)
            self.style = picture
            self._new_pair()
        return self.stage

    def swap(self) -> None:
        """Content becomes style and style content: a new pair."""
        self.content, self.style = self.style, self.content
        self._new_pair()

    def owns(self, pair_id: str) -> bool:
        """Whether a button made for ``pair_id`` belongs to this session's current pair."""
        return self.pair_id is not None and secrets.compare_digest(self.pair_id, pair_id)

    def clear(self) -> None:
        """Forget both pictures and delete their files (a running job has its own copies)."""
        self.content = self.style = None
        self.pair_id = self.pair_preview_file_id = None
        shutil.rmtree(self.folder, ignore_errors=True)

    def _new_pair(self) -> None:
        self.pair_id = secrets.token_hex(6) if self.stage is Stage.READY else None
        self.pair_preview_file_id = None

    @staticmethod
    def _discard(picture: Picture | None) -> None:
        if picture is not None:
            picture.path.unlink(missing_ok=True)


class SessionStore:
    """All sessions of this process, with their files under one temporary folder."""

    def __init__(
        self,
        parent: Path | None = None,
        *,
        max_idle: float = MAX_IDLE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._parent = parent
        self._max_idle = max_idle
        self._clock = clock
        self._next_sweep = clock() + SWEEP_EVERY_SECONDS
        self._root: Path | None = None
        self._sessions: dict[tuple[int, int], Session] = {}

    @property
    def root(self) -> Path:
        """This process's working folder, created on first use."""
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="stylebot-", dir=self._parent))
            logger.debug("Keeping pictures in %s", self._root)
        return self._root

    def get(self, chat_id: int, user_id: int) -> Session:
        """The user's session in this chat (a fresh one if none, or if it was idle too long)."""
        now = self._clock()
        if now >= self._next_sweep:
            self._forget_idle(now)
        key = (chat_id, user_id)
        session = self._sessions.get(key)
        if session is None:
            folder = self.root / "sessions" / f"{chat_id}_{user_id}"
            session = self._sessions[key] = Session(chat_id, user_id, folder)
        session.last_seen = now
        return session

    def _forget_idle(self, now: float) -> None:
        """Drop sessions nobody has used for ``max_idle``, so their pictures do not pile up."""
        self._next_sweep = now + SWEEP_EVERY_SECONDS
        for key, session in list(self._sessions.items()):
            if session.job is None and now - session.last_seen > self._max_idle:
                session.clear()
                del self._sessions[key]

    def job_folder(self) -> Path:
        """A fresh folder for one job's copy of a pair (the queue deletes it when the job ends)."""
        jobs = self.root / "jobs"
        jobs.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix="job-", dir=jobs))

    def active_jobs(self) -> list[Job]:
        return [session.job.job for session in self._sessions.values() if session.job]

    def close(self) -> None:
        """Forget every session and delete every file."""
        self._sessions.clear()
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None
