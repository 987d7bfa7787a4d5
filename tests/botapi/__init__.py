"""A fake Telegram Bot API server for end-to-end tests of the bot.

Why: the bot is a real ``telegram.ext.Application``; the most faithful test drives it over HTTP
exactly as Telegram would, instead of mocking PTB internals. :class:`BotApiServer` speaks the
Bot API on 127.0.0.1 in a background thread, plays the users' side, and records what the bot
did::

    with BotApiServer() as server:
        app = (
            ApplicationBuilder()
            .token(server.token)
            .base_url(server.base_url)
            .base_file_url(server.base_file_url)
            .build()
        )
        ...  # or run `python -m bot` as a subprocess pointed at server.base_url
        sent = server.user_sends_photo(USER, png_bytes)
        reply = server.wait_for_message(USER, after=sent, kind="photo")
        result = reply.image()

Behaviour copied from Telegram because bots must cope with it:

* user photos arrive as several re-encoded JPEG ``PhotoSize`` entries, smallest first;
* edits without ``reply_markup`` remove the inline keyboard; an edit that changes nothing is
  a 400 "message is not modified";
* texts are limited to 4096 and captions to 1024 characters, ``callback_data`` to 64 bytes;
* ``getFile`` refuses files over 20 MB and unknown file ids; uploads are size-checked;
* errors use Telegram's status codes and descriptions, so PTB raises the same exceptions;
  ``inject_error`` and ``flood_limit`` make the next calls of a method fail.

Deliberately missing: parse modes (any ``parse_mode`` is a 400, as the bot sends plain text)
and every method the bot does not call (404). Add what a new test needs.

Waiting: every user action and bot message gets an increasing *marker*. ``user_sends_*``
return a :class:`Sent` carrying it; pass it as ``after=`` to wait for what the bot did in
response. A message matches ``contains`` if any version of it (sent or edited) contained the
text, so fast progress edits cannot be missed. The ``wait_*`` methods block the calling thread:
use them from sync tests (e.g. a bot running as a subprocess). **Async tests whose Application
runs on the test's own event loop must use the ``await_*`` twins**, which poll with
``asyncio.sleep`` and so let the bot run. On timeout both raise ``AssertionError`` with a
transcript of the chat and the recent API calls.

Modules: ``records`` (what tests get back), ``store`` (state and markers), ``users`` (the
users' side), ``waiting``, ``methods`` and ``content`` (the Bot API and its limits), ``files``,
``httpd`` (HTTP), ``transcript`` (failure messages), ``server`` (all of it as one object).
"""

from tests.botapi.records import ApiCall, BotMessage, Sent
from tests.botapi.server import BotApiServer

__all__ = ["ApiCall", "BotApiServer", "BotMessage", "Sent"]
