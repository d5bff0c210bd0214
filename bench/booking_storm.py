"""`yilian bench booking-storm`: the release moment of a week of the Sixth Hospital's clinics.

Seeds a fresh PostgreSQL database (and a SQLite file) with 300+ experts' 30-slot sessions and
a few very popular ones, starts the real server (`yilian serve`) on it, and fires N concurrent
keep-alive HTTP clients from a process of their own (bench/loadgen.py): a booking phase where
a share of the requests go for the popular sessions, then a sold-out phase where every request
hits a full session (409 slot_unavailable). Every rule is on: bearer-token auth,
Idempotency-Key on every request, the audit row, the access log. In the same run pgbench
measures the database's own limit for the same transaction (bench/storm_pgbench.py) at the
same client counts on the same data, and the database is checked for overbooking after
every phase. Prints JSON; see docs/performance.md.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from bench import storm_pgbench
from bench.loadgen import CpuMeter
from bench.storm_seed import Seeded, reset, seed, verify
from bench.storm_server import Server, background_load, machine, postgres_database, serve, tokens
from yilian.config import Settings
from yilian.core.db import Database
from yilian.migrations.runner import upgrade

HERE = Path(__file__).resolve().parent


@dataclass
class Options:
    clients: list[int] = field(default_factory=lambda: [8, 16, 32, 64])
    sqlite_clients: int = 16  # 0: skip SQLite
    experts: int = 320  # regular experts, two 30-slot sessions each in the coming week
    hot_sessions: int = 4
    warmup_requests: int = 200  # on sessions of their own, before each client count's phases
    booking_requests: int = 3000
    soldout_requests: int = 3000
    hot_share: float = 0.3  # of the booking phase's requests, on the popular sessions
    # Of all requests, family doctors booking kept slots by resident id. Since issue 11 the
    # registration role books by the patient's identity (实名制, a unit of work of its own) and
    # may no longer send a resident id: the storm books as the family doctors only.
    fd_share: float = 1.0
    phase_time_limit: float = 60.0  # a phase stops sending when it runs out of time
    workers: int = 1  # server processes on PostgreSQL (SQLite: always 1)
    admin_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    pgbench: str = "/usr/lib/postgresql/15/bin/pgbench"
    seed: int = 4
    keep: bool = False  # keep the bench database and work directory
    # An experiment: serve this ASGI app factory ("module:function") the way `yilian serve` does.

    @classmethod
    def quick(cls, **changes: Any) -> Options:
        """A smoke test (< 60 s): one client count, a small hospital, few requests."""
        base = cls(
            clients=[16],
            experts=40,
            hot_sessions=2,
            warmup_requests=64,
            booking_requests=500,
            soldout_requests=300,
            phase_time_limit=12,
        )
        return replace(base, **changes)


# --- the load ----------------------------------------------------------------------------------


def requests_for(
    seeded: Seeded,
    rng: random.Random,
    *,
    count: int,
    first_resident: int,
    hot_share: float,
    fd_share: float,
    sessions: list[int] | None = None,
) -> list[list[int]]:
    """[token index, session id, resident id]: tokens are the channels then one family doctor per
    centre; resident k is signed at centre k % 5, so a family doctor books for its own. Every
    1/fd_share-th request is a family doctor's; popular sessions are taken in turn."""
    channels, centres = len(seeded.channels), len(seeded.family_doctors)
    planned, hot = [], 0
    for k in range(count):
        index = first_resident + k
        if sessions:
            session = rng.choice(sessions)
        elif rng.random() < hot_share:
            session, hot = seeded.hot[hot % len(seeded.hot)], hot + 1
        else:
            session = rng.randint(*seeded.regular)
        family_doctor = int((k + 1) * fd_share) > int(k * fd_share)
        token = channels + index % centres if family_doctor else k % channels
        planned.append([token, session, seeded.resident(index)])
    return planned


def require_sold_out(seeded: Seeded, planned: list[list[int]]) -> None:
    """The booking phase must ask for more than every popular session holds, in both pools,
    so that the sold-out phase meets full sessions only."""
    channels = len(seeded.channels)
    public_asked = any(token < channels for token, _, _ in planned)
    for session in seeded.hot:
        kept = sum(1 for token, s, _ in planned if s == session and token >= channels)
        public = sum(1 for token, s, _ in planned if s == session and token < channels)
        if kept <= seeded.kept_per_session or (public_asked and public <= 30 - seeded.kept_per_session):
            raise ValueError(
                f"the booking phase does not sell out popular session {session} ({public} public and "
                f"{kept} kept requests): raise booking_requests or hot_share, or lower hot_sessions"
            )


