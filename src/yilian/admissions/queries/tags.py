"""The 社区签约 tag: why a patient may move ahead.

Seed 003 and DESIGN §4: a patient is tagged when it came to the hospital through the regional
platform. Each way of coming through the platform is a source, asked in this order by
`community_tag` (the first that answers gives the reason):

- `contract`: an active family-doctor contract at a member centre of a consortium the hospital
  leads (directory's one active-contract clause, Contract.current_on);
- `up_referral`: the resident came by an up-referral the hospital accepted (referrals.queries).

The tag is computed once, when the request is made, and stored with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.directory.models import Consortium, Contract, Institution, Membership, Practitioner
from yilian.referrals import queries as referrals


@dataclass(frozen=True)
class TagReason:
    source: str  # a stable code: "contract", "up_referral"
    detail: str  # what the page shows after the tag, e.g. "田林社区卫生服务中心 · 陈佳怡"


async def community_tag(
    session: AsyncSession, *, resident_id: int, hospital_id: int, today: date
) -> TagReason | None:
    """The reason the resident is tagged at this hospital today (contract first), or None."""
    return await contract_at_member_centre(
        session, resident_id=resident_id, hospital_id=hospital_id, today=today
    ) or await up_referral_on_the_platform(session, resident_id=resident_id, hospital_id=hospital_id)


async def contract_at_member_centre(
    session: AsyncSession, *, resident_id: int, hospital_id: int, today: date
) -> TagReason | None:
    """An active 家庭医生签约 at a centre of a consortium whose lead is the ward's hospital."""
    row = (
        await session.execute(
            select(Institution.name, Practitioner.name)
            .select_from(Contract)
            .join(Institution, Institution.id == Contract.institution_id)
            .join(Practitioner, Practitioner.id == Contract.practitioner_id)
            .join(Membership, Membership.institution_id == Contract.institution_id)
            .join(Consortium, Consortium.id == Membership.consortium_id)
            .where(
                Contract.resident_id == resident_id,
                Contract.current_on(today),
                Consortium.lead_institution_id == hospital_id,
            )
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    centre, doctor = row
    return TagReason(source="contract", detail=f"{centre} · {doctor}")


async def up_referral_on_the_platform(
    session: AsyncSession, *, resident_id: int, hospital_id: int
) -> TagReason | None:
    """An up-referral of the resident to this hospital that the hospital accepted (经平台上转)."""
    why = await referrals.came_through_up_referral(
        session, resident_id=resident_id, institution_id=hospital_id
    )
    return TagReason(source="up_referral", detail=why) if why else None
