"""A hypothesis state machine books, cancels, releases and adjusts on one session at a time,
and after every step checks what must always hold: no slot booked twice, the session never
over capacity, counts equal rows, the kept count fixed, the share within its bounds."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Coroutine
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from tests.scheduling.conftest import SHANGHAI
from tests.scheduling.test_booking import fresh_id_number
from yilian.auth import service as auth_service
from yilian.auth.models import User
from yilian.core.db import Database
from yilian.core.errors import DomainError
from yilian.directory.models import Contract, Institution, Resident
from yilian.scheduling import jobs, service
from yilian.scheduling.models import Appointment, ClinicSession, ClinicTemplate, QuotaPolicy, Slot

T = TypeVar("T")
FIRST_DAY = date(2027, 1, 4)  # a Monday; each example takes a week of its own after it


def test_booking_state_machine(demo_db_url: str) -> None:
    loop = asyncio.new_event_loop()
    db = Database(demo_db_url)

    def run(coroutine: Coroutine[Any, Any, T]) -> T:
        return loop.run_until_complete(coroutine)

    async def cast() -> dict[str, Any]:
        async with db.transaction() as session:
            users = {
                u.username: auth_service.actor_of(u)
                for u in (
                    await session.scalars(select(User).where(User.username.in_(["fd.tianlin", "reg.sixth"])))
                )
            }
            signed = list(
                (
                    await session.scalars(
                        select(Contract.resident_id)
                        .join(Institution, Institution.id == Contract.institution_id)
                        .where(Institution.name == "田林社区卫生服务中心", Contract.status == "active")
                        # Still signed on the last session's day.
                        .where(Contract.expires_on >= FIRST_DAY + timedelta(weeks=20))
                    )
                ).all()
            )
            walk_ins = [
                Resident(
                    name=f"状态机{i}",
                    sex="female",
                    birth_date=date(1980, 1, 1),
                    id_number=fresh_id_number(male=False),
                    consent_version="2025-01",
                    consent_at=datetime(2026, 1, 1, tzinfo=SHANGHAI),
                    created_at=datetime(2026, 1, 1, tzinfo=SHANGHAI),
                )
                for i in range(40)
            ]
            session.add_all(walk_ins)
            await session.flush()
            expert = await session.scalar(select(User.practitioner_id).where(User.username == "sp.sixth"))
            template = await session.scalar(
                select(ClinicTemplate).where(ClinicTemplate.practitioner_id == expert)
            )
            assert template is not None
            assert len(signed) >= 3
            return {
                "users": users,
                "signed": signed,
                "walk_ins": [r.id for r in walk_ins],
                "identity": {r.id: (r.name, r.id_number) for r in walk_ins},
                "template": template,
            }

    cast_of = run(cast())
    weeks = itertools.count()

    class Booking(RuleBasedStateMachine):
        @initialize()
        def open_a_session(self) -> None:
            self.day = FIRST_DAY + timedelta(weeks=next(weeks))

            async def make() -> ClinicSession:
                async with db.transaction() as session:
                    return await jobs.make_session(
                        session, template=cast_of["template"], day=self.day, zone=SHANGHAI
                    )

            self.clinic = run(make())
            self.now = self.clinic.public_opens_at + timedelta(minutes=1)
            self.released = False
            self.live: dict[int, tuple[int, str]] = {}  # appointment -> (resident, pool)

        def _book(self, username: str, resident_id: int) -> None:
            actor = cast_of["users"][username]
            pool = "community" if username == "fd.tianlin" else "public"
            holds = any(r == resident_id for r, _ in self.live.values())
            free = run(self._free(pool))

            async def book() -> service.Booked:
                async with db.transaction() as session:
                    if pool == "public":  # the desk books by the patient's identity (实名制)
                        name, id_number = cast_of["identity"][resident_id]
                        return await service.book_patient(
                            session,
                            session_id=self.clinic.id,
                            name=name,
                            id_number=id_number,
                            phone=None,
                            slot_number=None,
                            actor=actor,
                            now=self.now,
                            today=self.now.astimezone(SHANGHAI).date(),
                        )
                    return await service.book(
                        session,
                        session_id=self.clinic.id,
                        resident_id=resident_id,
                        slot_number=None,
                        actor=actor,
                        now=self.now,
                        today=self.now.astimezone(SHANGHAI).date(),
                    )

            try:
                booked = run(book())
            except DomainError as refused:
                # The slot is taken first, then the appointment's unique index refuses a second one.
                assert holds or free == 0
                assert refused.code == ("slot_unavailable" if free == 0 else "already_booked")  # noqa: PT017
                return
            assert not holds
            assert free > 0
            assert booked.pool == pool
            self.live[booked.id] = (resident_id, pool)

        @rule(data=st.data())
        def family_doctor_books(self, data: st.DataObject) -> None:
            self._book("fd.tianlin", data.draw(st.sampled_from(cast_of["signed"])))

        @rule(data=st.data())
        def registration_books(self, data: st.DataObject) -> None:
            self._book("reg.sixth", data.draw(st.sampled_from(cast_of["walk_ins"])))

        @precondition(lambda self: bool(self.live))
        @rule(data=st.data())
        def cancel(self, data: st.DataObject) -> None:
            appointment_id = data.draw(st.sampled_from(sorted(self.live)))
            username = "fd.tianlin" if self.live[appointment_id][1] == "community" else "reg.sixth"

            async def cancel() -> None:
                async with db.transaction() as session:
                    await service.cancel(
                        session, appointment_id=appointment_id, actor=cast_of["users"][username], now=self.now
                    )

            run(cancel())
            del self.live[appointment_id]

        @precondition(lambda self: not self.released)
        @rule()
        def release(self) -> None:
            self.now = self.clinic.release_at

            async def release() -> dict[int, int]:
                async with db.transaction() as session:
                    return await jobs.release_kept_slots(session, now=self.now)

            run(release())
            self.released = True

        @rule()
        def adjust(self) -> None:
            async def adjust() -> None:
                async with db.transaction() as session:
                    await jobs.adjust_shares(session, week_start=self.day + timedelta(weeks=1), now=self.now)

            run(adjust())

        async def _free(self, pool: str) -> int:
            async with db.read() as session:
                return (
                    await session.scalar(
                        select(func.count()).where(
                            Slot.session_id == self.clinic.id, Slot.pool == pool, Slot.status == "free"
                        )
                    )
                ) or 0

        @invariant()
        def counts_equal_rows_and_nothing_is_overbooked(self) -> None:
            async def check() -> None:
                async with db.read() as session:
                    slots = (
                        await session.scalars(select(Slot).where(Slot.session_id == self.clinic.id))
                    ).all()
                    live = (
                        await session.scalars(
                            select(Appointment).where(
                                Appointment.session_id == self.clinic.id, Appointment.status != "cancelled"
                            )
                        )
                    ).all()
                    booked = [s for s in slots if s.status == "booked"]
                    assert len(slots) == self.clinic.slot_count
                    assert len(booked) == len(live) == len(self.live) <= self.clinic.slot_count
                    assert len({a.slot_id for a in live}) == len(live)  # no slot twice
                    assert len({a.resident_id for a in live}) == len(live)  # one per resident
                    assert {a.slot_id for a in live} == {s.id for s in booked}
                    assert sum(s.kept for s in slots) == self.clinic.kept_count
                    if self.released:
                        assert not [s for s in slots if s.pool == "community" and s.status == "free"]
                    for policy in (await session.scalars(select(QuotaPolicy))).all():
                        assert policy.min_share <= policy.share <= policy.max_share

            run(check())

    try:
        run_state_machine_as_test(
            Booking,
            settings=settings(max_examples=12, stateful_step_count=25, deadline=None, derandomize=True),
        )
    finally:
        run(db.dispose())
        loop.close()
