"""Test databases on both engines (DESIGN §7): each test gets a database of its own.

One template per engine and flavour is migrated (and, for `demo`, loaded) once per session;
each test then gets a copy: a file copy on SQLite, `CREATE DATABASE ... TEMPLATE` on
PostgreSQL. Everything the session creates is dropped at its end, failed or not.

PostgreSQL: `YILIAN_TEST_PG_URL` (default postgresql+asyncpg://postgres@127.0.0.1:5432/test)
is the admin connection used to create and drop databases named `yilian_t_<pid>_<random>_*`.
Without a reachable server the PostgreSQL tests are skipped, with the reason, and the end of
the run says loudly how many and how to get them; with `YILIAN_REQUIRE_PG=1` they fail instead.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import secrets
import shutil
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy.engine import URL, make_url

from yilian.config import Settings
from yilian.core.db import Database
from yilian.migrations.runner import upgrade

# App-level fixtures (app, api, clock) and the suite-wide log scan, on top of the databases here.
pytest_plugins = ["tests.fixtures_app"]

FIXED_NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, a Tuesday
DEMO_RESIDENTS = 60
BACKENDS = ("sqlite", "postgresql")

PG_ADMIN_URL = os.environ.get("YILIAN_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("YILIAN_REQUIRE_PG", "") == "1"


class Flavour(StrEnum):
    EMPTY = "empty"  # migrated, no rows
    DEMO = "demo"  # migrated, demo data loaded (yilian.demo.load at FIXED_NOW)


def make_settings(database_url: str, var_dir: Path) -> Settings:
    return Settings(
        database_url=database_url,
        var_dir=var_dir,
        secret_key="test-secret",
        cookie_secure=True,
        run_scheduler=False,
    )


async def build(url: str, flavour: Flavour, var_dir: Path) -> None:
    """Migrate a fresh database to head and, for the demo flavour, load the demo data."""
    await asyncio.to_thread(upgrade, make_settings(url, var_dir))
    if flavour is Flavour.DEMO:
        from yilian.demo import loader as demo

        database = Database(url)
        try:
            async with database.transaction() as session:
                await demo.load(session, now=FIXED_NOW, residents=DEMO_RESIDENTS)
        finally:
            await database.dispose()


class Templates:
    """Templates built once per session; a failed build fails every later test at once, with its cause."""

    def __init__(self) -> None:
        self.built: dict[Flavour, str] = {}
        self.failed: dict[Flavour, BaseException] = {}

    def get(self, flavour: Flavour) -> str | None:
        if flavour in self.failed:
            error = self.failed[flavour]
            pytest.fail(
                f"the {flavour} template could not be built: {type(error).__name__}: {error}", pytrace=False
            )
        return self.built.get(flavour)


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


class SqliteDatabases:
    """Templates are files migrated once; a test's database is a copy of one."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.templates = Templates()

    async def template(self, flavour: Flavour) -> Path:
        if (built := self.templates.get(flavour)) is not None:
            return Path(built)
        path = self.root / f"template-{flavour}.db"
        try:
            await build(sqlite_url(path), flavour, self.root)
        except BaseException as error:
            self.templates.failed[flavour] = error
            raise
        self.templates.built[flavour] = str(path)
        return path

    @asynccontextmanager
    async def clone(self, flavour: Flavour, directory: Path) -> AsyncIterator[str]:
        template = await self.template(flavour)
        wal = template.with_name(template.name + "-wal")
        if wal.exists() and wal.stat().st_size:  # a pending WAL would be lost by a file copy
            with closing(sqlite3.connect(template)) as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        path = directory / f"yilian-{flavour}.db"
        shutil.copyfile(template, path)
        try:
            yield sqlite_url(path)
        finally:
            for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                leftover.unlink(missing_ok=True)


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PostgresDatabases:
    """Databases of this run on the server behind the admin URL, all dropped at the end.

    A clone costs one CREATE DATABASE ... TEMPLATE (~60 ms on a quiet server, ~250 ms on a
    busy one: it writes the whole catalogue to the WAL) and one DROP (~10-20 ms). Making
    spares in the background while tests run was measured and is no faster: a DROP waits for
    a concurrent CREATE DATABASE, so the cost only moves from setup to teardown.
    """

    def __init__(self, admin_url: str, var_dir: Path) -> None:
        self.admin_url: URL = make_url(admin_url)
        self.var_dir = var_dir
        self.prefix = f"yilian_t_{os.getpid()}_{secrets.token_hex(3)}"
        self.created: set[str] = set()
        self.templates = Templates()
        self._admin: asyncpg.Connection | None = None
        self._unavailable: str | None = None
        self._counter = 0

    def url(self, database: str) -> str:
        return self.admin_url.set(database=database).render_as_string(hide_password=False)

    def dsn(self) -> str:
        return self.admin_url.set(drivername="postgresql").render_as_string(hide_password=False)

    async def admin(self) -> asyncpg.Connection:
        """The admin connection, or skip (fail with YILIAN_REQUIRE_PG=1) when unreachable."""
        if self._admin is None and self._unavailable is None:
            try:
                self._admin = await asyncpg.connect(self.dsn(), timeout=5)
            except (OSError, asyncpg.PostgresError, TimeoutError) as error:
                shown = self.admin_url.render_as_string(hide_password=True)
                self._unavailable = f"PostgreSQL not reachable at {shown} ({type(error).__name__}: {error})"
        if self._admin is None:
            assert self._unavailable is not None
            if REQUIRE_PG:
                pytest.fail(f"{self._unavailable}; YILIAN_REQUIRE_PG=1 requires it", pytrace=False)
            pytest.skip(f"{self._unavailable}; set YILIAN_TEST_PG_URL (YILIAN_REQUIRE_PG=1 fails instead)")
        return self._admin

    async def create(self, name: str, template: str | None = None) -> None:
        admin = await self.admin()
        self.created.add(name)  # before CREATE: a half-made database is dropped too
        statement = f"CREATE DATABASE {quote(name)}"
        if template is not None:
            statement += f" TEMPLATE {quote(template)}"
        for _ in range(50):
            try:
                await admin.execute(statement)
            except asyncpg.ObjectInUseError:  # someone still connected to the template
                await asyncio.sleep(0.1)
            else:
                return
        await admin.execute(statement)

    async def drop(self, name: str) -> None:
        admin = await self.admin()
        # FORCE (PostgreSQL 13+) ends the connections a test may have left open.
        await admin.execute(f"DROP DATABASE IF EXISTS {quote(name)} WITH (FORCE)")
        self.created.discard(name)

    async def template(self, flavour: Flavour) -> str:
        if (built := self.templates.get(flavour)) is not None:
            return built
        name = f"{self.prefix}_{flavour}"
        await self.admin()  # skip (or fail) here when there is no server, not as a build failure
        try:
            await self.create(name)
            await build(self.url(name), flavour, self.var_dir)
            # No connections any more (autovacuum included), so that cloning never waits.
            await (await self.admin()).execute(f"ALTER DATABASE {quote(name)} ALLOW_CONNECTIONS false")
        except BaseException as error:
            self.templates.failed[flavour] = error
            raise
        self.templates.built[flavour] = name
        return name

    @asynccontextmanager
    async def clone(self, flavour: Flavour) -> AsyncIterator[str]:
        template = await self.template(flavour)
        self._counter += 1
        name = f"{self.prefix}_{self._counter}"
        await self.create(name, template)
        try:
            yield self.url(name)
        finally:
            await self.drop(name)

    async def close(self) -> None:
        if self._admin is not None:
            for name in sorted(self.created):
                await self.drop(name)
            await self._admin.close()
            self._admin = None


