"""Access follows care: policy.opens_to (Python) and its SQL twin agree over every combination of
a relationship and an actor, on both engines."""

from __future__ import annotations

import itertools

from sqlalchemy import Integer, literal, select, union_all

from yilian.auth import policy
from yilian.auth.policy import Actor, Care, CareLink, Role
from yilian.core.db import Database
from yilian.directory.queries import care

HERE, ELSEWHERE = 1, 2
DEPARTMENTS = (None, 30, 31)
PRACTITIONERS = (None, 40, 41)
ROLES = (Role.FAMILY_DOCTOR, Role.SPECIALIST, Role.CLINIC_OFFICE)
LINKS = [
    CareLink(Care.REFERRAL, ref, institution, role, department_id=department, practitioner_id=practitioner)
    for ref, (institution, role, department, practitioner) in enumerate(
        itertools.product((HERE, ELSEWHERE), ROLES, DEPARTMENTS, PRACTITIONERS), start=1
    )
]
ACTORS = [
    Actor(
        user_id=1,
        username="u",
        roles=frozenset(roles),
        institution_id=institution,
        department_id=department,
        practitioner_id=practitioner,
    )
    for institution, roles, department, practitioner in itertools.product(
        (HERE, None),
        ({Role.FAMILY_DOCTOR}, {Role.SPECIALIST}, {Role.SPECIALIST, Role.CLINIC_OFFICE}, set()),
        DEPARTMENTS,
        PRACTITIONERS,
    )
]


def _as_rows() -> object:
    """The links as the union of care sources would give them (one resident per link)."""

    def number(value: int | None) -> object:
        return literal(value, Integer)

    return union_all(
        *(
            select(
                *care.care_columns(
                    number(link.ref_id),
                    link.care,
                    number(link.ref_id),
                    number(link.institution_id),
                    link.role,
                    department_id=number(link.department_id) if link.department_id else None,
                    practitioner_id=number(link.practitioner_id) if link.practitioner_id else None,
                )
            )
            for link in LINKS
        )
    ).subquery("care")


async def test_the_sql_twin_opens_exactly_what_the_policy_opens(db: Database) -> None:
    rows = _as_rows()
    async with db.read() as session:
        for actor in ACTORS:
            in_sql = set(
                await session.scalars(select(rows.c.ref_id).where(care.opens_to_clause(rows, actor)))
            )
            in_python = {link.ref_id for link in LINKS if policy.opens_to(link, actor)}
            assert in_sql == in_python, actor
    # The grid is not trivial: some actors reach some links, none reach all.
    reached = [sum(policy.opens_to(link, actor) for link in LINKS) for actor in ACTORS]
    assert 0 < max(reached) < len(LINKS)
    assert min(reached) == 0
