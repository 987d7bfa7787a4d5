"""Self-test of the fake Discord: the real discord.py client must work against it unchanged."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from PIL import Image

from tests.discordapi import DiscordApiServer, Upload, discord_py_pointed_at
from tests.discordapi.records import LOADING, Button

#: discord.py waits this long after the last GUILD_CREATE before on_ready (default 2 s).
GUILD_READY_TIMEOUT = 0.05


def _png(width: int, height: int, color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def fake() -> Iterator[DiscordApiServer]:
    with DiscordApiServer() as server, discord_py_pointed_at(server):
        yield server
    assert not server.internal_errors, "\n".join(server.internal_errors)


def _client(**options: Any) -> discord.Client:
    intents = options.pop("intents", discord.Intents.default())
    return discord.Client(intents=intents, guild_ready_timeout=GUILD_READY_TIMEOUT, **options)


@contextlib.asynccontextmanager
async def connected(client: discord.Client, fake: DiscordApiServer) -> AsyncIterator[None]:
    """Log in, connect on this event loop, wait for on_ready; close cleanly afterwards."""
    await client.login(fake.token)
    task = asyncio.create_task(client.connect())
    try:
        await asyncio.wait_for(client.wait_until_ready(), timeout=5)
        yield
    finally:
        await client.close()
        await asyncio.wait_for(task, timeout=5)
        await _until(lambda: not any(c.open for c in fake.connections()))  # the fake saw it


# ---- login and the gateway -------------------------------------------------------------------


async def test_client_logs_in_identifies_and_gets_ready(fake: DiscordApiServer) -> None:
    guild = fake.add_guild("Painters", channels=("general", "gallery"), locale="ru")
    intents = discord.Intents.default()
    client = _client(intents=intents)
    async with connected(client, fake):
        assert client.user is not None and client.user.id == fake.bot_user.id
        assert client.application_id == fake.application_id
        [seen] = client.guilds
        assert (seen.id, seen.name, seen.preferred_locale) == (
            guild.id,
            "Painters",
            discord.Locale.russian,
        )
        assert [channel.name for channel in seen.text_channels] == ["general", "gallery"]
        assert seen.me is not None  # the bot's own member came with GUILD_CREATE

    [connection] = fake.connections()
    assert connection.path == "/gateway"
    assert connection.query["v"] == "10" and connection.compress == "zlib-stream"
    assert connection.kind == "identify" and connection.identify is not None
    assert connection.identify["token"] == fake.token
    assert connection.intents == intents.value
    assert connection.heartbeats >= 1  # discord.py beats once right after HELLO
    assert connection.closed_by == "client" and not connection.open
    assert [call.route for call in fake.calls()][:2] == ["get_current_user", "get_application"]


async def test_wrong_token_and_privileged_intents_are_refused(fake: DiscordApiServer) -> None:
    stranger = _client()
    with pytest.raises(discord.LoginFailure):
        await stranger.login("not-the-token")
    await stranger.close()

    client = _client(intents=discord.Intents.default() | discord.Intents(message_content=True))
    await client.login(fake.token)
    with pytest.raises(discord.PrivilegedIntentsRequired):
        await asyncio.wait_for(client.connect(), timeout=5)
    await client.close()
    assert fake.connections()[-1].closed_code == 4014


@pytest.mark.parametrize("how", ["close 4000", "network drop"])
async def test_lost_socket_is_resumed_and_missed_events_replayed(
    fake: DiscordApiServer, how: str
) -> None:
    alice = fake.add_user("alice")
    received: list[str] = []
    client = _client()

    @client.event
    async def on_message(message: discord.Message) -> None:
        received.append(message.content)

    async with connected(client, fake):
        first = fake.user_sends_message(alice, fake.dm(alice), "before")
        await _until(lambda: received == ["before"])
        if how == "close 4000":
            fake.close_gateway(4000)
        else:
            fake.drop_gateway()
        fake.user_sends_message(alice, fake.dm(alice), "while away")  # kept for the RESUME
        resumed = await fake.await_ready(after=first, resumed=True, timeout=5)
        await _until(lambda: received == ["before", "while away"])

    original = fake.connections()[0]
    assert original.closed_by == "server"
    assert resumed.path == "/resume"  # READY's resume_gateway_url, not the first URL
    assert resumed.session_id == original.session_id
    assert resumed.resume_seq == 2  # it had READY and "before"; "while away" was replayed


async def _until(condition: Any, timeout: float = 5) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


# ---- messages and attachments ----------------------------------------------------------------


async def test_dm_with_image_is_received_and_downloaded(fake: DiscordApiServer) -> None:
    alice = fake.add_user("alice")
    photo = _png(48, 32)
    got: dict[str, Any] = {}
    client = _client()

    @client.event
    async def on_message(message: discord.Message) -> None:
        if message.author.bot:
            return
        [attachment] = message.attachments
        got.update(
            dm=isinstance(message.channel, discord.DMChannel),
            text=message.content,
            meta=(attachment.filename, attachment.content_type, attachment.size),
            shape=(attachment.width, attachment.height),
            data=await attachment.read(),
        )
        await message.channel.send(f"got {len(got['data'])} bytes")

    async with connected(client, fake):
        sent = fake.user_sends_message(
            alice, fake.dm(alice), "my photo", attachments=[("me.png", photo, "image/png")]
        )
        reply = await fake.await_message(fake.dm(alice), after=sent, timeout=5)

    assert got == {
        "dm": True,
        "text": "my photo",
        "meta": ("me.png", "image/png", len(photo)),
        "shape": (48, 32),
        "data": photo,
    }
    assert reply.content == f"got {len(photo)} bytes"
    assert fake.downloads() == [int(sent.payload["attachments"][0]["id"])]


async def test_claimed_size_is_reported_and_wrong_cdn_links_fail(fake: DiscordApiServer) -> None:
    alice = fake.add_user("alice")
    attachments: list[discord.Attachment] = []
    client = _client()

    @client.event
    async def on_message(message: discord.Message) -> None:
        attachments.extend(message.attachments)

    async with connected(client, fake):
        big = Upload("huge.png", _png(8, 8), "image/png", claimed_size=30 * 1024 * 1024)
        fake.user_sends_message(alice, fake.dm(alice), attachments=[big])
        await _until(lambda: bool(attachments))
        [attachment] = attachments
        assert attachment.size == 30 * 1024 * 1024  # checkable before any download
        forged = attachment.url.replace("hm=", "hm=0")
        with pytest.raises(discord.NotFound):
            await client.http.get_from_cdn(forged)
    assert fake.downloads() == []


def _pair_view() -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for label, custom_id, style in (
        ("Light", "strength:light", discord.ButtonStyle.secondary),
        ("Strong", "strength:strong", discord.ButtonStyle.primary),
        ("Cancel", "pair:cancel", discord.ButtonStyle.danger),
    ):
        view.add_item(discord.ui.Button(label=label, custom_id=custom_id, style=style))
    return view


async def test_message_with_file_and_buttons_then_edits_replace_and_keep_files(
    fake: DiscordApiServer,
) -> None:
    alice = fake.add_user("alice")
    first, second, third = _png(20, 10, "red"), _png(30, 20, "blue"), _png(40, 30, "green")
    client = _client()
    async with connected(client, fake):
        user = await client.fetch_user(alice.id)
        sent = await user.send(
            "Your pair", file=discord.File(io.BytesIO(first), "pair.png"), view=_pair_view()
        )
        replaced = await sent.edit(
            content="Painting… 40%", attachments=[discord.File(io.BytesIO(second), "preview.png")]
        )
        assert await replaced.attachments[0].read() == second
        kept = await replaced.edit(
            content="Done",
            attachments=[replaced.attachments[0], discord.File(io.BytesIO(third), "result.png")],
        )
        assert [a.filename for a in kept.attachments] == ["preview.png", "result.png"]

    message = fake.message(sent.id)
    assert message.channel_id == fake.dm(alice).id
    assert [v.content for v in message.versions] == ["Your pair", "Painting… 40%", "Done"]
    files = [[(a.filename, a.data) for a in v.attachments] for v in message.versions]
    assert files == [
        [("pair.png", first)],
        [("preview.png", second)],
        [("preview.png", second), ("result.png", third)],
    ]
    assert message.versions[1].attachments[0].id == message.versions[2].attachments[0].id
    assert [(a.content_type, a.width, a.height) for a in message.attachments] == [
        ("image/png", 30, 20),
        ("image/png", 40, 30),
    ]
    assert message.buttons == [  # an edit without a view keeps the buttons
        Button("Light", "strength:light", 2),
        Button("Strong", "strength:strong", 1),
        Button("Cancel", "pair:cancel", 4),
    ]
    assert message.image(1).size == (40, 30)


async def test_message_rules_are_discords(fake: DiscordApiServer) -> None:
    alice = fake.add_user("alice")
    client = _client()
    async with connected(client, fake):
        channel = await (await client.fetch_user(alice.id)).create_dm()
        with pytest.raises(discord.HTTPException) as too_long:
            await channel.send("x" * 2001)
        with pytest.raises(discord.HTTPException) as duplicated:
            view = discord.ui.View()
            view.add_item(discord.ui.Button(label="A", custom_id="same"))
            view.add_item(discord.ui.Button(label="B", custom_id="same"))
            await channel.send("two buttons", view=view)
        with pytest.raises(discord.HTTPException) as too_big:
            await channel.send(
                file=discord.File(io.BytesIO(b"x" * (10 * 1024 * 1024 + 1)), "big.bin")
            )
        fake.user_blocks_dms(alice)
        with pytest.raises(discord.Forbidden) as blocked:
            await channel.send("hello?")
    assert (too_long.value.code, duplicated.value.code) == (50035, 50035)
    assert "content" in str(too_long.value) and "custom id" in str(duplicated.value)
    assert (too_big.value.status, too_big.value.code) == (413, 40005)
    assert blocked.value.code == 50007
    assert fake.messages(fake.dm(alice)) == []


async def test_guild_message_content_needs_the_intent_or_a_mention(fake: DiscordApiServer) -> None:
    guild = fake.add_guild()
    alice = fake.add_user("alice")
    seen: list[tuple[str, int]] = []
    client = _client()

    @client.event
    async def on_message(message: discord.Message) -> None:
        if not message.author.bot:
            seen.append((message.content, len(message.attachments)))

    async with connected(client, fake):
        general = guild.channel("general")
        fake.user_sends_message(
            alice, general, "hello all", attachments=[("a.png", _png(4, 4), "image/png")]
        )
        fake.user_sends_message(alice, general, "paint this", mention_bot=True)
        await _until(lambda: len(seen) == 2)
    assert seen == [("", 0), (f"<@{fake.bot_user.id}> paint this", 0)]


# ---- interactions ----------------------------------------------------------------------------


_RUSSIAN = {
    "paint": "нарисовать",
    "Paint your photo in a painting's style": "Нарисовать фото в стиле картины",
    "content": "фото",
    "Your photo": "Ваше фото",
    "strength": "сила",
    "How strong": "Насколько сильно",
    "Light": "Слабо",
    "Strong": "Сильно",
}


class _Russian(app_commands.Translator):
    async def translate(
        self, string: app_commands.locale_str, locale: discord.Locale, context: Any
    ) -> str | None:
        return _RUSSIAN.get(string.message) if locale is discord.Locale.russian else None


def _paint_tree(client: discord.Client, seen: dict[str, Any]) -> app_commands.CommandTree[Any]:
    tree: app_commands.CommandTree[Any] = app_commands.CommandTree(client)
    _ = app_commands.locale_str

    @tree.command(name=_("paint"), description=_("Paint your photo in a painting's style"))
    @app_commands.describe(content=_("Your photo"), strength=_("How strong"))
    @app_commands.rename(content=_("content"), strength=_("strength"))
    @app_commands.choices(
        strength=[
            app_commands.Choice(name=_("Light"), value="light"),
            app_commands.Choice(name=_("Strong"), value="strong"),
        ]
    )
    async def paint(
        interaction: discord.Interaction,
        content: discord.Attachment,
        strength: app_commands.Choice[str],
    ) -> None:
        seen.update(
            locale=interaction.locale,
            guild_locale=interaction.guild_locale,
            strength=strength.value,
            attachment=(content.filename, content.size, content.content_type),
            limit=interaction.filesize_limit,
        )
        await interaction.response.defer(thinking=True)
        data = await content.read()
        await interaction.edit_original_response(
            content=f"Painted {len(data)} bytes",
            attachments=[discord.File(io.BytesIO(data), "result.png")],
        )

    return tree


async def test_command_registration_keeps_localizations(fake: DiscordApiServer) -> None:
    client = _client()
    tree = _paint_tree(client, {})
    await tree.set_translator(_Russian())
    async with connected(client, fake):
        synced = await tree.sync()
        again = await tree.sync()
        bad = [{"name": "paint", "description": "x", "name_localizations": {"en": "paint"}}]
        with pytest.raises(discord.HTTPException) as refused:
            await client.http.bulk_upsert_global_commands(fake.application_id, bad)

    paint = fake.command("paint")
    assert [c.id for c in synced] == [c.id for c in again] == [int(paint["id"])]
    assert paint["name_localizations"] == {"ru": "нарисовать"}
    assert paint["description_localizations"] == {"ru": "Нарисовать фото в стиле картины"}
    content, strength = paint["options"]
    assert (content["type"], content["required"], content["name_localizations"]) == (
        11,
        True,
        {"ru": "фото"},
    )
    assert strength["description_localizations"] == {"ru": "Насколько сильно"}
    assert strength["choices"] == [
        {"name": "Light", "value": "light", "name_localizations": {"ru": "Слабо"}},
        {"name": "Strong", "value": "strong", "name_localizations": {"ru": "Сильно"}},
    ]
    assert refused.value.code == 50035 and "en" in str(refused.value)


async def test_slash_command_with_attachment_is_deferred_then_original_edited(
    fake: DiscordApiServer,
) -> None:
    guild = fake.add_guild(locale="en-GB")
    alice = fake.add_user("alice", locale="ru")
    photo = _png(64, 48)
    seen: dict[str, Any] = {}
    client = _client()
    tree = _paint_tree(client, seen)
    async with connected(client, fake):
        await tree.sync()
        general = guild.channel("general")
        with pytest.raises(AssertionError, match="not one of"):  # the client offers no such choice
            fake.user_runs_command(
                alice,
                general,
                "paint",
                {"content": ("c.png", photo, "image/png"), "strength": "max"},
            )
        sent = fake.user_runs_command(
            alice,
            general,
            "paint",
            {"content": ("c.png", photo, "image/png"), "strength": "Strong"},
        )
        answer = await fake.await_interaction_response(sent, timeout=5)
        final = await fake.await_message(general, after=sent, contains="Painted", timeout=5)

    assert seen == {
        "locale": discord.Locale.russian,
        "guild_locale": discord.Locale.british_english,
        "strength": "strong",
        "attachment": ("c.png", len(photo), "image/png"),
        "limit": 10 * 1024 * 1024,
    }
    assert answer.response_type == 5 and answer.response_delay is not None
    assert answer.original_message_id == final.id and final.interaction_id == sent.interaction_id
    thinking, done = final.versions
    assert (thinking.content, bool(thinking.flags & LOADING)) == ("", True)
    assert (done.content, final.loading) == (f"Painted {len(photo)} bytes", False)
    assert [(a.filename, a.data) for a in done.attachments] == [("result.png", photo)]
    assert fake.downloads() == [int(next(iter(sent.payload["data"]["resolved"]["attachments"])))]


async def test_interaction_deadline_and_token_expiry() -> None:
    outcomes: list[object] = []
    deferred: list[discord.Interaction] = []
    client = _client()
    tree: app_commands.CommandTree[Any] = app_commands.CommandTree(client)

    @tree.command(name="slow", description="Answers too late")
    async def slow(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.5)
        try:
            await interaction.response.send_message("late")
        except discord.NotFound as error:
            outcomes.append(error.code)

    @tree.command(name="later", description="Edits after the token expired")
    async def later(interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        deferred.append(interaction)

    with DiscordApiServer(response_deadline=0.3) as fake, discord_py_pointed_at(fake):
        alice = fake.add_user("alice")
        async with connected(client, fake):
            await tree.sync()
            fake.user_runs_command(alice, fake.dm(alice), "slow")
            await _until(lambda: outcomes == [10062])
            sent = fake.user_runs_command(alice, fake.dm(alice), "later")
            await _until(lambda: bool(deferred))
            await deferred[0].edit_original_response(content="in time")
            fake.expire_interaction(sent)
            with pytest.raises(discord.HTTPException) as expired:
                await deferred[0].edit_original_response(content="too late")
        assert not fake.internal_errors
    assert (expired.value.status, expired.value.code) == (401, 50027)
    assert fake.message(fake.interaction(sent).original_message_id or 0).content == "in time"


async def test_message_callback_with_file_follow_up_and_deferred_update(
    fake: DiscordApiServer,
) -> None:
    alice = fake.add_user("alice")
    client = _client()
    tree: app_commands.CommandTree[Any] = app_commands.CommandTree(client)

    class Again(discord.ui.View):
        @discord.ui.button(label="Again", custom_id="again")
        async def again(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
            await interaction.response.defer()  # a component's defer: no "thinking…"
            await interaction.edit_original_response(content="Updated", view=None)

    @tree.command(name="hello", description="Says hello with a file")
    async def hello(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            "Hello", file=discord.File(io.BytesIO(_png(8, 8)), "hi.png"), view=Again()
        )
        await interaction.followup.send("Only you see this", ephemeral=True)

    async with connected(client, fake):
        await tree.sync()
        sent = fake.user_runs_command(alice, fake.dm(alice), "hello")
        note = await fake.await_message(fake.dm(alice), after=sent, contains="Only you", timeout=5)
        command = fake.interaction(sent)
        press = fake.user_presses(alice, command.original_message_id or 0, "again")
        await fake.await_edit(fake.dm(alice), command.original_message_id or 0, after=press)

    hello_message = fake.message(command.original_message_id or 0)
    assert command.response_type == 4 and command.followup_ids == [note.id]
    assert note.ephemeral and not hello_message.ephemeral
    assert [v.content for v in hello_message.versions] == ["Hello", "Updated"]
    assert [a.filename for a in hello_message.attachments] == ["hi.png"]  # kept by the edit
    assert hello_message.buttons == []
    assert fake.interaction(press).response_type == 6


class _NoIdentifyPause(discord.Client):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py's default waits 5 s before identifying again; no need here."""


