"""The queue's order written twice, held together: rules.queue (Python: the words, the places) and
AdmissionRequest.queue_order over the columns AdmissionRequest.place writes (SQL: the next bed
offered). For random waiting lists, on both engines, the database's order equals rules.queue's,
when the requests join the queue and again after the department's boost changes."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.admissions.conftest import make_ward
from tests.factories import id_number
from yilian.admissions import rules
from yilian.admissions.models import AdmissionRequest, Ward
from yilian.admissions.rules import Entry, Urgency
from yilian.admissions.schemas import MAX_BOOST_DAYS
from yilian.admissions.service import moves
from yilian.admissions.service.wards import requeue
from yilian.core.db import Database
from yilian.directory.models import Resident

T = TypeVar("T")
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
LONGEST = 12  # entries of one waiting list
# Request times within ten days: whole days apart as often as not, so that equal times and pairs
# exactly a boost apart (the boundaries of the order) come up; else to the microsecond, so that
# what each engine stores is what is compared.
AGO = st.one_of(
    st.integers(0, 10).map(lambda days: timedelta(days=days)),
    st.integers(0, 10 * 86_400 * 10**6).map(lambda us: timedelta(microseconds=us)),
)
WAITING = st.lists(
    st.tuples(st.sampled_from(list(Urgency)), st.booleans(), AGO), min_size=1, max_size=LONGEST
)
BOOST = st.integers(0, MAX_BOOST_DAYS)


async def _residents(db: Database) -> list[Resident]:
    async with db.transaction() as session:
        people = [
            Resident(
                name=f"排序{n}",
                sex="male",
                birth_date=date(1960, 1, 1),
                id_number=id_number(date(1960, 1, 1)),
                consent_version="2025-01",
                consent_at=NOW,
                created_at=NOW,
            )
            for n in range(LONGEST)
        ]
        session.add_all(people)
    return people


async def _orders(
    db: Database, people: list[Resident], waiting: list[tuple[Urgency, bool, timedelta]], boost: int, new: int
) -> list[tuple[list[int], list[int]]]:
    """(the database's order, rules.queue's) of a new ward's queue: as joined, then re-placed."""
    ward = await make_ward(db, beds=0, boost_days=boost)
    entries: list[Entry] = []
    async with db.transaction() as session:
        joining = await session.get(Ward, ward.id)
        assert joining is not None
        for person, (urgency, signed, ago) in zip(people, waiting, strict=False):
            request = AdmissionRequest(
                resident_id=person.id,
                sex=person.sex,
                source="direct",
                diagnosis="膝骨关节炎",
                urgency=urgency,
                expected_days=7,
                community_signed=signed,
                requested_at=NOW - ago,
            )
            await moves.join_queue(session, request, joining, actor=None)
            entries.append(Entry(request.id, urgency, NOW - ago, signed))
    found = [(await _sql_order(db, ward.id), [e.id for e in rules.order(entries, boost)])]
    async with db.transaction() as session:
        await requeue(session, ward_ids=[ward.id], boost_days=new)
    found.append((await _sql_order(db, ward.id), [e.id for e in rules.order(entries, new)]))
    return found


async def _sql_order(db: Database, ward_id: int) -> list[int]:
    async with db.read() as session:
        ordered = await session.scalars(
            select(AdmissionRequest.id)
            .where(AdmissionRequest.ward_id == ward_id)
            .order_by(*AdmissionRequest.queue_order())
        )
        return list(ordered)


def test_the_database_orders_a_queue_as_rules_queue(demo_db_url: str) -> None:
    loop = asyncio.new_event_loop()
    db = Database(demo_db_url)

    def run(coroutine: Coroutine[Any, Any, T]) -> T:
        return loop.run_until_complete(coroutine)

    people = run(_residents(db))

    @settings(max_examples=40, deadline=None, database=None)
    @given(waiting=WAITING, boost=BOOST, new=BOOST)
    def same_order(waiting: list[tuple[Urgency, bool, timedelta]], boost: int, new: int) -> None:
        for in_sql, in_rules in run(_orders(db, people, waiting, boost, new)):
            assert in_sql == in_rules

    try:
        same_order()
    finally:
        run(db.dispose())
        loop.close()
