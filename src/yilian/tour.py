"""A tour of what each demo account sees on a phone: the app served on a demo database of its own,
a sign-in, and a bounded breadth-first walk through the pages its navigation and its pages' links
lead to. `yilian screenshots` saves each page as a PNG; tests/browser/test_walk.py checks each.

Playwright is a test dependency (`pip install -e '.[test]'`), imported only when a tour runs.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

import httpx

from yilian.demo.loader import ACCOUNTS, DEMO_PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Page, ViewportSize

PHONE: Final[ViewportSize] = {"width": 390, "height": 844}
# Every demo account of DESIGN §6 (reg.sixth is an integration client, but it has pages too).
ROLES: Final = tuple(account.username for account in ACCOUNTS)
# Not pages to look at: leaving, the API and its documentation, files, the language switch.
SKIPPED: Final = (
    "/logout",
    "/lang",
    "/api/",
    "/docs",
    "/redoc",
    "/openapi",
    "/static/",
    "/metrics",
    "/healthz",
    "/readyz",
)
PAGES_PER_ROLE: Final = 30
CHROMIUM: Final = Path(os.environ.get("YILIAN_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS: Final = ("--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-sync")
READY_TIMEOUT: Final = 60.0


def kind_of(path: str) -> str:
    """The kind of page a link leads to: its path with numbers as `#`, and its query's names
    (`/residents/12?offset=50` → `/residents/#?offset`): one page of each kind is enough."""
    parts = urlsplit(path)
    names = sorted({pair.split("=", 1)[0] for pair in parts.query.split("&") if pair})
    shape = re.sub(r"\d+", "#", parts.path)
    return shape + ("?" + "&".join(names) if names else "")


def links_of(page: Page, origin: str) -> list[str]:
    """The same-origin page links of the open page, in document order (path and query)."""
    hrefs: list[str] = page.eval_on_selector_all(
        "a[href]:not([download])", "links => links.map(link => link.href)"
    )
    found = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != origin:
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if not path.startswith(SKIPPED):
            found.append(path)
    return found


def sign_in(page: Page, base_url: str, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{base_url}/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


@dataclass(frozen=True)
class Visit:
    path: str
    status: int  # the page's HTTP status (0: no answer)
    linked_from: str | None  # the page whose link led here (None: the home page)


def walk(page: Page, base_url: str, *, limit: int = PAGES_PER_ROLE) -> Iterator[Visit]:
    """Open the home page, then breadth-first every page of a kind not seen yet that the open
    pages link to, at most `limit`; yield each while its page is open (and loaded)."""
    origin = f"{urlsplit(base_url).scheme}://{urlsplit(base_url).netloc}"
    queue: deque[tuple[str, str | None]] = deque([("/", None)])
    seen = {kind_of("/")}
    opened = 0
    while queue and opened < limit:
        path, linked_from = queue.popleft()
        response = page.goto(base_url + path)
        page.wait_for_load_state("networkidle")
        opened += 1
        for link in links_of(page, origin):
            if kind_of(link) not in seen:
                seen.add(kind_of(link))
                queue.append((link, path))
        yield Visit(path, response.status if response is not None else 0, linked_from)


def file_name(username: str, number: int, path: str) -> str:
    """`fd.tianlin-13-residents-id.png`: by account, then in the order the walk opened them."""
    shape = re.sub(r"[/?&]", "-", kind_of(path).strip("/").replace("#", "id")) or "home"
    return f"{username}-{number:02d}-{shape}.png"


# --- the app on a demo database of its own (as `make run` does) -----------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _yilian(*args: str) -> list[str]:
    return [sys.executable, "-c", "from yilian.cli import main; main()", *args]


@contextmanager
def demo_server(residents: int, log: Path) -> Iterator[str]:
    """Migrate a temporary SQLite database, load the demo, run the due jobs, serve it on a free
    port; yield its base URL, and stop it (and drop the database) afterwards."""
    with tempfile.TemporaryDirectory(prefix="yilian-tour-") as directory:
        port = _free_port()
        env = {key: value for key, value in os.environ.items() if not key.startswith("YILIAN_")}
        env.update(
            YILIAN_DATABASE_URL=f"sqlite+aiosqlite:///{directory}/yilian.db",
            YILIAN_VAR_DIR=directory,
            YILIAN_SECRET_KEY="tour",  # noqa: S106 -- a throwaway server on a throwaway database
            YILIAN_HOST="127.0.0.1",
            YILIAN_PORT=str(port),
        )
        with log.open("w", encoding="utf-8") as out:
            for step in (("db", "upgrade"), ("demo", "load", "--residents", str(residents)), ("jobs", "run")):
                subprocess.run(_yilian(*step), env=env, stdout=out, stderr=subprocess.STDOUT, check=True)  # noqa: S603
            server = subprocess.Popen(_yilian("serve"), env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_ready(base_url, server)
            yield base_url
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_until_ready(base_url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"`yilian serve` exited with {server.returncode}")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"`yilian serve` not ready after {READY_TIMEOUT:.0f} s")


def screenshots(out: Path, *, roles: tuple[str, ...] = ROLES, residents: int = 300) -> list[Path]:
    """A full-page 390×844 PNG of each page of each role's tour, into `out`; the files written."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):  # the last run's: a page that is gone must not linger
        old.unlink()
    written: list[Path] = []
    with demo_server(residents, out / "server.log") as base_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
        try:
            for username in roles:
                context = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="zh-CN")
                page = context.new_page()
                sign_in(page, base_url, username)
                for number, visit in enumerate(walk(page, base_url), start=1):
                    target = out / file_name(username, number, visit.path)
                    page.screenshot(path=str(target), full_page=True)
                    written.append(target)
                context.close()
        finally:
            browser.close()
    return written
