"""Demo wards, beds and a queue (seed 003): 市六医院's 骨科一病区, where a 社区签约 patient stands
ahead of an untagged one who applied two days earlier but not ahead of one who applied five days
earlier, and its partner ward at 市八医院 (大门诊小病房). Get-or-create by natural key; the queue
is made once, when the ward is new, so a second run changes nothing. The requests join the queue
through admissions.service.moves.join_queue, as every request does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.admissions import rules
from yilian.admissions.models import AdmissionRequest, Bed, Ward
from yilian.admissions.queries import tags
from yilian.admissions.rules import Action, BedStatus, Urgency
from yilian.admissions.service import moves
from yilian.auth.models import User
from yilian.auth.policy import Actor, Role
from yilian.demo.directory import EIGHTH, SIXTH, TIANLIN
from yilian.directory.models import Consortium, Contract, Department, Institution, Membership, Resident

SIXTH_WARD: Final = "骨科一病区"
EIGHTH_WARD: Final = "骨科病区（市六分院）"
SIXTH_BEDS: Final = (("301", "男"), ("302", "女"), ("303", None))  # three beds a room
EIGHTH_BEDS: Final = (("201", None), ("202", None))
SEX: Final = {"男": "male", "女": "female", None: None}


@dataclass(frozen=True)
class Waiting:
    days_ago: float
    signed: bool  # a 田林 resident (tagged by the contract source) or one from a centre 市六 does not lead
    diagnosis: str
    urgency: Urgency = Urgency.ELECTIVE
    admitted_in: str | None = None  # "301-1": already in that bed


# The seed's queue: 社区签约 (1 day ago) is ahead of the patient of 3 days ago (2 days earlier),
# not of the one of 6 days ago (5 days earlier). One urgent patient is first whatever its time.
QUEUE: Final = (
    Waiting(6, False, "右股骨颈骨折"),
    Waiting(3, False, "腰椎管狭窄症"),
    Waiting(1, True, "右膝骨关节炎"),
    Waiting(0.5, False, "胫骨平台骨折", Urgency.URGENT),
    Waiting(0.2, False, "肩袖损伤"),
    Waiting(9, False, "腰椎间盘突出症", admitted_in="301-1"),
    Waiting(8, True, "髋关节置换术后翻修", admitted_in="303-1"),
)


async def load_admissions(session: AsyncSession, *, now: datetime) -> int:
    """The wards, beds and queue; how many requests were created (0 on a second run)."""
    sixth, eighth = await _institutions(session)
    partner, _ = await _ward(session, eighth, EIGHTH_WARD, None, EIGHTH_BEDS, now)
    ward, new = await _ward(session, sixth, SIXTH_WARD, partner.id, SIXTH_BEDS, now)
    if not new:
        return 0
    return await _queue(session, ward, now)


async def _institutions(session: AsyncSession) -> tuple[int, int]:
    query = select(Institution.name, Institution.id).where(Institution.name.in_((SIXTH, EIGHTH)))
    rows: dict[str, int] = {str(name): int(key) for name, key in await session.execute(query)}
    return rows[SIXTH], rows[EIGHTH]


async def _ward(
    session: AsyncSession,
    institution_id: int,
    name: str,
    partner: int | None,
    rooms: tuple[tuple[str, str | None], ...],
    now: datetime,
) -> tuple[Ward, bool]:
    found = await session.scalar(select(Ward).where(Ward.institution_id == institution_id, Ward.name == name))
    if found is not None:
        return found, False
    department = await session.scalar(
        select(Department.id).where(Department.institution_id == institution_id, Department.name == "骨科")
    )
    assert department is not None  # noqa: S101 — demo_data gives both hospitals a 骨科
    ward = Ward(
        institution_id=institution_id,
        department_id=department,
        name=name,
        boost_days=rules.DEFAULT_BOOST_DAYS,
        offer_hours=rules.DEFAULT_OFFER_HOURS,
        partner_ward_id=partner,
    )
    session.add(ward)
    await session.flush()
    session.add_all(
        Bed(
            ward_id=ward.id, room=room, label=str(n), room_sex=SEX[sex], status=BedStatus.FREE, updated_at=now
        )
        for room, sex in rooms
        for n in (1, 2, 3)
    )
    await session.flush()
    return ward, True


async def _residents(session: AsyncSession, ward: Ward, *, signed: bool, count: int) -> list[Resident]:
    """Demo residents, the last by id (the tests use the first): signed at 田林 (a member of the
    consortium 市六 leads), or signed at a centre of a consortium 市六 does not lead."""
    led_by_sixth = (
        select(Membership.institution_id)
        .join(Consortium, Consortium.id == Membership.consortium_id)
        .where(Consortium.lead_institution_id == ward.institution_id)
    )
    tianlin = select(Institution.id).where(Institution.name == TIANLIN)
    where = Contract.institution_id.in_(tianlin) if signed else Contract.institution_id.not_in(led_by_sixth)
    query = (
        select(Resident)
        .join(Contract, Contract.resident_id == Resident.id)
        .where(where, Contract.status == "active")
        .order_by(Resident.id.desc())
        .limit(count)
    )
    return list((await session.scalars(query)).all())


async def _queue(session: AsyncSession, ward: Ward, now: datetime) -> int:
    """The seed's queue, each request joining it through the service's one way in (its order
    columns written as any request's), the admitted ones moved into their beds by the service's
    moves. No audit rows and no notices: the demo is history, not somebody's act."""
    user_id, practitioner_id = (
        await session.execute(select(User.id, User.practitioner_id).where(User.username == "sp.sixth"))
    ).one()
    specialist = Actor(user_id=user_id, username="sp.sixth", roles=frozenset({Role.SPECIALIST}))
    signed = iter(await _residents(session, ward, signed=True, count=sum(w.signed for w in QUEUE)))
    others = iter(await _residents(session, ward, signed=False, count=sum(not w.signed for w in QUEUE)))
    beds = {b.name: b for b in await session.scalars(select(Bed).where(Bed.ward_id == ward.id))}
    for waiting in QUEUE:
        resident = next(signed if waiting.signed else others)
        at = now - timedelta(days=waiting.days_ago)
        tag = await tags.community_tag(
            session, resident_id=resident.id, hospital_id=ward.institution_id, today=now.date()
        )
        request = AdmissionRequest(
            resident_id=resident.id,
            sex=resident.sex,
            requested_by=user_id,
            practitioner_id=practitioner_id,
            source="appointment",
            diagnosis=waiting.diagnosis,
            urgency=waiting.urgency,
            expected_days=10,
            community_signed=tag is not None,
            community_reason=tag.source if tag else None,
            community_detail=tag.detail if tag else None,
            requested_at=at,
        )
        await moves.join_queue(session, request, ward, actor=specialist)
        if waiting.admitted_in:
            await _admit(session, request, beds[waiting.admitted_in], at=at + timedelta(days=1))
    beds["303-2"].status = BedStatus.CLEANING
    await session.flush()
    return len(QUEUE)


async def _admit(session: AsyncSession, request: AdmissionRequest, bed: Bed, *, at: datetime) -> None:
    if bed.room_sex is not None and bed.room_sex != request.sex:
        bed.room_sex = None  # a demo convenience: the room takes whoever the demo put there
    await moves.take_bed(
        session, bed.id, expected=BedStatus.FREE, to=BedStatus.OCCUPIED, request_id=request.id, now=at
    )
    await moves.move_request(
        session, request, Action.ADMIT, now=at, actor=None, to_bed_id=bed.id, admitted_at=at
    )