async def test_reconnect_request_resumes_and_invalid_session_identifies_again(
    fake: DiscordApiServer,
) -> None:
    alice = fake.add_user("alice")
    received: list[str] = []
    client = _NoIdentifyPause(intents=discord.Intents.default(), guild_ready_timeout=0.05)

    @client.event
    async def on_message(message: discord.Message) -> None:
        received.append(message.content)

    async with connected(client, fake):
        before = fake.marker
        fake.request_reconnect()
        resumed = await fake.await_ready(after=before, resumed=True, timeout=5)
        before = fake.marker
        fake.invalidate_session()
        fresh = await fake.await_ready(after=before, resumed=False, timeout=5)
        fake.user_sends_message(alice, fake.dm(alice), "still there?")
        await _until(lambda: received == ["still there?"])

    first = fake.connections()[0]
    assert resumed.session_id == first.session_id and resumed.path == "/resume"
    assert fresh.kind == "identify" and fresh.session_id != first.session_id


class _Counter(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"count:(?P<n>[0-9]+)"):
    """A button that outlives a restart: its state lives in its custom_id."""

    def __init__(self, n: int) -> None:
        super().__init__(discord.ui.Button(label=f"Pressed {n}", custom_id=f"count:{n}"))
        self.n = n

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> _Counter:
        return cls(int(match["n"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        view = discord.ui.View(timeout=None)
        view.add_item(_Counter(self.n + 1))
        await interaction.response.edit_message(view=view)


class _Strength(discord.ui.View):
    """A persistent view: every item has a custom_id and the view no timeout."""

    def __init__(self, pressed: list[tuple[int, str]]) -> None:
        super().__init__(timeout=None)
        self.pressed = pressed

    @discord.ui.button(
        label="Strong", custom_id="strength:strong", style=discord.ButtonStyle.primary
    )
    async def strong(
        self, interaction: discord.Interaction, button: discord.ui.Button[Any]
    ) -> None:
        self.pressed.append((interaction.user.id, str(interaction.locale)))
        await interaction.response.edit_message(content="Strong it is", view=None)


class _ButtonBot(discord.Client):
    def __init__(self) -> None:
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=GUILD_READY_TIMEOUT)
        self.pressed: list[tuple[int, str]] = []

    async def setup_hook(self) -> None:
        self.add_view(_Strength(self.pressed))  # as after a restart: no message id known
        self.add_dynamic_items(_Counter)


async def test_button_presses_reach_persistent_and_dynamic_items(fake: DiscordApiServer) -> None:
    alice = fake.add_user("alice", locale="ru")
    client = _ButtonBot()
    async with connected(client, fake):
        dm = await (await client.fetch_user(alice.id)).create_dm()
        earlier = _Strength([])
        await dm.send("Pick a strength", view=earlier)
        earlier.stop()  # as if sent by an earlier process: only the persistent view is left
        counter_view = discord.ui.View(timeout=None)
        counter_view.add_item(_Counter(0))
        counter = await dm.send("Count", view=counter_view)
        pair = fake.messages(fake.dm(alice))[0]

        press = fake.user_presses(alice, pair, "strength:strong")
        edited = await fake.await_edit(fake.dm(alice), pair.id, after=press, timeout=5)
        for n in (0, 1):
            press = fake.user_presses(alice, counter.id, f"count:{n}")
            await fake.await_edit(fake.dm(alice), counter.id, after=press, timeout=5)
        with pytest.raises(AssertionError, match="no pressable button 'count:0'"):
            fake.user_presses(alice, counter.id, "count:0")  # that button is gone

    assert client.pressed == [(alice.id, "ru")]
    assert (edited.content, edited.buttons) == ("Strong it is", [])
    assert fake.interaction(press).response_type == 7
    assert [b.custom_id for v in fake.message(counter.id).versions for b in v.buttons] == [
        "count:0",
        "count:1",
        "count:2",
    ]


# ---- faults ----------------------------------------------------------------------------------


async def test_rate_limited_send_waits_retry_after_then_succeeds(fake: DiscordApiServer) -> None:
    alice = fake.add_user("alice")
    client = _client()
    async with connected(client, fake):
        dm = await (await client.fetch_user(alice.id)).create_dm()
        fake.rate_limit("POST /channels/{channel_id}/messages", retry_after=0.5)
        message = await dm.send("after the limit")
    limited, sent = fake.calls("create_message")
    assert (limited.status, sent.status) == (429, 200)
    assert limited.response == {
        "message": "You are being rate limited.",
        "retry_after": 0.5,
        "global": False,
    }
    assert sent.at - limited.at >= 0.5
    assert fake.message(message.id).content == "after the limit"


async def test_rate_limit_answer_has_discords_headers_and_early_retries_are_limited(
    fake: DiscordApiServer,
) -> None:
    """What clients other than discord.py read, and what one that does not wait gets."""
    url = f"{fake.api_base}/users/@me"
    headers = {"Authorization": f"Bot {fake.token}"}
    fake.rate_limit("get_current_user", retry_after=0.4, is_global=True)
    async with aiohttp.ClientSession() as session:
        async with session.get(url, headers=headers) as first:
            assert first.status == 429 and first.headers["Via"]
            assert first.headers["Retry-After"] == "1"  # whole seconds, rounded up
            assert first.headers["X-RateLimit-Global"] == "true"
            assert first.headers["X-RateLimit-Remaining"] == "0"
            assert (await first.json())["global"] is True
        async with session.get(f"{fake.api_base}/gateway/bot", headers=headers) as early:
            assert early.status == 429  # global: every route waits
            assert 0 < float(early.headers["X-RateLimit-Reset-After"]) < 0.4
        await asyncio.sleep(0.4)
        async with session.get(url, headers=headers) as later:
            assert later.status == 200 and later.headers["X-RateLimit-Bucket"]
            assert later.headers["Content-Type"] == "application/json"


async def test_server_errors_and_outages_then_success(fake: DiscordApiServer) -> None:
    alice = fake.add_user("alice")
    client = _client()
    async with connected(client, fake):
        dm = await (await client.fetch_user(alice.id)).create_dm()
        fake.inject_error("create_message", 500)
        await dm.send("through a 500")  # discord.py retries 5xx after a second
        fake.outage(0.5, mode="502")
        await dm.send("through a 502 page")
        fake.outage(0.3, mode="reset")
        with pytest.raises(aiohttp.ClientError):
            await dm.send("reset")
        fake.outage(0.3, mode="refused")
        with pytest.raises(aiohttp.ClientError):
            await dm.send("refused")
        await asyncio.sleep(0.4)
        await dm.send("back")
        assert client.is_ready() and not client.is_closed()  # the gateway stayed up
    statuses = [call.status for call in fake.calls("create_message")]
    assert statuses == [500, 200, 200, 200]  # 502 pages, resets and refusals never reach it
    assert fake.outage_hits == 2  # one 502 page (the retry came a second later), one reset
    assert [m.content for m in fake.messages(fake.dm(alice))] == [
        "through a 500",
        "through a 502 page",
        "back",
    ]
