"""Admissions: the hospital's admission office manages, its specialists request, the family doctors
of a resident's contract centre follow their signed residents' requests."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from yilian.auth.policy.actors import Actor, Role
from yilian.auth.policy.care import ResidentLinks
from yilian.auth.policy.residents import may_view_resident

# Who follows the signed residents of its centre through their admissions, and is told of their
# stays (admissions.notify): the family doctor.
FOLLOWS_SIGNED_RESIDENTS: Final = Role.FAMILY_DOCTOR


class AdmissionScope(StrEnum):
    """Which requests a list shows an actor (the SQL form of may_follow_admission)."""

    NONE = "none"
    HOSPITAL = "hospital"  # every request of the actor's hospital
    SIGNED_RESIDENTS = "signed_residents"  # those of the residents signed at the actor's centre


def may_manage_admissions(actor: Actor, hospital_id: int) -> bool:
    """Queue, offers, beds, admission, transfer, discharge: the hospital's admission office (住院处)."""
    return actor.has(Role.ADMISSION_OFFICE) and actor.institution_id == hospital_id


def may_see_queue(actor: Actor, hospital_id: int) -> bool:
    """A ward's whole queue: the hospital's admission office and its specialists."""
    return (
        bool(actor.roles & {Role.ADMISSION_OFFICE, Role.SPECIALIST}) and actor.institution_id == hospital_id
    )


def may_see_own_wards(actor: Actor) -> bool:
    """The wards of the actor's own hospital, listed on the admissions page: whoever sees their queues."""
    return actor.institution_id is not None and may_see_queue(actor, actor.institution_id)


def may_request_admission(actor: Actor, hospital_id: int, links: ResidentLinks) -> bool:
    """An electronic admission request: a specialist of the hospital, for a patient it may see."""
    return (
        actor.has(Role.SPECIALIST) and actor.institution_id == hospital_id and may_view_resident(actor, links)
    )


def may_open_admission_form(actor: Actor) -> bool:
    """The request form (its own hospital's wards): a specialist of a hospital."""
    return actor.has(Role.SPECIALIST) and actor.institution_id is not None


def may_refer_down_after_admission(actor: Actor, hospital_id: int) -> bool:
    """The down-referral after a discharge is written by the hospital's specialists (its admission
    office discharges)."""
    return actor.has(Role.SPECIALIST) and actor.institution_id == hospital_id


def may_cancel_admission(actor: Actor, hospital_id: int) -> bool:
    return may_see_queue(actor, hospital_id)


def follows_signed_residents(actor: Actor) -> bool:
    """The actor follows the requests of the residents signed at its centre (not a hospital's)."""
    return actor.has(FOLLOWS_SIGNED_RESIDENTS)


def may_follow_admission(actor: Actor, hospital_id: int, links: ResidentLinks) -> bool:
    """Where one request stands: the hospital's staff, and the family doctor whose centre holds the
    resident's contract (never the whole queue: other patients are not its business)."""
    if may_see_queue(actor, hospital_id):
        return True
    return (
        follows_signed_residents(actor)
        and actor.institution_id is not None
        and actor.institution_id in links.contract_institution_ids
    )


def admission_scope(actor: Actor) -> AdmissionScope:
    """The requests a list shows: those of the residents signed at a family doctor's centre, every
    one of a hospital's staff's hospital, none for anybody else."""
    if actor.institution_id is None:
        return AdmissionScope.NONE
    if follows_signed_residents(actor):
        return AdmissionScope.SIGNED_RESIDENTS
    if may_see_queue(actor, actor.institution_id):
        return AdmissionScope.HOSPITAL
    return AdmissionScope.NONE


def may_set_queue_settings(actor: Actor, hospital_id: int) -> bool:
    """A department's 社区签约 boost and a ward's offer time: the hospital's own admission office.

    DESIGN §1 gives the admission queue to the admission office (住院处) of each hospital, as it
    gives quota policies to the clinic office (which alone sets the kept shares). The consortium
    office keeps members, activities, dashboards and exports: it may read a hospital's admission
    numbers, not set its queue. The system administrator runs the platform, not a hospital. A
    specialist requests admissions and sees the queue, but does not set its rules.
    """
    return may_manage_admissions(actor, hospital_id)
