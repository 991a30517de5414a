"""Pocket CRM: a Telegram bot for field salespeople and their managers."""
