"""A live server for the tests that need real HTTP: pages in Chromium, schemathesis over the API.

These tests run in a pytest process of their own, without pytest-asyncio
(`pytest -p no:asyncio tests/browser`, see the Makefile): Playwright's sync API and
schemathesis drive their own loops. The server is `yilian serve` in a subprocess, on a free
port, against a database of its own (SQLite in a temporary directory; PostgreSQL too when
`YILIAN_TEST_PG_URL`'s server answers), migrated and loaded with the demo data by the real
CLI. Its output is kept in a file and, at the end, must hold no full ID number or mobile.

Chromium: Debian's /usr/bin/chromium (Playwright cannot download browsers here; another path
in `YILIAN_CHROMIUM`). Without it the browser tests skip, with the reason; with
`YILIAN_REQUIRE_BROWSER=1` they fail instead; the run's end says how many skipped, and why.
Screenshots go to the session's temporary directory, named at the end of the run.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.conftest import Wanted, summarise_skipped
from tests.personal_data import is_id_number

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator

DEMO_PASSWORD = "yilian-demo"
DEMO_RESIDENTS = 300
READY_TIMEOUT = 30.0
CHROMIUM = Path(os.environ.get("YILIAN_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
REQUIRE_BROWSER = os.environ.get("YILIAN_REQUIRE_BROWSER", "") == "1"
CHROMIUM_WANTED = Wanted(
    "Chromium",
    "Chromium not found",
    f"a Chromium at {CHROMIUM}: `apt-get install chromium` puts Debian's at /usr/bin/chromium, and"
    " YILIAN_CHROMIUM names another; YILIAN_REQUIRE_BROWSER=1 makes a missing browser fail the run",
)
# The same variables as tests/conftest.py (the async suite's databases).
PG_ADMIN_URL = os.environ.get("YILIAN_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("YILIAN_REQUIRE_PG", "") == "1"

# A full resident ID number or mobile (a masked one carries `*` where these expect digits).
FULL_ID_NUMBER = re.compile(r"(?<![\dA-Za-z*])\d{17}[\dX](?![\dA-Za-z])")
FULL_MOBILE = re.compile(r"(?<![\d*])1[3-9]\d{9}(?!\d)")
ACCESS_LINE = re.compile(r"\b(GET|POST) /\S* \d{3}\b")  # yilian.access: "GET /readyz 200 in 1.2 ms"
# A form's refused answer (4xx, sent by app.js) is an answer the test checks, not a page error.
REFUSED = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d")
SCREENSHOTS = pytest.StashKey[Path]()
ASYNCIO_INI_KEYS = ("asyncio_mode", "asyncio_default_fixture_loop_scope", "asyncio_default_test_loop_scope")


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """Without pytest-asyncio its settings in pyproject.toml are unknown: say they are meant."""
    if not pluginmanager.has_plugin("asyncio"):
        for name in ASYNCIO_INI_KEYS:
            parser.addini(name, "pytest-asyncio's; unused in this process (-p no:asyncio)")


def pytest_report_header() -> list[str]:
    found = "found" if CHROMIUM.exists() else "missing"
    required = "required" if REQUIRE_BROWSER else "skipped when missing"
    return [f"yilian browser tests: live `yilian serve`; Chromium {CHROMIUM} {found} ({required})"]


def personal_data_in(text: str) -> list[str]:
    """Every full ID number or mobile in `text`, each with the line it sits on."""
    found = []
    for line in text.splitlines():
        for pattern in (FULL_ID_NUMBER, FULL_MOBILE):
            found.extend(
                f"{match[0]!r} in: {line.strip()}"
                for match in pattern.finditer(line)
                if pattern is FULL_MOBILE or is_id_number(match[0])
            )
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def yilian_script() -> Path:
    """The console script installed next to this interpreter (the package has no __main__)."""
    script = Path(sys.executable).with_name("yilian")
    if not script.exists():
        pytest.fail(f"no `yilian` script next to {sys.executable}: install the package (make test)")
    return script


@dataclass
class LiveServer:
    """A running `yilian serve`: its base URL, its database and its output."""

    backend: str
    base_url: str
    directory: Path
    log_path: Path
    env: dict[str, str] = field(repr=False)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def url(self, path: str) -> str:
        return self.base_url + path

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def output_with(self, *expected: str, timeout: float = 5.0) -> str:
        """The output once it holds every `expected` text (a request is logged after its answer)."""
        deadline = time.monotonic() + timeout
        while True:
            output = self.output()
            if all(text in output for text in expected) or time.monotonic() > deadline:
                return output
            time.sleep(0.05)

    def token(self, username: str, password: str = DEMO_PASSWORD) -> str:
        """A bearer token from POST /api/v1/auth/token (the OAuth2 password form)."""
        form = {"username": username, "password": password}
        response = httpx.post(self.url("/api/v1/auth/token"), data=form, timeout=10)
        assert response.status_code == 200, f"no token for {username}: {response.status_code} {response.text}"
        token: str = response.json()["access_token"]
        return token


def server_env(database_url: str, directory: Path, port: int) -> dict[str, str]:
    """This machine's environment without any YILIAN_* of its own, and the server's settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("YILIAN_")}
    env.update(
        YILIAN_DATABASE_URL=database_url,
        YILIAN_VAR_DIR=str(directory),
        YILIAN_SECRET_KEY="test",
        YILIAN_HOST="127.0.0.1",
        YILIAN_PORT=str(port),
        # Every client of the suite is 127.0.0.1, and the OpenAPI fuzzing is one client far above
        # any budget: the throttles are tested in tests/auth/test_throttle.py, not here.
        YILIAN_LOGIN_ADDRESS_LIMITS="10000/minute",
        YILIAN_API_RATE_LIMIT="",
    )
    return env


