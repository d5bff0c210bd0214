"""`yilian`: serve, db upgrade, demo load, jobs, screenshots, bench."""

from __future__ import annotations

import asyncio
from pathlib import Path
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
admin_app = typer.Typer(
    help="Administration: register workbooks (批量导入), templates, exports.", no_args_is_help=True
)
app.add_typer(admin_app, name="admin")
KIND_HELP = "institutions, departments, practitioners, consortia, accounts, or all (a sheet each)"


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


@app.command()
def screenshots(
    out: Annotated[Path, typer.Option(help="The folder the PNGs go to (git-ignored under var/)")] = Path(
        "var/screenshots"
    ),
    residents: Annotated[int, typer.Option(help="How many synthetic residents the demo loads")] = 300,
    role: Annotated[
        list[str] | None,
        typer.Option(help="Only these demo accounts (repeatable); default: all of DESIGN §6"),
    ] = None,
) -> None:
    """What each demo account sees on a 390×844 phone: a full-page PNG of each page it reaches.

    Serves the app on a fresh demo database of its own (as `make run` does, in a temporary SQLite
    file), signs in as each account, walks its pages (yilian.tour) and saves them into `out`.
    Needs Playwright (`pip install -e '.[test]'`) and Chromium (YILIAN_CHROMIUM, /usr/bin/chromium).
    """
    from yilian import tour

    try:
        import playwright  # noqa: F401
    except ImportError:  # Playwright is a test dependency
        raise typer.BadParameter(
            "no Playwright: install the test dependencies (pip install -e '.[test]')"
        ) from None
    if not tour.CHROMIUM.exists():
        raise typer.BadParameter(
            f"no Chromium at {tour.CHROMIUM} (apt-get install chromium, or YILIAN_CHROMIUM)"
        )
    unknown = sorted(set(role or ()) - set(tour.ROLES))
    if unknown:
        raise typer.BadParameter(f"not demo accounts: {', '.join(unknown)}", param_hint="--role")
    written = tour.screenshots(out, roles=tuple(role) if role else tour.ROLES, residents=residents)
    print(f"{len(written)} screenshots in {out}")


# --- administration: the register workbook (批量导入) -----------------------------------------


def _kinds(kind: str) -> tuple[str, ...]:
    from yilian.directory.rules.workbook import KIND_NAMES

    if kind not in KIND_NAMES:
        raise typer.BadParameter(f"not a register: {kind} ({KIND_HELP})", param_hint="KIND")
    return (kind,)


@admin_app.command("create-admin")
def admin_create_admin(
    username: Annotated[str, typer.Argument(help="The first system administrator's username")],
    name: Annotated[str, typer.Option(help="Display name")] = "系统管理员",
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="YILIAN_ADMIN_PASSWORD",
            help="At least 10 characters (asked for when not given; or YILIAN_ADMIN_PASSWORD)",
        ),
    ] = "",
) -> None:
    """A new installation's first system administrator (then: the pages, 管理 → 账号, and
    `yilian admin import`). Refused once the platform has one."""
    from yilian.auth.service import accounts
    from yilian.core.clock import system_clock
    from yilian.core.db import Database
    from yilian.core.errors import DomainError
    from yilian.core.i18n import DEFAULT_LOCALE

    async def run() -> int:
        db = Database(Settings().database_url)
        try:
            async with db.transaction() as session:
                return await accounts.create_first_administrator(
                    session, now=system_clock(), username=username, display_name=name, password=password
                )
        finally:
            await db.dispose()

    try:
        account_id = asyncio.run(run())
    except DomainError as error:
        print(error.detail(DEFAULT_LOCALE))
        raise typer.Exit(1) from None
    print(f"系统管理员 {username} (#{account_id})")


@admin_app.command("template")
def admin_template(
    kind: Annotated[str, typer.Argument(help=KIND_HELP)],
    out: Annotated[Path | None, typer.Option(help="Default: yilian-template-KIND.xlsx")] = None,
) -> None:
    """Write the template of a register: Chinese headers, one example row, drop-down lists."""
    from yilian.directory.rules.workbook import kinds_named
    from yilian.directory.service import imports

    _kinds(kind)
    target = out or Path(f"yilian-template-{kind}.xlsx")
    target.write_bytes(imports.template_workbook(kinds_named(kind)))
    print(f"{target}")


