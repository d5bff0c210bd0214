"""Large and slow bodies against a real server (uvicorn in a subprocess, over a socket), watching the
server's time and memory (issue 11 §3: a 200 MB body without a token used to be read in full, 67 s
and 122 MB → 942 MB; a 10 GB Content-Length with one byte sent hung the connection).

The figures of each case are printed (`pytest -s`, on stderr) and kept in docs/operations.md.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from yilian.demo.loader import DEMO_PASSWORD

MB = 1024 * 1024
SRC = Path(__file__).resolve().parents[2] / "src"


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int

    def rss_mb(self) -> tuple[float, float]:
        """The server's resident memory now and at its peak (VmHWM), in MB."""
        fields = dict(
            line.split(":", 1) for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines()
        )
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def server(demo_db_url: str, tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("YILIAN_")}
    env.update(
        PYTHONPATH=str(SRC),
        YILIAN_DATABASE_URL=demo_db_url,
        YILIAN_VAR_DIR=str(tmp_path),
        YILIAN_SECRET_KEY="test",
        YILIAN_RUN_SCHEDULER="false",
        YILIAN_BODY_TIMEOUT_SECONDS="2",
    )
    command = [sys.executable, "-m", "uvicorn", "yilian.app:create_app", "--factory", "--port", str(port)]
    command += ["--no-access-log", "--log-level", "warning"]
    with (tmp_path / "server.log").open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    live = Server(process, port)
    try:
        for _ in range(200):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            pytest.fail(f"the server did not start: {(tmp_path / 'server.log').read_text()}")
        yield live
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass
class Outcome:
    status: int
    seconds: float
    sent_mb: float


def send(port: int, head: bytes, body_mb: int, *, chunked: bool = False, trickle: bool = False) -> Outcome:
    """Send a request head, then up to `body_mb` of body until the server answers or closes."""
    started = time.perf_counter()
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        sock.setblocking(False)
        piece = b" " * (64 * 1024)
        if chunked:
            piece = b"%x\r\n%s\r\n" % (len(piece), piece)
        answer = b""
        while b"\r\n" not in answer:
            if sent < body_mb * MB and not trickle:
                try:
                    sent += sock.send(piece)
                except BlockingIOError:
                    time.sleep(0.001)
                except (BrokenPipeError, ConnectionResetError):
                    pass
            else:
                time.sleep(0.01)
            try:
                chunk = sock.recv(65536)
            except BlockingIOError:
                continue
            if not chunk:
                break
            answer += chunk
            if time.perf_counter() - started > 60:
                break
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
    return Outcome(status, round(time.perf_counter() - started, 2), round(sent / MB, 1))


def head(path: str, *, length: int | None, token: str | None = None) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    lines.append(f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked")
    if token:
        lines.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def test_large_and_slow_bodies_cost_the_server_neither_time_nor_memory(server: Server) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
        response = await client.post(
            "/api/v1/auth/token", data={"username": "fd.tianlin", "password": DEMO_PASSWORD}
        )
        token = response.json()["access_token"]
        await client.get("/api/v1/residents", headers={"Authorization": f"Bearer {token}"})  # warm
    before, peak_before = server.rss_mb()
    cases = {
        "200 MB JSON, no token, Content-Length": (head("/api/v1/residents", length=200 * MB), 200, False),
        "200 MB JSON, no token, chunked": (head("/api/v1/residents", length=None), 200, False),
        "200 MB JSON, token, chunked": (head("/api/v1/residents", length=None, token=token), 200, False),
        "10 GB Content-Length, upload route": (
            head("/api/v1/referrals/1/attachments", length=10 * 1024**3, token=token),
            0,
            False,
        ),
        "500 kB Content-Length, nothing sent": (
            head("/api/v1/residents", length=500_000, token=token),
            0,
            True,
        ),
    }
    outcomes = {}
    for name, (request_head, mb, trickle) in cases.items():
        chunked = b"chunked" in request_head
        outcomes[name] = await asyncio.to_thread(
            send, server.port, request_head, mb, chunked=chunked, trickle=trickle
        )
    after, peak = server.rss_mb()
    sys.stderr.write(
        f"\nserver RSS {before:.0f} MB before, {after:.0f} MB after; peak {peak_before:.0f} → {peak:.0f} MB\n"
    )
    for name, outcome in outcomes.items():
        sys.stderr.write(f"{name}: {outcome.status} in {outcome.seconds} s, {outcome.sent_mb} MB sent\n")
    assert outcomes["200 MB JSON, no token, Content-Length"].status == 413
    assert outcomes["200 MB JSON, no token, chunked"].status == 401
    assert outcomes["200 MB JSON, token, chunked"].status == 413
    assert outcomes["10 GB Content-Length, upload route"].status == 413
    assert outcomes["500 kB Content-Length, nothing sent"].status == 408
    for name, outcome in outcomes.items():
        limit = 4.0 if "nothing sent" in name else 2.0  # the body deadline is 2 s in this test
        assert outcome.seconds < limit, name
        assert outcome.sent_mb < 20, name  # the socket buffers take some; the server reads ≤ 1 MB
    assert after - before < 30
    assert peak - peak_before < 30