def _drop_leftovers_at_exit(databases: PostgresDatabases) -> None:
    """Last resort when the session was cut short before its teardown ran."""
    if not databases.created:
        return

    async def drop_all() -> None:
        connection = await asyncpg.connect(databases.dsn(), timeout=5)
        try:
            for name in databases.created:
                await connection.execute(f"DROP DATABASE IF EXISTS {quote(name)} WITH (FORCE)")
        finally:
            await connection.close()

    asyncio.run(drop_all())


class DatabaseFactory:
    """Per-test databases on either engine, cloned from per-session templates."""

    def __init__(self, sqlite: SqliteDatabases, postgresql: PostgresDatabases) -> None:
        self.sqlite = sqlite
        self.postgresql = postgresql

    @asynccontextmanager
    async def clone(self, backend: str, flavour: Flavour, directory: Path) -> AsyncIterator[str]:
        """A fresh database (its URL), dropped on exit; `directory` holds a SQLite file."""
        if backend == "sqlite":
            async with self.sqlite.clone(flavour, directory) as url:
                yield url
        elif backend == "postgresql":
            async with self.postgresql.clone(flavour) as url:
                yield url
        else:
            raise ValueError(f"unknown backend {backend!r}")


@dataclass(frozen=True)
class Wanted:
    """Something part of the suite needs: without it those tests skip (for a newcomer's first
    `make test`), and the run's end says so loudly, since half the cases did not run."""

    what: str
    reason: str  # how the skip reasons of its fixtures begin
    how: str


