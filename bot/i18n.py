"""The chat's languages: which one a user gets, and a translator for it.

Sentences are written once, in English, in ``bot/texts.py`` (the gettext *msgids*); each other
language has a gettext catalog, ``bot/locales/<lang>/LC_MESSAGES/messages.po``. The ``.po``
files are the only thing committed: each is compiled in memory with Babel the first time its
language is needed, so a fresh clone runs with no build step.

A user speaks the language they chose with /language (kept in ``DATA_DIR``), else the one
their Telegram app reports (``language_code``) when the bot has it, else English.

After changing a sentence in ``bot/texts.py``, refresh the catalogs and translate what is new
(``tests/test_bot_languages.py`` fails until every message is translated)::

    .venv/bin/pybabel extract -k N_ -o /tmp/messages.pot --no-location --omit-header bot
    .venv/bin/pybabel update -i /tmp/messages.pot -d bot/locales -D messages -w 100
"""

from __future__ import annotations

import functools
import gettext
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
DEFAULT = "en"
#: Every language of the chat, each named as its speakers write it (the /language buttons).
LANGUAGES: dict[str, str] = {"en": "English", "ru": "Русский"}


class Translator:
    """One language's sentences: ``t(texts.INTRO)``, ``t.ngettext(one, many, n)``."""

    def __init__(self, language: str, catalog: gettext.NullTranslations) -> None:
        self.language = language
        self._catalog = catalog

    def __call__(self, message: str) -> str:
        return self._catalog.gettext(message)

    def gettext(self, message: str) -> str:
        return self._catalog.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The form for ``n`` (Russian has three), chosen by the catalog's plural rule."""
        return self._catalog.ngettext(singular, plural, n)

    def __repr__(self) -> str:
        return f"Translator({self.language!r})"


def catalog_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translator(language: str | None) -> Translator:
    """The translator for ``language`` (a code of :data:`LANGUAGES`); English otherwise."""
    language = language if language in LANGUAGES else DEFAULT
    if language == DEFAULT:
        return Translator(language, gettext.NullTranslations())
    with catalog_path(language).open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)  # a fuzzy (unchecked) entry stays English
    compiled.seek(0)
    return Translator(language, gettext.GNUTranslations(compiled))


def language_of(language_code: str | None) -> str:
    """The chat language for a Telegram ``language_code`` ("ru", "ru-RU", "pt-br", None)."""
    if not language_code:
        return DEFAULT
    base = language_code.replace("_", "-").split("-", 1)[0].lower()
    return base if base in LANGUAGES else DEFAULT


def pick(chosen: str | None, language_code: str | None) -> Translator:
    """The user's translator: their /language choice, else their Telegram app's language."""
    return translator(chosen if chosen in LANGUAGES else language_of(language_code))


ENGLISH = translator(DEFAULT)
