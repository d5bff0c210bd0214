"""Who may do what with admissions (auth/policy/admissions.py), role by role: the answers the pages,
the templates and the lists take from the policy instead of naming roles themselves."""

from __future__ import annotations

import pytest

from yilian.auth import policy
from yilian.auth.policy import Actor, AdmissionScope, Role

HOSPITAL, OTHER_HOSPITAL, CENTRE = 1, 2, 3


def actor(role: Role, institution_id: int | None = HOSPITAL) -> Actor:
    return Actor(user_id=1, username=role.value, roles=frozenset({role}), institution_id=institution_id)


# role → (follows signed residents, opens the request form, sees its wards, list scope)
EXPECTED = {
    Role.FAMILY_DOCTOR: (True, False, False, AdmissionScope.SIGNED_RESIDENTS),
    Role.SPECIALIST: (False, True, True, AdmissionScope.HOSPITAL),
    Role.ADMISSION_OFFICE: (False, False, True, AdmissionScope.HOSPITAL),
    Role.CLINIC_OFFICE: (False, False, False, AdmissionScope.NONE),
    Role.REGISTRATION: (False, False, False, AdmissionScope.NONE),
    Role.CONSORTIUM_ADMIN: (False, False, False, AdmissionScope.NONE),
    Role.INSTITUTION_ADMIN: (False, False, False, AdmissionScope.NONE),
    Role.SYSTEM_ADMIN: (False, False, False, AdmissionScope.NONE),
    Role.INSTITUTION_ADMIN: (False, False, False, AdmissionScope.NONE),
}


@pytest.mark.parametrize("role", list(Role))
def test_what_each_role_sees_of_admissions(role: Role) -> None:
    someone = actor(role, CENTRE if role is Role.FAMILY_DOCTOR else HOSPITAL)
    answers = (
        policy.follows_signed_residents(someone),
        policy.may_open_admission_form(someone),
        policy.may_see_own_wards(someone),
        policy.admission_scope(someone),
    )
    assert answers == EXPECTED[role]


@pytest.mark.parametrize("role", list(Role))
def test_without_an_institution_nobody_opens_the_form_sees_wards_or_lists_requests(role: Role) -> None:
    nowhere = actor(role, None)
    assert not policy.may_open_admission_form(nowhere)
    assert not policy.may_see_own_wards(nowhere)
    assert policy.admission_scope(nowhere) is AdmissionScope.NONE


def test_the_down_referral_after_a_discharge_is_the_hospitals_specialists() -> None:
    assert policy.may_refer_down_after_admission(actor(Role.SPECIALIST), HOSPITAL)
    assert not policy.may_refer_down_after_admission(actor(Role.SPECIALIST), OTHER_HOSPITAL)
    assert not any(
        policy.may_refer_down_after_admission(actor(role), HOSPITAL)
        for role in Role
        if role is not Role.SPECIALIST
    )


def test_the_family_doctors_are_told_of_their_signed_residents_stays() -> None:
    assert policy.FOLLOWS_SIGNED_RESIDENTS is Role.FAMILY_DOCTOR


@pytest.mark.parametrize("role", list(Role))
def test_wards_and_beds_are_kept_by_the_hospitals_office_or_the_system_admin(role: Role) -> None:
    keeps = role in {Role.ADMISSION_OFFICE, Role.SYSTEM_ADMIN}
    assert policy.may_keep_wards(actor(role), HOSPITAL) is keeps
    assert policy.may_keep_wards(actor(role), OTHER_HOSPITAL) is (role is Role.SYSTEM_ADMIN)
