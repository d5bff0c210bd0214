"""Who may do what in scheduling (auth.policy.scheduling): one table, every role."""

from __future__ import annotations

import pytest

from yilian.auth import policy
from yilian.auth.policy import Actor, Role

HOSPITAL, CENTRE = 1, 2


def actor(role: Role, institution_id: int | None) -> Actor:
    return Actor(user_id=1, username=role.value, roles=frozenset({role}), institution_id=institution_id)


@pytest.mark.parametrize(
    ("role", "institution_id", "kept", "public", "sees_kept", "lists", "manages"),
    [
        # lists: whose appointments GET /appointments shows (centre: booked by the centre; desk:
        # booked by the hospital's own desk; hospital: every one of the hospital's sessions)
        (Role.FAMILY_DOCTOR, CENTRE, True, False, True, "centre", False),
        (Role.REGISTRATION, HOSPITAL, False, True, False, "desk", False),
        (Role.CLINIC_OFFICE, HOSPITAL, False, False, True, "hospital", True),
        (Role.SPECIALIST, HOSPITAL, False, False, True, None, False),
        (Role.ADMISSION_OFFICE, HOSPITAL, False, False, True, None, False),
        (Role.CONSORTIUM_ADMIN, None, False, False, True, None, False),
        (Role.SYSTEM_ADMIN, None, False, False, True, None, False),
    ],
)
def test_each_role_books_sees_and_manages_what_the_design_gives_it(
    role: Role,
    institution_id: int | None,
    kept: bool,
    public: bool,
    sees_kept: bool,
    lists: str | None,
    manages: bool,
) -> None:
    who = actor(role, institution_id)
    assert policy.may_book_kept_slot(who) is kept
    assert policy.may_book_public_slot(who) is public
    # 实名制 (issue 11): the desk books by identity only, the family doctor by resident id only.
    assert policy.may_book_by_identity(who) is public
    assert policy.may_book_for_resident(who) is kept
    assert policy.may_see_kept_slots(who) is sees_kept
    assert policy.may_see_centre_appointments(who) is (lists == "centre")
    assert policy.may_see_desk_appointments(who) is (lists == "desk")
    assert policy.may_see_hospital_appointments(who) is (lists == "hospital")
    assert policy.may_manage_sessions(who, HOSPITAL) is manages
    assert policy.clinic_of(who) == (HOSPITAL if manages else None)


def test_kept_slots_serve_the_family_doctors_of_the_consortium_only() -> None:
    doctor = actor(Role.FAMILY_DOCTOR, CENTRE)
    assert policy.may_book_kept_slot_of(doctor, shares_consortium=True)
    assert not policy.may_book_kept_slot_of(doctor, shares_consortium=False)
    for other in (Role.REGISTRATION, Role.SPECIALIST, Role.CLINIC_OFFICE):
        assert not policy.may_book_kept_slot_of(actor(other, HOSPITAL), shares_consortium=True)


def test_sessions_and_appointments_belong_to_their_own_institution() -> None:
    office, desk = actor(Role.CLINIC_OFFICE, HOSPITAL), actor(Role.REGISTRATION, HOSPITAL)
    assert not policy.may_manage_sessions(office, HOSPITAL + 10)
    assert policy.may_book_in_session_of(desk, HOSPITAL)
    assert not policy.may_book_in_session_of(desk, HOSPITAL + 10)
    assert policy.may_cancel_appointment(desk, HOSPITAL)
    assert not policy.may_cancel_appointment(desk, CENTRE)
    assert not policy.may_cancel_appointment(actor(Role.SYSTEM_ADMIN, None), None)
