"""Every sentence a chat user sees, in one place to reword or translate.

The sentences are written in English; they are gettext *msgids*, and each other language's
wording is in ``bot/locales/<lang>/LC_MESSAGES/messages.po`` (see ``bot/i18n.py``). Constants
are wrapped in :func:`N_`, which only marks them for extraction: the code translates them
where it knows who reads them, ``t(texts.INTRO)``. Functions build sentences with numbers and
take the reader's translator ``t`` first. Placeholders are ``{name}``, filled by ``format``.

Plain text only (no parse mode), so nothing here needs escaping. ``/stats`` is for the
operator and stays in English.
"""

from __future__ import annotations

from collections.abc import Mapping

from jobqueue import Size, Strength
from pictures import ImageProblem

from .i18n import ENGLISH, Translator


def N_(message: str) -> str:
    """Marks ``message`` for the catalogs; it is translated where it is used."""
    return message


# ---- commands -------------------------------------------------------------------------------

INTRO = N_(
    "Hi! I repaint a photo in the style of another picture.\n"
    "\n"
    "1. Send the photo you want painted.\n"
    "2. Send the style: a painting, a pattern, any picture whose look you like.\n"
    "3. Pick a strength: Light, Medium or Strong.\n"
    "\n"
    "Photos are fine; for the best quality send them as files (JPEG, PNG or WebP). "
    "An album of two works too.\n"
    "/status shows where your picture is; /cancel stops it or starts over. "
    "/settings sets the size, the colours and whether faces are kept, /language the language."
)
GROUP_NOTE = N_("In a group, reply to one of my messages with your picture.")
#: A Discord server's GROUP_NOTE: there the bot reads no ordinary messages; /paint takes all.
SERVER_NOTE = N_("In a server, use /paint: attach your photo and the style, and pick a strength.")

COMMAND_DESCRIPTIONS = {
    "start": N_("How to use me"),
    "help": N_("What to send"),
    "status": N_("Where is my picture?"),
    "cancel": N_("Stop my picture or start over"),
    "styles": N_("Pick a famous painting as the style"),
    "settings": N_("Size, colours, faces and strength of my pictures"),
    "language": N_("Change the language"),
}

# Discord's /paint, for servers, where a bot reads no ordinary messages: the whole pair at once.
PAINT_DESCRIPTION = N_("Paint a photo in the style of another picture")
PAINT_CONTENT = N_("The photo to paint")
PAINT_STYLE = N_("The style: a painting or any picture whose look you like")
PAINT_PAINTING = N_("Or a famous painting as the style")
PAINT_STRENGTH = N_("How strongly to paint it")
PAINT_NEEDS_STYLE = N_("Add the style too: a picture, or a painting from the list.")

# ---- what the bot has and what it still needs -----------------------------------------------

NEED_CONTENT = N_("Send me the photo you want painted.")
NEED_STYLE = N_(
    "I have your photo. Now send the style image: a painting or any picture whose look you like."
)
READY = N_(
    "I have both pictures: pick a strength with the buttons, "
    "or send another picture to replace the style."
)

# ---- pictures received ----------------------------------------------------------------------

GOT_CONTENT = N_(
    "Got the content photo. Now send the style image: "
    "a painting or any picture whose look you like. Or pick a famous painting:"
)
PAIR_READY = N_(
    "Got the style image. Your photo is on the left, the style on the right. Pick a strength:"
)
STYLE_REPLACED = N_(
    "Replaced the style image. Your photo is on the left, the style on the right. Pick a strength:"
)
PAIR_SWAPPED = N_("Swapped. Your photo is on the left, the style on the right. Pick a strength:")

# ---- the gallery ----------------------------------------------------------------------------

GALLERY_BUTTON = N_("🖼 Famous paintings")
PREVIOUS_BUTTON = "◀"
NEXT_BUTTON = "▶"
USE_PAINTING_BUTTON = N_("✓ Use this one")
PAINTING_CHOSEN_NOTE = N_("Chosen.")
PAINTING_KEPT = N_("Good choice. Now send me the photo you want painted in this style.")


def painting_caption(
    t: Translator, title: str, artist: str, year: str, number: int, count: int
) -> str:
    return t.gettext("{title} — {artist}, {year} · {number} of {count}").format(
        title=title, artist=artist, year=year, number=number, count=count
    )


# ---- everything that is not a usable picture ------------------------------------------------

