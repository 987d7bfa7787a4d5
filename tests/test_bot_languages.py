"""The chat in English and Russian: the catalogs are complete, and users get their language.

The catalog tests read ``bot/locales`` and extract the msgids from ``bot/`` with Babel, as
``pybabel extract`` would (see ``bot/i18n.py``). The chat tests drive the bot as the others do,
with the user's Telegram app set to Russian (``user_speaks``) or the language chosen with
/language.
"""

from __future__ import annotations

import inspect
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from bot import i18n, jobs, texts
from bot.i18n import ENGLISH
from engine import StyleOptions
from jobqueue import FAILURE_MESSAGE, Failed, JobOrder, Note, NoteCode, PaintRefused, Size, Strength
from pictures import ImageError, ImageProblem, load_image
from tests.botapi import BotApiServer, BotMessage
from tests.chat import ALICE, BOB, StartBot, labels, painting, progress_noted
from tests.pictures import encode, gradient, png_claiming, stripes
from worker.painter import EnginePainter

BOT = Path(__file__).resolve().parents[1] / "bot"
RU = i18n.translator("ru")
OTHER_LANGUAGES = [code for code in i18n.LANGUAGES if code != i18n.DEFAULT]
#: Constants of ``texts`` that read the same in every language, so need no catalog entry.
NEUTRAL = {"PREVIOUS_BUTTON", "NEXT_BUTTON"}
RESULT_TIMEOUT = 120
#: What the engine says, for a program, of a 16×16 picture.
TOO_SMALL_PARAMS = {"width": 16, "height": 16, "min_side": 32}


def catalog(language: str) -> Catalog:
    with i18n.catalog_path(language).open("rb") as po:
        return read_po(po, locale=language, domain=i18n.DOMAIN)


def forms(value: str | tuple[str, ...] | list[str] | None) -> list[str]:
    if value is None:
        return [""]
    return [value] if isinstance(value, str) else list(value)


def placeholders(text: str) -> set[str]:
    """``{name}`` (str.format, ``{}`` too) and ``%(name)s`` placeholders."""
    return set(re.findall(r"\{(\w*)\}", text)) | set(re.findall(r"%\((\w+)\)[sd]", text))


def extracted() -> set[str]:
    """Every msgid the code marks (``N_``, ``gettext``, ``ngettext``), as pybabel sees it."""
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    found = extract_from_dir(BOT, [("**.py", "python")], keywords=keywords)
    return {forms(message)[0] for _, _, message, _, _ in found}


