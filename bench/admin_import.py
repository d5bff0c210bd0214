"""`yilian bench admin-import`: a register workbook of 300 institutions, 3,000 departments and
20,000 practitioners with their 20,000 accounts (issue 13), imported on SQLite and PostgreSQL.

For each engine, on a freshly migrated database with one system administrator: the upload (the
dry run: read the file, compare every row with the registers, keep the file), the commit (read
again, plan again, write everything in one transaction), then the same file again (upload and
commit: every row "unchanged", nothing written). Seconds and the process's peak resident memory
(RSS) during each step, sampled every 20 ms. The reference, measured in the same run: reading the
workbook alone (openpyxl, read-only), the floor of any step. Prints JSON; see docs/performance.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.storm_server import machine, postgres_database
from yilian.auth.models import User, UserRole
from yilian.auth.service import actor_of
from yilian.config import Settings
from yilian.core.db import Database
from yilian.directory.models import Practitioner
from yilian.directory.rules import credit_code_check
from yilian.directory.rules.files import read_workbook, write_workbook
from yilian.directory.rules.workbook import SHEETS, Kind
from yilian.directory.service import imports
from yilian.migrations.runner import upgrade

TITLES = ("主任医师", "副主任医师", "主治医师", "住院医师")
NOW = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)


@dataclass
class Options:
    institutions: int = 300
    departments: int = 3000
    practitioners: int = 20_000
    engines: tuple[str, ...] = ("sqlite", "postgresql")
    admin_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    keep: bool = False


def workbook(options: Options) -> bytes:
    """The registers: institutions (a tenth tertiary, a fifth secondary, the rest community) in
    ten regional consortia, departments spread evenly, practitioners spread evenly over them, an
    account for each practitioner (no first password: administrators reset them)."""
    codes = []
    institutions = []
    for n in range(options.institutions):
        first = f"12310104{n + 1:09d}"
        code = first + credit_code_check(first)
        codes.append(code)
        tier = 3 if n % 10 == 0 else 2 if n % 5 == 1 else 1
        institutions.append(
            {"name": f"基准机构{n + 1:04d}", "short_name": "", "tier": tier, "district": "徐汇区",
             "district_code": "310104", "credit_code": code, "address": "", "description": ""}
        )  # fmt: skip
    departments = [
        {"institution": codes[n % len(codes)], "name": f"科室{n // len(codes) + 1:02d}", "subject_code": None,
         "description": ""}
        for n in range(options.departments)
    ]  # fmt: skip
    practitioners, accounts = [], []
    for n in range(options.practitioners):
        department = departments[n % len(departments)]
        name = f"医生{n + 1:05d}"
        practitioners.append(
            {"institution": department["institution"], "department": department["name"], "name": name,
             "title": TITLES[n % 4], "specialties": ("高血压", "糖尿病"), "expert": n % 7 == 0, "profile": ""}
        )  # fmt: skip
        accounts.append(
            {"username": f"doc{n + 1:05d}", "display_name": name, "roles": ("specialist",),
             "institution": department["institution"], "practitioner": name, "consortium": "",
             "password": None}
        )  # fmt: skip
    members = [
        {"consortium": f"基准医联体{n % 10 + 1:02d}", "kind": "regional", "lead": codes[n % 10],
         "member": code, "role": "lead" if n < 10 else "member", "joined_on": date(2026, 1, 1),
         "left_on": None}
        for n, code in enumerate(codes)
    ]  # fmt: skip
    return write_workbook(
        [
            (SHEETS[Kind.INSTITUTIONS], institutions),
            (SHEETS[Kind.DEPARTMENTS], departments),
            (SHEETS[Kind.PRACTITIONERS], practitioners),
            (SHEETS[Kind.CONSORTIA], members),
            (SHEETS[Kind.ACCOUNTS], accounts),
        ]
    )


def rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * 4096 / 1024 / 1024


@contextlib.contextmanager
def measured(into: dict[str, Any], name: str) -> Iterator[None]:
    """Seconds and peak RSS (sampled every 20 ms) of the block."""
    peak = [rss_mb()]
    before = peak[0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], rss_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    try:
        yield
    finally:
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        peak[0] = max(peak[0], rss_mb())
        into[name] = {
            "seconds": round(seconds, 2),
            "rss_peak_mb": round(peak[0], 1),
            "rss_before_mb": round(before, 1),
        }


@contextlib.asynccontextmanager
async def database(engine: str, options: Options) -> AsyncIterator[str]:
    if engine == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite+aiosqlite:///{folder}/bench.db"
    else:
        async with postgres_database(options.admin_url, keep=options.keep) as url:
            yield url


async def run_engine(engine: str, content: bytes, options: Options) -> dict[str, Any]:
    found: dict[str, Any] = {}
    async with database(engine, options) as url:
        await asyncio.to_thread(upgrade, Settings(database_url=url))
        db = Database(url)
        try:
            async with db.transaction() as session:
                admin = User(username="bench.admin", display_name="基准", password_hash="!", created_at=NOW,  # noqa: S106
                             role_rows=[UserRole(role="system_admin")])  # fmt: skip
                session.add(admin)
            async with db.read() as session:
                user = await session.scalar(select(User).where(User.username == "bench.admin"))
                if user is None:
                    raise RuntimeError("the bench's administrator was not written")
                actor = actor_of(user)
            for step in ("first", "again"):
                with measured(found, f"{step}_dry_run"):
                    async with db.transaction() as session:
                        view = await imports.upload_workbook(
                            session, filename="bench.xlsx", content=content, actor=actor, now=NOW
                        )
                if view.problem_total:
                    raise RuntimeError(f"the bench workbook has errors: {view.problems[:5]}")
                found[f"{step}_counts"] = {c.kind: [c.create, c.update, c.unchanged] for c in view.counts}
                with measured(found, f"{step}_commit"):
                    async with db.transaction() as session:
                        await imports.commit_workbook(session, upload_id=view.id, actor=actor, now=NOW)
            async with db.read() as session:
                found["practitioners_in_db"] = await session.scalar(
                    select(func.count()).select_from(Practitioner)
                )
        finally:
            await db.dispose()
    return found


def main(options: Options, log: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    result: dict[str, Any] = {"machine": machine(), "options": {
        "institutions": options.institutions, "departments": options.departments,
        "practitioners": options.practitioners, "accounts": options.practitioners}}  # fmt: skip
    with measured(result, "build_workbook"):
        content = workbook(options)
    result["workbook_bytes"] = len(content)
    with measured(result, "reference_read_only"):
        book = read_workbook(content, "bench.xlsx")
    result["reference_rows"] = {k.value: len(v) for k, v in book.rows.items()}
    del book
    for engine in options.engines:
        log(f"{engine} …")
        result[engine] = asyncio.run(run_engine(engine, content, options))
    return result
