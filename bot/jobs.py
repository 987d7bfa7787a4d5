"""A pair's life on the queue: submit it, follow the job, deliver the result exactly once.

What the bot needs to pick a job up again after a restart — the chat, the message showing
its progress, how far delivery got, the language its user reads — is noted on the job itself
(a :class:`Ticket` in its ``meta``), so the queue, not this process's memory, is the one place
that knows. What the user chose in /settings goes in the job's options for the painter.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import typing
from dataclasses import dataclass

import aiofiles

from jobqueue import (
    FAILURE_MESSAGE,
    NO_PAINTER_CODE,
    NO_PAINTER_GIVE_UP_SECONDS,
    Cancelled,
    Failed,
    Finished,
    JobOrder,
    JobRecord,
    JobSpec,
    Note,
    NoteCode,
    ProgressInfo,
    ResultInfo,
    Strength,
)
from jobqueue.logs import current_job

from . import buttons, i18n, media, texts
from .context import BotData
from .i18n import Translator
from .messenger import Place, Posted, TooBig
from .preferences import Preferences
from .progress import Outcome, ProgressMessage
from .retry import with_retries
from .sessions import Picture, Session

logger = logging.getLogger(__name__)

#: A finished picture is offered to the platform for this long before the bot gives up on it.
RESULT_GIVE_UP_SECONDS = 24 * 3600
#: The progress message's last edit (how the job ended) is tried for this long.
FINAL_EDIT_GIVE_UP_SECONDS = 600
#: A replica's claim on a job it reports lasts this long unless renewed (every third of it).
CLAIM_SECONDS = 30.0
#: On a stop, the progress message gets this long to say "paused".
PAUSE_NOTE_SECONDS = 3


@dataclass(frozen=True)
class Ticket:
    """What the bot notes on a job: where its messages go, and how far delivery got."""

    chat_id: int
    user_id: int
    pair_id: str
    reply_to: int | None = None  # in groups, the message the job's messages answer
    progress_message_id: int | None = None
    photo_sent: bool = False  # the result's photo is out; only the file is left to send
    language: str = i18n.DEFAULT  # what its user reads (jobs from before languages: English)
    platform: str = "telegram"  # whose front-end follows it (jobs from before: Telegram's)

    @property
    def t(self) -> Translator:
        return i18n.translator(self.language)

    @property
    def place(self) -> Place:
        return Place(self.chat_id, self.reply_to)

    def owner(self, data: BotData) -> buttons.Owner:
        """The job's user, for whom its buttons are sealed."""
        return buttons.Owner(self.user_id, data.button_key)

    @classmethod
    def of(cls, record: JobRecord) -> Ticket | None:
        """The ticket on ``record``, or None for a job some other submitter made; raises
        ``ValueError`` for a ticket that is not what this bot writes."""
        meta = record.meta
        if not isinstance(meta, dict) or "chat_id" not in meta:
            return None
        fields = {field.name for field in dataclasses.fields(cls)}
        try:
            ticket = cls(**{k: v for k, v in meta.items() if k in fields})
        except TypeError as error:  # a field missing
            raise ValueError(f"malformed ticket: {error}") from None
        for name, kind in typing.get_type_hints(cls).items():  # the fields' own annotations
            if not isinstance(getattr(ticket, name), kind):
                raise ValueError(f"malformed ticket: {name} is {getattr(ticket, name)!r}")
        return ticket


async def submit(
    data: BotData,
    session: Session,
    strength: Strength,
    place: Place,
    *,
    language: str,
    chosen: Preferences,
) -> JobRecord:
    """Queue the session's pair; raises ``AlreadyQueued`` or ``QueueFull`` like the queue.

    The job carries its own copy of both pictures, so the user's pair stays for
    Lighter/Stronger, a new pair can arrive meanwhile, and a worker elsewhere needs no files.
    Its options are the strength pressed and the size, colours and faces of the user's
    /settings.
    """
    assert session.content is not None and session.style is not None
    assert session.pair_id is not None
    content, style = await asyncio.gather(_read(session.content), _read(session.style))
    ticket = Ticket(
        session.chat_id,
        session.user_id,
        session.pair_id,
        place.reply_to,
        language=language,
        platform=data.platform,
    )
    order = JobOrder(  # the size in pixels: the painter's
        strength, chosen.size, chosen.keep_colours, keep_faces=chosen.keep_faces
    )
    spec = JobSpec(session.owner, content, style, order, dataclasses.asdict(ticket))
    return await data.queue.submit(spec)


