"""The progress message on its own, as a user watches it: a photo that says where the job is,
edited in place until the job ends, through a chat platform that is sometimes slow or
refuses (a fake messenger that writes down every send and edit)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from bot import texts
from bot.i18n import ENGLISH
from bot.messenger import (
    Button,
    Gone,
    Keyboard,
    Photo,
    Place,
    Posted,
    Refused,
    SlowDown,
    Trouble,
    Unchanged,
    Unreachable,
)
from bot.progress import ChatThrottle, Outcome, ProgressMessage
from jobqueue import (
    Cancelled,
    Failed,
    Finished,
    JobEvent,
    Progressed,
    ProgressInfo,
    Queued,
    Requeued,
    ResultInfo,
    Started,
)
from tests.messengers import Unexpected

CHAT = 42
MESSAGE = 7
CANCEL = [[Button("Cancel", "stop")]]
DONE = Finished(ResultInfo(width=64, height=48, elapsed=3.0))


@dataclass
class Edit:
    """One edit as the user sees it: the new caption, and the new picture if any."""

    caption: str
    picture: bytes | None = None
    keyboard: Keyboard | None = None


@dataclass
class FakeChat(Unexpected):
    """The chat platform: one photo sent, then edits; ``failures`` are what the next edits
    raise, in order (``send_failure``: what the send raises)."""

    sent: list[tuple[Place, Photo, str, Keyboard | None]] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)
    failures: list[Exception] = field(default_factory=list)
    send_failure: Exception | None = None
    edited: asyncio.Event = field(default_factory=asyncio.Event)

    def _fail_maybe(self) -> None:
        if self.failures:
            raise self.failures.pop(0)

    async def send_photo(
        self, place: Place, photo: Photo, caption: str, keyboard: Keyboard | None = None
    ) -> Posted:
        if self.send_failure is not None:
            raise self.send_failure
        self.sent.append((place, photo, caption, keyboard))
        return Posted(MESSAGE)

    async def edit_caption(
        self, chat_id: int, message_id: int, caption: str, keyboard: Keyboard | None = None
    ) -> None:
        assert (chat_id, message_id) == (CHAT, MESSAGE)
        self.edited.set()
        self._fail_maybe()
        self.edits.append(Edit(caption, keyboard=keyboard))

    async def edit_photo(
        self,
        chat_id: int,
        message_id: int,
        photo: Photo,
        caption: str,
        keyboard: Keyboard | None = None,
    ) -> Posted:
        assert (chat_id, message_id) == (CHAT, MESSAGE) and isinstance(photo, bytes)
        self.edited.set()
        self._fail_maybe()
        self.edits.append(Edit(caption, photo, keyboard))
        return Posted(MESSAGE)

    async def edit_sent(self) -> None:
        """Until the next edit is tried, succeeded or not."""
        await asyncio.wait_for(self.edited.wait(), 5)
        self.edited.clear()

    @property
    def captions(self) -> list[str]:
        return [edit.caption for edit in self.edits]


class Clock:
    """Monotonic time that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Job:
    """A job's events as the queue hands them over, one at a time."""

    def __init__(self, first: JobEvent) -> None:
        self._events: asyncio.Queue[JobEvent] = asyncio.Queue()
        self._events.put_nowait(first)

    def moves(self, event: JobEvent) -> None:
        self._events.put_nowait(event)

    async def events(self) -> AsyncIterator[JobEvent]:
        while True:
            event = await self._events.get()
            yield event
            if isinstance(event, Finished | Failed | Cancelled):
                return


def progress_message(
    chat: FakeChat, clock: Clock | None = None, preview_interval: float = 0.0
) -> ProgressMessage:
    return ProgressMessage(
        chat,
        Place(CHAT),
        ChatThrottle(interval=0.0, overall_per_second=1e9),
        t=ENGLISH,
        keyboard=CANCEL,
        preview_interval=preview_interval,
        clock=clock or Clock(),
    )


def painted(step: int, preview: bytes | None = None) -> Progressed:
    return Progressed(ProgressInfo(step, 10, 0, 2, elapsed=step, eta=30.0, preview=preview))


