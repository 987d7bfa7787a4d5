"""The Telegram front-end: the conversation (``bot.handlers``, ``bot.jobs``) on Telegram,
through python-telegram-bot.

- :mod:`.app`: the Application, which update reaches which handler, start and stop;
- :mod:`.run`: waiting for Telegram, then long polling or the webhook server;
- :mod:`.updates`: updates as the conversation's turns and presses, and PTB's callbacks;
- :mod:`.messenger`: the conversation's messenger as Bot API calls;
- :mod:`.trouble`: Telegram's errors as the conversation's kinds of trouble;
- :mod:`.requests`: the rate limiter that retries replies, the quiet HTTP client;
- :mod:`.ordering`: one user's updates in order, different users' side by side;
- :mod:`.context`: PTB's types as this bot uses them.
"""