NOT_A_PICTURE = N_("I only work with pictures.")
STICKER = N_("Stickers can't be painted, sorry.")
AUDIO = N_("I can't use voice or audio messages.")
VIDEO = N_("I paint still pictures, not videos.")
ANIMATION = N_("I paint still pictures, not GIFs or animations.")
NOT_AN_IMAGE_FILE = N_(
    "That file isn't a picture I can use. Please send a JPEG, PNG or WebP image."
)
HEIC = N_(
    "HEIC files (the iPhone's photo format) can't be read here. "
    "Send it as a photo rather than a file, or as a JPEG, PNG or WebP file."
)
DOWNLOAD_FAILED = N_("I couldn't download that picture. Please send it again.")
UNKNOWN_COMMAND = N_("I don't know that command. /help shows what I can do.")

#: What ``pictures`` finds wrong with an image (``ImageError.code``), with its ``params``.
IMAGE_PROBLEMS: dict[ImageProblem, str] = {
    ImageProblem.UNREADABLE: N_(
        "I could not read this image. Please send a JPEG, PNG or WebP picture."
    ),
    ImageProblem.NO_FILE: N_("There is no image file at {path}."),
    ImageProblem.FILE_TOO_LARGE: N_("This file is too large (over {max_mb} MB)."),
    ImageProblem.TOO_MANY_PIXELS: N_(
        "This image is too large ({width}×{height}); please send one under "
        "{max_megapixels} megapixels."
    ),
    ImageProblem.BOMB: N_(
        "This image is too large; please send one under {max_megapixels} megapixels."
    ),
    ImageProblem.TOO_SMALL: N_(
        "This image is too small ({width}×{height}); it needs at least {min_side} pixels "
        "on each side."
    ),
    ImageProblem.TOO_THIN: N_(
        "This image is too long and thin ({width}×{height}); one side can be at most "
        "{max_aspect} times the other. Please crop it."
    ),
}


def too_big(t: Translator, limit_mb: int) -> str:
    return t.gettext(
        "That file is too big: bots can only download files up to {limit_mb} MB. "
        "Send it as a photo, or as a smaller file."
    ).format(limit_mb=limit_mb)


def image_problem(t: Translator, code: str | None, params: Mapping[str, object]) -> str:
    """What is wrong with a picture, in the reader's language (unreadable if unknown)."""
    try:
        return t(IMAGE_PROBLEMS[ImageProblem(code or "")]).format(**params)
    except (ValueError, KeyError, IndexError):  # a code or a number this bot does not know
        return t(IMAGE_PROBLEMS[ImageProblem.UNREADABLE])


# ---- buttons --------------------------------------------------------------------------------

STRENGTH_LABELS = {
    Strength.LIGHT: N_("Light"),
    Strength.MEDIUM: N_("Medium"),
    Strength.STRONG: N_("Strong"),
}
SWAP_BUTTON = N_("⇄ Swap")
DROP_BUTTON = N_("✕ Cancel")
STOP_BUTTON = N_("✕ Cancel")
LIGHTER_BUTTON = N_("− Lighter")
STRONGER_BUTTON = N_("+ Stronger")
NEW_PAIR_BUTTON = N_("New pair")
MAKING_OF_BUTTON = N_("🎬 Making-of")
MAKING_OF_CAPTION = N_("How your painting appeared.")
MAKING_OF_GONE = N_("The making-of is kept for a day; this one is gone.")


def marked(label: str) -> str:
    """A button label marked as the current choice (the default strength, a preference)."""
    return f"• {label}"


# Short notes shown when a button is pressed (at most 200 characters each).
QUEUED_NOTE = N_("Added to the queue.")
ALREADY_THIS_PAIR = N_("Already on it: this pair is being painted.")
ALREADY_ANOTHER = N_(
    "You already have a picture in the works. Wait for it, or send /cancel to stop it."
)
BUSY = N_("I'm busy right now: too many pictures are waiting. Please try again in a few minutes.")
STALE_BUTTON = N_("This button belongs to an earlier pair of pictures; it does nothing now.")
UNKNOWN_BUTTON = N_("This button no longer works.")
NOT_YOUR_BUTTON = N_("This button is someone else's; it works only for the person it was shown to.")
SWAPPED_NOTE = N_("Swapped.")
STOPPING_NOTE = N_("Stopping…")
NOTHING_TO_STOP = N_("There is nothing of yours to stop here.")

PAIR_DROPPED = N_("Forgot both pictures. Send me a new photo whenever you like.")
NEW_PAIR = N_("Let's start over: send me the photo you want painted.")

# ---- /cancel and /status --------------------------------------------------------------------

