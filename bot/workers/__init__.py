"""Programs the bot starts as short-lived child processes, for work that must not run inside it
(untrusted files, under CPU and memory limits). Each is run as `python -m bot.workers.<name>`."""