async def settle() -> None:
    """Let the follower's two coroutines run until they wait again."""
    await asyncio.sleep(0.02)


async def ends(following: asyncio.Task[Outcome]) -> Outcome:
    """How the job ended, seen at once (no edit or pause holds the follower up)."""
    return await asyncio.wait_for(following, 0.5)


def logged(caplog: pytest.LogCaptureFixture, level: str) -> list[str]:
    """The progress message's log lines at ``level``, as an operator reads them."""
    return [
        r.getMessage() for r in caplog.records if r.name == "bot.progress" and r.levelname == level
    ]


# ---- the message that follows a job ----------------------------------------------------------


async def test_the_pair_photo_becomes_the_progress_message_and_follows_the_queue():
    chat, job = FakeChat(), Job(Queued(2))
    noted: list[int] = []

    async def note(message_id: int) -> None:
        noted.append(message_id)

    following = asyncio.create_task(
        progress_message(chat).follow(job.events(), b"pair", on_sent=note)
    )
    await settle()
    assert chat.sent == [(Place(CHAT), b"pair", texts.queued(ENGLISH, 2), CANCEL)]
    assert noted == [MESSAGE], "the job remembers its message, for a restart"

    job.moves(Queued(1))
    await chat.edit_sent()
    job.moves(Started())
    await chat.edit_sent()
    job.moves(DONE)
    assert await ends(following) == DONE
    assert chat.captions == [texts.queued(ENGLISH, 1), ENGLISH(texts.STARTING)]
    assert all(edit.keyboard == CANCEL for edit in chat.edits), "Cancel stays under it"


async def test_a_job_that_had_ended_already_is_not_followed_any_further():
    chat = FakeChat()
    progress = progress_message(chat)
    outcome = await asyncio.wait_for(progress.follow(Job(DONE).events(), b"pair"), 0.5)
    assert outcome == DONE
    assert len(chat.sent) == 1 and chat.edits == [], "the message for the final edit only"
    await progress.close("Done in 3 s", give_up_after=0)
    assert chat.captions == ["Done in 3 s"]


async def test_after_a_restart_the_old_message_is_brought_up_to_date_at_once():
    chat, job = FakeChat(), Job(painted(4))
    progress = progress_message(chat)
    following = asyncio.create_task(progress.follow(job.events(), None, message_id=MESSAGE))
    await chat.edit_sent()
    job.moves(Failed("out of memory"))
    assert await ends(following) == Failed("out of memory")
    assert chat.sent == [], "no second message"
    assert chat.captions == [texts.painting(ENGLISH, 0.4, 1, 2, 30.0)]
    assert progress.message_id == MESSAGE


async def test_with_neither_a_picture_nor_a_message_the_job_is_followed_silently():
    chat, job = FakeChat(), Job(Queued(0))
    following = asyncio.create_task(progress_message(chat).follow(job.events(), None))
    job.moves(Queued(0, no_painter=True))
    await settle()
    job.moves(Cancelled())
    assert await ends(following) == Cancelled()
    assert chat.sent == [] and chat.edits == []


async def test_the_captions_say_queued_waiting_for_a_painter_painting_and_queued_again():
    chat, job = FakeChat(), Job(Queued(0, no_painter=True))
    progress = progress_message(chat)
    following = asyncio.create_task(progress.follow(job.events(), b"pair"))
    await settle()
    before_painting = progress.last_progress
    job.moves(painted(5))
    await chat.edit_sent()
    assert before_painting is None
    assert progress.last_progress == painted(5).progress, "the bot can say how far it got"
    job.moves(Requeued("the painter stopped"))
    await chat.edit_sent()
    job.moves(DONE)
    await ends(following)

    assert chat.sent[0][2] == f"{texts.queued(ENGLISH, 0)}\n{ENGLISH(texts.NO_PAINTER_YET)}"
    assert chat.captions == [
        texts.painting(ENGLISH, 0.5, 1, 2, 30.0),
        ENGLISH(texts.REQUEUED),
    ]
    assert progress.last_progress is None


