"""The Discord front-end: the conversation (``bot.handlers``, ``bot.jobs``) on Discord,
through discord.py. In a DM exactly the Telegram flow; in servers, slash commands (/paint
takes the whole pair).

- :mod:`.app`: the client, which DM, command and button reaches which handler;
- :mod:`.commands`: the slash commands and their names and descriptions in each language;
- :mod:`.run`: pointed at Discord (or a compatible server), until stopped;
- :mod:`.updates`: messages and interactions as turns and presses, attachments as images;
- :mod:`.messenger`: the conversation's messenger as Discord messages, views and files;
- :mod:`.trouble`: Discord's errors as the conversation's kinds of trouble.
"""
