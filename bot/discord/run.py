"""Running the Discord front-end until stopped, on the process's event loop, pointed at
DISCORD_API_BASE and DISCORD_GATEWAY_URL (Discord's own unless set)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from config.settings import Settings

from ..service import Shared, TokenRefused
from .app import StyleBotClient

logger = logging.getLogger(__name__)


def point_at(settings: Settings) -> None:
    """discord.py reads its REST base and its first gateway URL from two class attributes
    (one Discord per process, as there is one DISCORD_TOKEN)."""
    Route.BASE = settings.discord_api_base.rstrip("/")
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


@contextlib.asynccontextmanager
async def connected(client: StyleBotClient, token: str) -> AsyncIterator[asyncio.Task[None]]:
    """Logged in and connecting (discord.py reconnects by itself) while the block runs; the
    connection's task, which ends only if the connection does for good. Raises
    ``TokenRefused`` when Discord refuses the token."""
    try:
        await client.login(token)
    except discord.LoginFailure:
        await client.close()
        raise TokenRefused(
            "Discord refused DISCORD_TOKEN: copy it again from the developer portal (Bot page)"
        ) from None
    connection = asyncio.create_task(client.connect(reconnect=True), name="discord gateway")
    try:
        yield connection
    finally:
        await client.close()  # ends the connection too
        await asyncio.wait({connection}, timeout=5)


async def serve(settings: Settings, shared: Shared, stopped: asyncio.Event) -> None:
    """The Discord front-end until ``stopped`` is set."""
    assert settings.discord_token is not None
    point_at(settings)
    client = StyleBotClient(shared)
    async with connected(client, settings.discord_token.reveal()) as connection:
        stop = asyncio.create_task(stopped.wait(), name="discord stop")
        done, _ = await asyncio.wait({connection, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if connection in done:
            connection.result()  # what ended it for good (e.g. the token revoked), raised