async def test_a_state_that_reads_the_same_is_not_edited_again():
    chat, job = FakeChat(), Job(Queued(1))
    following = asyncio.create_task(progress_message(chat).follow(job.events(), b"pair"))
    await settle()
    job.moves(Queued(1))  # the same words: an edit would only be refused as "not modified"
    await settle()
    job.moves(Queued(0))
    await chat.edit_sent()
    job.moves(Queued(0))
    await settle()
    job.moves(DONE)
    await ends(following)
    assert chat.captions == [texts.queued(ENGLISH, 0)]


async def test_changes_within_the_interval_are_shown_once_the_latest():
    chat, job = FakeChat(), Job(Queued(5))
    throttle = ChatThrottle(interval=0.3, overall_per_second=1e9)
    progress = ProgressMessage(
        chat, Place(CHAT), throttle, t=ENGLISH, keyboard=CANCEL, preview_interval=0
    )
    following = asyncio.create_task(progress.follow(job.events(), b"pair"))
    await settle()
    job.moves(Queued(4))
    await chat.edit_sent()
    for ahead in (3, 2, 1):  # one by one, all within the interval
        await settle()
        job.moves(Queued(ahead))
    await chat.edit_sent()
    job.moves(DONE)
    await ends(following)
    assert chat.captions == [texts.queued(ENGLISH, 4), texts.queued(ENGLISH, 1)]


async def test_a_job_that_ends_while_its_chat_waits_its_turn_is_not_edited():
    chat, job = FakeChat(), Job(Queued(3))
    throttle = ChatThrottle(interval=0.3, overall_per_second=1000)
    progress = ProgressMessage(
        chat, Place(CHAT), throttle, t=ENGLISH, keyboard=CANCEL, preview_interval=0
    )
    await throttle.turn(CHAT)  # another job in this chat was just edited
    following = asyncio.create_task(progress.follow(job.events(), b"pair"))
    await settle()
    job.moves(Queued(2))
    await settle()
    job.moves(DONE)  # while the chat waits for its next slot
    assert await ends(following) == DONE
    assert chat.edits == [], "the final edit comes from close(), not an old state"


# ---- previews of the work in progress --------------------------------------------------------


async def test_the_picture_is_swapped_for_a_preview_once_per_interval_from_the_start():
    chat, clock, job = FakeChat(), Clock(), Job(Queued(0))
    progress = progress_message(chat, clock, preview_interval=10.0)
    following = asyncio.create_task(progress.follow(job.events(), b"pair"))
    await settle()
    clock.now += 60  # a long wait in the queue does not count towards the first preview
    job.moves(Started())
    await chat.edit_sent()

    job.moves(painted(1, preview=b"first"))  # too early: the caption only
    await chat.edit_sent()
    clock.now += 9
    job.moves(painted(2))
    await chat.edit_sent()
    clock.now += 1  # ten seconds since painting began: the preview kept waiting is shown
    job.moves(painted(3))
    await chat.edit_sent()
    clock.now += 5
    job.moves(painted(4, preview=b"second"))
    await chat.edit_sent()
    job.moves(DONE)
    await ends(following)

    assert [(edit.caption, edit.picture) for edit in chat.edits] == [
        (ENGLISH(texts.STARTING), None),
        (texts.painting(ENGLISH, 0.1, 1, 2, 30.0), None),
        (texts.painting(ENGLISH, 0.2, 1, 2, 30.0), None),
        (texts.painting(ENGLISH, 0.3, 1, 2, 30.0), b"first"),
        (texts.painting(ENGLISH, 0.4, 1, 2, 30.0), None),
    ]
    assert chat.edits[3].keyboard == CANCEL


async def test_a_preview_is_shown_even_when_the_caption_did_not_change():
    chat, clock, job = FakeChat(), Clock(), Job(painted(1))
    following = asyncio.create_task(
        progress_message(chat, clock, preview_interval=0.5).follow(job.events(), b"pair")
    )
    await settle()
    clock.now += 0.5
    job.moves(painted(1, preview=b"now"))
    await chat.edit_sent()
    job.moves(DONE)
    await ends(following)
    assert [(edit.caption, edit.picture) for edit in chat.edits] == [
        (texts.painting(ENGLISH, 0.1, 1, 2, 30.0), b"now")
    ]