CANCELLED_QUEUED = N_(
    "Done: your picture is off the queue. Pick a strength again whenever you like."
)
CANCELLING_RUNNING = N_("Stopping your picture…")
PICTURES_DROPPED = N_("Forgot your pictures. Send me a new photo whenever you like.")
NOTHING_TO_CANCEL = N_("Nothing to cancel.")
STATUS_IDLE = N_("Nothing in the works.")
STATUS_STARTING = N_("Painting your picture: just started.")

# ---- /language ------------------------------------------------------------------------------

LANGUAGE_PROMPT = N_("Which language shall I speak?")
#: Shown in the language just chosen: each catalog names its own language here.
LANGUAGE_CHOSEN = N_("Done: I'll speak English from now on. /language changes it again.")

# ---- /settings ------------------------------------------------------------------------------

SIZE_LABELS = {Size.SMALL: N_("Small"), Size.MEDIUM: N_("Medium"), Size.LARGE: N_("Large")}
COLOURS_STYLE_BUTTON = N_("🎨 The style's colours")
COLOURS_KEPT_BUTTON = N_("📷 Keep my photo's colours")
#: One button for faces, saying how they are now; a press turns them the other way.
FACES_KEPT_BUTTON = N_("🙂 Keep faces: on")
FACES_PAINTED_BUTTON = N_("🙂 Keep faces: off")
PREFERENCE_SAVED = N_("Saved.")


def size_button(t: Translator, size: Size, side: int) -> str:
    return t.gettext("{size} · {side} px").format(size=t(SIZE_LABELS[size]), side=side)


def preferences_panel(
    t: Translator,
    size: Size,
    side: int,
    keep_colours: bool,
    strength: Strength,
    keep_faces: bool = True,
) -> str:
    """/settings: what the user's pictures are made with, above the buttons that change it."""
    colours = t.gettext("your photo's, kept") if keep_colours else t.gettext("the style's")
    faces = (
        t.gettext("the person's features kept")
        if keep_faces
        else t.gettext("painted like the rest")
    )
    return "\n".join(
        [
            t.gettext("Your settings:"),
            t.gettext("• Size: {size}, {side} px on the longer side").format(
                size=t(SIZE_LABELS[size]), side=side
            ),
            t.gettext("• Colours: {colours}").format(colours=colours),
            t.gettext("• Faces: {faces}").format(faces=faces),
            t.gettext("• Strength the buttons suggest: {strength}").format(
                strength=t(STRENGTH_LABELS[strength])
            ),
            "",
            t.gettext(
                "Tap a button to change one. Each result's caption says what it was made with."
            ),
        ]
    )


# ---- the progress message and the result ----------------------------------------------------

STARTING = N_("Painting… getting started.")
CANCELLED = N_("Cancelled.")
RESTARTING = N_("Paused: I'm restarting. Your picture carries on by itself when I'm back.")
REQUEUED = N_("Queued again: the painter stopped, so your picture starts over shortly.")
FAILED = N_("Sorry, this one didn't work: {reason}")
#: The queue's own apology (``jobqueue.FAILURE_MESSAGE``), worded here for every language.
PAINTING_WENT_WRONG = N_("Something went wrong while painting. Please try again.")
RESULT_FILE = N_("The same picture as a PNG file: no compression, every detail.")
#: The file instead of the PNG where the PNG is over the chat's upload limit (Discord's 10 MB).
RESULT_FILE_JPEG = N_(
    "The same picture as a full-size JPEG file: as a PNG it is over this chat's upload limit."
)
SOMETHING_WENT_WRONG = N_("Sorry, something went wrong on my side. Please try again.")
STYLE_NAMES = {
    Strength.LIGHT: N_("Light style"),
    Strength.MEDIUM: N_("Medium style"),
    Strength.STRONG: N_("Strong style"),
}
COLOURS_KEPT = N_("colours kept")


def queued(t: Translator, ahead: int) -> str:
    if ahead <= 0:
        return t.gettext("Queued — you're next.")
    return t.ngettext(
        "Queued — {ahead} ahead of you.", "Queued — {ahead} ahead of you.", ahead
    ).format(ahead=ahead)


def painting(t: Translator, fraction: float, stage: int, stages: int, eta: float) -> str:
    return t.gettext("Painting… {percent}% · stage {stage} of {stages} · about {eta} left").format(
        percent=percent(fraction), stage=stage, stages=stages, eta=duration(t, eta)
    )


def done(t: Translator, elapsed: float) -> str:
    return t.gettext("Done in {elapsed}.").format(elapsed=duration(t, elapsed))


def status_queued(t: Translator, ahead: int) -> str:
    if ahead <= 0:
        return t.gettext("Your picture is queued — you're next.")
    return t.ngettext(
        "Your picture is queued — {ahead} ahead of you.",
        "Your picture is queued — {ahead} ahead of you.",
        ahead,
    ).format(ahead=ahead)