async def storm(
    server: Server,
    seeded: Seeded,
    tokens_: list[str],
    *,
    clients: int,
    options: Options,
    workdir: Path,
    database: str | None,
) -> dict[str, Any]:
    """Warm-up, booking and sold-out phases through the HTTP API, in the load generator's process."""
    rng = random.Random(options.seed * 1000 + clients)
    b, s = options.booking_requests, options.soldout_requests
    phases = [
        ("warmup", requests_for(seeded, rng, count=options.warmup_requests, first_resident=0,
                                hot_share=0, fd_share=options.fd_share, sessions=seeded.warmup)),
        ("booking", requests_for(seeded, rng, count=b, first_resident=0,
                                 hot_share=options.hot_share, fd_share=options.fd_share)),
        ("sold_out", requests_for(seeded, rng, count=s, first_resident=b,
                                  hot_share=1.0, fd_share=options.fd_share)),
    ]  # fmt: skip
    require_sold_out(seeded, phases[1][1])
    plan = {
        "host": "127.0.0.1",
        "port": server.port,
        "clients": clients,
        "tokens": tokens_,
        "run": secrets.token_hex(4),
        "server_pids": server.pids,
        "database": database,
        "phases": [
            {"name": name, "requests": planned, "time_limit": options.phase_time_limit}
            for name, planned in phases
        ],
    }
    plan_path, result_path = workdir / f"plan-{clients}.json", workdir / f"result-{clients}.json"
    plan_path.write_text(json.dumps(plan))
    await asyncio.to_thread(
        subprocess.run,
        [sys.executable, str(HERE / "loadgen.py"), str(plan_path), str(result_path)],
        check=True,
        timeout=3 * options.phase_time_limit + 120,
    )
    return {phase["phase"]: phase for phase in json.loads(result_path.read_text())}


async def pgbench_phases(
    db: Database, seeded: Seeded, *, url: str, clients: int, options: Options, workdir: Path
) -> dict[str, Any]:
    """The same transaction and mix without the app: booking, then sold out; checked like the app."""
    users = seeded.users
    channel, doctor = seeded.channels[0], seeded.family_doctors[0]
    script = workdir / "booking.pgbench.sql"
    script.write_text(
        storm_pgbench.script(
            registration=storm_pgbench.Booker(
                channel, "registration", "public", users[channel]["id"], users[channel]["institution_id"]
            ),
            family_doctor=storm_pgbench.Booker(
                doctor, "family_doctor", "community", users[doctor]["id"], users[doctor]["institution_id"]
            ),
        )
    )
    target = make_url(url)
    common = {
        "hot_lo": min(seeded.hot),
        "hot_hi": max(seeded.hot),
        "reg_lo": seeded.regular[0],
        "reg_hi": seeded.regular[1],
        "fd_permille": round(1000 * options.fd_share),
    }
    results: dict[str, Any] = {}
    await reset(db)
    for name, count, first, hot in (
        ("booking", options.booking_requests, 0, options.hot_share),
        ("sold_out", options.soldout_requests, options.booking_requests, 1.0),
    ):
        before_live = (await verify(db, hot=seeded.hot))["live_appointments"]
        meter = CpuMeter([], target.database)
        meter.start()
        rusage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        phase = await asyncio.to_thread(
            storm_pgbench.run,
            pgbench=options.pgbench,
            host=target.host or "127.0.0.1",
            port=target.port or 5432,
            user=target.username or "postgres",
            dbname=target.database or "",
            script_path=script,
            workdir=workdir,
            name=name,
            clients=clients,
            transactions=count,
            variables={**common, "res_lo": seeded.resident(first), "hot_permille": round(1000 * hot)},
            timeout=options.phase_time_limit * 3 + 60,
        )
        rusage1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = meter.stop(phase["transactions"])
        checks = await verify(db, hot=seeded.hot)
        booked = checks["live_appointments"] - before_live
        elapsed = phase["elapsed_s"] or 1e-9
        client_cpu = rusage1.ru_utime + rusage1.ru_stime - rusage0.ru_utime - rusage0.ru_stime
        results[name] = {
            **phase,
            "bookings": booked,
            "bookings_per_s": round(booked / elapsed, 1),
            "rejections": phase["transactions"] - booked,
            "rejections_per_s": round((phase["transactions"] - booked) / elapsed, 1),
            "cpu": _pgbench_cpu(cpu, 1000 * client_cpu / max(phase["transactions"], 1)),
            "checks": checks,
        }
    await reset(db)
    return results


