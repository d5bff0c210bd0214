"""Admissions: the hospital's admission office manages, its specialists request."""

from __future__ import annotations

from yilian.auth.policy.actors import Actor, ResidentLinks, Role
from yilian.auth.policy.residents import may_view_resident


def may_manage_admissions(actor: Actor, hospital_id: int) -> bool:
    """Queue, offers, beds, admission, transfer, discharge: the hospital's admission office (住院处)."""
    return actor.has(Role.ADMISSION_OFFICE) and actor.institution_id == hospital_id


def may_see_queue(actor: Actor, hospital_id: int) -> bool:
    """A ward's whole queue: the hospital's admission office and its specialists."""
    return (
        bool(actor.roles & {Role.ADMISSION_OFFICE, Role.SPECIALIST}) and actor.institution_id == hospital_id
    )


def may_request_admission(actor: Actor, hospital_id: int, links: ResidentLinks) -> bool:
    """An electronic admission request: a specialist of the hospital, for a patient it may see."""
    return (
        actor.has(Role.SPECIALIST) and actor.institution_id == hospital_id and may_view_resident(actor, links)
    )


def may_cancel_admission(actor: Actor, hospital_id: int) -> bool:
    return may_see_queue(actor, hospital_id)


def may_follow_admission(actor: Actor, hospital_id: int, links: ResidentLinks) -> bool:
    """Where one request stands: the hospital's staff, and the family doctor whose centre holds the
    resident's contract (never the whole queue: other patients are not its business)."""
    if may_see_queue(actor, hospital_id):
        return True
    return (
        actor.has(Role.FAMILY_DOCTOR)
        and actor.institution_id is not None
        and actor.institution_id in links.contract_institution_ids
    )


def may_set_queue_settings(actor: Actor, hospital_id: int) -> bool:
    """A department's 社区签约 boost and a ward's offer time: the hospital's own admission office.

    DESIGN §1 gives the admission queue to the admission office (住院处) of each hospital, as it
    gives quota policies to the clinic office (which alone sets the kept shares). The consortium
    office keeps members, activities, dashboards and exports: it may read a hospital's admission
    numbers, not set its queue. The system administrator runs the platform, not a hospital. A
    specialist requests admissions and sees the queue, but does not set its rules.
    """
    return may_manage_admissions(actor, hospital_id)