# ---- the catalogs ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_every_message_is_translated_with_the_same_placeholders(language: str):
    messages = [message for message in catalog(language) if message.id]
    assert messages
    problems = []
    for message in messages:
        ids, strings = forms(message.id), forms(message.string)
        wanted = set().union(*(placeholders(text) for text in ids))
        if message.fuzzy:
            problems.append(f"fuzzy (not checked by a translator): {ids[0]!r}")
        if not all(strings):
            problems.append(f"untranslated: {ids[0]!r}")
        for string in strings:
            if string and placeholders(string) != wanted:
                problems.append(f"placeholders differ: {ids[0]!r} -> {string!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_the_catalog_holds_exactly_the_messages_the_code_uses(language: str):
    known = {forms(message.id)[0] for message in catalog(language) if message.id}
    used = extracted()
    how = "refresh the catalog as bot/i18n.py says, then translate what is new"
    assert not used - known, f"not in the {language} catalog ({how}): {sorted(used - known)}"
    assert not known - used, f"in the {language} catalog but unused: {sorted(known - used)}"
    assert not catalog(language).obsolete, "drop the obsolete (#~) entries"


def constants() -> Iterator[tuple[str, str]]:
    """Every sentence ``texts`` holds as a constant, dictionaries' values included."""
    for name, value in vars(texts).items():
        if not name.isupper() or name in NEUTRAL:
            continue
        if isinstance(value, str):
            yield name, value
        elif isinstance(value, dict):
            yield from ((f"{name}[{key}]", text) for key, text in value.items())


def test_every_sentence_of_texts_is_marked_for_the_catalog():
    used = extracted()
    unmarked = [name for name, text in constants() if text not in used]
    assert not unmarked, f"wrap these in N_(...): {unmarked}"


def test_every_constant_reads_differently_in_russian():
    same = [name for name, text in constants() if RU(text) == text and "{" not in text]
    assert not same, f"Russian reads like English: {same}"


#: Sample arguments for every function of ``texts`` that words something (after ``t``);
#: a function with branches gets a sample for each.
SAMPLES: dict[str, list[tuple[Any, ...]]] = {
    "painting_caption": [("The Kiss", "Gustav Klimt", "1907–1908", 2, 12)],
    "too_big": [(20,)],
    "image_problem": [
        ("too_small", {"width": 16, "height": 16, "min_side": 32}),
        ("no such code", {}),
        ("too_small", {}),  # numbers missing: the general sentence, never a crash
    ],
    "size_button": [(Size.LARGE, 768)],
    "preferences_panel": [
        (Size.LARGE, 768, True, Strength.STRONG),
        (Size.SMALL, 256, False, "medium", False),
    ],
    "queued": [(0,), (1,), (3,), (7,)],
    "painting": [(0.4, 1, 2, 50)],
    "done": [(79,)],
    "status_queued": [(0,), (2,)],
    "status_painting": [(0.4, 50)],
    "result_caption": [(Strength.MEDIUM, (384, 288), 77)],
    "faces_kept": [(1,), (2,), (5,)],
    "made_smaller": [(358, 512)],
    "duration": [(7,), (65,), (120,), (3600,), (18720,)],
    "too_many_pictures": [(40,)],
    "daily_quota": [(1, 600), (3, 600), (25, 18720)],
}
#: Functions that word nothing themselves (or, /stats, speak English to the operator).
NOT_WORDING = {"N_", "marked", "with_hint", "percent", "stats"}


def test_every_sentence_function_speaks_russian():
    functions = {
        name
        for name, function in inspect.getmembers(texts, inspect.isfunction)
        if function.__module__ == texts.__name__ and not name.startswith("_")
    }
    assert functions - NOT_WORDING == set(SAMPLES), "add samples for new functions here"
    for name, samples in SAMPLES.items():
        function: Callable[..., str] = getattr(texts, name)
        for arguments in samples:
            english, russian = function(ENGLISH, *arguments), function(RU, *arguments)
            assert "{" not in russian and re.search("[а-я]", russian), russian
            # No English word is left over, but for names and formats (given or kept).
            kept = LATIN_IN_RUSSIAN | set(latin_words(" ".join(map(str, arguments))))
            left = set(latin_words(russian)) & set(latin_words(english)) - kept
            assert not left, f"{name}{arguments} is partly English in Russian: {russian!r}"


#: Latin words a Russian sentence keeps: formats, units, commands.
LATIN_IN_RUSSIAN = {"JPEG", "PNG", "WebP", "GIF", "HEIC", "px", "language", "settings"}


def latin_words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z]{2,}", text)


def test_russian_numbers_take_the_right_form():
    assert texts.queued(RU, 1) == "В очереди: перед вами 1 картинка."
    assert texts.queued(RU, 3) == "В очереди: перед вами 3 картинки."
    assert texts.queued(RU, 11) == "В очереди: перед вами 11 картинок."
    assert texts.queued(RU, 21) == "В очереди: перед вами 21 картинка."
    assert texts.duration(RU, 77) == "1 мин 17 с"
    assert (
        texts.result_caption(RU, Strength.MEDIUM, (384, 288), 77, colours_kept=True)
        == "Средний стиль · 384×288 px · цвета фото сохранены · 1 мин 17 с"
    )


def test_a_user_gets_their_apps_language_or_english():
    assert [i18n.language_of(code) for code in ("ru", "ru-RU", "RU", "en-GB", "de", None)] == [
        "ru",
        "ru",
        "ru",
        "en",
        "en",
        "en",
    ]
    assert i18n.pick(None, "ru").language == "ru"
    assert i18n.pick("en", "ru").language == "en"  # chosen with /language: it wins
    assert i18n.pick("xx", "ru").language == "ru"  # a language this version no longer has


# ---- the engine's objections, worded by the bot ---------------------------------------------


def objections(tmp_path: Path) -> dict[ImageProblem, Callable[[], object]]:
    """A real input for each thing the engine can find wrong with an image."""
    return {
        ImageProblem.UNREADABLE: lambda: load_image(b"just some notes, honestly"),
        ImageProblem.NO_FILE: lambda: load_image(tmp_path / "missing.png"),
        ImageProblem.FILE_TOO_LARGE: lambda: load_image(b"\xff" * (50 * 1024 * 1024 + 1)),
        ImageProblem.TOO_MANY_PIXELS: lambda: load_image(png_claiming(8000, 8000)),
        ImageProblem.BOMB: lambda: load_image(png_claiming(60_000, 60_000)),
        ImageProblem.TOO_SMALL: lambda: load_image(encode(gradient(16, 16))),
        ImageProblem.TOO_THIN: lambda: load_image(encode(gradient(400, 32))),
    }