def _pgbench_cpu(cpu: dict[str, float], client_ms: float) -> dict[str, float]:
    """The meter ran in this process: pgbench (a child) is the client, not us."""
    rest = cpu["rest_cpu_ms_per_request"] + cpu["client_cpu_ms_per_request"] - client_ms
    return {
        "machine_busy_pct": cpu["machine_busy_pct"],
        "database_cpu_ms_per_tx": cpu["database_cpu_ms_per_request"],
        "client_cpu_ms_per_tx": round(client_ms, 3),
        "rest_cpu_ms_per_tx": round(rest, 3),
    }


# --- one engine --------------------------------------------------------------------------------


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


async def prepare(url: str, options: Options) -> Seeded:
    await asyncio.to_thread(upgrade, Settings(database_url=url))
    db = Database(url)
    try:
        return await seed(
            db,
            experts=options.experts,
            hot=options.hot_sessions,
            warmup=8,
            residents=options.booking_requests + options.soldout_requests + 200,
            now=datetime.now(UTC),
        )
    finally:
        await db.dispose()


async def run_engine(
    url: str, clients: list[int], options: Options, workdir: Path, *, pgbench: bool
) -> tuple[Seeded, dict[str, Any]]:
    """The storm at each client count through the server; then, with the server stopped (its
    pool would hold connections pgbench needs), pgbench at the same counts on the same data."""
    started = time.monotonic()
    seeded = await prepare(url, options)
    results: dict[str, Any] = {"seed_s": round(time.monotonic() - started, 1), "clients": {}}
    entries: dict[int, dict[str, Any]] = {}
    db = Database(url)
    workers = options.workers if pgbench else 1
    try:
        async with serve(url, workdir, workers=workers) as server:
            tokens_ = await tokens(server, seeded.channels + seeded.family_doctors)
            for count in clients:
                await reset(db)
                app = await storm(
                    server,
                    seeded,
                    tokens_,
                    clients=count,
                    options=options,
                    workdir=workdir,
                    database=None if db.is_sqlite else make_url(url).database,
                )
                checks = await verify(db, hot=seeded.hot)
                created = sum(phase["by_code"].get("201", 0) for phase in app.values())
                checks["app_201_equal_live_appointments"] = created == checks["live_appointments"]
                entries[count] = {"app": app, "app_checks": checks, "overbooked": checks["overbooked"]}
        for count, entry in entries.items():
            app = entry["app"]
            entry["ratios"] = {}
            if pgbench:
                try:
                    reference = await pgbench_phases(
                        db, seeded, url=url, clients=count, options=options, workdir=workdir
                    )
                except (RuntimeError, subprocess.TimeoutExpired) as error:
                    entry["pgbench"] = {"error": str(error)[-2000:]}
                else:
                    entry["pgbench"] = reference
                    entry["overbooked"] += sum(phase["checks"]["overbooked"] for phase in reference.values())
                    entry["ratios"] = {
                        "bookings_app_over_pgbench": ratio(
                            app["booking"]["bookings_per_s"], reference["booking"]["bookings_per_s"]
                        ),
                        "p99_app_over_pgbench": ratio(
                            app["booking"]["p99_ms"], reference["booking"]["p99_ms"]
                        ),
                        "soldout_rejections_app_over_pgbench": ratio(
                            app["sold_out"]["rejections_per_s"], reference["sold_out"]["rejections_per_s"]
                        ),
                    }
            entry["ratios"]["soldout_rejections_over_bookings"] = ratio(
                app["sold_out"]["rejections_per_s"], app["booking"]["bookings_per_s"]
            )
            results["clients"][str(count)] = entry
    finally:
        await db.dispose()
    return seeded, results


