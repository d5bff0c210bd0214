"""Who a referral's events need, and the notices they get (written in the caller's transaction,
pushed to open pages after it commits: see notices.broker)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ScalarSelect, Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.auth import policy
from yilian.auth.models import User
from yilian.auth.policy import Role
from yilian.directory.models import Institution, Practitioner, Resident
from yilian.directory.rules import Title
from yilian.notices import rules as notices_rules
from yilian.notices import service as notices
from yilian.referrals import rules
from yilian.referrals.models import Referral

# Notice kinds (stable: pages and clients may filter on them).
NEW = "referral_new"
ACCEPTED = "referral_accepted"
DECLINED = "referral_declined"
REDIRECTED = "referral_redirected"
SCHEDULED = "referral_scheduled"
ARRIVED = "referral_arrived"
REPORT_READY = "referral_report"
CLOSED = "referral_closed"
CANCELLED = "referral_cancelled"
OVERDUE = "referral_overdue"
EXPIRED = "referral_expired"
NO_SHOW = "referral_no_show"

TITLES = {
    NEW: "新转诊",
    ACCEPTED: "转诊已接收",
    DECLINED: "转诊被拒绝",
    REDIRECTED: "转诊已转至他处",
    SCHEDULED: "转诊已预约",
    ARRIVED: "患者已到诊",
    REPORT_READY: "转诊报告已回传",
    CLOSED: "转诊已结案",
    CANCELLED: "转诊已撤销",
    OVERDUE: "转诊超时未处理",
    EXPIRED: "转诊已过期",
    NO_SHOW: "患者未按时就诊",
}
# What happened, when, and who acts next: the sentence after the patient's name.
WORDS = {
    NEW: "{origin}转来：{reason}。请于{due}前接收或拒绝",
    ACCEPTED: "{target}已接收，待其安排就诊时间",
    DECLINED: "{target}拒绝{because}。请改转他处或撤销",
    REDIRECTED: "已转至{target}{because}，待其于{due}前答复",
    SCHEDULED: "就诊时间：{scheduled}，{place}。请通知患者按时就诊",
    ARRIVED: "患者已于{arrived}到诊，待{target}回传报告",
    REPORT_READY: "{target}已回传诊疗报告。请查看并结案",
    CLOSED: "{origin}已结案{because}。无需再处理",
    CANCELLED: "{origin}已撤销{because}。无需再处理",
    OVERDUE: "{origin}转来，答复期限{due}已过。请督促尽快接收或拒绝",
    EXPIRED: "{target}未在{due}前答复，转诊已过期。可改转他处",
    NO_SHOW: "患者未按{scheduled}的预约就诊，转诊已退回。请联系患者重新安排",
}
DIRECTION_WORDS = {rules.Direction.UP: "上转", rules.Direction.DOWN: "下转"}


async def _tier(session: AsyncSession, institution_id: int) -> int:
    tier = await session.scalar(select(Institution.tier).where(Institution.id == institution_id))
    return int(tier or 1)


async def _acting_users(session: AsyncSession, institution_id: int) -> Select[int]:
    role = policy.acting_role(await _tier(session, institution_id))
    return notices.users_with_role(role, {institution_id})


async def receivers(session: AsyncSession, referral: Referral) -> list[int]:
    """The receiving side's users, as policy.may_receive says: the named practitioner and the
    department's, else (neither named) the whole institution's acting role. Nobody else: a
    department without an account holder hears through the escalation (department_heads)."""
    everyone = await _acting_users(session, referral.target_institution_id)
    if referral.target_practitioner_id or referral.target_department_id:
        everyone = everyone.join(Practitioner, Practitioner.id == User.practitioner_id).where(
            or_(
                Practitioner.id == referral.target_practitioner_id,
                Practitioner.department_id == referral.target_department_id,
            )
        )
    return list((await session.scalars(everyone)).all())


async def department_heads(session: AsyncSession, referral: Referral) -> list[int]:
    """Who an overdue referral escalates to: the chief physicians (主任医师) of the target
    department with an account; else the hospital's clinic office; else its whole acting role."""
    everyone = await _acting_users(session, referral.target_institution_id)
    chiefs = everyone.join(Practitioner, Practitioner.id == User.practitioner_id).where(
        Practitioner.title == Title.CHIEF
    )
    if referral.target_department_id:
        chiefs = chiefs.where(Practitioner.department_id == referral.target_department_id)
    found = list((await session.scalars(chiefs)).all())
    if found:
        return found
    office = notices.users_with_role(Role.CLINIC_OFFICE, {referral.target_institution_id})
    return list((await session.scalars(office)).all()) or list((await session.scalars(everyone)).all())


async def send(
    session: AsyncSession,
    referral: Referral,
    kind: str,
    user_ids: list[int],
    *,
    now: datetime,
    extra: str = "",
) -> int:
    """One notice per user about this referral: what happened to which patient, when (the
    appointment, the deadline), who acts next; linked to the referral. `extra` is the mover's
    note (a reason, a redirect's why)."""

    def named(institution_id: int) -> ScalarSelect[str]:
        return select(Institution.name).where(Institution.id == institution_id).scalar_subquery()

    name, origin, target = (
        await session.execute(
            select(
                select(Resident.name).where(Resident.id == referral.resident_id).scalar_subquery(),
                named(referral.origin_institution_id),
                named(referral.target_institution_id),
            )
        )
    ).one()

    def at(moment: datetime | None) -> str:
        return notices_rules.when(moment) if moment else "—"

    what = WORDS[kind].format(
        origin=origin,
        target=target,
        reason=referral.reason[:40],
        because=f"：{extra[:80]}" if extra else "",
        due=at(referral.answer_due_at),
        scheduled=at(referral.scheduled_at),
        arrived=at(referral.arrived_at),
        place=referral.place or "地点待告知",
    )
    direction = DIRECTION_WORDS[rules.Direction(referral.direction)]
    return await notices.notify_users(
        session,
        user_ids=user_ids,
        kind=kind,
        title=TITLES[kind],
        body=f"{direction} #{referral.id} {name}：{what}",
        link=f"/referrals/{referral.id}",
        now=now,
    )


async def to_referrer(
    session: AsyncSession, referral: Referral, kind: str, *, now: datetime, extra: str = ""
) -> int:
    return await send(session, referral, kind, [referral.created_by], now=now, extra=extra)


async def to_receivers(
    session: AsyncSession, referral: Referral, kind: str, *, now: datetime, extra: str = ""
) -> int:
    return await send(session, referral, kind, await receivers(session, referral), now=now, extra=extra)
