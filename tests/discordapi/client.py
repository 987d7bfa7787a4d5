"""Pointing the real discord.py at the fake, as ``DISCORD_API_BASE`` and ``DISCORD_GATEWAY_URL``
will point the bot.

discord.py has no per-client setting for either: REST URLs are built from the class attribute
``discord.http.Route.BASE`` (webhooks and interaction callbacks included), and a plain
``Client`` opens its first websocket at ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``
(it never asks GET /gateway/bot; only ``AutoShardedClient`` does), then RESUMEs at the READY's
``resume_gateway_url``. Both are process-wide, so this restores them afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from tests.discordapi.server import DiscordApiServer


@contextlib.contextmanager
def discord_py_pointed_at(server: DiscordApiServer) -> Iterator[None]:
    """Within the block, every discord.py client in this process talks to ``server``."""
    old_base, old_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = server.api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(server.gateway_url)
    try:
        yield
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway
