"""The migrations build the models' schema on both engines, and the database keeps its rules
(an append-only audit trail, one active contract, one live appointment a slot) on its own."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Executable, delete, insert, inspect, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.conftest import FIXED_NOW
from yilian.auth.models import AuditEvent, User
from yilian.config import Settings
from yilian.core.db import Database
from yilian.directory.models import Contract, Institution, Practitioner, Resident
from yilian.migrations.runner import downgrade, upgrade
from yilian.migrations.tables import Base
from yilian.referrals.models import Referral, ReferralEvent
from yilian.scheduling.models import Appointment, ClinicSession, Slot
from yilian.scheduling.rules import booking_windows

T = TypeVar("T")


def schema_differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "target_metadata": Base.metadata}
    )
    return list(compare_metadata(context, Base.metadata))


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def database_objects(connection: Connection) -> set[str]:
    """Tables, indexes, triggers and our functions: what a downgrade must take away."""
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(
            "SELECT type || ':' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
        )
    else:
        rows = connection.exec_driver_sql(
            """
            SELECT 'table:' || tablename FROM pg_tables WHERE schemaname = 'public'
            UNION ALL SELECT 'index:' || indexname FROM pg_indexes WHERE schemaname = 'public'
            UNION ALL SELECT 'trigger:' || tgname FROM pg_trigger WHERE NOT tgisinternal
            UNION ALL SELECT 'function:' || p.proname FROM pg_proc p
                JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
            """
        )
    return set(rows.scalars())


async def run_sync(url: str, fn: Callable[[Connection], T]) -> T:
    engine: AsyncEngine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(fn)
    finally:
        await engine.dispose()


async def test_up_down_up(empty_db_url: str, settings_for: Callable[[str], Settings]) -> None:
    settings = settings_for(empty_db_url)
    model_tables = set(Base.metadata.tables)

    assert model_tables <= await run_sync(empty_db_url, table_names)

    await asyncio.to_thread(downgrade, settings, "base")
    # Only Alembic's own (now empty) version table is left: no table, index, trigger, function.
    left = await run_sync(empty_db_url, database_objects)
    assert {item for item in left if "alembic_version" not in item} == set()

    await asyncio.to_thread(upgrade, settings, "head")
    assert model_tables <= await run_sync(empty_db_url, table_names)
    assert await run_sync(empty_db_url, schema_differences) == []


async def test_a_failed_upgrade_changes_nothing(
    empty_db_url: str, settings_for: Callable[[str], Settings]
) -> None:
    """One transaction for the whole run, on SQLite too (its driver would commit DDL as it goes)."""
    settings = settings_for(empty_db_url)
    await asyncio.to_thread(downgrade, settings, "base")
    engine = create_async_engine(empty_db_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE users (clash INTEGER)"))  # the upgrade trips on it
    finally:
        await engine.dispose()

    with pytest.raises(DBAPIError):
        await asyncio.to_thread(upgrade, settings, "head")
    assert await run_sync(empty_db_url, table_names) == {"alembic_version", "users"}


async def test_migrated_schema_matches_the_models(empty_db_url: str) -> None:
    """What `alembic check` would say: no difference between the models and the database."""
    assert set(Base.metadata.tables) <= await run_sync(empty_db_url, table_names)
    assert await run_sync(empty_db_url, schema_differences) == []


async def test_upgrade_creates_the_sqlite_directory(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "var" / "yilian.db"
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(upgrade, Settings(database_url=url, var_dir=tmp_path), "head")
    assert path.exists()
    assert set(Base.metadata.tables) <= await run_sync(url, table_names)


async def audit_row(db: Database) -> int:
    async with db.transaction() as session:
        event = AuditEvent(
            at=FIXED_NOW,
            user_id=7,
            username="doctor",
            role="family_doctor",
            institution_id=3,
            action="resident.read",
            resident_id=11,
            outcome="allowed",
            client_addr="127.0.0.1",
            detail={"why": "test"},
        )
        session.add(event)
        await session.flush()
        return event.id


async def audit_snapshot(db: Database) -> list[tuple[Any, ...]]:
    async with db.read() as session:
        rows = await session.execute(
            select(AuditEvent.id, AuditEvent.at, AuditEvent.username, AuditEvent.outcome, AuditEvent.detail)
        )
        return [tuple(row) for row in rows]


async def test_the_audit_trail_is_append_only(db: Database, backend: str) -> None:
    event_id = await audit_row(db)
    before = await audit_snapshot(db)
    assert [row[0] for row in before] == [event_id]

    refused: list[Executable] = [
        update(AuditEvent).where(AuditEvent.id == event_id).values(outcome="denied"),
        update(AuditEvent).values(username="someone else"),
        delete(AuditEvent).where(AuditEvent.id == event_id),
        delete(AuditEvent),  # no WHERE: SQLite's truncate optimisation must not bypass the trigger
    ]
    if backend == "postgresql":
        refused.append(text("TRUNCATE audit_events"))
    for statement in refused:
        with pytest.raises(IntegrityError, match="append-only"):
            async with db.transaction() as session:
                await session.execute(statement)

    assert await audit_snapshot(db) == before
    # Appending still works.
    await audit_row(db)
    assert len(await audit_snapshot(db)) == 2


async def directory_rows(db: Database) -> tuple[int, int, int]:
    async with db.transaction() as session:
        institution = Institution(name="田林街道社区卫生服务中心", tier=1, district="徐汇区")
        session.add(institution)
        await session.flush()
        practitioner = Practitioner(institution_id=institution.id, name="王医生", title="主治医师")
        resident = Resident(
            name="张三",
            sex="male",
            birth_date=date(1980, 5, 17),
            id_number="310104198005171011",
            consent_version="2025-01",
            consent_at=FIXED_NOW,
            created_at=FIXED_NOW,
        )
        session.add_all([practitioner, resident])
        await session.flush()
        return institution.id, practitioner.id, resident.id


async def add_contract(db: Database, ids: tuple[int, int, int], status: str) -> None:
    institution_id, practitioner_id, resident_id = ids
    async with db.transaction() as session:
        session.add(
            Contract(
                resident_id=resident_id,
                practitioner_id=practitioner_id,
                institution_id=institution_id,
                signed_on=date(2026, 1, 1),
                expires_on=date(2027, 1, 1),
                status=status,
                created_at=FIXED_NOW,
            )
        )


async def contract_statuses(db: Database) -> list[str]:
    async with db.read() as session:
        return list(await session.scalars(select(Contract.status).order_by(Contract.id)))


async def test_at_most_one_active_contract_per_resident(db: Database) -> None:
    ids = await directory_rows(db)
    await add_contract(db, ids, "ended")
    await add_contract(db, ids, "ended")
    await add_contract(db, ids, "active")
    assert await contract_statuses(db) == ["ended", "ended", "active"]

    with pytest.raises(IntegrityError):
        await add_contract(db, ids, "active")
    assert await contract_statuses(db) == ["ended", "ended", "active"]

    # Ending the active contract makes room for a new one.
    async with db.transaction() as session:
        await session.execute(update(Contract).where(Contract.status == "active").values(status="ended"))
    await add_contract(db, ids, "active")
    assert await contract_statuses(db) == ["ended", "ended", "ended", "active"]


async def test_0006_keeps_every_referral_and_its_children(
    db: Database, empty_db_url: str, settings_for: Callable[[str], Settings]
) -> None:
    """0006 adds a column to `referrals` (a table copy on SQLite): its rows and their events stay,
    both ways."""
    settings = settings_for(empty_db_url)
    institution_id, _practitioner_id, resident_id = await directory_rows(db)  # the head's residents
    await asyncio.to_thread(downgrade, settings, "0005")
    async with db.transaction() as session:
        # Only the columns users has at 0005 (an ORM object would name 0010's too).
        author_id = await session.scalar(
            text(
                "INSERT INTO users (username, display_name, password_hash, institution_id, is_active,"
                " failed_logins, created_at) VALUES ('sp.test', '专家', '-', :institution, :yes, 0, :at)"
                " RETURNING id"
            ),
            {"institution": institution_id, "yes": True, "at": FIXED_NOW},
        )
        # Only the columns 0005 has (an ORM object would name the new one too).
        referral_id = await session.scalar(
            insert(Referral).values(
                direction="down", status="submitted", urgency="routine", service="follow_up",
                resident_id=resident_id, origin_institution_id=institution_id, created_by=author_id,
                target_institution_id=institution_id, reason="随访",
                created_at=FIXED_NOW, updated_at=FIXED_NOW,
            ).returning(Referral.id)
        )  # fmt: skip
        session.add(
            ReferralEvent(
                referral_id=referral_id, action="create", to_status="draft", actor_name="专家", at=FIXED_NOW
            )
        )

    async def children() -> list[tuple[Any, ...]]:
        async with db.read() as session:
            rows = await session.execute(
                text("SELECT r.id, e.action FROM referrals r JOIN referral_events e ON e.referral_id = r.id")
            )
            return [tuple(row) for row in rows]

    kept = await children()
    assert kept == [(referral_id, "create")]
    await asyncio.to_thread(upgrade, settings, "head")
    assert await children() == kept
    async with db.read() as session:
        assert await session.scalar(select(Referral.admission_request_id)) is None
    await asyncio.to_thread(downgrade, settings, "0005")
    assert await children() == kept
    await asyncio.to_thread(upgrade, settings, "head")


async def session_and_people(db: Database) -> tuple[int, list[int], int, list[int]]:
    """A clinic session with two slots, written directly beside the demo data; a user; three residents."""
    hour = timedelta(hours=1)
    async with db.transaction() as session:
        doctor = (await session.execute(
            select(Practitioner.id, Practitioner.department_id, Practitioner.institution_id)
            .where(Practitioner.department_id.is_not(None)).order_by(Practitioner.id).limit(1)
        )).one()  # fmt: skip
        session_id = await session.scalar(
            insert(ClinicSession).values(
                practitioner_id=doctor.id, department_id=doctor.department_id,
                institution_id=doctor.institution_id, date=date(2026, 12, 1), period="morning",
                kind="general", starts_at=FIXED_NOW, ends_at=FIXED_NOW + 4 * hour, slot_count=2,
                kept_count=0, share=0, status="open",
                **ClinicSession.window_columns(booking_windows(FIXED_NOW)),
            ).returning(ClinicSession.id)
        )  # fmt: skip
        slot = insert(Slot).values(session_id=session_id, starts_at=FIXED_NOW, ends_at=FIXED_NOW + hour,
                                   kept=False, pool="public", status="free")  # fmt: skip
        slots = list(await session.scalars(slot.returning(Slot.id), [{"number": 1}, {"number": 2}]))
        user_id = await session.scalar(select(User.id).order_by(User.id).limit(1))
        residents = list(await session.scalars(select(Resident.id).order_by(Resident.id).limit(3)))
    assert session_id is not None
    assert user_id is not None
    return session_id, slots, user_id, residents


async def book_directly(
    db: Database, slot_id: int, session_id: int, user_id: int, resident_id: int, status: str = "booked"
) -> None:
    """An appointment row written with SQLAlchemy core, past every check of the service."""
    async with db.transaction() as session:
        await session.execute(
            insert(Appointment).values(
                session_id=session_id, slot_id=slot_id, resident_id=resident_id, pool="public",
                booked_by=user_id, booked_at=FIXED_NOW, status=status,
                cancelled_at=FIXED_NOW if status == "cancelled" else None,
            )
        )  # fmt: skip


async def appointments_of(db: Database, slot_id: int) -> list[tuple[int, str]]:
    async with db.read() as session:
        rows = await session.execute(
            select(Appointment.resident_id, Appointment.status)
            .where(Appointment.slot_id == slot_id)
            .order_by(Appointment.id)
        )
        return [(resident, status) for resident, status in rows]


async def test_the_database_refuses_a_second_live_appointment_on_a_slot(demo_db: Database) -> None:
    session_id, (slot_id, _), user_id, (first, second, third) = await session_and_people(demo_db)
    await book_directly(demo_db, slot_id, session_id, user_id, first, "cancelled")
    await book_directly(demo_db, slot_id, session_id, user_id, second, "cancelled")
    await book_directly(demo_db, slot_id, session_id, user_id, first)  # beside cancelled ones: allowed

    for status in ("booked", "checked_in", "no_show"):  # every status but cancelled is live
        with pytest.raises(IntegrityError):
            await book_directly(demo_db, slot_id, session_id, user_id, third, status)
    assert await appointments_of(demo_db, slot_id) == [
        (first, "cancelled"),
        (second, "cancelled"),
        (first, "booked"),
    ]


async def test_the_database_refuses_a_residents_second_live_appointment_in_a_session(
    demo_db: Database,
) -> None:
    session_id, (slot_id, other_slot), user_id, (resident, _, _) = await session_and_people(demo_db)
    await book_directly(demo_db, other_slot, session_id, user_id, resident, "cancelled")
    await book_directly(demo_db, slot_id, session_id, user_id, resident)
    with pytest.raises(IntegrityError):
        await book_directly(demo_db, other_slot, session_id, user_id, resident)
    assert await appointments_of(demo_db, other_slot) == [(resident, "cancelled")]


async def test_0009_fills_the_picker_columns_of_the_residents_already_there(
    db: Database, empty_db_url: str, settings_for: Callable[[str], Settings]
) -> None:
    """Residents registered before 0009 are found by initials and last four as new ones are."""
    settings = settings_for(empty_db_url)
    await asyncio.to_thread(downgrade, settings, "0008")
    async with db.transaction() as session:
        for n, (name, number, phone) in enumerate(
            [("王丽萍", "31010419600308102X", "13987654321"), ("曾小明", "310104198005171011", None)], 1
        ):
            # Only the columns 0008 has (an ORM object would name the new ones too).
            await session.execute(
                text(
                    "INSERT INTO residents (id, name, sex, birth_date, id_number, phone, address,"
                    " consent_version, consent_at, created_at) VALUES (:id, :name, 'female', :born,"
                    " :number, :phone, '', '2025-01', :at, :at)"
                ),
                {
                    "id": n,
                    "name": name,
                    "born": date(1960, 3, 8),
                    "number": number,
                    "phone": phone,
                    "at": FIXED_NOW,
                },
            )
    await asyncio.to_thread(upgrade, settings, "head")
    async with db.read() as session:
        rows = (
            await session.execute(
                select(Resident.name_initials, Resident.id_last4, Resident.phone_last4).order_by(Resident.id)
            )
        ).all()
    assert [tuple(row) for row in rows] == [("wlp", "102X", "4321"), ("cxm zxm", "1011", None)]
