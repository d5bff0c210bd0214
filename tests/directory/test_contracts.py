"""The one active-contract clause: Contract.current_on (SQL) and rules.contract_is_current (Python)
agree over status × expiry (the day before, on and after today), on both engines."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import not_, select

from tests import factories
from tests.conftest import FIXED_NOW
from tests.directory.conftest import TIANLIN
from yilian.core.db import Database
from yilian.directory import rules
from yilian.directory.models import Contract, Practitioner, Resident

TODAY = date(2026, 11, 24)
GRID = [(status, TODAY + timedelta(days=days)) for status in rules.ContractStatus for days in (-1, 0, 1)]


async def _contracts_of_the_grid(db: Database) -> dict[int, tuple[str, date]]:
    """One new resident per grid cell (at most one active contract each), signed at 田林."""
    centre = await factories.institution(db, TIANLIN)
    made: dict[int, tuple[str, date]] = {}
    async with db.transaction() as session:
        doctor = await session.scalar(select(Practitioner).where(Practitioner.institution_id == centre.id))
        assert doctor is not None
        for status, expires_on in GRID:
            resident = Resident(
                name="签约格",
                sex="male",
                birth_date=date(1980, 5, 17),
                id_number=factories.id_number(),
                phone=None,
                address="",
                registered_by_institution_id=centre.id,
                consent_version=rules.CONSENT_VERSION,
                consent_at=FIXED_NOW,
                created_at=FIXED_NOW,
            )
            session.add(resident)
            await session.flush()
            contract = Contract(
                resident_id=resident.id,
                practitioner_id=doctor.id,
                institution_id=centre.id,
                signed_on=TODAY - timedelta(days=300),
                expires_on=expires_on,
                status=status,
                created_at=FIXED_NOW,
            )
            session.add(contract)
            await session.flush()
            made[contract.id] = (status, expires_on)
    return made


async def test_the_sql_clause_holds_exactly_the_contracts_the_rule_calls_current(demo_db: Database) -> None:
    grid = await _contracts_of_the_grid(demo_db)
    async with demo_db.read() as session:
        ours = Contract.id.in_(grid)
        held = set(await session.scalars(select(Contract.id).where(ours, Contract.current_on(TODAY))))
        not_held = set(
            await session.scalars(select(Contract.id).where(ours, not_(Contract.current_on(TODAY))))
        )
    current = {
        cid
        for cid, (status, expires_on) in grid.items()
        if rules.contract_is_current(status, expires_on, TODAY)
    }
    assert held == current
    assert not_held == set(grid) - current  # sign_contract ends what the negation finds
    # The rule itself, written out: active, and expiring today or later.
    assert sorted(grid[cid] for cid in current) == [
        (rules.ContractStatus.ACTIVE, TODAY),
        (rules.ContractStatus.ACTIVE, TODAY + timedelta(days=1)),
    ]
