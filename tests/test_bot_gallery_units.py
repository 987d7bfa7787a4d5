"""The gallery's handlers on their own, as a user meets them: /styles, ◀ ▶ on one message,
"Use this one"; through a fake chat platform that writes down every send and edit."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot import buttons, media, texts
from bot.buttons import Action, ButtonData
from bot.context import BotData
from bot.gallery import Gallery
from bot.handlers import gallery
from bot.i18n import ENGLISH
from bot.limits import Limits
from bot.messenger import Keyboard, Photo, Place, Posted, Trouble, Unreachable
from bot.sessions import SessionStore
from bot.turns import Person, Press, Turn
from config.settings import Secret, Settings
from tests.messengers import Unexpected
from tests.pictures import encode, gradient

ALICE = Person(1001)
CHAT = 1001
SHOWN = 55  # the message the gallery is shown in
TOKEN = "123456:TEST-token"


@dataclass
class Message:
    """A photo as the user sees it, sent or edited into place."""

    photo: Photo
    caption: str
    keyboard: Keyboard | None


@dataclass
class FakeChat(Unexpected):
    """The platform: photos and texts sent, photos edited; ``edit_failure`` refuses edits.
    A picture uploaded comes back with a file id; one sent by file id keeps it."""

    sent: list[Message] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    edits: list[Message] = field(default_factory=list)
    edit_failure: Trouble | None = None

    def _posted(self, photo: Photo) -> Posted:
        return Posted(SHOWN + len(self.sent), photo if isinstance(photo, str) else "file-id")

    async def send_photo(
        self, place: Place, photo: Photo, caption: str, keyboard: Keyboard | None = None
    ) -> Posted:
        assert place == Place(CHAT)
        self.sent.append(Message(photo, caption, keyboard))
        return self._posted(photo)

    async def send_text(self, place: Place, text: str, keyboard: Keyboard | None = None) -> Posted:
        assert place == Place(CHAT)
        self.texts.append(text)
        return Posted(SHOWN + 100)

    async def edit_photo(
        self,
        chat_id: int,
        message_id: int,
        photo: Photo,
        caption: str,
        keyboard: Keyboard | None = None,
    ) -> Posted:
        assert (chat_id, message_id) == (CHAT, SHOWN)
        if self.edit_failure is not None:
            raise self.edit_failure
        self.edits.append(Message(photo, caption, keyboard))
        return self._posted(photo)


@dataclass
class Answers:
    """How the bot answered the presses: (text, shown as an alert)."""

    given: list[tuple[str | None, bool]] = field(default_factory=list)

    async def __call__(self, text: str | None, alert: bool) -> None:
        self.given.append((text, alert))


@pytest.fixture
def data(tmp_path: Path) -> Iterator[BotData]:
    data = BotData()
    data.platform = "telegram"
    data.settings = Settings(bot_token=Secret(TOKEN), data_dir=tmp_path)
    data.button_key = buttons.button_key(TOKEN)
    data.sessions = SessionStore(tmp_path)
    data.sessions.open()
    data.gallery = Gallery(tmp_path)
    data.limits = Limits(
        tmp_path, pictures_per_minute=2, jobs_per_day=0, data_max_mb=0, clock=lambda: 1000.0
    )
    data.limits.open()
    yield data
    data.limits.close()
    data.sessions.close()


def caption(data: BotData, index: int) -> str:
    painting = data.gallery[index]
    return texts.painting_caption(
        ENGLISH, painting.title, painting.artist, painting.year, index + 1, len(data.gallery)
    )


def keyboard(data: BotData, index: int, person: Person = ALICE) -> Keyboard:
    owner = buttons.Owner(person.user_id, data.button_key)
    return buttons.gallery_keyboard(ENGLISH, owner, index, len(data.gallery))


def command(chat: FakeChat, person: Person = ALICE) -> Turn:
    return Turn(person, CHAT, in_group=False, message_id=None, messenger=chat)


def press(
    chat: FakeChat,
    action: Action,
    index: int,
    *,
    answers: Answers | None = None,
    on_photo: bool = True,
    person: Person = ALICE,
) -> Press:
    return Press(
        person,
        CHAT,
        in_group=False,
        message_id=SHOWN,
        messenger=chat,
        button=ButtonData(action, f"{index:x}"),
        sealed="",
        shows_photo=on_photo,
        answer_press=answers or Answers(),
    )


def picture() -> bytes:
    return encode(gradient(64, 48))


# ---- /styles and browsing ----------------------------------------------------------------------


async def test_styles_shows_the_first_painting_with_its_buttons_and_uploads_it_once(
    data: BotData,
):
    chat = FakeChat()
    await gallery.styles(command(chat), data)
    first = data.gallery[0]
    assert chat.sent == [Message(first.path.read_bytes(), caption(data, 0), keyboard(data, 0))]
    assert caption(data, 0).endswith(f"1 of {len(data.gallery)}")

    await gallery.styles(command(chat), data)
    assert chat.sent[1].photo == "file-id", "shown again by the platform's file id"
    assert Gallery(data.settings.data_dir).photo(first) == "file-id", "kept over a restart"


async def test_next_and_previous_show_another_painting_in_the_same_message(data: BotData):
    chat, answers = FakeChat(), Answers()
    await gallery.browse(press(chat, Action.GALLERY, 1, answers=answers), data)
    last = len(data.gallery) - 1
    await gallery.browse(press(chat, Action.GALLERY, last, answers=answers), data)

    second = data.gallery[1]
    assert chat.sent == []
    assert chat.edits == [
        Message(second.path.read_bytes(), caption(data, 1), keyboard(data, 1)),
        Message(data.gallery[last].path.read_bytes(), caption(data, last), keyboard(data, last)),
    ]
    assert caption(data, last).endswith(f"{len(data.gallery)} of {len(data.gallery)}")
    assert answers.given == [(None, False), (None, False)], "each press is answered, quietly"
    assert data.gallery.photo(second) == "file-id", "an uploaded painting is uploaded once"


async def test_browsing_past_the_end_comes_round_to_the_first(data: BotData):
    chat = FakeChat()
    await gallery.browse(press(chat, Action.GALLERY, len(data.gallery) + 2), data)
    assert chat.edits == [
        Message(data.gallery[2].path.read_bytes(), caption(data, 2), keyboard(data, 2))
    ]


async def test_the_gallery_button_under_a_text_message_sends_the_painting_anew(data: BotData):
    chat, answers = FakeChat(), Answers()
    await gallery.browse(press(chat, Action.GALLERY, 0, answers=answers, on_photo=False), data)
    assert chat.edits == []
    assert chat.sent == [
        Message(data.gallery[0].path.read_bytes(), caption(data, 0), keyboard(data, 0))
    ]
    assert answers.given == [(None, False)]


async def test_a_press_on_a_message_the_bot_cannot_name_sends_the_painting_anew(data: BotData):
    chat = FakeChat()
    on_nothing = press(chat, Action.GALLERY, 3)
    object.__setattr__(on_nothing, "message_id", None)  # e.g. an inline message
    await gallery.browse(on_nothing, data)
    assert chat.edits == [] and [message.caption for message in chat.sent] == [caption(data, 3)]


async def test_a_painting_that_cannot_be_shown_in_place_is_sent_as_a_new_message(
    data: BotData, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger="bot.handlers.gallery")
    chat = FakeChat(edit_failure=Unreachable("message can't be edited"))
    await gallery.browse(press(chat, Action.GALLERY, 4), data)
    assert chat.sent == [
        Message(data.gallery[4].path.read_bytes(), caption(data, 4), keyboard(data, 4))
    ]
    assert [r.getMessage() for r in caplog.records if r.name == "bot.handlers.gallery"] == [
        "Could not show the next painting in place (message can't be edited)"
    ], "one line for the operator, not an error"


# ---- "Use this one" ----------------------------------------------------------------------------


async def test_a_painting_chosen_before_the_photo_is_kept_until_the_photo_comes(data: BotData):
    chat, answers = FakeChat(), Answers()
    await gallery.use_painting(press(chat, Action.USE_PAINTING, 2, answers=answers), data)
    assert answers.given == [(ENGLISH(texts.PAINTING_CHOSEN_NOTE), False)]
    assert chat.texts == [ENGLISH(texts.PAINTING_KEPT)] and chat.sent == []
    style = data.sessions.get(CHAT, ALICE.user_id).style
    assert style is not None
    assert style.path.read_bytes() == data.gallery[2].path.read_bytes()
    assert style.path.suffix == data.gallery[2].path.suffix


async def test_a_painting_chosen_after_the_photo_makes_the_pair(data: BotData):
    chat = FakeChat()
    session = data.sessions.get(CHAT, ALICE.user_id)
    session.add(await media.store_picture(picture(), session.new_file(".png")))
    await gallery.use_painting(press(chat, Action.USE_PAINTING, 1), data)
    assert [message.caption for message in chat.sent] == [ENGLISH(texts.PAIR_READY)]
    assert chat.texts == []


async def test_another_painting_replaces_the_style_of_the_pair(data: BotData):
    chat = FakeChat()
    session = data.sessions.get(CHAT, ALICE.user_id)
    session.add(await media.store_picture(picture(), session.new_file(".png")))
    await gallery.use_painting(press(chat, Action.USE_PAINTING, 1), data)
    await gallery.use_painting(press(chat, Action.USE_PAINTING, 3), data)
    assert [message.caption for message in chat.sent] == [
        ENGLISH(texts.PAIR_READY),
        ENGLISH(texts.STYLE_REPLACED),
    ]


async def test_a_chosen_painting_counts_towards_the_picture_rate(data: BotData):
    chat, answers = FakeChat(), Answers()
    for index in (1, 2, 3):  # two pictures a minute (the fixture's limit)
        await gallery.use_painting(press(chat, Action.USE_PAINTING, index, answers=answers), data)
    assert answers.given[-1] == (texts.too_many_pictures(ENGLISH, 60), True), "as an alert"
    assert chat.texts == [ENGLISH(texts.PAINTING_KEPT)] * 2, "the third is not taken"
    style = data.sessions.get(CHAT, ALICE.user_id).style
    assert style is not None and style.path.read_bytes() == data.gallery[2].path.read_bytes()
