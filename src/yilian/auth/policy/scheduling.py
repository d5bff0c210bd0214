"""Scheduling: who books which pool, who sees kept slots and whose appointments, who runs clinics."""

from __future__ import annotations

from yilian.auth.policy.actors import Actor, Role


def may_book_kept_slot(actor: Actor) -> bool:
    """The kept (community) pool is the family doctors' (seed 003)."""
    return actor.has(Role.FAMILY_DOCTOR)


def may_book_public_slot(actor: Actor) -> bool:
    """The public pool is the hospital's registration desk's (a family doctor books kept slots)."""
    return actor.has(Role.REGISTRATION) and not may_book_kept_slot(actor)


def may_book_kept_slot_of(actor: Actor, *, shares_consortium: bool) -> bool:
    """A hospital's kept slots serve the family doctors of the centres that share a consortium
    with it (the booking statements decide it with the memberships: `shares_consortium`)."""
    return may_book_kept_slot(actor) and shares_consortium


def may_book_for_resident(actor: Actor) -> bool:
    """Booking by an internal resident id: for actors who may see the resident (a family doctor
    for its signed residents). The registration role cannot see residents: it books by identity."""
    return may_book_kept_slot(actor)


def may_book_by_identity(actor: Actor) -> bool:
    """实名制: the registration role books a public slot with the patient's name and ID number,
    matched to a resident or registered with the hospital's consent (directory.identify_patient)."""
    return may_book_public_slot(actor) and actor.institution_id is not None


def may_book_in_session_of(actor: Actor, hospital_id: int) -> bool:
    """Hospital staff book (the public pool, or a kept slot on a referral) its own sessions only."""
    return actor.institution_id == hospital_id


def may_see_kept_slots(actor: Actor) -> bool:
    """The registration desk (the public channels) never sees kept slots before release."""
    return not actor.has(Role.REGISTRATION)


def may_see_centre_appointments(actor: Actor) -> bool:
    """A family doctor sees the appointments its centre booked."""
    return actor.institution_id is not None and actor.has(Role.FAMILY_DOCTOR)


def may_see_hospital_appointments(actor: Actor) -> bool:
    """The hospital's clinic office sees every appointment of its sessions."""
    return (
        actor.institution_id is not None
        and not may_see_centre_appointments(actor)
        and actor.has(Role.CLINIC_OFFICE)
    )


def may_see_desk_appointments(actor: Actor) -> bool:
    """The hospital's registration desk sees the appointments it booked itself, never a family
    doctor's kept-slot booking (it reaches no resident it did not identify itself)."""
    return (
        actor.institution_id is not None
        and not may_see_centre_appointments(actor)
        and not may_see_hospital_appointments(actor)
        and actor.has(Role.REGISTRATION)
    )


def may_cancel_appointment(actor: Actor, booked_via_institution_id: int | None) -> bool:
    """The centre (or desk) that booked an appointment cancels it, nobody else."""
    return actor.institution_id is not None and actor.institution_id == booked_via_institution_id


def may_manage_sessions(actor: Actor, hospital_id: int) -> bool:
    """Templates, kept shares, 停诊 and attendance: the hospital's own clinic office (门诊部)."""
    return actor.has(Role.CLINIC_OFFICE) and actor.institution_id == hospital_id


def clinic_of(actor: Actor) -> int | None:
    """The hospital whose clinic office the actor is (its overview page), or None."""
    if actor.institution_id is None or not may_manage_sessions(actor, actor.institution_id):
        return None
    return actor.institution_id
