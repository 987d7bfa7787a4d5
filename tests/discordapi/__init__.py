"""A fake Discord for end-to-end tests of the bot's Discord front-end.

Why: the bot is a real ``discord.Client``; the most faithful test drives it over the same
wire as Discord, instead of mocking discord.py. :class:`DiscordApiServer` speaks REST v10 and
the gateway websocket on 127.0.0.1 in a background thread (aiohttp, its own event loop),
plays the users' side and records what the bot did::

    with DiscordApiServer() as discord_, discord_py_pointed_at(discord_):
        alice = discord_.add_user("alice", locale="ru")
        client = discord.Client(intents=discord.Intents.default())
        ...  # or run the bot as a subprocess with DISCORD_API_BASE / DISCORD_GATEWAY_URL
        await client.login(discord_.token)
        task = asyncio.create_task(client.connect())
        await discord_.await_ready()
        sent = discord_.user_sends_message(alice, discord_.dm(alice), "hi", attachments=[
            ("photo.png", png_bytes, "image/png")])
        reply = await discord_.await_message(discord_.dm(alice), after=sent)

Pointing a client at it: the API base is ``server.api_base`` (``http://127.0.0.1:PORT/api/v10``,
Discord's is ``https://discord.com/api/v10``; discord.py reads ``discord.http.Route.BASE``) and
the gateway is ``server.gateway_url`` (``ws://127.0.0.1:PORT/gateway``; discord.py reads
``DiscordWebSocket.DEFAULT_GATEWAY``); :func:`discord_py_pointed_at` sets and restores both.
Attachments live on the fake's CDN (``/cdn/attachments/...``, signed ``ex/is/hm`` query).

Behaviour copied from Discord because bots must cope with it:

* IDENTIFY checks the token (close 4004) and intents: privileged ones (message content,
  members, presences) close 4014 unless enabled in the constructor; without the message
  content intent guild messages arrive with empty content and attachments (DMs and mentions
  excepted); MESSAGE_CREATE needs GUILD_MESSAGES / DIRECT_MESSAGES. READY lists guilds as
  unavailable, then a GUILD_CREATE each. The bot receives its own messages too.
* RESUME at ``resume_gateway_url`` replays what the session missed, then RESUMED; a stale
  session gets op 9. Frames use one zlib stream when the URL asks ``compress=zlib-stream``.
* Interactions: one callback (types 4 5 6 7, also 8 9 recorded) within 3 s, else 404 10062;
  a second one is 400 40060; the token's webhook (edit ``@original``, follow-ups) lives
  15 minutes, then 401 50027. A deferred answer shows "thinking…" (flag LOADING) until edited.
* Messages: 2000 characters, empty ones refused (50006), files up to ``upload_limit`` (413
  40005), components checked (rows of five, custom ids unique and at most 100 characters);
  an edit's ``attachments`` lists what stays, new files by ``files[n]`` index. Attachment
  objects carry size, content type (guessed from the name for the bot's uploads) and an
  image's width and height.
* Commands: PUT replaces a scope's commands (ids kept by name); names, descriptions, options,
  choices and ``*_localizations`` are checked (a locale such as "en" is refused). Users can
  run only registered commands, in the contexts they allow, with valid choices.
* Errors are Discord's JSON with its codes; every answer carries X-RateLimit-* headers and
  ``Via`` (discord.py treats a 429 without it as a Cloudflare ban).

Faults: ``inject_error`` (on the CDN too; ``lost=True``: the call takes effect, its answer is
the error), ``rate_limit`` (429 with ``retry_after``; an early retry is limited again),
``outage`` (502 page, reset or refused connections, optionally the gateway too),
``expire_interaction``, ``close_gateway``, ``drop_gateway``, ``request_reconnect``,
``invalidate_session``, ``ack_heartbeats(False)``; ``user_presses(..., forged=True)``: a
modified client's press of data its message does not show.

Deliberately missing: voice, threads, reactions, embeds' rendering, select menus and modal
submissions from the users' side, autocomplete, sharding beyond one shard, ETF encoding, zstd
(a client asking for it gets plain text frames), real rate-limit buckets (headers always
leave room), permissions (everyone may do everything). Add what a new test needs.

Waiting: every user action, bot message, edit, call and gateway step gets an increasing
*marker*. User actions return a :class:`Sent` carrying it; pass it as ``after=``. A message
matches ``contains`` if any version of it contained the text. ``wait_*`` block the calling
thread (a bot in another thread or process); **tests whose client runs on their own event
loop must use the ``await_*`` twins**. On timeout both raise ``AssertionError`` with a
transcript of the channel, the recent calls and the gateway connections.

Modules: ``records`` (what tests get back), ``store`` (state, markers, sessions), ``payloads``
(Discord's JSON objects), ``messages`` and ``commands`` (their rules), ``interactions``
(callbacks and webhooks), ``rest`` (the route table), ``dispatch`` (calls, faults, 429s,
the CDN), ``gateway`` (the websocket),
``httpd`` (HTTP, CDN, outages), ``users`` (the users' side), ``waiting``, ``transcript``
(failure messages), ``server`` (all of it as one object), ``client`` (discord.py's URLs).
"""

from tests.discordapi.client import discord_py_pointed_at
from tests.discordapi.records import (
    ApiCall,
    Attachment,
    BotMessage,
    Button,
    Channel,
    GatewayConnection,
    Guild,
    InteractionRecord,
    Sent,
    Upload,
    User,
)
from tests.discordapi.server import DiscordApiServer

__all__ = [
    "ApiCall",
    "Attachment",
    "BotMessage",
    "Button",
    "Channel",
    "DiscordApiServer",
    "GatewayConnection",
    "Guild",
    "InteractionRecord",
    "Sent",
    "Upload",
    "User",
    "discord_py_pointed_at",
]
