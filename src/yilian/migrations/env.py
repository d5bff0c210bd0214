"""Alembic environment: async engines, SQLite and PostgreSQL alike.

The URL comes from the Config's attributes (set by `yilian.migrations.runner`), else from
`sqlalchemy.url` in an ini file, else from YILIAN_DATABASE_URL (for the `alembic` CLI with
`-c src/yilian/migrations/alembic.ini`, e.g. to autogenerate a new revision).
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import event, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import yilian.migrations.tables
from yilian.core.tables import UTCDateTime
from yilian.migrations.runner import ensure_sqlite_directory

config = context.config
target_metadata = yilian.migrations.tables.Base.metadata

if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if url:
        return str(url)
    from yilian.config import Settings

    return Settings().database_url


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render app types as plain SQLAlchemy types, so revisions never import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def configure(connection: Connection | None = None, **extra: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        # Every revision must run on SQLite too, whose ALTER TABLE is limited: autogenerate
        # batch operations whatever engine it compares against.
        render_as_batch=True,
        render_item=render_item,
        **extra,
    )


def run_migrations_offline() -> None:
    configure(url=database_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    # On SQLite the whole run is one real transaction (see `transactional_sqlite`), so a
    # failed migration leaves the schema as it was.
    configure(connection, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()


def transactional_sqlite(sync_engine: Any) -> None:
    """Make pysqlite/aiosqlite emit BEGIN ourselves, so DDL runs inside the transaction."""

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")


async def run_async_migrations() -> None:
    url = database_url()
    ensure_sqlite_directory(url)  # for the alembic CLI too
    engine = create_async_engine(url, poolclass=pool.NullPool)
    if engine.dialect.name == "sqlite":
        transactional_sqlite(engine.sync_engine)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # a caller's sync connection (e.g. inside run_sync)
        do_run_migrations(connection)
    else:
        asyncio.run(run_async_migrations())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
