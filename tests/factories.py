"""Small builders for test data that the demo set does not hold."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from sqlalchemy import select

from yilian.core.db import Database
from yilian.directory import rules
from yilian.directory.models import Contract, Institution, Practitioner, Resident

_sequence = itertools.count(101, 2)


def id_number(born: date = date(1980, 5, 17), *, male: bool = True, area: str = "310104") -> str:
    """A valid, fresh GB 11643 number (sequence odd for men, even for women)."""
    sequence = next(_sequence) % 1000
    if sequence % 2 != int(male):
        sequence = (sequence + 1) % 1000
    first17 = f"{area}{born:%Y%m%d}{sequence:03d}"
    return first17 + rules.check_character(first17)


def resident_body(born: date = date(1980, 5, 17), *, male: bool = True, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "测试居民",
        "sex": "male" if male else "female",
        "birth_date": born.isoformat(),
        "id_number": id_number(born, male=male),
        "phone": "13912345678",
        "address": "徐汇区田林路1号",
        "consent_version": "2025-01",
    }
    return {**body, **overrides}


async def institution(db: Database, name: str) -> Institution:
    async with db.read() as session:
        found = await session.scalar(select(Institution).where(Institution.name == name))
    assert found is not None, name
    return found


async def signed_resident(db: Database, centre_name: str, nth: int = 0) -> Resident:
    """The nth resident (by id) with an active contract at the named centre."""
    async with db.read() as session:
        found = await session.scalar(
            select(Resident)
            .join(Contract, Contract.resident_id == Resident.id)
            .join(Institution, Institution.id == Contract.institution_id)
            .where(Institution.name == centre_name, Contract.status == "active")
            .order_by(Resident.id)
            .offset(nth)
            .limit(1)
        )
    assert found is not None, centre_name
    return found


async def family_doctor_of(db: Database, centre_name: str) -> Practitioner:
    async with db.read() as session:
        found = await session.scalar(
            select(Practitioner)
            .join(Institution, Institution.id == Practitioner.institution_id)
            .where(Institution.name == centre_name)
            .order_by(Practitioner.id)
            .limit(1)
        )
    assert found is not None, centre_name
    return found
