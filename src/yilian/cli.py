"""`yilian`: serve, db upgrade, demo load, jobs, bench."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from yilian.config import Settings

app = typer.Typer(
    help="Yilian 医联: the shared platform of a medical consortium.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo consortia, people and accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
jobs_app = typer.Typer(help="Periodic jobs (slot release, share adjustment, session generation).")
app.add_typer(jobs_app, name="jobs")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default: YILIAN_HOST or 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="Default: YILIAN_PORT or 8000")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL only)")] = 1,
) -> None:
    """Serve the pages and the API."""
    import uvicorn

    from yilian.core import logs

    settings = Settings()
    logs.configure(settings.log_level)
    uvicorn.run(
        "yilian.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers if not settings.is_sqlite else 1,
        log_config=None,
        access_log=False,  # the app writes its own, masked (yilian.access)
        proxy_headers=True,
        # Open event streams (GET /api/v1/events) must not hold a shutdown: browsers reconnect.
        timeout_graceful_shutdown=5,
    )


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Migrate the database (YILIAN_DATABASE_URL) up to `revision`."""
    from yilian.migrations.runner import upgrade

    upgrade(Settings(), revision)


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to `revision` (`base` empties it)."""
    from yilian.migrations.runner import downgrade

    downgrade(Settings(), revision)


@demo_app.command("load")
def demo_load(
    residents: Annotated[int, typer.Option(help="How many synthetic residents")] = 2000,
    story: Annotated[
        bool, typer.Option(help="Also the referrals, follow-up tasks, bed offer and notices of the story")
    ] = True,
) -> None:
    """Load the demo consortia, people and accounts, and the referral story dated up to now
    (idempotent: a second run changes nothing)."""
    from yilian.core.clock import system_clock
    from yilian.core.db import Database
    from yilian.demo import loader as demo

    async def run() -> demo.LoadReport:
        db = Database(Settings().database_url)
        try:
            async with db.transaction() as session:
                return await demo.load(session, now=system_clock(), residents=residents, story=story)
        finally:
            await db.dispose()

    report = asyncio.run(run())
    print(report.summary())


@demo_app.command("accounts")
def demo_accounts() -> None:
    """Print the demo accounts (DESIGN §6)."""
    from yilian.demo import loader as demo

    print(demo.accounts_table())


@jobs_app.command("run")
def jobs_run(
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Run as if it were this ISO time (e.g. 2026-11-28T08:01; no offset: local time). "
            "Default: now.",
        ),
    ] = None,
) -> None:
    """Run every job that is due now, once (for cron; idempotent, one runner at a time)."""
    from datetime import UTC, datetime

    from yilian.app import JOBS
    from yilian.core import jobs
    from yilian.core.clock import system_clock
    from yilian.core.db import Database

    settings = Settings()
    if at is None:
        now = system_clock()
    else:
        try:
            given = datetime.fromisoformat(at)
        except ValueError:
            raise typer.BadParameter(f"not an ISO date and time: {at!r}", param_hint="--at") from None
        now = (given if given.tzinfo else given.replace(tzinfo=settings.zone)).astimezone(UTC)

    async def run() -> jobs.JobReport:
        db = Database(settings.database_url)
        try:
            return await jobs.run_due(db, JOBS, now=now, zone=settings.zone)
        finally:
            await db.dispose()

    print(asyncio.run(run()).summary())


def main() -> None:
    app()


# --- benchmarks (bench/, next to src/ in a checkout) -------------------------------------------

bench_app = typer.Typer(
    help="Benchmarks from bench/: each prints JSON against a reference measured in the same run.",
    no_args_is_help=True,
)
app.add_typer(bench_app, name="bench")


def _bench_path() -> None:
    """bench/ is not part of the installed package: find it in the checkout this module lives in."""
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    if not (root / "bench" / "__init__.py").exists():
        raise typer.BadParameter(f"no bench/ next to {root / 'src'}: run from a checkout")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))


@bench_app.command("booking-storm")
def bench_booking_storm(
    quick: Annotated[bool, typer.Option(help="Smoke test: one client count, small world (< 60 s)")] = False,
    clients: Annotated[str | None, typer.Option(help="PostgreSQL client counts, e.g. 8,16,32,64")] = None,
    sqlite_clients: Annotated[int | None, typer.Option(help="SQLite client count (0: skip)")] = None,
    workers: Annotated[int, typer.Option(help="Server processes on PostgreSQL")] = 1,
    admin_url: Annotated[
        str, typer.Option(help="A PostgreSQL server to create the bench database on (dropped after)")
    ] = "postgresql://postgres@127.0.0.1:5432/postgres",
    pgbench: Annotated[str, typer.Option(help="pgbench executable")] = "/usr/lib/postgresql/15/bin/pgbench",
    output: Annotated[str | None, typer.Option(help="Also write the JSON to this file")] = None,
    keep: Annotated[bool, typer.Option(help="Keep the bench database and work directory")] = False,
) -> None:
    """Reserved-slot booking at a release moment: the HTTP app against pgbench (issue 4)."""
    import json
    from dataclasses import replace
    from pathlib import Path

    _bench_path()
    from bench import booking_storm

    options = booking_storm.Options.quick() if quick else booking_storm.Options()
    changes: dict[str, object] = {
        "workers": workers,
        "admin_url": admin_url,
        "pgbench": pgbench,
        "keep": keep,
    }
    if clients:
        changes["clients"] = [int(c) for c in clients.split(",") if c.strip()]
    if sqlite_clients is not None:
        changes["sqlite_clients"] = sqlite_clients
    report = booking_storm.main(replace(options, **changes))  # type: ignore[arg-type]
    text = json.dumps(report, ensure_ascii=False, indent=2)
    if output:
        Path(output).write_text(text + "\n")
    print(text)


@bench_app.command("admission-queue")
def bench_admission_queue(
    wards: Annotated[int, typer.Option(help="Wards at 市六 (the waiting requests spread over them)")] = 40,
    waiting: Annotated[int, typer.Option(help="Waiting admission requests in all")] = 10_000,
    samples: Annotated[int, typer.Option(help="Timed calls per measurement")] = 400,
    admin_url: Annotated[
        str, typer.Option(help="A PostgreSQL server to create the bench database on (dropped after)")
    ] = "postgresql://postgres@127.0.0.1:5432/postgres",
    output: Annotated[str | None, typer.Option(help="Also write the JSON to this file")] = None,
    keep: Annotated[bool, typer.Option(help="Keep the bench database")] = False,
) -> None:
    """A ward's ordered queue with explanations, and offering a freed bed: p50/p99 (issue 6)."""
    import json
    from pathlib import Path

    _bench_path()
    from bench import admission_queue

    options = admission_queue.Options(
        wards=wards, waiting=waiting, samples=samples, admin_url=admin_url, keep=keep
    )
    text = json.dumps(admission_queue.main(options), ensure_ascii=False, indent=2)
    if output:
        Path(output).write_text(text + "\n")
    print(text)
