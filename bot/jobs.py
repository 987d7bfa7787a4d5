"""A pair's life on the queue: submit a copy of it, follow the job, deliver the result."""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path

from telegram import Bot
from telegram.error import BadRequest

from engine import Result, Strength
from engine.queue import Failed, Finished, Job, JobRequest, WasCancelled

from . import buttons, media, texts
from .context import BotData
from .progress import ProgressMessage, Target
from .sessions import Session

logger = logging.getLogger(__name__)


async def submit(data: BotData, session: Session, strength: Strength) -> Job:
    """Queue the session's pair; raises ``AlreadyQueued`` or ``QueueFull`` like the queue.

    The job gets its own copy of both pictures (the queue deletes it when the job ends), so
    the user's pair survives for Lighter/Stronger and a new pair can arrive meanwhile.
    """
    assert session.content is not None and session.style is not None
    folder = data.sessions.job_folder()
    try:
        content, style = await asyncio.to_thread(
            _copy_pair, session.content.path, session.style.path, folder
        )
        return data.queue.submit(
            JobRequest(
                owner=session.user_id,
                chat_id=session.chat_id,
                content=content,
                style=style,
                strength=strength,
                workdir=folder,
            )
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _copy_pair(content: Path, style: Path, folder: Path) -> tuple[Path, Path]:
    return (
        Path(shutil.copyfile(content, folder / f"content{content.suffix}")),
        Path(shutil.copyfile(style, folder / f"style{style.suffix}")),
    )


async def follow(
    bot: Bot, data: BotData, job: Job, target: Target, pair_id: str, picture: str | bytes
) -> None:
    """Mirror the job in one progress message, then deliver the result or say why there is none."""
    progress = ProgressMessage(
        bot,
        target,
        data.throttle,
        markup=buttons.progress_keyboard(pair_id),
        preview_interval=data.settings.preview_interval,
    )
    match await progress.follow(job, picture):
        case Finished(result=result):
            logger.info("Job %d done in %.1f s", job.id, result.elapsed)
            await progress.close(texts.done(result.elapsed))
            await send_result(bot, target, result, pair_id)
        case Failed(message=reason):
            failure = texts.FAILED.format(reason=reason)
            await progress.close(failure, buttons.retry_keyboard(pair_id))
        case WasCancelled():
            await progress.close(texts.RESTARTING if data.stopping else texts.CANCELLED)


async def send_result(bot: Bot, target: Target, result: Result, pair_id: str) -> None:
    """The picture as a photo with a caption, then the full-resolution PNG with the buttons."""
    strength = result.options.strength
    photo, document = await asyncio.gather(media.jpeg(result.image), media.png(result.image))
    caption = texts.result_caption(strength, result.image.size, result.elapsed)
    if result.note:
        caption = f"{caption}\n{result.note}"
    try:
        await bot.send_photo(
            target.chat_id, photo, caption=caption, reply_parameters=target.reply_parameters
        )
    except BadRequest as error:  # e.g. an extreme aspect ratio: the file still goes out
        logger.warning("Telegram refused the result photo: %s", error.message)
    await bot.send_document(
        target.chat_id,
        document,
        filename=f"stylized-{strength.value}.png",
        caption=texts.RESULT_FILE,
        reply_markup=buttons.result_keyboard(pair_id, strength),
        reply_parameters=target.reply_parameters,
    )