async def test_a_run_that_makes_no_previews_only_changes_the_caption():
    chat, clock, job = FakeChat(), Clock(), Job(Started())
    following = asyncio.create_task(
        progress_message(chat, clock, preview_interval=5.0).follow(job.events(), b"pair")
    )
    await settle()
    clock.now += 60
    job.moves(painted(1))
    await chat.edit_sent()
    job.moves(DONE)
    await ends(following)
    assert [(edit.caption, edit.picture) for edit in chat.edits] == [
        (texts.painting(ENGLISH, 0.1, 1, 2, 30.0), None)
    ]


async def test_with_previews_off_the_picture_stays_the_pair():
    chat, clock, job = FakeChat(), Clock(), Job(Started())
    following = asyncio.create_task(progress_message(chat, clock).follow(job.events(), b"pair"))
    await settle()
    clock.now += 3600
    job.moves(painted(1, preview=b"never"))
    await chat.edit_sent()
    job.moves(DONE)
    await ends(following)
    assert [edit.picture for edit in chat.edits] == [None]


# ---- a platform that is slow or refuses ------------------------------------------------------


async def test_a_progress_message_that_cannot_be_sent_does_not_stop_the_job(
    caplog: pytest.LogCaptureFixture,
):
    chat, job = FakeChat(send_failure=Unreachable("timed out")), Job(Queued(1))
    noted: list[int] = []

    async def note(message_id: int) -> None:
        noted.append(message_id)

    progress = progress_message(chat)
    following = asyncio.create_task(progress.follow(job.events(), b"pair", on_sent=note))
    job.moves(Queued(0))
    await settle()
    job.moves(DONE)
    assert await ends(following) == DONE
    assert noted == [] and chat.edits == []
    assert logged(caplog, "WARNING") == [
        "Could not send a progress message to Place(chat_id=42, reply_to=None): timed out"
    ]
    await progress.close("Done", give_up_after=0)
    assert chat.edits == [], "no message, no final edit"


async def test_a_deleted_progress_message_is_no_longer_edited_but_the_job_goes_on(
    caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.INFO, logger="bot.progress")
    chat, job = FakeChat(), Job(Queued(2))
    progress = progress_message(chat)
    following = asyncio.create_task(progress.follow(job.events(), b"pair"))
    await settle()
    chat.failures.append(Gone("message to edit not found"))
    job.moves(Queued(1))
    await chat.edit_sent()
    job.moves(Queued(0))
    await settle()
    job.moves(DONE)
    assert await ends(following) == DONE
    assert progress.message_id is None
    assert logged(caplog, "INFO") == [
        "The progress message in chat 42 is gone: message to edit not found"
    ]
    await progress.close("Done", give_up_after=0)
    assert chat.edits == []


@pytest.mark.parametrize(
    ("refusal", "warning"),
    [
        (Unchanged("message is not modified"), None),  # harmless: not worth a line
        (Refused("bad caption"), "A progress edit was refused: bad caption"),
        (Unreachable("502 Bad Gateway"), "Could not update a progress message: 502 Bad Gateway"),
    ],
)
async def test_a_refused_or_failed_edit_is_tried_again_at_the_next_change(
    refusal: Trouble, warning: str | None, caplog: pytest.LogCaptureFixture
):
    chat, job = FakeChat(failures=[refusal]), Job(Queued(2))
    progress = progress_message(chat)
    following = asyncio.create_task(progress.follow(job.events(), b"pair"))
    await settle()
    job.moves(Queued(1))
    await chat.edit_sent()  # refused
    job.moves(Queued(1))  # the same words, but they were never shown
    await chat.edit_sent()
    job.moves(DONE)
    await ends(following)
    assert chat.captions == [texts.queued(ENGLISH, 1)]
    assert progress.message_id == MESSAGE
    assert logged(caplog, "WARNING") == ([warning] if warning else [])


