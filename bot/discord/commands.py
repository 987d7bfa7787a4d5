"""The slash commands, in the languages of the chat: the same commands as on Telegram, and
/paint for servers, where a bot cannot read ordinary messages (that needs a privileged
intent) and so takes the whole pair in one command."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import Choice, TranslationContextLocation, locale_str

from jobqueue import Strength

from .. import i18n, texts
from ..gallery import Gallery
from ..handlers import COMMANDS
from ..turns import CommandHandler

#: Commands not offered on Discord: /stats would show in everyone's command list.
HIDDEN = frozenset({"stats"})

#: Names in other languages (Discord lets each locale see its own), by language.
NAMES: dict[str, dict[str, str]] = {
    "ru": {
        "start": "старт",
        "help": "помощь",
        "status": "статус",
        "cancel": "отмена",
        "styles": "картины",
        "settings": "настройки",
        "language": "язык",
        "paint": "нарисовать",
        "content": "фото",
        "style": "стиль",
        "painting": "картина",
        "strength": "сила",
    }
}

#: Runs a command's handler for an interaction (``bot.discord.app`` knows how).
Run = Callable[[discord.Interaction, CommandHandler], Awaitable[None]]
#: Runs /paint: the photo, the style (a picture or a painting's index), the strength.
Paint = Callable[
    [discord.Interaction, discord.Attachment, discord.Attachment | int | None, Strength],
    Awaitable[None],
]


class CommandTexts(app_commands.Translator):
    """Commands' names, descriptions and choices in each language of ``bot.i18n``: the
    descriptions from the same catalogs as every sentence, the names from :data:`NAMES`."""

    async def translate(
        self,
        string: locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        language = i18n.language_of(locale.value)
        if language == i18n.DEFAULT:
            return None
        names = (TranslationContextLocation.command_name, TranslationContextLocation.parameter_name)
        if context.location in names:
            return NAMES.get(language, {}).get(string.message)
        return i18n.translator(language)(string.message)


def register(
    tree: app_commands.CommandTree[discord.Client], run: Run, paint: Paint, gallery: Gallery
) -> None:
    """Every command on ``tree``: each of ``bot.handlers.COMMANDS`` (but :data:`HIDDEN`)
    runs its handler through ``run``; /paint calls ``paint``."""
    for name, handler in COMMANDS.items():
        if name not in HIDDEN:
            tree.add_command(_command(name, handler, run))

    strengths = [Choice(name=locale_str(texts.STRENGTH_LABELS[s]), value=s.value) for s in Strength]
    paintings = [
        Choice(name=f"{p.title} ({p.artist})"[:100], value=index)
        for index, p in enumerate(gallery.paintings[:25])
    ]

    @tree.command(name=locale_str("paint"), description=locale_str(texts.PAINT_DESCRIPTION))
    @app_commands.describe(
        content=locale_str(texts.PAINT_CONTENT),
        strength=locale_str(texts.PAINT_STRENGTH),
        style=locale_str(texts.PAINT_STYLE),
        painting=locale_str(texts.PAINT_PAINTING),
    )
    @app_commands.rename(
        content=locale_str("content"),
        strength=locale_str("strength"),
        style=locale_str("style"),
        painting=locale_str("painting"),
    )
    @app_commands.choices(strength=strengths)
    @app_commands.choices(painting=paintings)
    async def paint_command(
        interaction: discord.Interaction,
        content: discord.Attachment,
        strength: Choice[str],
        style: discord.Attachment | None = None,
        painting: Choice[int] | None = None,
    ) -> None:
        chosen = style if style is not None else painting.value if painting else None
        await paint(interaction, content, chosen, Strength(strength.value))


def _command(name: str, handler: CommandHandler, run: Run) -> app_commands.Command[Any, ..., None]:
    description = texts.COMMAND_DESCRIPTIONS.get(name, name)

    async def callback(interaction: discord.Interaction) -> None:
        await run(interaction, handler)

    return app_commands.Command(
        name=locale_str(name), description=locale_str(description), callback=callback
    )
