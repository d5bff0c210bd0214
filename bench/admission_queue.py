"""`yilian bench admission-queue`: 10,000 waiting admission requests across 40 wards (issue 6).

Seeds a fresh PostgreSQL database (the demo directory and accounts, then 40 wards of 市六 with
their beds and 250 waiting requests each, a fifth of them 社区签约, over the last 60 days) and
measures, through the real HTTP app (in process, every middleware, bearer-token auth and the
audit row on), the time to list one ward's ordered queue with its explanations and the time to
offer a freed bed to the next fitting patient. The references, measured in the same run on the
same data: the bare SQL of each (asyncpg, no app), so the app's own cost can be read off, and
`GET /api/v1/me` through the same app, the floor any authenticated answer costs.
Prints JSON; see docs/performance.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url

from bench.loadgen import percentile
from bench.storm_server import machine, postgres_database
from yilian.admissions import rules
from yilian.admissions.models import AdmissionRequest, Bed, Ward
from yilian.admissions.rules import Urgency
from yilian.app import create_app
from yilian.config import Settings
from yilian.core.db import Database
from yilian.demo import loader as demo
from yilian.demo.directory import SIXTH
from yilian.directory.models import Department, Institution, Resident
from yilian.migrations.runner import upgrade

URGENCIES = (Urgency.EMERGENCY, Urgency.URGENT, *([Urgency.ELECTIVE] * 8))
QUEUE_SQL = """
SELECT r.*, p.name FROM admission_requests r JOIN residents p ON p.id = r.resident_id
WHERE r.ward_id = $1 AND r.status IN ('waiting', 'offered')
"""
OFFER_SQL = (
    "UPDATE beds SET status = 'offered' WHERE id = $1 AND status = 'free' RETURNING id",
    """UPDATE admission_requests SET status = 'offered' WHERE id = (
         SELECT id FROM admission_requests WHERE ward_id = $1 AND status = 'waiting'
         ORDER BY urgency_rank, effective_at, requested_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
       AND status = 'waiting' RETURNING id""",
)


@dataclass
class Options:
    wards: int = 40
    waiting: int = 10_000
    beds_per_ward: int = 20
    samples: int = 400
    warmup: int = 40
    admin_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    keep: bool = False
    seed: int = 6


def _settings(url: str) -> Settings:
    return Settings(
        database_url=url,
        var_dir=Path(tempfile.mkdtemp(prefix="yilian-bench-")),
        secret_key=secrets.token_hex(16),
        run_scheduler=False,
        api_rate_limit="",  # a load test is one client far above any per-client budget
    )


def _ok(answer: httpx.Response) -> httpx.Response:
    if answer.status_code != 200:
        raise RuntimeError(
            f"{answer.request.method} {answer.request.url.path}: {answer.status_code} {answer.text}"
        )
    return answer


def summary(times: list[float]) -> dict[str, float | int]:
    """n, p50, p99 and max in ms, the percentiles as the booking storm's (bench.loadgen)."""

    def ms(seconds: float | None) -> float:
        return round((seconds or 0.0) * 1000, 2)

    return {
        "n": len(times),
        "p50_ms": ms(percentile(times, 0.50)),
        "p99_ms": ms(percentile(times, 0.99)),
        "max_ms": ms(max(times)),
    }


async def seed(url: str, options: Options, now: datetime) -> tuple[list[int], list[int]]:
    """The demo, then the wards, beds and waiting requests; (ward ids, free bed ids)."""
    database = Database(url)
    rng = random.Random(options.seed)
    try:
        async with database.transaction() as session:
            await demo.load(session, now=now, residents=200)
        async with database.transaction() as session:
            sixth = await session.scalar(select(Institution.id).where(Institution.name == SIXTH))
            departments = list(
                (await session.scalars(select(Department.id).where(Department.institution_id == sixth))).all()
            )
            wards = [
                Ward(
                    institution_id=sixth,
                    department_id=departments[n % len(departments)],
                    name=f"压测病区{n + 1:02d}",
                    boost_days=3,
                    offer_hours=4,
                )
                for n in range(options.wards)
            ]
            session.add_all(wards)
            await session.flush()
            ward_ids = [w.id for w in wards]
            await session.execute(
                insert(Bed),
                [
                    {
                        "ward_id": w,
                        "room": str(100 + n // 3),
                        "label": str(n % 3 + 1),
                        "status": "free",
                        "updated_at": now,
                    }
                    for w in ward_ids
                    for n in range(options.beds_per_ward)
                ],
            )
            people = [
                {
                    "name": f"压测患者{i}",
                    "sex": rng.choice(("male", "female")),
                    "birth_date": datetime(1950 + i % 50, 1, 1, tzinfo=UTC).date(),
                    "id_number": f"BENCH{i:013d}",
                    "consent_version": "2025-01",
                    "consent_at": now,
                    "created_at": now,
                }
                for i in range(options.waiting)
            ]
            resident_ids = list(
                (await session.scalars(insert(Resident).returning(Resident.id), people)).all()
            )
            rows = []
            for i, resident_id in enumerate(resident_ids):
                ward = wards[i % options.wards]
                signed = rng.random() < 0.2
                urgency = rng.choice(URGENCIES)
                at = now - timedelta(minutes=rng.randrange(60 * 24 * 60))
                rows.append(
                    {
                        "ward_id": ward.id,
                        "institution_id": sixth,
                        "department_id": ward.department_id,
                        "resident_id": resident_id,
                        "sex": people[i]["sex"],
                        "source": "direct",
                        "diagnosis": "压测诊断",
                        "urgency": urgency,
                        "urgency_rank": rules.URGENCY_RANK[urgency],
                        "expected_days": 7,
                        "notes": "",
                        "community_signed": signed,
                        "community_reason": "contract" if signed else None,
                        "community_detail": "田林社区卫生服务中心 · 压测" if signed else None,
                        "requested_at": at,
                        "effective_at": rules.effective_at(at, signed, 3),
                        "status": "waiting",
                        "status_at": at,
                    }
                )
            for start in range(0, len(rows), 2000):
                await session.execute(insert(AdmissionRequest), rows[start : start + 2000])
            beds = list((await session.scalars(select(Bed.id).where(Bed.ward_id.in_(ward_ids)))).all())
        return ward_ids, beds
    finally:
        await database.dispose()


async def timed(calls: int, make: Any) -> list[float]:
    times = []
    for index in range(calls):
        started = time.perf_counter()
        await make(index)
        times.append(time.perf_counter() - started)
    return times


async def measure(
    url: str, options: Options, wards: list[int], beds: list[int], now: datetime
) -> dict[str, Any]:
    settings = _settings(url)
    app = create_app(settings, clock=lambda: now)
    rng = random.Random(options.seed)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    raw = await asyncpg.connect(dsn)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="https://bench") as client:
            token = (
                await client.post(
                    "/api/v1/auth/token", data={"username": "admission.sixth", "password": demo.DEMO_PASSWORD}
                )
            ).json()["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"

            async def list_queue(_: int) -> None:
                answer = _ok(await client.get(f"/api/v1/wards/{rng.choice(wards)}/queue"))
                if not answer.json()[0]["explanation"]:
                    raise RuntimeError("a queue entry without its explanation")

            free = iter(beds)

            async def offer(_: int) -> None:
                _ok(await client.post(f"/api/v1/beds/{next(free)}/offer-next"))

            async def me(_: int) -> None:  # the floor: auth, middleware and one small answer
                _ok(await client.get("/api/v1/me"))

            async def queue_sql(_: int) -> None:
                await raw.fetch(QUEUE_SQL, rng.choice(wards))

            async def offer_sql(_: int) -> None:
                async with raw.transaction():
                    bed = await raw.fetchrow("SELECT id, ward_id FROM beds WHERE status = 'free' LIMIT 1")
                    await raw.fetchval(OFFER_SQL[0], bed["id"])
                    await raw.fetchval(OFFER_SQL[1], bed["ward_id"])
                    raise _Rollback

            async def offer_sql_rolled_back(index: int) -> None:
                with contextlib.suppress(_Rollback):
                    await offer_sql(index)

            await timed(options.warmup, list_queue)
            await timed(options.warmup, me)
            await timed(options.warmup, queue_sql)
            await timed(options.warmup, offer_sql_rolled_back)
            queue_times = await timed(options.samples, list_queue)
            queue_ref = await timed(options.samples, queue_sql)
            me_ref = await timed(options.samples, me)
            offer_ref = await timed(options.samples, offer_sql_rolled_back)
            await timed(options.warmup, offer)
            offer_times = await timed(min(options.samples, len(beds) - options.warmup), offer)
    finally:
        await raw.close()
        await app.state.yilian.db.dispose()
    return {
        "list_queue": summary(queue_times),
        "offer_next": summary(offer_times),
        "reference": {
            "queue_sql": summary(queue_ref),
            "offer_sql": summary(offer_ref),
            "me_http": summary(me_ref),
        },
    }


class _Rollback(Exception):
    """Leaves the reference transaction without a trace."""


async def run(options: Options) -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    async with postgres_database(options.admin_url, keep=options.keep) as url:
        await asyncio.to_thread(upgrade, _settings(url))
        seeded = time.perf_counter()
        wards, beds = await seed(url, options, now)
        seed_seconds = time.perf_counter() - seeded
        results = await measure(url, options, wards, beds, now)
    target = 20.0
    return {
        "benchmark": "admission-queue",
        "machine": machine(),
        "options": asdict(options) | {"admin_url": "(hidden)"},
        "waiting": options.waiting,
        "wards": options.wards,
        "per_ward": options.waiting // options.wards,
        "seed_seconds": round(seed_seconds, 1),
        **results,
        "target_p99_ms": target,
        "target_met": results["list_queue"]["p99_ms"] < target and results["offer_next"]["p99_ms"] < target,
    }


def main(options: Options) -> dict[str, Any]:
    return asyncio.run(run(options))
