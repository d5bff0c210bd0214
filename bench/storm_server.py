"""The booking storm's surroundings: the machine, the server under test, the bench database."""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
from sqlalchemy.engine import make_url

from yilian.demo.loader import DEMO_PASSWORD


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = next(
        (line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line),
        "0",
    )
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gb": round(int(memory) / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "note": "server, load generator and database share these cores",
    }


def background_load(seconds: float = 3.0) -> dict[str, Any]:
    """How busy the machine is before we start (other work shares these cores)."""
    busy0, total0 = _cpu_busy()
    time.sleep(seconds)
    busy1, total1 = _cpu_busy()
    return {
        "busy_pct": round(100 * (busy1 - busy0) / max(total1 - total0, 1), 1),
        "loadavg_1m": float(Path("/proc/loadavg").read_text().split()[0]),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    pids: list[int]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(child) for child in task.read_text().split()]
    return found + [grand for child in found for grand in _children(child)]


CLI = "from yilian.cli import main; main()"


@contextlib.asynccontextmanager
async def serve(url: str, workdir: Path, *, workers: int) -> AsyncIterator[Server]:
    """`yilian serve` on `url`, scheduler off, 127.0.0.1 only; stopped by its process id."""
    port = free_port()
    env = {
        **os.environ,
        "YILIAN_DATABASE_URL": url,
        "YILIAN_RUN_SCHEDULER": "false",
        "YILIAN_HOST": "127.0.0.1",
        "YILIAN_PORT": str(port),
        "YILIAN_VAR_DIR": str(workdir / "var"),
        "YILIAN_SECRET_KEY": secrets.token_urlsafe(32),
        "YILIAN_API_RATE_LIMIT": "",  # the storm is a few clients far above any per-client budget
    }
    script = Path(sys.executable).with_name("yilian")
    yilian = [str(script)] if script.exists() else [sys.executable, "-c", CLI]
    command = [*yilian, "serve", "--workers", str(workers)]
    log = (workdir / f"server-{port}.log").open("wb")
    process = subprocess.Popen(  # noqa: ASYNC220 — starting it does not block
        command,
        env=env,
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                if process.poll() is not None:
                    raise RuntimeError(f"the server exited; see {log.name}")
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("the server did not answer /healthz within 30 s")
        yield Server(process, port, [process.pid, *_children(process.pid)])
    finally:
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, 15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            await asyncio.to_thread(process.wait)
        log.close()


async def tokens(server: Server, usernames: list[str]) -> list[str]:
    """A bearer token per account, from POST /api/v1/auth/token like any integration client."""
    found = []
    async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
        for username in usernames:
            answer = await client.post(
                "/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD}
            )
            answer.raise_for_status()
            found.append(answer.json()["access_token"])
    return found


def _cpu_busy() -> tuple[float, float]:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(values) - values[3] - values[4], sum(values)


@contextlib.asynccontextmanager
async def postgres_database(admin_url: str, *, keep: bool) -> AsyncIterator[str]:
    """A fresh database of our own on the PostgreSQL server; dropped afterwards."""
    name = f"yilian_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = make_url(admin_url)
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield admin.set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
    finally:
        if not keep:
            conn = await asyncpg.connect(dsn)
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await conn.close()
