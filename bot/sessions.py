"""Per-user conversation state, kept under ``DATA_DIR`` so that a restart loses nothing.

A session belongs to one user in one chat, so two people in a group never mix their
pictures. The pictures are files under ``DATA_DIR/sessions/<chat>_<user>/`` (each with a
small thumbnail beside it); what the session holds — which file is the photo, which the
style, the pair id its buttons carry — is a row in ``DATA_DIR/sessions.sqlite3``, written on
every change. The conversation's stage is derived from what the session holds: no content
yet, content but no style, or a full pair. Which job a user has is the queue's to say.

What a user chose with /settings and /language (:class:`~bot.preferences.Preferences`) is
per user, whatever the chat, in the same database's ``preferences`` table; the sweep of idle
sessions leaves it alone. A column added to it since (``_ADDED_COLUMNS``) is added to an older
database in place when the store opens, its rows kept, each with the column's default.

The language a user's app says it speaks is kept too (``app_languages``): Discord says it only
with an interaction, not with a DM, and a DM after a restart must be answered in it all the
same. It is not a choice, so it is not a preference: /language outweighs it.
"""

from __future__ import annotations

import enum
import logging
import secrets
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from jobqueue import Size, Strength

from .preferences import Preferences
from .store import Database

logger = logging.getLogger(__name__)

