"""Every sentence a chat user sees, in one place to reword or translate.

Plain text only (no parse mode), so nothing here needs escaping. The few functions at the
end format numbers (positions, percentages, durations) into these sentences.
"""

from __future__ import annotations

from engine import Strength

# ---- commands -------------------------------------------------------------------------------

INTRO = (
    "Hi! I repaint a photo in the style of another picture.\n"
    "\n"
    "1. Send the photo you want painted.\n"
    "2. Send the style: a painting, a pattern, any picture whose look you like.\n"
    "3. Pick a strength: Light, Medium or Strong.\n"
    "\n"
    "Photos are fine; for the best quality send them as files (JPEG, PNG or WebP). "
    "An album of two works too.\n"
    "/status shows where your picture is; /cancel stops it or starts over."
)
GROUP_NOTE = "In a group, reply to one of my messages with your picture."

COMMAND_DESCRIPTIONS = {
    "start": "How to use me",
    "help": "What to send",
    "status": "Where is my picture?",
    "cancel": "Stop my picture or start over",
    "styles": "Pick a famous painting as the style",
}

# ---- what the bot has and what it still needs -----------------------------------------------

NEED_CONTENT = "Send me the photo you want painted."
NEED_STYLE = (
    "I have your photo. Now send the style image: a painting or any picture whose look you like."
)
READY = (
    "I have both pictures: pick a strength with the buttons, "
    "or send another picture to replace the style."
)

# ---- pictures received ----------------------------------------------------------------------

GOT_CONTENT = (
    "Got the content photo. Now send the style image: "
    "a painting or any picture whose look you like. Or pick a famous painting:"
)
_PAIR_LAYOUT = "Your photo is on the left, the style on the right. Pick a strength:"
PAIR_READY = f"Got the style image. {_PAIR_LAYOUT}"
STYLE_REPLACED = f"Replaced the style image. {_PAIR_LAYOUT}"
PAIR_SWAPPED = f"Swapped. {_PAIR_LAYOUT}"

# ---- the gallery ----------------------------------------------------------------------------

GALLERY_BUTTON = "🖼 Famous paintings"
PREVIOUS_BUTTON = "◀"
NEXT_BUTTON = "▶"
USE_PAINTING_BUTTON = "✓ Use this one"
PAINTING_CHOSEN_NOTE = "Chosen."
PAINTING_KEPT = "Good choice. Now send me the photo you want painted in this style."


def painting_caption(title: str, artist: str, year: str, number: int, count: int) -> str:
    return f"{title} — {artist}, {year} · {number} of {count}"


# ---- everything that is not a usable picture ------------------------------------------------

NOT_A_PICTURE = "I only work with pictures."
STICKER = "Stickers can't be painted, sorry."
AUDIO = "I can't use voice or audio messages."
VIDEO = "I paint still pictures, not videos."
ANIMATION = "I paint still pictures, not GIFs or animations."
NOT_AN_IMAGE_FILE = "That file isn't a picture I can use. Please send a JPEG, PNG or WebP image."
HEIC = (
    "HEIC files (the iPhone's photo format) can't be read here. "
    "Send it as a photo rather than a file, or as a JPEG, PNG or WebP file."
)
DOWNLOAD_FAILED = "I couldn't download that picture from Telegram. Please send it again."
UNKNOWN_COMMAND = "I don't know that command. /help shows what I can do."


def too_big(limit_mb: int) -> str:
    return (
        f"That file is too big: bots can only download files up to {limit_mb} MB. "
        "Send it as a photo, or as a smaller file."
    )


# ---- buttons --------------------------------------------------------------------------------

STRENGTH_LABELS = {Strength.LIGHT: "Light", Strength.MEDIUM: "Medium", Strength.STRONG: "Strong"}
SWAP_BUTTON = "⇄ Swap"
DROP_BUTTON = "✕ Cancel"
STOP_BUTTON = "✕ Cancel"
LIGHTER_BUTTON = "− Lighter"
STRONGER_BUTTON = "+ Stronger"
NEW_PAIR_BUTTON = "New pair"
MAKING_OF_BUTTON = "🎬 Making-of"
MAKING_OF_CAPTION = "How your painting appeared."
MAKING_OF_GONE = "The making-of is kept for a day; this one is gone."