def test_every_engine_objection_is_worded_in_each_language(tmp_path: Path):
    cases = objections(tmp_path)
    assert set(cases) == set(ImageProblem) == set(texts.IMAGE_PROBLEMS)
    for problem, load in cases.items():
        with pytest.raises(ImageError) as raised:
            load()
        error = raised.value
        assert error.code is problem
        # The bot's English is the engine's own sentence, numbers and all.
        assert texts.image_problem(ENGLISH, error.code, error.params) == str(error)
        russian = texts.image_problem(RU, error.code, error.params)
        assert russian != str(error) and "{" not in russian
        for number in re.findall(r"\d+", str(error)):
            assert number in russian, f"{problem}: {number} is missing from {russian!r}"


def test_a_failed_job_is_explained_in_the_users_language():
    refused = Failed("This image is too small (16×16).", "too_small", TOO_SMALL_PARAMS)
    assert jobs.why(RU, refused).startswith("Изображение слишком маленькое (16×16)")
    assert jobs.why(ENGLISH, refused).startswith("This image is too small (16×16)")
    assert jobs.why(RU, Failed(FAILURE_MESSAGE)) == RU(texts.PAINTING_WENT_WRONG)
    assert jobs.why(RU, Failed("A painter's own words.")) == "A painter's own words."
    gpu_note = Note(NoteCode.MADE_SMALLER, {"made": 358, "asked": 512})
    assert jobs.note(ENGLISH, gpu_note) == (
        "Made at 358 px instead of 512 px: the GPU ran out of memory."
    )
    assert jobs.note(RU, gpu_note) == texts.made_smaller(RU, 358, 512)


def test_the_engine_painter_passes_the_objection_on():
    painter = EnginePainter(StyleOptions(device="cpu", max_side=64))
    tiny = encode(gradient(16, 16))
    with pytest.raises(PaintRefused) as raised:
        painter(tiny, encode(stripes()), JobOrder(), lambda _: None, threading.Event())
    assert raised.value.failed() == Failed(str(raised.value), "too_small", TOO_SMALL_PARAMS)


# ---- in the chat ----------------------------------------------------------------------------


def ru(message: str) -> str:
    return RU(message)


@pytest.mark.slow
async def test_a_russian_user_is_answered_in_russian_from_start_to_result(
    start_bot: StartBot, telegram: BotApiServer
):
    telegram.user_speaks(ALICE, "ru-RU")
    async with start_bot():
        english = [c["description"] for c in telegram.commands()]
        russian = [c["description"] for c in telegram.commands(language_code="ru")]
        assert english == [texts.COMMAND_DESCRIPTIONS[c["command"]] for c in telegram.commands()]
        assert russian == [ru(text) for text in english] and russian != english

        sent = telegram.user_sends_command(ALICE, "/start")
        assert (await telegram.await_message(ALICE, after=sent)).body == ru(texts.INTRO)

        sent = telegram.user_sends_photo(ALICE, encode(gradient(16, 16)))  # the engine refuses
        refusal = await telegram.await_message(ALICE, after=sent)
        assert refusal.body == texts.with_hint(
            texts.image_problem(RU, "too_small", TOO_SMALL_PARAMS), ru(texts.NEED_CONTENT)
        )

        sent = telegram.user_sends_photo(ALICE, encode(gradient(72, 40)))
        got = await telegram.await_message(ALICE, after=sent)
        assert got.body == ru(texts.GOT_CONTENT)
        assert labels(got) == [ru(texts.GALLERY_BUTTON)]
        sent = telegram.user_sends_photo(ALICE, encode(stripes()))
        pair = await telegram.await_message(ALICE, after=sent, kind="photo")
        assert pair.body == ru(texts.PAIR_READY)
        assert labels(pair) == ["Слабый", "• Средний", "Сильный", "⇄ Поменять", "✕ Отмена"]

        press = telegram.user_presses_button(ALICE, pair.message_id, label="Средний")
        assert await telegram.await_button_answer(press) == ru(texts.QUEUED_NOTE)
        progress = await telegram.await_message(ALICE, after=press, kind="photo")
        assert progress.body.startswith(("В очереди", "Рисую…"))
        assert labels(progress) == [ru(texts.STOP_BUTTON)]

        photo = await telegram.await_message(
            ALICE, kind="photo", contains="Средний стиль", timeout=RESULT_TIMEOUT
        )
        assert photo.body.startswith("Средний стиль · 64×36 px · ")
        assert photo.body.endswith(" с") or photo.body.endswith(" мин")
        document = await telegram.await_message(ALICE, after=photo.seq, kind="document")
        assert document.body == ru(texts.RESULT_FILE)
        assert labels(document)[:3] == ["− Слабее", "+ Сильнее", "Новая пара"]
        assert all(re.search("[А-Яа-я]", label) for label in labels(document))
        done = telegram.message(ALICE, progress.message_id)
        assert done.body.startswith("Готово за ")
        assert any("этап 1 из 1" in body for _, body in done.versions if "%" in body)

        sent = telegram.user_sends_command(ALICE, "/status")
        reply = await telegram.await_message(ALICE, after=sent)
        assert reply.body == texts.with_hint(ru(texts.STATUS_IDLE), ru(texts.READY))

        # Someone else in English meanwhile: each user their own language.
        sent = telegram.user_sends_command(BOB, "/start")
        assert (await telegram.await_message(BOB, after=sent)).body == texts.INTRO