def run_cli(server: LiveServer, *args: str) -> None:
    command = [str(yilian_script()), *args]
    done = subprocess.run(command, env=server.env, capture_output=True, text=True, timeout=120, check=False)
    with server.log_path.open("a", encoding="utf-8") as log:  # scanned for personal data too
        log.write(f"$ yilian {' '.join(args)}\n{done.stdout}{done.stderr}")
    if done.returncode != 0:
        pytest.fail(
            f"`yilian {' '.join(args)}` failed ({done.returncode}) for the {server.backend} server:\n"
            f"{done.stdout}{done.stderr}",
            pytrace=False,
        )


def wait_until_ready(server: LiveServer) -> None:
    assert server.process is not None
    deadline = time.monotonic() + READY_TIMEOUT
    last = "no answer yet"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(
                f"`yilian serve` ({server.backend}) exited with {server.process.returncode}:\n"
                f"{server.output()}",
                pytrace=False,
            )
        try:
            response = httpx.get(server.url("/readyz"), timeout=2)
        except httpx.TransportError as error:
            last = f"{type(error).__name__}: {error}"
        else:
            if response.status_code == 200:
                return
            last = f"HTTP {response.status_code}: {response.text[:200]}"
        time.sleep(0.1)
    stop(server)
    pytest.fail(
        f"`yilian serve` ({server.backend}) not ready after {READY_TIMEOUT:.0f} s ({last}):\n"
        f"{server.output()}",
        pytrace=False,
    )


def stop(server: LiveServer) -> None:
    process = server.process
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def start(backend: str, database_url: str, directory: Path, *, demo: bool = True) -> LiveServer:
    """Migrate, load the demo data (unless `demo` is false: an empty database), serve; return once
    /readyz answers 200."""
    port = free_port()
    server = LiveServer(
        backend=backend,
        base_url=f"http://127.0.0.1:{port}",
        directory=directory,
        log_path=directory / "server.log",
        env=server_env(database_url, directory, port),
    )
    run_cli(server, "db", "upgrade")
    if demo:  # without the referral story (demo.story): each test starts its own loops from a quiet world
        run_cli(server, "demo", "load", "--residents", str(DEMO_RESIDENTS), "--no-story")
    with server.log_path.open("ab") as log:
        server.process = subprocess.Popen(
            [str(yilian_script()), "serve"], env=server.env, stdout=log, stderr=subprocess.STDOUT
        )
    wait_until_ready(server)
    return server


