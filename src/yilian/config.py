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
    login_max_failures: int = 5
    login_lock_minutes: int = 15
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
