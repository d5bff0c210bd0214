"""Run the migrations from code (the CLI, the tests) without an alembic.ini.

Plain synchronous functions: env.py runs its own event loop, so call them from sync code,
or from async code through `asyncio.to_thread(upgrade, settings)`.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from yilian.config import Settings

HERE = Path(__file__).resolve().parent


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("path_separator", "os")
    # An attribute, not `sqlalchemy.url`: the ini interpolation would choke on a '%' in a password.
    config.attributes["database_url"] = database_url
    return config


def ensure_sqlite_directory(database_url: str) -> None:
    """SQLite creates the file but not its directory (./var on a fresh checkout)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    Path(database).parent.mkdir(parents=True, exist_ok=True)


def upgrade(settings: Settings, revision: str = "head") -> None:
    ensure_sqlite_directory(settings.database_url)
    command.upgrade(alembic_config(settings.database_url), revision)


def downgrade(settings: Settings, revision: str) -> None:
    ensure_sqlite_directory(settings.database_url)
    command.downgrade(alembic_config(settings.database_url), revision)
