"""The booking storm's world: a week of the Sixth Hospital at full scale, on either engine.

On top of `yilian demo load` (few residents): 300+ synthetic experts of 上海市第六人民医院
with two 30-slot sessions each in the coming week (made by the real `make_session`, so the
kept share is spread as in production), a few very popular sessions, warm-up sessions,
registration channels and a family-doctor account per 徐汇 centre, and synthetic residents
signed at those centres. Sessions of one kind get contiguous ids, and so do the residents,
so that pgbench can pick them with `random(lo, hi)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth.models import User, UserRole
from yilian.auth.policy import Role
from yilian.core.db import Database
from yilian.demo import loader as demo
from yilian.demo.directory import SIXTH, XUHUI_CENTRES
from yilian.directory.models import Contract, Department, Institution, Practitioner, Resident
from yilian.directory.rules import CONSENT_VERSION, ContractStatus
from yilian.scheduling import jobs
from yilian.scheduling.models import ClinicTemplate
from yilian.scheduling.rules import Period, SessionKind

SHANGHAI = ZoneInfo("Asia/Shanghai")
SLOTS = 30
CHANNELS = ("reg.sixth", "bench.reg.app", "bench.reg.114", "bench.reg.window")
STARTS = {Period.MORNING: time(8, 0), Period.AFTERNOON: time(13, 30)}


@dataclass
class Seeded:
    """What the storm needs to know about the world it booked in."""

    hot: list[int]
    regular: tuple[int, int]  # contiguous session ids, inclusive
    warmup: list[int]
    residents: tuple[int, int]  # contiguous resident ids, inclusive; resident k is signed at centre k % 5
    channels: list[str]  # registration usernames
    family_doctors: list[str]  # one per centre, in centre order
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # username -> id, institution
    experts: int = 0
    sessions: int = 0
    slots: int = 0
    kept_per_session: int = 0

    def resident(self, index: int) -> int:
        return self.residents[0] + index

    @property
    def resident_count(self) -> int:
        return self.residents[1] - self.residents[0] + 1


async def seed(db: Database, *, experts: int, hot: int, warmup: int, residents: int, now: datetime) -> Seeded:
    async with db.transaction() as session:
        await demo.load(session, now=now, residents=50)
    async with db.transaction() as session:
        return await _seed_storm(
            session, experts=experts, hot=hot, warmup=warmup, residents=residents, now=now
        )


async def _seed_storm(
    session: AsyncSession, *, experts: int, hot: int, warmup: int, residents: int, now: datetime
) -> Seeded:
    today = now.astimezone(SHANGHAI).date()
    sixth = await session.scalar(select(Institution.id).where(Institution.name == SIXTH))
    assert sixth is not None  # noqa: S101 — demo.load made it
    departments = (
        await session.scalars(select(Department.id).where(Department.institution_id == sixth))
    ).all()
    doctors = [
        Practitioner(
            institution_id=sixth,
            department_id=departments[i % len(departments)],
            name=f"压测专家{i:03d}",
            title="chief",
            specialties=[],
            expert=True,
        )
        for i in range(hot + experts + warmup)
    ]
    session.add_all(doctors)
    await session.flush()
    # Days 1..6 ahead: inside both booking windows (public opens 7 days before) whatever the hour.
    plan: list[tuple[Practitioner, Period, date]] = [
        (doctor, Period.MORNING, today + timedelta(days=3)) for doctor in doctors[:hot]
    ]
    for i, doctor in enumerate(doctors[hot : hot + experts]):
        plan.append((doctor, Period.MORNING, today + timedelta(days=1 + i % 6)))
    for i, doctor in enumerate(doctors[hot : hot + experts]):
        plan.append((doctor, Period.AFTERNOON, today + timedelta(days=1 + (i + 3) % 6)))
    plan += [(doctor, Period.MORNING, today + timedelta(days=2)) for doctor in doctors[hot + experts :]]
    ids = []
    for doctor, period, day in plan:
        assert doctor.department_id is not None  # noqa: S101
        template = ClinicTemplate(
            practitioner_id=doctor.id,
            department_id=doctor.department_id,
            institution_id=sixth,
            weekday=day.weekday(),
            period=period,
            starts_local=STARTS[period],
            slot_count=SLOTS,
            slot_minutes=8,
            kind=SessionKind.EXPERT,
            place="门诊楼 专家诊室",
        )
        session.add(template)
        await session.flush()
        clinic = await jobs.make_session(session, template=template, day=day, zone=SHANGHAI)
        ids.append(clinic.id)
    regular = ids[hot : hot + 2 * experts]
    _require_contiguous("regular sessions", regular)
    users = await _accounts(session, sixth=sixth, now=now)
    first, last = await _residents(session, count=residents, centres=users.pop("_centres"), now=now)
    seeded = Seeded(
        hot=ids[:hot],
        regular=(regular[0], regular[-1]),
        warmup=ids[hot + 2 * experts :],
        residents=(first, last),
        channels=list(CHANNELS),
        family_doctors=users.pop("_family_doctors"),
        users=users,
        experts=len(doctors),
        sessions=len(ids),
        slots=len(ids) * SLOTS,
    )
    seeded.kept_per_session = int(
        await session.scalar(
            text("SELECT kept_count FROM clinic_sessions WHERE id = :id"), {"id": seeded.hot[0]}
        )
        or 0
    )
    return seeded


def _require_contiguous(what: str, ids: list[int]) -> None:
    if ids != list(range(ids[0], ids[0] + len(ids))):
        raise RuntimeError(f"{what}: ids are not contiguous; seed a fresh database")


async def _accounts(session: AsyncSession, *, sixth: int, now: datetime) -> dict[str, Any]:
    """Registration channels of the Sixth, and a family doctor per 徐汇 centre (demo ones kept)."""
    reference = await session.scalar(select(User).where(User.username == "reg.sixth"))
    assert reference is not None  # noqa: S101
    wanted: list[tuple[str, Role, int, int | None]] = [
        (name, Role.REGISTRATION, sixth, None) for name in CHANNELS
    ]
    centres, family_doctors = [], []
    for k, spec in enumerate(XUHUI_CENTRES):
        centre = await session.scalar(select(Institution.id).where(Institution.name == spec.name))
        assert centre is not None  # noqa: S101
        doctor = await session.scalar(
            select(Practitioner.id)
            .where(Practitioner.institution_id == centre, Practitioner.expert.is_(False))
            .order_by(Practitioner.id)
            .limit(1)
        )
        existing = await session.scalar(
            select(User.username)
            .join(UserRole, UserRole.user_id == User.id)
            .where(User.institution_id == centre, UserRole.role == Role.FAMILY_DOCTOR)
            .order_by(User.id)
            .limit(1)
        )
        name = existing or f"bench.fd.{k}"
        centres.append((centre, doctor))
        family_doctors.append(name)
        wanted.append((name, Role.FAMILY_DOCTOR, centre, doctor))
    found = set((await session.scalars(select(User.username))).all())
    session.add_all(
        User(
            username=name,
            display_name=name,
            password_hash=reference.password_hash,
            institution_id=institution,
            practitioner_id=practitioner,
            created_at=now,
            role_rows=[UserRole(role=role.value)],
        )
        for name, role, institution, practitioner in wanted
        if name not in found
    )
    await session.flush()
    rows = await session.execute(
        select(User.username, User.id, User.institution_id).where(User.username.in_([w[0] for w in wanted]))
    )
    users: dict[str, Any] = {name: {"id": uid, "institution_id": inst} for name, uid, inst in rows}
    users["_centres"], users["_family_doctors"] = centres, family_doctors
    return users


async def _residents(
    session: AsyncSession, *, count: int, centres: list[tuple[int, int]], now: datetime
) -> tuple[int, int]:
    """`count` synthetic residents (resident k signed at centre k % len(centres)); their id range."""
    today = now.astimezone(SHANGHAI).date()
    rows = [
        {
            "name": f"压测居民{k}",
            "sex": "female" if k % 2 else "male",
            "birth_date": date(1950, 1, 1) + timedelta(days=k % 20000),
            "id_number": f"BENCH{k:013d}",
            "phone": None,
            "address": "",
            "registered_by_institution_id": centres[k % len(centres)][0],
            "consent_version": CONSENT_VERSION,
            "consent_at": now,
            "created_at": now,
        }
        for k in range(count)
    ]
    for start in range(0, count, 5000):
        await session.execute(insert(Resident), rows[start : start + 5000])
    first, last, total = (
        await session.execute(
            select(func.min(Resident.id), func.max(Resident.id), func.count()).where(
                Resident.id_number.like("BENCH%")
            )
        )
    ).one()
    if last - first + 1 != total or total != count:
        raise RuntimeError("residents: ids are not contiguous; seed a fresh database")
    contracts = [
        {
            "resident_id": first + k,
            "practitioner_id": centres[k % len(centres)][1],
            "institution_id": centres[k % len(centres)][0],
            "signed_on": today - timedelta(days=30),
            "expires_on": today + timedelta(days=335),
            "status": ContractStatus.ACTIVE.value,
            "created_at": now,
        }
        for k in range(count)
    ]
    for start in range(0, count, 5000):
        await session.execute(insert(Contract), contracts[start : start + 5000])
    return first, last


# --- between phases ----------------------------------------------------------------------------

CHECKS = {
    "slots_with_two_live_appointments": (
        "SELECT count(*) FROM (SELECT slot_id FROM appointments WHERE status <> 'cancelled'"
        " GROUP BY slot_id HAVING count(*) > 1) AS x"
    ),
    "sessions_over_capacity": (
        "SELECT count(*) FROM (SELECT a.session_id FROM appointments a"
        " JOIN clinic_sessions s ON s.id = a.session_id WHERE a.status <> 'cancelled'"
        " GROUP BY a.session_id, s.slot_count HAVING count(*) > s.slot_count) AS x"
    ),
    "residents_twice_in_a_session": (
        "SELECT count(*) FROM (SELECT session_id, resident_id FROM appointments"
        " WHERE status <> 'cancelled' GROUP BY session_id, resident_id HAVING count(*) > 1) AS x"
    ),
    "booked_slots_without_appointment": (
        "SELECT count(*) FROM slots s WHERE s.status = 'booked' AND NOT EXISTS"
        " (SELECT 1 FROM appointments a WHERE a.slot_id = s.id AND a.status <> 'cancelled')"
    ),
    "appointments_on_free_slots": (
        "SELECT count(*) FROM appointments a JOIN slots s ON s.id = a.slot_id"
        " WHERE a.status <> 'cancelled' AND s.status <> 'booked'"
    ),
    "appointments_in_the_wrong_pool": (
        "SELECT count(*) FROM appointments a JOIN slots s ON s.id = a.slot_id"
        " WHERE a.status <> 'cancelled' AND a.pool <> s.pool"
    ),
}
OVERBOOKING = ("slots_with_two_live_appointments", "sessions_over_capacity", "residents_twice_in_a_session")


async def verify(db: Database, *, hot: list[int]) -> dict[str, Any]:
    """The invariants, counted in the database: `overbooked` must be 0."""
    async with db.read() as session:
        found = {name: int(await session.scalar(text(sql)) or 0) for name, sql in CHECKS.items()}
        found["live_appointments"] = int(
            await session.scalar(text("SELECT count(*) FROM appointments WHERE status <> 'cancelled'")) or 0
        )
        hot_ids = ",".join(str(int(i)) for i in hot)
        free_in_hot = await session.scalar(
            text(f"SELECT count(*) FROM slots WHERE status = 'free' AND session_id IN ({hot_ids})")
        )
    found["free_slots_left_in_hot_sessions"] = int(free_in_hot or 0)
    found["overbooked"] = sum(found[name] for name in OVERBOOKING)
    return found


async def reset(db: Database) -> None:
    """Every slot free again, no appointments, no idempotency records (the audit trail is
    append-only and keeps growing, as it does in production)."""
    async with db.transaction() as session:
        if db.is_sqlite:
            await session.execute(text("DELETE FROM appointments"))
        else:
            # CASCADE: rows that point at appointments (referrals, admission requests) are the demo's,
            # not the storm's.
            await session.execute(text("TRUNCATE appointments CASCADE"))
        await session.execute(text("UPDATE slots SET status = 'free' WHERE status <> 'free'"))
        await session.execute(text("DELETE FROM idempotency_records"))
    if not db.is_sqlite:
        async with db.writer.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.execute(text("VACUUM ANALYZE slots, appointments, idempotency_records, audit_events"))
            await auto.execute(text("CHECKPOINT"))