async def _read(picture: Picture) -> bytes:
    async with aiofiles.open(picture.path, "rb") as file:
        return await file.read()


async def follow(data: BotData, record: JobRecord, picture: str | bytes | None) -> None:
    """Mirror the job in one progress message, then deliver the result or say why there is none.

    ``picture`` opens a new progress message; a job resumed after a restart already has one.
    With several bot replicas on one queue, only the one holding the job's claim reports it.
    """
    data.following.add(record.id)
    try:
        if not await data.queue.claim(record.id, data.holder, CLAIM_SECONDS):
            return  # another replica reports this job
        async with asyncio.TaskGroup() as tasks:
            renewal = tasks.create_task(_keep_claim(data, record.id))
            await _report(data, record, picture)
            renewal.cancel()
        await data.queue.release(record.id, data.holder)
    finally:
        data.following.discard(record.id)


async def _keep_claim(data: BotData, job_id: str) -> None:
    while True:
        await asyncio.sleep(CLAIM_SECONDS / 3)
        if not await data.queue.claim(job_id, data.holder, CLAIM_SECONDS):
            logger.warning("Job %s: another replica took it over", job_id)


async def _report(data: BotData, record: JobRecord, picture: str | bytes | None) -> None:
    ticket = Ticket.of(record)
    assert ticket is not None, "only the bot's own jobs are followed"
    current_job.set(record.id)  # every log line of this task names the job
    t = ticket.t
    progress = ProgressMessage(
        data.messenger,
        ticket.place,
        data.throttle,
        t=t,
        keyboard=buttons.progress_keyboard(t, ticket.owner(data), ticket.pair_id),
        preview_interval=data.settings.preview_interval,
    )

    async def note_message(message_id: int) -> None:
        await data.queue.annotate(record.id, progress_message_id=message_id)

    try:
        outcome = await progress.follow(
            data.queue.events(record.id),
            picture if ticket.progress_message_id is None else None,
            ticket.progress_message_id,
            on_sent=note_message,
        )
    except asyncio.CancelledError:  # the bot is stopping; the job is not
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                progress.close(t(texts.RESTARTING), give_up_after=0), PAUSE_NOTE_SECONDS
            )
        with contextlib.suppress(Exception):
            await asyncio.wait_for(data.queue.release(record.id, data.holder), 1)
        raise
    _count(data, outcome, progress.last_progress)
    close = progress.close
    match outcome:
        case Finished(result=result):
            await close(texts.done(t, result.elapsed), give_up_after=FINAL_EDIT_GIVE_UP_SECONDS)
            await deliver(data, record, ticket, result)
        case Failed() as failed:
            default = data.sessions.preferences(ticket.user_id).strength
            keyboard = buttons.retry_keyboard(t, ticket.owner(data), ticket.pair_id, default)
            failure = t(texts.FAILED).format(reason=why(t, failed))
            await close(failure, keyboard, give_up_after=FINAL_EDIT_GIVE_UP_SECONDS)
        case Cancelled():
            await close(t(texts.CANCELLED), give_up_after=FINAL_EDIT_GIVE_UP_SECONDS)
    await data.queue.acknowledge(record.id)


def why(t: Translator, failed: Failed) -> str:
    """Why a job failed, in the user's language: no painter came for too long, the engine's
    objection to a picture (its code), the queue's apology, or else whatever a painter said
    (in English)."""
    if failed.code == NO_PAINTER_CODE:
        waited = failed.params.get("seconds", NO_PAINTER_GIVE_UP_SECONDS)
        if not isinstance(waited, int | float):
            waited = NO_PAINTER_GIVE_UP_SECONDS
        return t(texts.NO_PAINTER_GAVE_UP).format(wait=texts.duration(t, waited))
    if failed.code is not None:
        return texts.image_problem(t, failed.code, failed.params)
    if failed.reason == FAILURE_MESSAGE:
        return t(texts.PAINTING_WENT_WRONG)
    return failed.reason


def note(t: Translator, remark: Note) -> str:
    """A painter's note about a result, in the user's language."""
    match remark.code:
        case NoteCode.MADE_SMALLER:
            return texts.made_smaller(t, remark.params["made"], remark.params["asked"])