@admin_app.command("export")
def admin_export(
    kind: Annotated[str, typer.Argument(help=KIND_HELP)],
    out: Annotated[Path | None, typer.Option(help="Default: yilian-KIND.xlsx")] = None,
    as_user: Annotated[str | None, typer.Option("--as", help="A system administrator's username")] = None,
) -> None:
    """Export a register with the template's columns (re-imported, it changes nothing)."""
    from yilian.core.clock import system_clock
    from yilian.core.db import Database
    from yilian.directory.rules.workbook import kinds_named
    from yilian.directory.service import imports

    _kinds(kind)

    async def run() -> bytes:
        db = Database(Settings().database_url)
        try:
            async with db.transaction() as session:
                actor = await imports.command_line_actor(session, as_user)
                return await imports.export_workbook(
                    session, kinds=kinds_named(kind), actor=actor, now=system_clock()
                )
        finally:
            await db.dispose()

    target = out or Path(f"yilian-{kind}.xlsx")
    try:
        target.write_bytes(asyncio.run(run()))
    except imports.NoAdministrator:
        raise typer.BadParameter("no active system administrator of that name", param_hint="--as") from None
    print(f"{target}")


@admin_app.command("import")
def admin_import(
    file: Annotated[
        Path, typer.Argument(help="An .xlsx workbook or a .csv file, at most 20 MB", exists=True)
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show what it would do")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the dry run as JSON")] = False,
    as_user: Annotated[str | None, typer.Option("--as", help="A system administrator's username")] = None,
) -> None:
    """Import a register workbook as the system administrator: the dry run, then (without
    --dry-run, and if it has no error) the import, in one transaction. Exit status 1 on errors."""
    import json

    from yilian.core.clock import system_clock
    from yilian.core.db import Database
    from yilian.core.errors import DomainError
    from yilian.core.i18n import DEFAULT_LOCALE, gettext
    from yilian.directory.queries.imports import UploadView
    from yilian.directory.service import imports

    content = file.read_bytes()

    async def run() -> UploadView:
        db = Database(Settings().database_url)
        try:
            async with db.transaction() as session:
                actor = await imports.command_line_actor(session, as_user)
                view = await imports.upload_workbook(
                    session, filename=file.name, content=content, actor=actor, now=system_clock()
                )
            if dry_run or not view.ok:
                return view
            async with db.transaction() as session:
                return await imports.commit_workbook(
                    session, upload_id=view.id, actor=actor, now=system_clock()
                )
        finally:
            await db.dispose()

    try:
        view = asyncio.run(run())
    except imports.NoAdministrator:
        raise typer.BadParameter("no active system administrator of that name", param_hint="--as") from None
    except DomainError as error:
        print(error.detail(DEFAULT_LOCALE))
        raise typer.Exit(1) from None
    errors = [
        {
            "sheet": p.sheet,
            "row": p.row,
            "column": p.column,
            "message": gettext(DEFAULT_LOCALE, p.message, **p.params),
        }
        for p in view.problems
    ]
    if as_json:
        counts = [
            {"kind": c.kind, "create": c.create, "update": c.update, "unchanged": c.unchanged}
            for c in view.counts
        ]
        print(json.dumps(
            {"id": view.id, "sha256": view.sha256, "committed": view.committed_at is not None,
             "counts": counts, "errors": errors, "error_total": view.problem_total},
            ensure_ascii=False, indent=2,
        ))  # fmt: skip
    else:
        print(f"{'工作表':<8}{'新建':>8}{'更新':>8}{'不变':>8}")
        for c in view.counts:
            print(f"{c.sheet:<8}{c.create:>10}{c.update:>10}{c.unchanged:>10}")
        for e in errors:
            print(f"{e['sheet']} 第 {e['row'] or '-'} 行 {e['column'] or ''}: {e['message']}")
        state = (
            "已导入" if view.committed_at else ("有错误，未导入" if view.problem_total else "试运行，未导入")
        )
        print(f"{file.name} (SHA-256 {view.sha256[:12]}…): {state}")
    if view.problem_total:
        raise typer.Exit(1)


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


@bench_app.command("admin-import")
def bench_admin_import(
    institutions: Annotated[int, typer.Option(help="Institutions (in ten consortia)")] = 300,
    departments: Annotated[int, typer.Option(help="Departments, spread over the institutions")] = 3000,
    practitioners: Annotated[int, typer.Option(help="Practitioners, each with an account")] = 20_000,
    engine: Annotated[list[str] | None, typer.Option(help="sqlite and/or postgresql (default both)")] = None,
    admin_url: Annotated[
        str, typer.Option(help="A PostgreSQL server to create the bench database on (dropped after)")
    ] = "postgresql://postgres@127.0.0.1:5432/postgres",
    output: Annotated[str | None, typer.Option(help="Also write the JSON to this file")] = None,
) -> None:
    """A register workbook (issue 13): dry run, commit and re-import, seconds and peak RSS."""
    import json
    from pathlib import Path

    _bench_path()
    from bench import admin_import

    options = admin_import.Options(
        institutions=institutions,
        departments=departments,
        practitioners=practitioners,
        engines=tuple(engine or ("sqlite", "postgresql")),
        admin_url=admin_url,
    )
    text = json.dumps(admin_import.main(options), ensure_ascii=False, indent=2)
    if output:
        Path(output).write_text(text + "\n")
    print(text)