async def test_after_a_rate_limit_the_next_edit_waits_as_long_as_asked(
    caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.INFO, logger="bot.progress")
    chat, job = FakeChat(failures=[SlowDown("flood", seconds=0.3)]), Job(Queued(2))
    following = asyncio.create_task(progress_message(chat).follow(job.events(), b"pair"))
    await settle()
    job.moves(Queued(1))
    await chat.edit_sent()  # told to slow down
    loop = asyncio.get_running_loop()
    limited = loop.time()
    job.moves(Queued(0))
    await chat.edit_sent()
    assert loop.time() - limited >= 0.29
    assert logged(caplog, "INFO") == ["Rate limit in chat 42; backing off"]
    job.moves(DONE)
    await ends(following)
    assert chat.captions == [texts.queued(ENGLISH, 0)]


async def test_the_final_edit_shows_how_it_ended_with_its_buttons_through_an_outage():
    chat, job = FakeChat(), Job(Queued(0))
    progress = progress_message(chat)
    following = asyncio.create_task(progress.follow(job.events(), b"pair"))
    await settle()
    job.moves(DONE)
    await ends(following)
    chat.failures.append(Unreachable("connection reset"))
    result_buttons = [[Button("Lighter", "light")]]
    await progress.close("Done in 3 s", result_buttons, give_up_after=5)
    assert chat.edits == [Edit("Done in 3 s", keyboard=result_buttons)]


async def test_a_final_edit_the_message_no_longer_takes_is_given_up_quietly():
    chat, job = FakeChat(), Job(Queued(0))
    progress = progress_message(chat)
    following = asyncio.create_task(progress.follow(job.events(), b"pair"))
    await settle()
    job.moves(Cancelled())
    await ends(following)
    chat.failures.append(Gone("chat not found"))
    await progress.close(ENGLISH(texts.CANCELLED), give_up_after=5)
    assert chat.edits == [] and progress.message_id is None


async def test_a_final_edit_that_never_gets_through_is_logged_as_given_up(
    caplog: pytest.LogCaptureFixture,
):
    chat, job = FakeChat(), Job(Queued(0))
    progress = progress_message(chat)
    following = asyncio.create_task(progress.follow(job.events(), b"pair"))
    await settle()
    job.moves(DONE)
    await ends(following)
    chat.failures.append(Unreachable("502 Bad Gateway"))  # and no time to try again
    await progress.close("Done in 3 s", give_up_after=0.5)
    assert chat.edits == []
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == [
        "Gave up on the final edit in Place(chat_id=42, reply_to=None) after 0 s of failures: "
        "502 Bad Gateway"
    ]


# ---- the throttle ------------------------------------------------------------------------------


async def test_after_a_quiet_spell_a_chats_edits_are_still_an_interval_apart():
    throttle = ChatThrottle(interval=0.1, overall_per_second=1e9)
    await throttle.turn(CHAT)
    await asyncio.sleep(0.3)  # the chat's next slot is long past
    await throttle.turn(CHAT)  # at once
    loop = asyncio.get_running_loop()
    started = loop.time()
    await throttle.turn(CHAT)
    assert loop.time() - started >= 0.09, "the interval counts from the last edit"


async def test_the_throttle_forgets_chats_whose_turn_has_passed_once_it_knows_many():
    clock = Clock()
    throttle = ChatThrottle(interval=1.0, overall_per_second=1e9, clock=clock)
    for chat_id in range(ChatThrottle._PRUNE_ABOVE + 1):
        await throttle.turn(chat_id)
    clock.now += 2.0  # every chat's next slot has passed
    started = asyncio.get_running_loop().time()
    await throttle.turn(0)  # may edit right away, forgotten or not
    assert asyncio.get_running_loop().time() - started < 0.5
    await throttle.turn(ChatThrottle._PRUNE_ABOVE + 1)
    assert len(throttle._next_slot) <= 2, "a bot in many chats keeps no slot it no longer needs"