def _count(data: BotData, outcome: Outcome, last: ProgressInfo | None) -> None:
    """The job's ending into the metrics: its outcome, and how long it took to paint."""
    name = {Finished: "done", Failed: "failed", Cancelled: "cancelled"}[type(outcome)]
    data.metrics.jobs.labels(data.platform, name).inc()
    if isinstance(outcome, Finished):
        data.metrics.job_seconds.observe(outcome.result.elapsed)
        if last is not None and last.total:
            data.metrics.step_seconds.observe(outcome.result.elapsed / last.total)


async def deliver(data: BotData, record: JobRecord, ticket: Ticket, result: ResultInfo) -> None:
    """The picture as a photo with a caption, then the PNG file with the buttons: each sent
    once, however often the platform stumbles or this process restarts in between."""
    png = await data.queue.result(record.id)
    strength = record.order.strength
    t, messenger = ticket.t, data.messenger
    if not ticket.photo_sent:
        caption = texts.result_caption(
            t,
            strength,
            (result.width, result.height),
            result.elapsed,
            colours_kept=record.order.keep_colours,
            faces=result.faces,
        )
        if result.note:
            caption = f"{caption}\n{note(t, result.note)}"
        photo = await media.photo_of(png)

        async def send_photo() -> Posted:
            return await messenger.send_photo(ticket.place, photo, caption)

        # A photo the platform refuses (e.g. an extreme aspect ratio) is skipped: the file goes.
        await with_retries(send_photo, RESULT_GIVE_UP_SECONDS, f"result photo of job {record.id}")
        await data.queue.annotate(record.id, photo_sent=True)

    too_big = False  # the PNG is over the chat's upload limit: later tries skip it

    async def send_file() -> Posted:
        nonlocal too_big
        film = record.id if result.making_of else None
        keyboard = buttons.result_keyboard(t, ticket.owner(data), ticket.pair_id, strength, film)
        name = f"stylized-{strength.value}"
        if not too_big:
            try:
                return await messenger.send_file(
                    ticket.place, png, f"{name}.png", t(texts.RESULT_FILE), keyboard
                )
            except TooBig:  # Discord's 10 MB, say, and a large picture from a GPU
                too_big = True
        jpeg = await media.full_jpeg(png)
        return await messenger.send_file(
            ticket.place, jpeg, f"{name}.jpg", t(texts.RESULT_FILE_JPEG), keyboard
        )

    await with_retries(send_file, RESULT_GIVE_UP_SECONDS, f"result file of job {record.id}")
    logger.info("Job %s delivered", record.id)


def start_following(data: BotData, record: JobRecord, picture: str | bytes | None) -> None:
    """Follow the job in a task of its own, kept in ``data.followers`` while it runs so that
    a stop can cancel it. Its id goes in ``data.following`` at once (before any await), so
    the adoption chore does not take it too."""
    data.following.add(record.id)
    task = data.spawn(follow(data, record, picture), f"job {record.id}")
    data.followers.add(task)
    task.add_done_callback(data.followers.discard)


async def adopt(data: BotData) -> int:
    """Follow every job nobody reports: left by a previous run of this bot, or by a replica
    that stopped. Its progress message goes on, its result is delivered. Returns how many."""
    count = 0
    for record in await data.queue.unfinished():
        if record.id in data.following or record.id in data.set_aside:
            continue
        try:
            ticket = Ticket.of(record)
            if ticket is None or ticket.platform != data.platform:
                continue  # another submitter's job, or another front-end's
            picture = _opening_picture(data, ticket)
        except Exception:  # one malformed record must not stop the others' delivery
            logger.exception("Job %s has a malformed record; set aside, not followed", record.id)
            data.set_aside.add(record.id)
            continue
        start_following(data, record, picture)
        count += 1
    if count:
        logger.info("Picked up %d job(s) nobody was reporting", count)
    return count


def _opening_picture(data: BotData, ticket: Ticket) -> str | None:
    """For a job stopped before its progress message was out: the pair to open a new one
    with, if the pair is still known."""
    session = data.sessions.peek(ticket.chat_id, ticket.user_id)
    known = session.owns(ticket.pair_id) and session.pair_preview
    return session.pair_preview if known else None