async def choose_language(telegram: BotApiServer, user: int, label: str) -> BotMessage:
    """/language, then the button ``label``: the message as the press left it."""
    sent = telegram.user_sends_command(user, "/language")
    prompt = await telegram.await_message(user, after=sent)
    press = telegram.user_presses_button(user, prompt.message_id, label=label)
    await telegram.await_button_answer(press)
    return await telegram.await_edit(user, prompt.message_id, after=press)


async def intro(telegram: BotApiServer, user: int) -> str:
    sent = telegram.user_sends_command(user, "/start")
    return (await telegram.await_message(user, after=sent)).body


@pytest.mark.slow
async def test_language_switches_to_russian_and_back_and_survives_a_restart(
    start_bot: StartBot, telegram: BotApiServer
):
    async with start_bot():  # an English app
        sent = telegram.user_sends_command(ALICE, "/language")
        prompt = await telegram.await_message(ALICE, after=sent)
        assert prompt.body == texts.LANGUAGE_PROMPT
        assert labels(prompt) == ["• English", "Русский"]

        chosen = await choose_language(telegram, ALICE, "Русский")
        assert (
            chosen.body
            == ru(texts.LANGUAGE_CHOSEN)
            == ("Готово: теперь я говорю по-русски. /language снова сменит язык.")
        )
        assert labels(chosen) == ["English", "• Русский"]
        assert await intro(telegram, ALICE) == ru(texts.INTRO)
        assert await intro(telegram, BOB) == texts.INTRO  # only Alice chose

    async with start_bot():  # the choice is kept in DATA_DIR
        assert await intro(telegram, ALICE) == ru(texts.INTRO)
        sent = telegram.user_sends_command(ALICE, "/language")
        prompt = await telegram.await_message(ALICE, after=sent)
        assert prompt.body == ru(texts.LANGUAGE_PROMPT)

        chosen = await choose_language(telegram, ALICE, "English")
        assert chosen.body == texts.LANGUAGE_CHOSEN
        assert await intro(telegram, ALICE) == texts.INTRO

    telegram.user_speaks(BOB, "ru")
    async with start_bot():
        assert await intro(telegram, ALICE) == texts.INTRO  # chosen: whatever the app says
        chosen = await choose_language(telegram, BOB, "English")  # a Russian app, English chosen
        assert chosen.body == texts.LANGUAGE_CHOSEN
        assert await intro(telegram, BOB) == texts.INTRO


@pytest.mark.slow
async def test_a_job_speaks_its_users_language_across_a_restart(
    start_bot: StartBot, telegram: BotApiServer
):
    telegram.user_speaks(ALICE, "ru")
    async with start_bot(engine_steps=400) as application:  # stopped while it paints
        pair = await send_two_pictures(telegram, ALICE)
        press = telegram.user_presses_button(ALICE, pair.message_id, label="Средний")
        assert await telegram.await_button_answer(press) == ru(texts.QUEUED_NOTE)
        progress = await telegram.await_message(ALICE, after=press, kind="photo")
        await painting(telegram, ALICE, progress.message_id)
        job = await application.bot_data.queue.job_of(str(ALICE))
        assert job is not None and job.meta["language"] == "ru"  # on the job's ticket
        await progress_noted(application, ALICE)
    assert telegram.message(ALICE, progress.message_id).body == ru(texts.RESTARTING)

    telegram.user_speaks(ALICE, "en")  # the app changed meanwhile: the job keeps its language
    async with start_bot():
        done = await telegram.await_edit(
            ALICE, progress.message_id, contains="Готово за ", timeout=RESULT_TIMEOUT
        )
        assert done.buttons == []
        photo = await telegram.await_message(ALICE, kind="photo", contains="Средний стиль")
        document = await telegram.await_message(ALICE, after=photo.seq, kind="document")
        assert document.body == ru(texts.RESULT_FILE)


async def send_two_pictures(telegram: BotApiServer, user: int) -> BotMessage:
    """``send_pair`` in any language: a photo, then a style; the pair."""
    sent = telegram.user_sends_photo(user, encode(gradient(72, 40)))
    await telegram.await_message(user, after=sent)
    sent = telegram.user_sends_photo(user, encode(stripes()))
    return await telegram.await_message(user, after=sent, kind="photo")