def finish(server: LiveServer) -> None:
    """Stop the server, then insist that its output held no full ID number or mobile."""
    stop(server)
    output = server.output()
    if not ACCESS_LINE.search(output):  # else the scan below would pass on an empty log
        pytest.fail(f"the {server.backend} server logged no request ({server.log_path})", pytrace=False)
    leaks = personal_data_in(output)
    if leaks:
        shown = "\n".join(leaks[:20])
        pytest.fail(
            f"the {server.backend} server's output ({server.log_path}) holds {len(leaks)} unmasked"
            f" ID number(s) or mobile(s):\n{shown}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`yilian serve` on SQLite with the demo data, for the whole session."""
    directory = tmp_path_factory.mktemp("live-sqlite")
    server = start("sqlite", f"sqlite+aiosqlite:///{directory / 'yilian.db'}", directory)
    try:
        yield server
    finally:
        finish(server)


@pytest.fixture(scope="session")
def empty_live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`yilian serve` on SQLite with a migrated, empty database (no demo data), for the session."""
    directory = tmp_path_factory.mktemp("live-empty")
    server = start("sqlite", f"sqlite+aiosqlite:///{directory / 'yilian.db'}", directory, demo=False)
    try:
        yield server
    finally:
        finish(server)


@pytest.fixture(scope="session")
def fuzz_live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of its own (SQLite, the demo data) for the system administrator's fuzzing: its
    schema-valid requests change accounts, wards and registers (a demo account's roles, a reset
    password), which the pages' tests on `live_server` must not meet."""
    directory = tmp_path_factory.mktemp("live-fuzz")
    server = start("sqlite", f"sqlite+aiosqlite:///{directory / 'yilian.db'}", directory)
    try:
        yield server
    finally:
        finish(server)


# --- the same server on PostgreSQL, in a database of its own ------------------------------------


def _pg_dsn(database: str | None = None) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(PG_ADMIN_URL).set(drivername="postgresql")
    if database is not None:
        url = url.set(database=database)
    return url.render_as_string(hide_password=False)


def _pg_admin(statement: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    async def run() -> None:
        connection = await asyncpg.connect(_pg_dsn(), timeout=5)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, run()).result()


@pytest.fixture(scope="session")
def pg_live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`yilian serve` on PostgreSQL (a database created here, dropped at the end); skipped
    when the server at YILIAN_TEST_PG_URL does not answer (YILIAN_REQUIRE_PG=1 fails instead)."""
    from sqlalchemy.engine import make_url

    name = f"yilian_b_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        _pg_admin(f'CREATE DATABASE "{name}"')
    except Exception as error:  # an unreachable or refusing server: the reason is shown
        shown = make_url(PG_ADMIN_URL).render_as_string(hide_password=True)
        reason = f"PostgreSQL not usable at {shown} ({type(error).__name__}: {error})"
        if REQUIRE_PG:
            pytest.fail(f"{reason}; YILIAN_REQUIRE_PG=1 requires it", pytrace=False)
        pytest.skip(f"{reason}; set YILIAN_TEST_PG_URL (YILIAN_REQUIRE_PG=1 fails instead)")
    server = None
    try:
        url = make_url(PG_ADMIN_URL).set(drivername="postgresql+asyncpg", database=name)
        directory = tmp_path_factory.mktemp("live-postgresql")
        server = start("postgresql", url.render_as_string(hide_password=False), directory)
        yield server
    finally:
        try:
            if server is not None:
                finish(server)
        finally:
            _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- Chromium ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Debian's Chromium, or skip (fail with YILIAN_REQUIRE_BROWSER=1) without it."""
    if not CHROMIUM.exists():
        reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if REQUIRE_BROWSER:
            pytest.fail(f"{reason}; YILIAN_REQUIRE_BROWSER=1 requires it", pytrace=False)
        pytest.skip(f"{reason}; YILIAN_REQUIRE_BROWSER=1 fails instead")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path: Path) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium_path), args=list(CHROMIUM_ARGS))
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def screenshot_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Screenshots go to the session's temporary directory, never into the repository."""
    directory = tmp_path_factory.mktemp("screenshots")
    request.config.stash[SCREENSHOTS] = directory
    return directory


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> Iterator[None]:
    """After pytest's short summary (PostgreSQL's skips are told by tests/conftest.py)."""
    try:
        return (yield)
    finally:
        summarise_skipped(terminalreporter, CHROMIUM_WANTED)
        directory = config.stash.get(SCREENSHOTS, None)
        if directory is not None:
            count = len(list(directory.glob("*.png")))
            terminalreporter.write_line(f"yilian browser tests: {count} screenshots in {directory}")


class Taps:
    """The user's taps on the phone, counted as a tap-count test makes them (issue 12): typing is
    not a tap, tapping into a field to type is; a confirmation's button is one."""

    def __init__(self) -> None:
        self.count = 0

    def tap(self, target: Locator) -> None:
        target.click()
        self.count += 1

    __call__ = tap

    def type_into(self, field: Locator, text: str) -> None:
        self.tap(field)
        field.press_sequentially(text)

    def choose(self, select: Locator, label: str) -> None:
        select.select_option(label=label)
        self.count += 2  # open the list, tap the option

    def attach(self, file_input: Locator, path: Path) -> None:
        file_input.set_input_files(str(path))
        self.count += 1  # the file chosen in the phone's own sheet
