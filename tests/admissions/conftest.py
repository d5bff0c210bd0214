"""Wards, beds and queues for the admission tests, at 上海市第六人民医院 of the demo data."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import FIXED_NOW
from tests.factories import id_number
from yilian.admissions.models import AdmissionEvent, AdmissionRequest, Bed, Ward
from yilian.admissions.rules import RequestStatus, Urgency
from yilian.auth.models import User
from yilian.core.db import Database
from yilian.directory.models import Department, Institution, Resident

SIXTH, EIGHTH = "上海市第六人民医院", "上海市第八人民医院"
_names = itertools.count(1)


@dataclass(frozen=True)
class BedSpec:
    room: str
    label: str
    room_sex: str | None = None


async def make_ward(
    db: Database,
    *,
    institution: str = SIXTH,
    department: str = "骨科",
    name: str | None = None,
    beds: int | list[BedSpec] = 2,
    boost_days: int = 3,
    partner_ward_id: int | None = None,
) -> Ward:
    specs = [BedSpec("90", str(n + 1)) for n in range(beds)] if isinstance(beds, int) else beds
    async with db.transaction() as session:
        department_id, institution_id = (
            await session.execute(
                select(Department.id, Institution.id)
                .join(Institution, Institution.id == Department.institution_id)
                .where(Institution.name == institution, Department.name == department)
            )
        ).one()
        ward = Ward(
            institution_id=institution_id,
            department_id=department_id,
            name=name or f"测试病区{next(_names)}",
            boost_days=boost_days,
            offer_hours=4,
            partner_ward_id=partner_ward_id,
        )
        session.add(ward)
        await session.flush()
        session.add_all(
            Bed(
                ward_id=ward.id,
                room=s.room,
                label=s.label,
                room_sex=s.room_sex,
                status="free",
                updated_at=FIXED_NOW,
            )
            for s in specs
        )
    return ward


async def ward_beds(db: Database, ward: Ward) -> list[int]:
    async with db.read() as session:
        return list(
            (await session.scalars(select(Bed.id).where(Bed.ward_id == ward.id).order_by(Bed.id))).all()
        )


@dataclass(frozen=True)
class Waiting:
    """One queue entry to put straight into the database (the race and order tests' setup)."""

    days_ago: float
    signed: bool = False
    urgency: Urgency = Urgency.ELECTIVE
    sex: str = "male"


async def _requester(session: AsyncSession) -> int | None:
    """The tests' requests are sp.sixth's, as the demo's are: it cares for those patients."""
    return await session.scalar(select(User.practitioner_id).where(User.username == "sp.sixth"))


async def fill_queue(
    db: Database, ward: Ward, entries: list[Waiting], *, now: datetime = FIXED_NOW
) -> list[int]:
    """Residents with waiting requests in the ward, as given; their request ids in the given order."""
    async with db.transaction() as session:
        residents = [
            Resident(
                name=f"候床{next(_names)}",
                sex=e.sex,
                birth_date=date(1960, 1, 1),
                id_number=id_number(date(1960, 1, 1), male=e.sex == "male"),
                consent_version="2025-01",
                consent_at=now,
                created_at=now,
            )
            for e in entries
        ]
        session.add_all(residents)
        await session.flush()
        requests = []
        requester = await _requester(session)
        for entry, resident in zip(entries, residents, strict=True):
            at = now - timedelta(days=entry.days_ago)
            request = AdmissionRequest(
                practitioner_id=requester,
                ward_id=ward.id,
                institution_id=ward.institution_id,
                department_id=ward.department_id,
                resident_id=resident.id,
                sex=entry.sex,
                source="direct",
                diagnosis="股骨颈骨折",
                urgency=entry.urgency,
                expected_days=10,
                community_signed=entry.signed,
                community_reason="contract" if entry.signed else None,
                community_detail="田林社区卫生服务中心 · 陈佳怡" if entry.signed else None,
                requested_at=at,
                status=RequestStatus.WAITING,
                status_at=at,
            )
            request.place(ward.boost_days)
            requests.append(request)
        session.add_all(requests)
        await session.flush()
        return [r.id for r in requests]


async def matrix_objects(api: Any, db: Database, *, own_resident: int, other_resident: int) -> dict[str, Any]:
    """The admission objects of the authorization matrix: ward A (with a partner ward at 市八) with
    requests in every state the rows need, wards B and C for the creation rows. Both residents
    have business with 市六 already. The rows' own requests applied recently; the old waiting ones
    are those the "offer next" rows reach."""
    partner = await make_ward(db, institution=EIGHTH, beds=1, name="矩阵分院病区")
    ward = await make_ward(db, beds=13, name="矩阵病区A", partner_ward_id=partner.id)
    fresh, fresh_page = (
        await make_ward(db, beds=1, name="矩阵病区B"),
        await make_ward(db, beds=1, name="矩阵病区C"),
    )
    recent = [Waiting(1) for _ in range(8)]
    old = [Waiting(days) for days in (10, 9, 8, 7, 6)]
    cancel, admit, transfer, discharge, p_cancel, p_admit, p_transfer, p_discharge, *_ = await fill_queue(
        db, ward, recent + old
    )
    b1, b2, b3, b4, b5, b6, b7, p1, p2, p3, p4, p5, p6 = await ward_beds(db, ward)
    office = await api.as_("admission.sixth")
    for request_id, bed in ((transfer, b2), (discharge, b4), (p_transfer, p5), (p_discharge, p6)):
        done = await office.post(f"/api/v1/admission-requests/{request_id}/admit", json={"bed_id": bed})
        assert done.status_code == 200, done.text
    offer = (await office.post(f"/api/v1/beds/{b7}/offer-next")).json()["offer_id"]
    page_offer = (await office.post(f"/api/v1/beds/{p3}/offer-next")).json()["offer_id"]
    specialist = await api.as_("sp.sixth")
    own, other = [
        (
            await specialist.post(
                "/api/v1/admission-requests",
                json={
                    "ward_id": ward.id,
                    "resident_id": rid,
                    "diagnosis": "腰椎间盘突出",
                    "urgency": "urgent",
                    "expected_days": 5,
                },
            )
        ).json()["id"]
        for rid in (own_resident, other_resident)
    ]
    return {
        "ward": ward.id,
        "partner_ward": partner.id,
        "fresh_ward": fresh.id,
        "fresh_page_ward": fresh_page.id,
        "hospital": ward.institution_id,
        "admission_own": own,
        "admission_other": other,
        "admission_cancel": cancel,
        "admission_admit": admit,
        "admission_transfer": transfer,
        "admission_discharge": discharge,
        "page_cancel": p_cancel,
        "page_admit": p_admit,
        "page_transfer": p_transfer,
        "page_discharge": p_discharge,
        "bed_admit": b1,
        "bed_transfer": b3,
        "bed_offer": b5,
        "bed_close": b6,
        "page_bed_offer": p1,
        "page_bed_close": p2,
        "page_bed_admit": p4,
        "offer": offer,
        "page_offer": page_offer,
        "creation_resident": other_resident,
    }


async def stay(
    db: Database,
    ward: Ward,
    resident_id: int,
    *,
    status: RequestStatus = RequestStatus.WAITING,
    diagnosis: str = "腰椎间盘突出症",
    now: datetime = FIXED_NOW,
) -> int:
    """A request of a given resident straight into the ward, in a given status (no bed); its id."""
    async with db.transaction() as session:
        resident = await session.get(Resident, resident_id)
        assert resident is not None
        at = now - timedelta(days=2)
        request = AdmissionRequest(
            practitioner_id=await _requester(session),
            ward_id=ward.id,
            institution_id=ward.institution_id,
            department_id=ward.department_id,
            resident_id=resident_id,
            sex=resident.sex,
            source="direct",
            diagnosis=diagnosis,
            urgency=Urgency.ELECTIVE,
            expected_days=7,
            community_signed=False,
            requested_at=at,
            status=status,
            status_at=at,
        )
        request.place(ward.boost_days)
        session.add(request)
        await session.flush()
        return request.id


async def keeping_matrix_objects(db: Database) -> dict[str, Any]:
    """The authorization matrix's objects for keeping wards and beds (issue 13): a 市六 ward of its
    own, and a bed its history names (removing it keeps it out of use: every allowed caller gets
    the same answer)."""
    ward = await make_ward(db, beds=[BedSpec("90", "1"), BedSpec("91", "1")], name="矩阵维护病区")
    kept, named = await ward_beds(db, ward)
    async with db.transaction() as session:
        session.add(
            AdmissionEvent(bed_id=named, action="close", from_status="free", to_status="closed", at=FIXED_NOW)
        )
        await session.execute(update(Bed).where(Bed.id == named).values(status="closed"))
    return {
        "keep_ward": ward.id,
        "keep_department": ward.department_id,
        "keep_bed": kept,
        "keep_named_bed": named,
    }
