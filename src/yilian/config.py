"""Settings from YILIAN_* environment variables; nothing is built at import time."""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YILIAN_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./var/yilian.db"
    var_dir: Path = Path("var")
    secret_key: str = Field(default="", repr=False)
    host: str = "127.0.0.1"
    port: int = 8000
    time_zone: str = "Asia/Shanghai"
    # Secure cookies need HTTPS; `make run` serves plain http on 127.0.0.1, so it turns this off.
    cookie_secure: bool = True
    session_idle_minutes: int = 30
    session_absolute_hours: int = 8
    token_lifetime_minutes: int = 480
    # Sign-in throttling (docs/operations.md "Limits and throttling"): budgets of failed sign-ins in
    # the `limits` notation, ";" between tiers; a spent tier answers 429 until its window frees.
    login_account_limits: str = "5/minute;10/15 minutes;20/hour"
    login_address_limits: str = "10/minute;30/15 minutes;100/day"
    # API requests per client (the signed-in user, else the client address); "" turns it off.
    api_rate_limit: str = "50/second;1200/minute"
    # Posts and replies a member makes in the case channels, whatever the client.
    channel_post_limits: str = "20/minute;300/hour"
    # Where the budgets are kept: "memory://" is per process (N workers give N× the budget);
    # "redis://host:6379" or "memcached://host:11211" share them between workers.
    rate_limit_storage: str = "memory://"
    # Request bodies: JSON and forms; an attachment upload (10 MiB and its form's overhead).
    max_body_bytes: int = 1024 * 1024
    max_upload_bytes: int = 10 * 1024 * 1024 + 256 * 1024
    # A register workbook (批量导入): 20 MiB and its form's overhead.
    max_workbook_bytes: int = 20 * 1024 * 1024 + 256 * 1024
    # A request body must arrive within this many seconds (slow uploads are cut with 408).
    body_timeout_seconds: float = 60.0
    # When set, GET /metrics requires "Authorization: Bearer <this>" (set it when the server
    # listens beyond loopback).
    metrics_token: str = Field(default="", repr=False)
    # How long a process may remember a bearer token's user (a lock, deactivation or revocation in
    # another worker is seen within this).
    token_cache_seconds: float = 30.0
    run_scheduler: bool = True
    log_level: str = "INFO"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def resolved_secret_key(self) -> str:
        """The configured key, or one generated once into var_dir and kept there (mode 0600)."""
        if self.secret_key:
            return self.secret_key
        path = self.var_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        self.secret_key = path.read_text().strip()
        return self.secret_key