POSTGRESQL = Wanted(
    "PostgreSQL",
    "PostgreSQL not ",  # "... not reachable at" (the databases here), "... not usable at" (browser)
    f"a PostgreSQL server (13+) whose admin user YILIAN_TEST_PG_URL names (now"
    f" {make_url(PG_ADMIN_URL).render_as_string(hide_password=True)}), e.g. `apt-get install"
    f" postgresql`; YILIAN_REQUIRE_PG=1 makes a missing server fail the run",
)


def skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr  # a skip's is (file, line, "Skipped: <reason>")
    return longrepr[2].removeprefix("Skipped: ") if isinstance(longrepr, tuple) else ""


def summarise_skipped(reporter: pytest.TerminalReporter, wanted: Wanted) -> None:
    """How many tests skipped for want of `wanted`, why, and how to get it; nothing if none did."""
    skipped = [
        report
        for report in reporter.stats.get("skipped", [])
        if skip_reason(report).startswith(wanted.reason)
    ]
    if not skipped:
        return
    count = len({report.nodeid for report in skipped})
    tests = "test" if count == 1 else "tests"
    reporter.write_sep("!", f"{count} {tests} SKIPPED for want of {wanted.what}", red=True, bold=True)
    reporter.write_line(f"why: {skip_reason(skipped[0])}", red=True)
    reporter.write_line(f"to run them: {wanted.how}", bold=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> Iterator[None]:
    """Outermost, so that it comes after pytest's short summary: the last thing read."""
    try:
        return (yield)
    finally:
        summarise_skipped(terminalreporter, POSTGRESQL)


def pytest_report_header(config: pytest.Config) -> list[str]:
    shown = make_url(PG_ADMIN_URL).render_as_string(hide_password=True)
    return [
        f"yilian test databases: sqlite (file copies) and postgresql via {shown}"
        f" ({'required' if REQUIRE_PG else 'skipped when unreachable'})"
    ]


@pytest.fixture(scope="session")
async def database_factory(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DatabaseFactory]:
    postgresql = PostgresDatabases(PG_ADMIN_URL, tmp_path_factory.mktemp("pg-templates"))
    atexit.register(_drop_leftovers_at_exit, postgresql)
    databases = DatabaseFactory(SqliteDatabases(tmp_path_factory.mktemp("sqlite-templates")), postgresql)
    try:
        yield databases
    finally:
        await postgresql.close()
        atexit.unregister(_drop_leftovers_at_exit)


@pytest.fixture(params=BACKENDS, ids=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def fixed_now() -> datetime:
    return FIXED_NOW


@pytest.fixture
def settings_for(tmp_path: Path) -> Callable[[str], Settings]:
    """`settings_for(url)`: test Settings for a database, var_dir in the test's tmp_path."""
    return lambda url: make_settings(url, tmp_path)


@pytest.fixture
async def empty_db_url(backend: str, database_factory: DatabaseFactory, tmp_path: Path) -> AsyncIterator[str]:
    """A database of this test's own, migrated to head and empty."""
    async with database_factory.clone(backend, Flavour.EMPTY, tmp_path) as url:
        yield url


@pytest.fixture
async def demo_db_url(backend: str, database_factory: DatabaseFactory, tmp_path: Path) -> AsyncIterator[str]:
    """A database of this test's own, migrated and holding the demo data (at FIXED_NOW)."""
    async with database_factory.clone(backend, Flavour.DEMO, tmp_path) as url:
        yield url


@pytest.fixture
async def db(empty_db_url: str) -> AsyncIterator[Database]:
    database = Database(empty_db_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def demo_db(demo_db_url: str) -> AsyncIterator[Database]:
    database = Database(demo_db_url)
    try:
        yield database
    finally:
        await database.dispose()
