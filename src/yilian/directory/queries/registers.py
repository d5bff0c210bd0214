"""What the administration pages read: the consortia and institutions this actor keeps, a
consortium with every member it has had (dates and all), an institution with its departments and
staff. Each asks auth.policy first: not this actor's register is 403."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import policy
from yilian.auth.policy import Actor
from yilian.core.errors import Forbidden
from yilian.core.i18n import N_
from yilian.directory.models import Consortium, Department, Institution, Practitioner
from yilian.directory.queries.open import by_id


def may_keep_some_consortium(actor: Actor) -> bool:
    """The 医联体 entry of /admin: the system administrator, or a consortium's own office."""
    return policy.may_administer_consortia(actor) or (
        actor.consortium_id is not None and policy.may_administer_membership(actor, actor.consortium_id)
    )


async def kept_consortia(session: AsyncSession, *, actor: Actor) -> list[Consortium]:
    """Every consortium for the system administrator; its own for a consortium's office."""
    if policy.may_administer_consortia(actor):
        return list((await session.scalars(select(Consortium).order_by(Consortium.id))).all())
    if not may_keep_some_consortium(actor) or actor.consortium_id is None:
        raise Forbidden()
    return [await by_id(session, Consortium, actor.consortium_id, N_("Consortium"))]


async def all_institutions(session: AsyncSession) -> list[Institution]:
    query = select(Institution).order_by(Institution.tier.desc(), Institution.name)
    return list((await session.scalars(query)).all())


@dataclass(frozen=True)
class ConsortiumDesk:
    """A consortium as its office keeps it: every member it has had, and who may join."""

    consortium: Consortium
    institutions: list[Institution]  # every institution: for the lead and the join choices
    listed: frozenset[int]  # institutions listed as members (current or past)
    may_edit: bool  # name, kind, lead (the system administrator's)


async def consortium_desk(session: AsyncSession, *, consortium_id: int, actor: Actor) -> ConsortiumDesk:
    if not policy.may_administer_membership(actor, consortium_id):
        raise Forbidden()
    consortium = await by_id(session, Consortium, consortium_id, N_("Consortium"))
    return ConsortiumDesk(
        consortium=consortium,
        institutions=await all_institutions(session),
        listed=frozenset(m.institution_id for m in consortium.memberships),
        may_edit=policy.may_administer_consortia(actor),
    )


@dataclass(frozen=True)
class InstitutionDesk:
    institution: Institution
    departments: list[Department]
    practitioners: list[Practitioner]


async def institution_desk(session: AsyncSession, *, institution_id: int, actor: Actor) -> InstitutionDesk:
    """An institution with its departments and practitioners, for its administrator."""
    if not policy.may_administer_institution(actor, institution_id):
        raise Forbidden()
    institution = await by_id(session, Institution, institution_id, N_("Institution"))
    departments = await session.scalars(
        select(Department).where(Department.institution_id == institution_id).order_by(Department.id)
    )
    staff = await session.scalars(
        select(Practitioner)
        .where(Practitioner.institution_id == institution_id)
        .order_by(Practitioner.department_id, Practitioner.id)
    )
    return InstitutionDesk(institution=institution, departments=list(departments), practitioners=list(staff))