def status_painting(t: Translator, fraction: float, eta: float) -> str:
    return t.gettext("Painting your picture: {percent}% done, about {eta} left.").format(
        percent=percent(fraction), eta=duration(t, eta)
    )


def result_caption(
    t: Translator,
    strength: Strength,
    size: tuple[int, int],
    elapsed: float,
    *,
    colours_kept: bool = False,
    faces: int = 0,
) -> str:
    """ "Medium style · 384×288 px · colours kept · 1 min 17 s · 1 face kept": what the picture
    was made with. Faces are counted by the engine: none found, or not asked, says nothing."""
    width, height = size
    pixels = t.gettext("{width}×{height} px").format(width=width, height=height)
    parts = [t(STYLE_NAMES[strength]), pixels]
    if colours_kept:
        parts.append(t(COLOURS_KEPT))
    parts.append(duration(t, elapsed))
    if faces > 0:
        parts.append(faces_kept(t, faces))
    return " · ".join(parts)


def faces_kept(t: Translator, count: int) -> str:
    return t.ngettext("{count} face kept", "{count} faces kept", count).format(count=count)


def made_smaller(t: Translator, side: int, asked: int) -> str:
    """The engine's note when the GPU had no room for the size asked."""
    return t.gettext("Made at {side} px instead of {asked} px: the GPU ran out of memory.").format(
        side=side, asked=asked
    )


def with_hint(reason: str, hint: str) -> str:
    """A refusal followed by what the bot still needs (both already translated)."""
    return f"{reason} {hint}"


def percent(fraction: float) -> int:
    return max(0, min(100, round(fraction * 100)))


def duration(t: Translator, seconds: float) -> str:
    """ "7 s", "1 min 5 s", "12 min": precise enough for a chat."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return t.gettext("{seconds} s").format(seconds=seconds)
    minutes, rest = divmod(seconds, 60)
    if minutes >= 60:
        hours, minutes = divmod(minutes, 60)
        if minutes:
            return t.gettext("{hours} h {minutes} min").format(hours=hours, minutes=minutes)
        return t.gettext("{hours} h").format(hours=hours)
    if minutes >= 10 or rest == 0:
        return t.gettext("{minutes} min").format(minutes=minutes)
    return t.gettext("{minutes} min {seconds} s").format(minutes=minutes, seconds=rest)


# ---- running it for a community: access, fair use, capacity, the operator's view ------------

NOT_ALLOWED = N_("Sorry, I only paint for the people my owner has added. Ask them to add you.")
PAINTING_UNAVAILABLE = N_("Painting is unavailable right now. Please try again later.")
DISK_FULL = N_("I'm out of room for new pictures right now. Please try again in a while.")


def too_many_pictures(t: Translator, wait: float) -> str:
    return t.gettext(
        "You're sending pictures faster than I can look at them. "
        "Please send that one again in {wait}."
    ).format(wait=duration(t, max(wait, 1)))


def daily_quota(t: Translator, limit: int, wait: float) -> str:
    return t.ngettext(
        "That's your {limit} picture for today. Come back in {wait}.",
        "That's your {limit} pictures for today. Come back in {wait}.",
        limit,
    ).format(limit=limit, wait=duration(t, wait))


def stats(
    waiting: int,
    running: int,
    outcomes: dict[str, int],
    median: float | None,
    p95: float | None,
    workers: int,
    disk_mb: float,
) -> str:
    """/stats for admins, in English: the queue now, today's jobs, and the disk."""
    english = ENGLISH
    ended = ", ".join(f"{count} {outcome}" for outcome, count in outcomes.items())
    times = (
        f"median {duration(english, median)}, 95th percentile {duration(english, p95)}"
        if median is not None and p95 is not None
        else "no finished job yet"
    )
    return (
        f"Queue: {waiting} waiting, {running} painting · workers alive: {workers}\n"
        f"Today (UTC): {ended}\n"
        f"Job time: {times}\n"
        f"DATA_DIR: {disk_mb:.1f} MB"
    )


# ---- no painter online (the Redis queue, while every stylebot-worker is away) --------------

#: Under the queue position while no painter is online: the job waits, nothing is lost.
NO_PAINTER_YET = N_("No painter is online yet: your picture starts as soon as one is.")
#: Why a job ended after ``jobqueue.NO_PAINTER_GIVE_UP_SECONDS`` without any painter.
NO_PAINTER_GAVE_UP = N_(
    "No painter came online for {wait}, so I stopped waiting. Please try again in a while."
)
