"""Business rules, free of Telegram and SQL: handlers call these, tests call them directly."""
