"""Telegram-facing code: parse the update, call a service, render the answer."""
