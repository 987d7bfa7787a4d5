"""``stylebot-worker``: paints the jobs the bot puts in a Redis queue (``QUEUE_URL=redis://…``).

Run one per GPU, on any machine that reaches Redis; none of them needs the Telegram token.
"""
