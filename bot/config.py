"""Configuration read from the environment or a `.env` file (pydantic-settings)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_DATABASE_URL = "sqlite:///./data/crm.sqlite3"
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


class Settings(BaseSettings):
    """Everything the bot needs to start; field names match the environment variables."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr
    telegram_api_base_url: str = DEFAULT_API_BASE_URL
    database_url: str = DEFAULT_DATABASE_URL
    bot_admins: Annotated[frozenset[int], NoDecode] = Field(default_factory=frozenset)
    log_level: str = "INFO"
    # How often the database is asked what is due (reminders, agendas, nudges).
    reminder_tick_seconds: float = Field(default=15.0, gt=0)
    # How long a claim on work (a reminder, a digest, a job, a notice) lasts without being
    # renewed; the process holding it renews it every quarter of this while it works, and only
    # an expired claim is taken over by another sender.
    lease_seconds: float = Field(default=30.0, gt=0)
    # How long start-up keeps retrying when Telegram cannot be reached (then exit 75).
    startup_retry_seconds: float = Field(default=60.0, ge=0)

    # Files sent for import: checked before they are opened, parsed in a limited child process.
    import_max_file_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    import_max_uncompressed_bytes: int = Field(default=30 * 1024 * 1024, gt=0)
    import_max_ratio: float = Field(default=100.0, gt=0)
    import_max_shared_strings_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    import_max_rows: int = Field(default=5_000, gt=0)
    import_max_columns: int = Field(default=50, gt=0)
    import_max_cell_chars: int = Field(default=32_767, gt=0)
    import_cpu_seconds: int = Field(default=30, gt=0)
    import_memory_mb: int = Field(default=768, gt=0)

    # Exports: a workbook that would pass this size is closed and the next part begins; a sheet
    # continues on a new one after this many rows (Excel's limit is 1,048,576).
    export_part_bytes: int = Field(default=45 * 1024 * 1024, gt=0)
    export_sheet_rows: int = Field(default=1_000_000, gt=1)
    # Heavy work (imports, exports, report files) a team may ask for in an hour.
    jobs_per_team_per_hour: int = Field(default=10, gt=0)

    # Webhook mode (when WEBHOOK_URL is set) and the web server (health, metrics, the board).
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_max_connections: int = Field(default=40, ge=1, le=100)
    web_listen: str = "127.0.0.1:8080"
    metrics_listen: str | None = None
    web_app_url: str | None = None
    # What one chat takes from the bot: a burst, then so many messages a second (Telegram:
    # about 3, then 1). Only for a local Bot API server with other limits.
    chat_burst: float = Field(default=3.0, ge=1)
    chat_rate: float = Field(default=1.0, gt=0)

    # Daily backups at this hour, server time (SQLite: a verified copy of the file; PostgreSQL:
    # pg_dump when it is installed), the newest BACKUP_KEEP kept; BACKUP_HOUR=off: none.
    backup_hour: int | None = Field(default=3, ge=0, le=23)
    backup_keep: int = Field(default=14, ge=1)
    backup_dir: Path = Path("data/backups")
    # The append-only log of erasures, re-applied after a restore (default: beside the SQLite
    # file, `<db>.erasures.jsonl`; with PostgreSQL `./data/erasures.jsonl`).
    erasure_log: Path | None = None

    @property
    def erasure_log_path(self) -> Path:
        if self.erasure_log is not None:
            return self.erasure_log
        from bot.backup import sqlite_path

        database = sqlite_path(self.database_url)
        if database is not None:
            return database.with_name(database.name + ".erasures.jsonl")
        return Path("data/erasures.jsonl")

    @field_validator("backup_hour", mode="before")
    @classmethod
    def _backup_off(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in ("", "off", "none", "no"):
            return None
        return value

    @field_validator("bot_admins", mode="before")
    @classmethod
    def _split_admins(cls, value: object) -> object:
        """Accept `BOT_ADMINS=1,2 3` as well as a list."""
        if isinstance(value, str):
            parts = value.replace(",", " ").split()
            return frozenset(int(part) for part in parts)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("telegram_api_base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("log_level")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @property
    def telegram_file_base_url(self) -> str:
        """Files are served beside the API: `.../bot` becomes `.../file/bot`."""
        base = self.telegram_api_base_url
        if base.endswith("/bot"):
            return base[: -len("/bot")] + "/file/bot"
        return base + "/file"

    @field_validator("webhook_url", "web_app_url", "metrics_listen")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        """Telegram's secret_token: 1-256 characters of A-Z, a-z, 0-9, `_` and `-`."""
        if value is None:
            return None
        if not _SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("1 to 256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("web_listen", "metrics_listen")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is None:
            return None
        host, _, port = value.strip().rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("host:port, like 127.0.0.1:8080")
        return value.strip()

    @model_validator(mode="after")
    def _webhook_needs_a_secret(self) -> Settings:
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError(
                "WEBHOOK_SECRET is required with WEBHOOK_URL (Telegram sends it with every "
                "update, so nobody else can post updates to the bot)"
            )
        return self

    @property
    def webhook_mode(self) -> bool:
        return self.webhook_url is not None

    @staticmethod
    def address(listen: str) -> tuple[str, int]:
        host, _, port = listen.rpartition(":")
        return host.strip("[]"), int(port)

    def may_create_team(self, user_id: int) -> bool:
        return not self.bot_admins or user_id in self.bot_admins
