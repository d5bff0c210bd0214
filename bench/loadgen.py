"""The booking-storm load generator: N keep-alive HTTP/1.1 clients in a process of its own.

Run by `bench.booking_storm` as `python bench/loadgen.py PLAN.json RESULT.json`. Standard
library only (uvloop when present): a hand-rolled HTTP/1.1 client costs a fraction of the CPU
of httpx per request, and on a 2-core machine every cycle the load generator burns is taken
from the server and the database it is measuring.

The plan holds phases run one after the other on the same connections; each phase is a list
of requests `[token index, session id, resident id]` pulled by whichever client is free
(closed loop: a client sends its next request when the previous answer is in).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PATH = "/api/v1/appointments"
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Outcome:
    started: float = 0.0
    elapsed: float = 0.0
    sent: int = 0
    by_code: Counter[str] = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)


def _cpu_of(pid: int | str) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def _machine() -> tuple[float, float]:
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    return (sum(values) - values[3] - values[4]) / TICKS, sum(values) / TICKS


class CpuMeter:
    """CPU seconds spent over a phase: the whole machine, the server's processes, the backends
    of the bench database (sampled every `interval`: a backend that exits between two samples
    loses its last slice), this process, and the rest (the database's shared processes and
    anything else running on the machine)."""

    def __init__(self, server_pids: list[int], database: str | None, interval: float = 0.1) -> None:
        self.server_pids, self.interval = server_pids, interval
        self.marker = f" {database} ".encode() if database else None
        self.first: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _backends(self) -> dict[str, float]:
        found: dict[str, float] = {}
        if self.marker is None:
            return found
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                    title = cmdline.read()
            except OSError:
                continue
            if title.startswith(b"postgres:") and self.marker in title:
                cpu = _cpu_of(pid)
                if cpu is not None:
                    found[pid] = cpu
        return found

    def _sample(self) -> None:
        for pid, cpu in self._backends().items():
            self.first.setdefault(pid, 0.0)  # born during the phase: all its CPU is ours
            self.last[pid] = cpu

    def _run(self) -> None:
        while not self.stopping.wait(self.interval):
            self._sample()

    def start(self) -> None:
        self.first = dict(self._backends())
        self.last = dict(self.first)
        self.server0 = sum(_cpu_of(pid) or 0.0 for pid in self.server_pids)
        self.machine0 = _machine()
        self.self0 = time.process_time()
        self.thread.start()

    def stop(self, requests: int) -> dict[str, float]:
        self.stopping.set()
        self.thread.join()
        self._sample()
        busy = _machine()[0] - self.machine0[0]
        total = _machine()[1] - self.machine0[1]
        server = sum(_cpu_of(pid) or 0.0 for pid in self.server_pids) - self.server0
        database = sum(self.last[pid] - self.first[pid] for pid in self.last)
        mine = time.process_time() - self.self0
        per = 1000 / max(requests, 1)
        return {
            "machine_busy_pct": round(100 * busy / max(total, 1e-9), 1),
            "server_cpu_ms_per_request": round(server * per, 3),
            "database_cpu_ms_per_request": round(database * per, 3),
            "client_cpu_ms_per_request": round(mine * per, 3),
            "rest_cpu_ms_per_request": round((busy - server - database - mine) * per, 3),
        }


class Connection:
    """One keep-alive connection; reconnects when the server closes it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, head: bytes, body: bytes) -> tuple[int, bytes]:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(head + body)
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        length, chunked, close = 0, False, False
        while True:
            line = await self.reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        payload = await (self._chunked() if chunked else self.reader.readexactly(length))
        if close:
            await self.close()
        return status, payload

    async def _chunked(self) -> bytes:
        assert self.reader is not None  # noqa: S101
        parts: list[bytes] = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None


def outcome_code(status: int, payload: bytes) -> str:
    if status < 300:
        return str(status)
    try:
        code = json.loads(payload).get("code", "")
    except ValueError:
        code = ""
    return f"{status} {code}".strip()


async def run_phase(plan: dict[str, Any], phase: dict[str, Any], connections: list[Connection]) -> Outcome:
    requests: list[list[int]] = phase["requests"]
    heads = [
        (
            f"POST {PATH} HTTP/1.1\r\nHost: {plan['host']}:{plan['port']}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        ).encode()
        for token in plan["tokens"]
    ]
    prefix = f"{plan['run']}-{phase['name']}-"
    deadline = time.monotonic() + phase["time_limit"]
    outcome = Outcome()
    next_index = 0

    async def client(connection: Connection) -> None:
        nonlocal next_index
        while next_index < len(requests) and time.monotonic() < deadline:
            index = next_index
            next_index += 1
            token, session_id, resident_id = requests[index]
            body = b'{"session_id":%d,"resident_id":%d}' % (session_id, resident_id)
            head = heads[token] + b"Idempotency-Key: %s%d\r\nContent-Length: %d\r\n\r\n" % (
                prefix.encode(),
                index,
                len(body),
            )
            started = time.perf_counter()
            try:
                status, payload = await connection.request(head, body)
                code = outcome_code(status, payload)
            except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                await connection.close()
                code = f"transport {type(error).__name__}"
            latency = time.perf_counter() - started
            outcome.sent += 1
            outcome.by_code[code] += 1
            outcome.latencies.setdefault(code, []).append(latency)

    meter = CpuMeter(plan.get("server_pids", []), plan.get("database"))
    meter.start()
    outcome.started = time.perf_counter()
    await asyncio.gather(*(client(c) for c in connections))
    outcome.elapsed = time.perf_counter() - outcome.started
    outcome.cpu = meter.stop(outcome.sent)
    return outcome


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(name: str, outcome: Outcome, planned: int) -> dict[str, Any]:
    everything = [x for values in outcome.latencies.values() for x in values]
    booked = outcome.by_code.get("201", 0)
    rejected = outcome.by_code.get("409 slot_unavailable", 0)

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 2)

    elapsed = outcome.elapsed or 1e-9
    return {
        "phase": name,
        "planned": planned,
        "sent": outcome.sent,
        "elapsed_s": round(outcome.elapsed, 3),
        "requests_per_s": round(outcome.sent / elapsed, 1),
        "bookings": booked,
        "bookings_per_s": round(booked / elapsed, 1),
        "rejections": rejected,
        "rejections_per_s": round(rejected / elapsed, 1),
        "p50_ms": ms(percentile(everything, 0.50)),
        "p99_ms": ms(percentile(everything, 0.99)),
        "booking_p50_ms": ms(percentile(outcome.latencies.get("201", []), 0.50)),
        "booking_p99_ms": ms(percentile(outcome.latencies.get("201", []), 0.99)),
        "by_code": dict(sorted(outcome.by_code.items())),
        "errors": {code: n for code, n in sorted(outcome.by_code.items()) if code != "201"},
        "cpu": outcome.cpu,
    }


async def storm(plan: dict[str, Any]) -> list[dict[str, Any]]:
    connections = [Connection(plan["host"], plan["port"]) for _ in range(plan["clients"])]
    results = []
    try:
        for phase in plan["phases"]:
            outcome = await run_phase(plan, phase, connections)
            results.append(summary(phase["name"], outcome, len(phase["requests"])))
    finally:
        for connection in connections:
            await connection.close()
    return results


def main(plan_path: Path, result_path: Path) -> None:
    plan = json.loads(plan_path.read_text())
    try:
        import uvloop
    except ImportError:  # the standard loop works, only slower
        results = asyncio.run(storm(plan))
    else:
        results = uvloop.run(storm(plan))
    result_path.write_text(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
