"""The directory's reads on both engines: the home page's summary by role, and the resident list
showing exactly the residents whom auth.policy lets an actor see."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

import yilian.app  # noqa: F401 — every domain registers where residents have business
from tests import factories
from tests.conftest import FIXED_NOW
from tests.directory.conftest import TIANLIN, actor
from yilian.auth import policy
from yilian.core.db import Database
from yilian.directory import queries, rules, service
from yilian.directory.models import Consortium, Contract, Institution, Practitioner, Resident

TODAY = date(2026, 11, 24)


async def test_a_family_doctors_home_counts_the_current_contracts(demo_db: Database) -> None:
    doctor = await actor(demo_db, "fd.tianlin")
    async with demo_db.read() as session:
        home = await queries.home_summary(session, actor=doctor, today=TODAY)
        contracts = (await session.scalars(select(Contract))).all()
    at_centre = [c for c in contracts if c.institution_id == doctor.institution_id]
    current = [c for c in at_centre if rules.contract_is_current(c.status, c.expires_on, TODAY)]
    assert home.signed_at_centre == len(current) > 0
    assert home.signed_with_me == sum(c.practitioner_id == doctor.practitioner_id for c in current)
    assert home.institution is not None
    assert home.institution.name == TIANLIN
    assert home.totals == {}
    # A contract that expired yesterday no longer counts, though its status still says active.
    async with demo_db.transaction() as session:
        await session.execute(
            update(Contract).where(Contract.id == current[0].id).values(expires_on=TODAY - timedelta(days=1))
        )
    async with demo_db.read() as session:
        later = await queries.home_summary(session, actor=doctor, today=TODAY)
    assert later.signed_at_centre == len(current) - 1


async def test_the_system_admin_sees_the_directorys_size_and_no_residents(demo_db: Database) -> None:
    admin = await actor(demo_db, "sysadmin")
    async with demo_db.read() as session:
        home = await queries.home_summary(session, actor=admin, today=TODAY)
        sizes = {
            name: len((await session.scalars(select(model))).all())
            for name, model in (
                ("consortia", Consortium),
                ("institutions", Institution),
                ("practitioners", Practitioner),
            )
        }
    assert home.totals == sizes
    assert (home.signed_at_centre, home.signed_with_me, home.institution) == (None, None, None)


async def test_a_consortium_office_sees_its_members_by_tier(demo_db: Database) -> None:
    office = await actor(demo_db, "admin.xuhui")
    async with demo_db.read() as session:
        home = await queries.home_summary(session, actor=office, today=TODAY)
    assert home.consortium is not None
    assert list(home.members_by_tier) == sorted(home.members_by_tier, reverse=True)  # tertiary first
    assert sum(home.members_by_tier.values()) == len(home.consortium.memberships)
    assert home.signed_at_centre is None
    assert home.totals == {}


async def test_a_specialists_home_names_its_clinic_and_counts_nobody(demo_db: Database) -> None:
    specialist = await actor(demo_db, "sp.sixth")
    async with demo_db.read() as session:
        home = await queries.home_summary(session, actor=specialist, today=TODAY)
    assert home.practitioner is not None
    assert home.practitioner.id == specialist.practitioner_id
    assert home.department is not None
    assert home.signed_at_centre is None
    assert home.memberships  # its hospital's consortia


@pytest.mark.parametrize(
    "username",
    [
        "fd.tianlin",
        "fd.kangjian",
        "sp.sixth",
        "clinic.sixth",
        "admission.sixth",
        "reg.sixth",
        "admin.xuhui",
        "sysadmin",
    ],
)
async def test_the_resident_list_holds_exactly_whom_the_policy_lets_see(
    demo_db: Database, username: str
) -> None:
    """The list filters in SQL (opens_to_clause), the record is checked in Python (care_for)."""
    who = await actor(demo_db, username)
    async with demo_db.transaction() as session:
        # Registered at 田林 and not (yet) signed: seen by 田林's doctors through the registration alone.
        await service.register_resident(
            session,
            name="未签约",
            sex="male",
            birth_date=date(1980, 5, 17),
            id_number=factories.id_number(),
            phone=None,
            address="",
            consent_version=rules.CONSENT_VERSION,
            consent_at=None,
            actor=await actor(demo_db, "fd.tianlin"),
            now=FIXED_NOW,
        )
    async with demo_db.transaction() as session:
        listed = await queries.list_residents(
            session, actor=who, now=FIXED_NOW, today=TODAY, q=None, limit=200, offset=0
        )
        everyone = (await session.scalars(select(Resident.id))).all()
        allowed = {
            rid
            for rid in everyone
            if policy.may_view_resident(
                who, await queries.resident_links(session, resident_id=rid, now=FIXED_NOW, today=TODAY)
            )
        }
    assert listed.total == len(listed.items) < 200
    assert {r.id for r in listed.items} == allowed