#: A session is forgotten (files and all) after this long without a message, unless its
#: user has a job in the works.
MAX_IDLE_SECONDS = 24 * 3600
SWEEP_EVERY_SECONDS = 600
DATABASE = "sessions.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    chat_id    INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    content    TEXT,
    style      TEXT,
    pair_id    TEXT,
    preview    TEXT,
    last_seen  REAL NOT NULL,
    PRIMARY KEY (chat_id, user_id)
);
CREATE TABLE IF NOT EXISTS preferences (
    user_id      INTEGER PRIMARY KEY,
    language     TEXT,
    size         TEXT    NOT NULL,
    keep_colours INTEGER NOT NULL,
    strength     TEXT    NOT NULL,
    keep_faces   INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS app_languages (
    user_id  INTEGER PRIMARY KEY,
    language TEXT NOT NULL
);
"""
#: Columns added since the first ``preferences`` table, with what their rows then hold (the
#: default each choice had before it could be made). Added at the end, as SQLite adds them.
_ADDED_COLUMNS = (("keep_faces", "INTEGER NOT NULL DEFAULT 1"),)


class Stage(enum.Enum):
    NEED_CONTENT = "need content"
    NEED_STYLE = "need style"
    READY = "ready"


@dataclass(frozen=True)
class Picture:
    """One received image: the validated file, and a small copy beside it for previews."""

    path: Path

    @property
    def thumbnail_path(self) -> Path:
        return self.path.with_name(f"{self.path.stem}.thumb.png")

    def delete(self) -> None:
        self.path.unlink(missing_ok=True)
        self.thumbnail_path.unlink(missing_ok=True)


@dataclass
class Session:
    chat_id: int
    user_id: int
    folder: Path  # this user's pictures; created on first use, removed by clear()
    content: Picture | None = None
    style: Picture | None = None
    pair_id: str | None = None  # new whenever the pair changes, so old buttons go stale
    pair_preview: str | None = None  # the pair preview photo, shown again by its handle
    last_seen: float = 0.0  # wall-clock time of the user's latest update
    owners: str = ""  # the prefix of the queue's names of this platform's users
    on_change: Callable[[Session], None] = field(default=lambda _: None, repr=False)

    @property
    def stage(self) -> Stage:
        """What is missing; a style from the gallery may come before the photo."""
        if self.content is None:
            return Stage.NEED_CONTENT
        if self.style is None:
            return Stage.NEED_STYLE
        return Stage.READY

    @property
    def owner(self) -> str:
        """The queue's name for this user: one job at a time, whichever chat it came from
        (a Discord user's is ``discord:<id>``: see ``SessionStore.owners``)."""
        return f"{self.owners}{self.user_id}"

    def new_file(self, suffix: str) -> Path:
        """A fresh path in the session's folder for a picture about to be stored."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / f"{secrets.token_hex(8)}{suffix}"

    def add(self, picture: Picture) -> Stage:
        """The first picture is the content, the second the style; later ones replace the style."""
        if self.content is None:
            self.content = picture
            self._new_pair()  # a style chosen from the gallery may be waiting
            self.on_change(self)
            return self.stage
        return self.choose_style(picture)

    def choose_style(self, picture: Picture) -> Stage:
        """``picture`` is the style (a sent one, or a painting from the gallery)."""
        if self.style is not None:
            self.style.delete()
        self.style = picture
        self._new_pair()
        self.on_change(self)
        return self.stage

    def start_pair(self, content: Picture, style: Picture) -> None:
        """A whole new pair at once (Discord's /paint): the old pictures' files go."""
        for old in (self.content, self.style):
            if old is not None:
                old.delete()
        self.content, self.style = content, style
        self._new_pair()
        self.on_change(self)

    def swap(self) -> None:
        """Content becomes style and style content: a new pair."""
        self.content, self.style = self.style, self.content
        self._new_pair()
        self.on_change(self)

    def owns(self, pair_id: str) -> bool:
        """Whether a button made for ``pair_id`` belongs to this session's current pair."""
        return self.pair_id is not None and secrets.compare_digest(self.pair_id, pair_id)

    def remember_preview(self, handle: str | None) -> None:
        """The pair preview's handle on the platform (Telegram's file id), to show it again
        without uploading it."""
        self.pair_preview = handle
        self.on_change(self)

    def clear(self) -> None:
        """Forget both pictures and delete their files (a job has its own copy)."""
        self.content = self.style = None
        self.pair_id = self.pair_preview = None
        shutil.rmtree(self.folder, ignore_errors=True)
        self.on_change(self)

    def _new_pair(self) -> None:
        self.pair_id = secrets.token_hex(6) if self.stage is Stage.READY else None
        self.pair_preview = None


# Mutation testing: mutants that change only the case of SQL are equivalent (SQLite and
# ``sqlite3.Row`` ignore it), as are those of the in-memory caches of sessions and preferences
# (every change is written through: a miss reads the same from SQLite), of the length of the
# random file names and pair ids, and ``continue`` → ``break`` in ``_migrate`` while one
# column has been added.


class SessionStore:
    """Every user's session, loaded from ``DATA_DIR`` when the user next writes."""

    def __init__(
        self,
        data_dir: Path,
        *,
        max_idle: float = MAX_IDLE_SECONDS,
        clock: Callable[[], float] = time.time,
        owners: str = "",
    ) -> None:
        self.root = Path(data_dir)
        self.owners = owners  # e.g. "discord:", so two platforms' ids never collide
        self.max_idle = max_idle
        self._clock = clock
        self.database = Database(self.root, DATABASE, _SCHEMA)
        self._sessions: dict[tuple[int, int], Session] = {}
        self._preferences: dict[int, Preferences] = {}
        self._app_languages: dict[int, str | None] = {}

    def open(self) -> None:
        self.database.open()
        self._migrate()

    def close(self) -> None:
        """Close the database; the sessions and their files stay for the next start."""
        self._sessions.clear()
        self._preferences.clear()
        self._app_languages.clear()
        self.database.close()

    def get(self, chat_id: int, user_id: int) -> Session:
        """The user's session in this chat: from memory, from disk, or a fresh one."""
        key = (chat_id, user_id)
        session = self._sessions.get(key) or self._load(chat_id, user_id)
        self._sessions[key] = session
        session.last_seen = self._clock()
        self._save(session)
        return session

    def peek(self, chat_id: int, user_id: int) -> Session:
        """The session as stored, without counting this as the user being active."""
        return self._sessions.get((chat_id, user_id)) or self._load(chat_id, user_id)

    def idle(self) -> list[Session]:
        """Sessions nobody has written to for ``max_idle`` seconds."""
        cutoff = self._clock() - self.max_idle
        rows = self.database.execute(
            "SELECT chat_id, user_id FROM sessions WHERE last_seen < ?", (cutoff,)
        )
        return [self.peek(chat_id, user_id) for chat_id, user_id in rows]

    def forget(self, session: Session) -> None:
        """Delete a session, its row and its files."""
        shutil.rmtree(session.folder, ignore_errors=True)
        self._sessions.pop((session.chat_id, session.user_id), None)
        self.database.execute(
            "DELETE FROM sessions WHERE chat_id = ? AND user_id = ?",
            (session.chat_id, session.user_id),
        )

    def preferences(self, user_id: int) -> Preferences:
        """What the user chose with /settings and /language (the defaults if nothing)."""
        known = self._preferences.get(user_id)
        if known is not None:
            return known
        row = self.database.execute(
            "SELECT * FROM preferences WHERE user_id = ?", (user_id,)
        ).fetchone()
        chosen = Preferences() if row is None else _preferences(row)
        self._preferences[user_id] = chosen
        return chosen

    def choose(self, user_id: int, preferences: Preferences) -> None:
        """Keep the user's new choices (written at once: a restart keeps them)."""
        self.database.execute(
            "INSERT OR REPLACE INTO preferences"
            " (user_id, language, size, keep_colours, strength, keep_faces)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                user_id,
                preferences.language,
                preferences.size.value,
                int(preferences.keep_colours),
                preferences.strength.value,
                int(preferences.keep_faces),
            ),
        )
        self._preferences[user_id] = preferences

    def app_language(self, user_id: int) -> str | None:
        """The language the user's app last said (e.g. "ru"); None if it never said."""
        if user_id not in self._app_languages:
            row = self.database.execute(
                "SELECT language FROM app_languages WHERE user_id = ?", (user_id,)
            ).fetchone()
            self._app_languages[user_id] = None if row is None else row["language"]
        return self._app_languages[user_id]

    def remember_app_language(self, user_id: int, language: str) -> None:
        """Keep what the user's app says now; written only when it changed (it seldom does)."""
        if self.app_language(user_id) == language:
            return
        self.database.execute(
            "INSERT OR REPLACE INTO app_languages (user_id, language) VALUES (?, ?)",
            (user_id, language),
        )
        self._app_languages[user_id] = language

    def _migrate(self) -> None:
        """A ``DATA_DIR`` from before a preference existed: its column is added, rows kept.
        Replicas may share ``DATA_DIR``: one that finds the column added meanwhile goes on."""
        for column, kind in _ADDED_COLUMNS:
            if column in self._preference_columns():
                continue
            logger.info("Adding the preference %s to %s", column, self.database.path)
            try:
                self.database.execute(f"ALTER TABLE preferences ADD COLUMN {column} {kind}")
            except sqlite3.OperationalError:
                if column not in self._preference_columns():
                    raise

    def _preference_columns(self) -> set[str]:
        return {row["name"] for row in self.database.execute("PRAGMA table_info(preferences)")}

    def _folder(self, chat_id: int, user_id: int) -> Path:
        return self.root / "sessions" / f"{chat_id}_{user_id}"

    def _load(self, chat_id: int, user_id: int) -> Session:
        folder = self._folder(chat_id, user_id)
        session = Session(chat_id, user_id, folder, owners=self.owners, on_change=self._save)
        row = self.database.execute(
            "SELECT * FROM sessions WHERE chat_id = ? AND user_id = ?", (chat_id, user_id)
        ).fetchone()
        if row is not None:
            session.content = _picture(row["content"])
            session.style = _picture(row["style"])
            session.pair_id = row["pair_id"] if session.stage is Stage.READY else None
            session.pair_preview = row["preview"]
            session.last_seen = row["last_seen"]
        return session

    def _save(self, session: Session) -> None:
        self.database.execute(
            "INSERT OR REPLACE INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                session.chat_id,
                session.user_id,
                str(session.content.path) if session.content else None,
                str(session.style.path) if session.style else None,
                session.pair_id,
                session.pair_preview,
                session.last_seen,
            ),
        )


def _preferences(row: sqlite3.Row) -> Preferences:
    """A stored row; a value this version does not know (a downgrade) falls back to default."""
    default = Preferences()
    sizes = {size.value: size for size in Size}
    strengths = {strength.value: strength for strength in Strength}
    return Preferences(
        language=row["language"],
        size=sizes.get(row["size"], default.size),
        keep_colours=bool(row["keep_colours"]),
        strength=strengths.get(row["strength"], default.strength),
        keep_faces=bool(row["keep_faces"]),
    )


def _picture(path: str | None) -> Picture | None:
    """A stored picture, if its file is still there."""
    if path is None or not Path(path).is_file():
        return None
    return Picture(Path(path))
