"""The booking rule, once, on both engines: session status × window position × pool × role.

The same cases go through the real booking calls (the API's hot path, api.desk.book, and the
unit-of-work path, service.book / book_kept_for_referral) on SQLite and on PostgreSQL, and each
engine must give the answer written in `expected` below, the same table for both. The
PostgreSQL statement holds the rule as SQL, the SQLite path as rules.booking_refusal over the
stored windows: a change to either alone fails this test on that engine.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from itertools import count

from sqlalchemy import select, update

from tests.scheduling.conftest import SESSION_DAY, SHANGHAI, make_clinic
from tests.scheduling.test_booking import WalkIn, walk_in_patients
from yilian.auth.models import User
from yilian.auth.policy import Actor
from yilian.auth.service import actor_of
from yilian.core.db import Database
from yilian.core.errors import DomainError
from yilian.directory.models import Contract, Institution
from yilian.scheduling import service
from yilian.scheduling.api import desk
from yilian.scheduling.models import ClinicSession
from yilian.scheduling.schemas import PatientIn

TIANLIN = "田林社区卫生服务中心"
JINSHANWEI = "金山卫镇社区卫生服务中心"
POSITIONS = ("before_community_opens", "community_opens", "public_opens", "last_minute", "started")
KINDS = (
    "family_doctor",  # a resident whose contract at the centre holds
    "family_doctor_expired",  # the contract is active but expired before the booking day
    "family_doctor_ended",  # the contract has ended
    "family_doctor_outside",  # 金山卫's doctor, its signed resident: 市六 shares no consortium with it
    "registration",  # the session's hospital's desk
    "registration_elsewhere",  # a desk of another institution
    "specialist",  # a role that books nothing
    "referral",  # the hospital accepting an up-referral books a kept slot for the centre
)
STATUSES = ("open", "stopped")
PREFIXES = dict(zip(KINDS, ("签约", "过期", "解约", "金山", "挂号格", "他院", "专家", "转诊"), strict=True))
CENTRES = {"family_doctor_outside": (JINSHANWEI, "fd.jinshanwei")}
Case = tuple[str, str, str, str]  # path, status, position, kind


def expected(status: str, position: str, kind: str) -> str:
    """The one answer both engines must give, written out independently of the code."""
    if kind in {"specialist", "registration_elsewhere"}:
        return "forbidden"
    if kind == "family_doctor_outside":
        return "not_in_consortium"
    community = kind.startswith("family_doctor") or kind == "referral"
    if status == "stopped" or position in ("before_community_opens", "started"):
        return "booking_closed"
    if position == "community_opens" and not community:
        return "booking_closed"
    if kind in ("family_doctor_expired", "family_doctor_ended"):
        return "not_signed_resident"
    return "201"


def at(clinic: ClinicSession, position: str) -> datetime:
    """The instant of a window position, at the edges of the stored windows."""
    return {
        "before_community_opens": clinic.community_opens_at - timedelta(minutes=1),
        "community_opens": clinic.community_opens_at,
        "public_opens": clinic.public_opens_at,
        "last_minute": clinic.starts_at - timedelta(minutes=1),
        "started": clinic.starts_at,
    }[position]


async def residents(db: Database, kind: str, how_many: int) -> list[WalkIn]:
    """Fresh residents: walk-ins for the desks, else signed at Tianlin (or 金山卫) as the kind says."""
    made = await walk_in_patients(db, how_many, prefix=PREFIXES[kind])
    if not kind.startswith("family_doctor") and kind != "referral":
        return made
    status, expires = "active", date(2030, 1, 1)
    if kind == "family_doctor_expired":
        expires = date(2026, 1, 1)
    if kind == "family_doctor_ended":
        status = "ended"
    async with db.transaction() as session:
        centre_name, username = CENTRES.get(kind, (TIANLIN, "fd.tianlin"))
        centre = await session.scalar(select(Institution).where(Institution.name == centre_name))
        assert centre is not None
        doctor = await session.scalar(select(User).where(User.username == username))
        assert doctor is not None
        for resident in made:
            session.add(
                Contract(
                    resident_id=resident.id,
                    institution_id=centre.id,
                    practitioner_id=doctor.practitioner_id,
                    status=status,
                    signed_on=date(2025, 1, 1),
                    expires_on=expires,
                    created_at=datetime(2025, 1, 1, tzinfo=SHANGHAI),
                )
            )
    return made


async def actors(db: Database) -> dict[str, Actor]:
    async with db.read() as session:
        users = {
            u.username: actor_of(u)
            for u in await session.scalars(
                select(User).where(
                    User.username.in_(("fd.tianlin", "fd.jinshanwei", "reg.sixth", "sp.sixth"))
                )
            )
        }
        tianlin = await session.scalar(select(Institution.id).where(Institution.name == TIANLIN))
    doctor, desk_, specialist = users["fd.tianlin"], users["reg.sixth"], users["sp.sixth"]
    return {
        "family_doctor": doctor,
        "family_doctor_expired": doctor,
        "family_doctor_ended": doctor,
        "family_doctor_outside": users["fd.jinshanwei"],
        "registration": desk_,
        "registration_elsewhere": replace(desk_, institution_id=tianlin),
        "specialist": specialist,
        "referral": specialist,
    }


async def answer(call: Callable[[], Awaitable[object]]) -> str:
    try:
        await call()
    except DomainError as error:
        return error.code
    return "201"


async def test_both_engines_give_the_one_answer_of_the_booking_rule(app_db: Database) -> None:
    who = await actors(app_db)
    centre = who["registration_elsewhere"].institution_id
    assert centre is not None
    per_kind = len(STATUSES) * len(POSITIONS)
    fresh = {kind: iter(await residents(app_db, kind, 2 * per_kind)) for kind in KINDS}
    # One session per path (each keeps six slots: enough for its community bookings), one stopped.
    days = count()
    clinics: dict[tuple[str, str], ClinicSession] = {}
    for path in ("desk", "unit"):
        clinics[(path, "open")] = await make_clinic(app_db, day=SESSION_DAY + timedelta(weeks=next(days) + 1))
        stopped = await make_clinic(app_db, day=SESSION_DAY + timedelta(weeks=next(days) + 1))
        async with app_db.transaction() as session:
            await session.execute(
                update(ClinicSession).where(ClinicSession.id == stopped.id).values(status="stopped")
            )
        clinics[(path, "stopped")] = stopped

    answers: dict[Case, str] = {}
    for (path, status), clinic in clinics.items():
        for position in POSITIONS:
            now = at(clinic, position)
            today = now.astimezone(SHANGHAI).date()
            for kind in KINDS:
                actor, resident = who[kind], next(fresh[kind])
                answers[(path, status, position, kind)] = await answer(
                    _call(app_db, path, kind, actor, clinic.id, resident, now, today, centre)
                )

    assert answers == {case: expected(*case[1:]) for case in answers}
    assert len(answers) == 2 * len(STATUSES) * len(POSITIONS) * len(KINDS)


def _call(
    db: Database,
    path: str,
    kind: str,
    actor: Actor,
    session_id: int,
    resident: WalkIn,
    now: datetime,
    today: date,
    centre: int,
) -> Callable[[], Awaitable[object]]:
    asked = {"session_id": session_id, "resident_id": resident.id, "now": now}
    if kind.startswith("registration"):
        return _by_identity(db, path, actor, session_id, resident, now, today)
    if kind == "referral":
        # Only a unit of work books on a referral; the desk path asks the same of the hot path's twin.
        async def referral() -> object:
            async with db.transaction() as session:
                return await service.book_kept_for_referral(
                    session, referring_institution_id=centre, actor=actor, **asked
                )

        return referral
    if path == "desk":

        async def hot() -> object:
            return await desk.book(
                db, actor, slot_number=None, today=today, key=None, fingerprint="grid", **asked
            )

        return hot

    async def unit() -> object:
        async with db.transaction() as session:
            return await service.book(session, slot_number=None, actor=actor, today=today, **asked)

    return unit


def _by_identity(
    db: Database, path: str, actor: Actor, session_id: int, walk_in: WalkIn, now: datetime, today: date
) -> Callable[[], Awaitable[object]]:
    """The registration desk books by the patient's identity (实名制), on either path."""
    if path == "desk":

        async def hot() -> object:
            return await desk.book_patient(
                db, actor, session_id=session_id, patient=PatientIn(**walk_in.patient), slot_number=None,
                now=now, today=today, key=None, fingerprint="grid",
            )  # fmt: skip

        return hot

    async def unit() -> object:
        async with db.transaction() as session:
            return await service.book_patient(
                session, session_id=session_id, name=walk_in.name, id_number=walk_in.id_number, phone=None,
                slot_number=None, actor=actor, now=now, today=today,
            )  # fmt: skip

    return unit