# --- the whole run -----------------------------------------------------------------------------


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 4's targets, each with its value and whether it is met (never lowered here)."""
    found = []

    def add(name: str, clients: int, value: float | None, limit: float, *, at_least: bool) -> None:
        met = value is not None and (value >= limit if at_least else value <= limit)
        found.append({"target": name, "clients": clients, "value": value, "limit": limit, "met": met})

    for key, entry in report.get("postgresql", {}).get("clients", {}).items():
        clients, ratios = int(key), entry["ratios"]
        if clients >= 32:
            add(
                "bookings app/pgbench >= 0.35",
                clients,
                ratios.get("bookings_app_over_pgbench"),
                0.35,
                at_least=True,
            )
        add("p99 app/pgbench <= 10", clients, ratios.get("p99_app_over_pgbench"), 10, at_least=False)
        add("sold-out rejections/s >= 3x bookings/s", clients, ratios["soldout_rejections_over_bookings"], 3,
            at_least=True)  # fmt: skip
        add("overbooked == 0", clients, entry["overbooked"], 0, at_least=False)
    comparison = report.get("sqlite_vs_postgresql")
    if comparison:
        clients = comparison["clients"]
        add("SQLite/PostgreSQL bookings >= 0.5", clients, comparison["bookings_ratio"], 0.5, at_least=True)
        add("SQLite p99 <= 250 ms", clients, comparison["sqlite_p99_ms"], 250, at_least=False)
        add("overbooked == 0 (SQLite)", clients, report["sqlite"]["clients"][str(clients)]["overbooked"], 0,
            at_least=False)  # fmt: skip
    return found


async def run(options: Options) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="yilian-bench-"))
    pg_clients = sorted(
        set(options.clients) | ({options.sqlite_clients} if options.sqlite_clients else set())
    )
    report: dict[str, Any] = {
        "benchmark": "booking-storm",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine() | {"background_before_run": await asyncio.to_thread(background_load)},
        "options": asdict(options) | {"admin_url": make_url(options.admin_url).render_as_string()},
    }
    started = time.monotonic()
    try:
        async with postgres_database(options.admin_url, keep=options.keep) as url:
            conn = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
            try:
                report["machine"]["postgresql"] = await conn.fetchval("SHOW server_version")
            finally:
                await conn.close()
            seeded, report["postgresql"] = await run_engine(url, pg_clients, options, workdir, pgbench=True)
        report["world"] = {
            "experts_added_at_sixth": seeded.experts,
            "sessions": seeded.sessions,
            "slots": seeded.slots,
            "slots_per_session": 30,
            "kept_per_session": seeded.kept_per_session,
            "popular_sessions": len(seeded.hot),
            "regular_sessions": seeded.regular[1] - seeded.regular[0] + 1,
            "residents": seeded.resident_count,
            "registration_channels": seeded.channels,
            "family_doctors": seeded.family_doctors,
        }
        if options.sqlite_clients:
            url = f"sqlite+aiosqlite:///{workdir / 'storm.db'}"
            _, report["sqlite"] = await run_engine(
                url, [options.sqlite_clients], options, workdir, pgbench=False
            )
            pg = report["postgresql"]["clients"][str(options.sqlite_clients)]["app"]["booking"]
            lite = report["sqlite"]["clients"][str(options.sqlite_clients)]["app"]["booking"]
            report["sqlite_vs_postgresql"] = {
                "clients": options.sqlite_clients,
                "bookings_ratio": ratio(lite["bookings_per_s"], pg["bookings_per_s"]),
                "sqlite_p99_ms": lite["p99_ms"],
                "postgresql_p99_ms": pg["p99_ms"],
            }
    finally:
        if options.keep:
            report["workdir"] = str(workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    report["targets"] = targets(report)
    report["all_targets_met"] = all(t["met"] for t in report["targets"])
    report["duration_s"] = round(time.monotonic() - started, 1)
    return report


def main(options: Options) -> dict[str, Any]:
    if options.fd_share != 1.0:
        raise ValueError(
            "the registration role books by identity (issue 11): the storm books as family doctors"
        )
    try:
        import uvloop
    except ImportError:
        return asyncio.run(run(options))
    return uvloop.run(run(options))
