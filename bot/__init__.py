"""Pocket CRM: a Telegram bot for field salespeople and their managers."""

import os

# python-telegram-bot 22 warns on every RetryAfter unless durations are timedeltas; opt in.
os.environ.setdefault("PTB_TIMEDELTA", "1")
