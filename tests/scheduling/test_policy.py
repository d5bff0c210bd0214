"""Who may do what in scheduling (auth.policy.scheduling): one table, every role."""

from __future__ import annotations

import pytest

from yilian.auth import policy
from yilian.auth.policy import Actor, Role

HOSPITAL, CENTRE = 1, 2


def actor(role: Role, institution_id: int | None) -> Actor:
    return Actor(user_id=1, username=role.value, roles=frozenset({role}), institution_id=institution_id)


@pytest.mark.parametrize(
    ("role", "institution_id", "kept", "public", "sees_kept", "centre_list", "hospital_list", "manages"),
    [
        (Role.FAMILY_DOCTOR, CENTRE, True, False, True, True, False, False),
        (Role.REGISTRATION, HOSPITAL, False, True, False, False, True, False),
        (Role.CLINIC_OFFICE, HOSPITAL, False, False, True, False, True, True),
        (Role.SPECIALIST, HOSPITAL, False, False, True, False, False, False),
        (Role.ADMISSION_OFFICE, HOSPITAL, False, False, True, False, False, False),
        (Role.CONSORTIUM_ADMIN, None, False, False, True, False, False, False),
        (Role.SYSTEM_ADMIN, None, False, False, True, False, False, False),
    ],
)
def test_each_role_books_sees_and_manages_what_the_design_gives_it(
    role: Role,
    institution_id: int | None,
    kept: bool,
    public: bool,
    sees_kept: bool,
    centre_list: bool,
    hospital_list: bool,
    manages: bool,
) -> None:
    who = actor(role, institution_id)
    assert policy.may_book_kept_slot(who) is kept
    assert policy.may_book_public_slot(who) is public
    assert policy.may_see_kept_slots(who) is sees_kept
    assert policy.may_see_centre_appointments(who) is centre_list
    assert policy.may_see_hospital_appointments(who) is hospital_list
    assert policy.may_manage_sessions(who, HOSPITAL) is manages
    assert policy.clinic_of(who) == (HOSPITAL if manages else None)


def test_sessions_and_appointments_belong_to_their_own_institution() -> None:
    office, desk = actor(Role.CLINIC_OFFICE, HOSPITAL), actor(Role.REGISTRATION, HOSPITAL)
    assert not policy.may_manage_sessions(office, HOSPITAL + 10)
    assert policy.may_book_in_session_of(desk, HOSPITAL)
    assert not policy.may_book_in_session_of(desk, HOSPITAL + 10)
    assert policy.may_cancel_appointment(desk, HOSPITAL)
    assert not policy.may_cancel_appointment(desk, CENTRE)
    assert not policy.may_cancel_appointment(actor(Role.SYSTEM_ADMIN, None), None)
