"""The Telegram side of the style-transfer bot (python-telegram-bot, asyncio; no torch here)."""