# Short notes shown when a button is pressed (at most 200 characters each).
QUEUED_NOTE = "Added to the queue."
ALREADY_THIS_PAIR = "Already on it: this pair is being painted."
ALREADY_ANOTHER = (
    "You already have a picture in the works. Wait for it, or send /cancel to stop it."
)
BUSY = "I'm busy right now: too many pictures are waiting. Please try again in a few minutes."
STALE_BUTTON = "This button belongs to an earlier pair of pictures; it does nothing now."
UNKNOWN_BUTTON = "This button no longer works."
SWAPPED_NOTE = "Swapped."
STOPPING_NOTE = "Stopping…"
NOTHING_TO_STOP = "There is nothing of yours to stop here."

PAIR_DROPPED = "Forgot both pictures. Send me a new photo whenever you like."
NEW_PAIR = "Let's start over: send me the photo you want painted."

# ---- /cancel and /status --------------------------------------------------------------------

CANCELLED_QUEUED = "Done: your picture is off the queue. Pick a strength again whenever you like."
CANCELLING_RUNNING = "Stopping your picture…"
PICTURES_DROPPED = "Forgot your pictures. Send me a new photo whenever you like."
NOTHING_TO_CANCEL = "Nothing to cancel."
STATUS_IDLE = "Nothing in the works."
STATUS_STARTING = "Painting your picture: just started."

# ---- the progress message and the result ----------------------------------------------------

STARTING = "Painting… getting started."
CANCELLED = "Cancelled."
RESTARTING = "Paused: I'm restarting. Your picture carries on by itself when I'm back."
REQUEUED = "Queued again: the painter stopped, so your picture starts over shortly."
FAILED = "Sorry, this one didn't work: {reason}"
RESULT_FILE = "Full resolution, as a PNG file."
SOMETHING_WENT_WRONG = "Sorry, something went wrong on my side. Please try again."


def queued(ahead: int) -> str:
    if ahead <= 0:
        return "Queued — you're next."
    return f"Queued — {ahead} ahead of you."


def painting(fraction: float, stage: int, stages: int, eta: float) -> str:
    return (
        f"Painting… {percent(fraction)}% · stage {stage} of {stages} · about {duration(eta)} left"
    )


def done(elapsed: float) -> str:
    return f"Done in {duration(elapsed)}."


def status_queued(ahead: int) -> str:
    if ahead <= 0:
        return "Your picture is queued — you're next."
    return f"Your picture is queued — {ahead} ahead of you."


def status_painting(fraction: float, eta: float) -> str:
    return f"Painting your picture: {percent(fraction)}% done, about {duration(eta)} left."


def result_caption(strength: Strength, size: tuple[int, int], elapsed: float) -> str:
    width, height = size
    return f"{STRENGTH_LABELS[strength]} style · {width}×{height} px · {duration(elapsed)}"


def with_hint(reason: str, hint: str) -> str:
    """A refusal followed by what the bot still needs."""
    return f"{reason} {hint}"


def percent(fraction: float) -> int:
    return max(0, min(100, round(fraction * 100)))


def duration(seconds: float) -> str:
    """ "7 s", "1 min 5 s", "12 min": precise enough for a chat."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    if minutes >= 60:
        hours, minutes = divmod(minutes, 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes >= 10 or rest == 0:
        return f"{minutes} min"
    return f"{minutes} min {rest} s"


# ---- running it for a community: access, fair use, capacity, the operator's view ------------

NOT_ALLOWED = "Sorry, I only paint for the people my owner has added. Ask them to add you."
PAINTING_UNAVAILABLE = "Painting is unavailable right now. Please try again later."
DISK_FULL = "I'm out of room for new pictures right now. Please try again in a while."


def too_many_pictures(wait: float) -> str:
    return (
        "You're sending pictures faster than I can look at them. "
        f"Please send that one again in {duration(max(wait, 1))}."
    )


def daily_quota(limit: int, wait: float) -> str:
    return f"That's your {limit} pictures for today. Come back in {duration(wait)}."


def stats(
    waiting: int,
    running: int,
    outcomes: dict[str, int],
    median: float | None,
    p95: float | None,
    workers: int,
    disk_mb: float,
) -> str:
    """/stats for admins: the queue now, today's jobs, and the disk."""
    ended = ", ".join(f"{count} {outcome}" for outcome, count in outcomes.items())
    times = (
        f"median {duration(median)}, 95th percentile {duration(p95)}"
        if median is not None and p95 is not None
        else "no finished job yet"
    )
    return (
        f"Queue: {waiting} waiting, {running} painting · workers alive: {workers}\n"
        f"Today (UTC): {ended}\n"
        f"Job time: {times}\n"
        f"DATA_DIR: {disk_mb:.1f} MB"
    )
