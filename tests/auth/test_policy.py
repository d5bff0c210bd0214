"""The pure access policy, role by role."""

from __future__ import annotations

import pytest

from yilian.auth import policy
from yilian.auth.policy import (
    Actor,
    ResidentLinks,
    ResidentScope,
    Role,
    audit_scope,
    may_browse_audit,
    may_open_admission_stats,
    may_register_resident,
    may_reveal_identity,
    may_see_admission_stats,
    may_set_queue_settings,
    may_sign_contract,
    may_view_resident,
    resident_scope,
)

CENTRE, OTHER_CENTRE, HOSPITAL = 10, 11, 20


def actor(role: Role, institution: int | None = None, consortium: int | None = None) -> Actor:
    return Actor(
        user_id=1, username="u", roles=frozenset({role}), institution_id=institution, consortium_id=consortium
    )


SIGNED_HERE = ResidentLinks(contract_institution_ids=frozenset({CENTRE}), registered_by_institution_id=CENTRE)
REGISTERED_HERE = ResidentLinks(registered_by_institution_id=CENTRE)
WITH_HOSPITAL = ResidentLinks(
    contract_institution_ids=frozenset({OTHER_CENTRE}), business_institution_ids=frozenset({HOSPITAL})
)


@pytest.mark.parametrize(
    ("who", "links", "view", "reveal"),
    [
        (actor(Role.FAMILY_DOCTOR, CENTRE), SIGNED_HERE, True, True),
        (actor(Role.FAMILY_DOCTOR, CENTRE), REGISTERED_HERE, True, False),
        (actor(Role.FAMILY_DOCTOR, OTHER_CENTRE), SIGNED_HERE, False, False),
        (actor(Role.FAMILY_DOCTOR, CENTRE), WITH_HOSPITAL, False, False),
        (actor(Role.SPECIALIST, HOSPITAL), WITH_HOSPITAL, True, False),
        (actor(Role.SPECIALIST, HOSPITAL), SIGNED_HERE, False, False),
        (actor(Role.REGISTRATION, HOSPITAL), WITH_HOSPITAL, True, True),
        (actor(Role.CLINIC_OFFICE, HOSPITAL), WITH_HOSPITAL, True, False),
        (actor(Role.ADMISSION_OFFICE, HOSPITAL), WITH_HOSPITAL, True, False),
        (actor(Role.CONSORTIUM_ADMIN, None, 1), SIGNED_HERE, False, False),
        (actor(Role.SYSTEM_ADMIN), SIGNED_HERE, False, False),
        (actor(Role.SYSTEM_ADMIN, HOSPITAL), WITH_HOSPITAL, False, False),
    ],
)
def test_who_sees_and_who_reveals(who: Actor, links: ResidentLinks, view: bool, reveal: bool) -> None:
    assert may_view_resident(who, links) is view
    assert may_reveal_identity(who, links) is reveal


def test_only_family_doctors_register_and_sign_at_their_own_community_centre() -> None:
    doctor = actor(Role.FAMILY_DOCTOR, CENTRE)
    assert may_register_resident(doctor)
    assert not may_register_resident(actor(Role.SPECIALIST, HOSPITAL))
    assert may_sign_contract(doctor, centre_id=CENTRE, centre_tier=1, doctor_institution_id=CENTRE)
    assert not may_sign_contract(
        doctor, centre_id=OTHER_CENTRE, centre_tier=1, doctor_institution_id=OTHER_CENTRE
    )
    assert not may_sign_contract(doctor, centre_id=CENTRE, centre_tier=3, doctor_institution_id=CENTRE)
    assert not may_sign_contract(
        actor(Role.SPECIALIST, CENTRE), centre_id=CENTRE, centre_tier=1, doctor_institution_id=CENTRE
    )


def test_audit_trail_is_for_admins_and_scoped_by_consortium() -> None:
    assert may_browse_audit(actor(Role.SYSTEM_ADMIN))
    assert may_browse_audit(actor(Role.CONSORTIUM_ADMIN, None, 7))
    assert not may_browse_audit(actor(Role.FAMILY_DOCTOR, CENTRE))
    assert audit_scope(actor(Role.SYSTEM_ADMIN)) is None
    assert audit_scope(actor(Role.CONSORTIUM_ADMIN, None, 7)) == 7
    assert audit_scope(actor(Role.CONSORTIUM_ADMIN)) == -1  # no consortium: sees nothing


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        (actor(Role.ADMISSION_OFFICE, HOSPITAL), True),
        (actor(Role.ADMISSION_OFFICE, OTHER_CENTRE), False),  # another institution's office
        (actor(Role.SPECIALIST, HOSPITAL), False),
        (actor(Role.CLINIC_OFFICE, HOSPITAL), False),
        (actor(Role.REGISTRATION, HOSPITAL), False),
        (actor(Role.FAMILY_DOCTOR, CENTRE), False),
        (actor(Role.CONSORTIUM_ADMIN, None, 1), False),
        (actor(Role.CONSORTIUM_ADMIN, HOSPITAL, 1), False),
        (actor(Role.SYSTEM_ADMIN), False),
    ],
)
def test_only_the_hospitals_admission_office_sets_its_queue(who: Actor, allowed: bool) -> None:
    assert may_set_queue_settings(who, HOSPITAL) is allowed


@pytest.mark.parametrize(
    ("who", "opens", "sees_hospital"),
    [
        (actor(Role.ADMISSION_OFFICE, HOSPITAL), True, True),
        (actor(Role.ADMISSION_OFFICE, OTHER_CENTRE), True, False),  # its own numbers only
        (actor(Role.SPECIALIST, HOSPITAL), False, False),
        (actor(Role.FAMILY_DOCTOR, CENTRE), False, False),
        (actor(Role.CONSORTIUM_ADMIN, None, 1), True, True),  # the hospital is a member of 1
        (actor(Role.CONSORTIUM_ADMIN, None, 2), True, False),  # another consortium's office
        (actor(Role.SYSTEM_ADMIN), True, True),
    ],
)
def test_the_admission_numbers_page_opens_for_whom_the_numbers_are(
    who: Actor, opens: bool, sees_hospital: bool
) -> None:
    assert may_open_admission_stats(who) is opens
    assert may_see_admission_stats(who, HOSPITAL, hospital_consortia={1, 3}) is sees_hospital


@pytest.mark.parametrize(
    ("who", "scope"),
    [
        (actor(Role.FAMILY_DOCTOR, CENTRE), ResidentScope(business_at=CENTRE, signed_at=CENTRE)),
        (actor(Role.FAMILY_DOCTOR), ResidentScope()),  # no centre: nobody
        (actor(Role.SPECIALIST, HOSPITAL), ResidentScope(business_at=HOSPITAL)),
        (actor(Role.REGISTRATION, HOSPITAL), ResidentScope(business_at=HOSPITAL)),
        (actor(Role.SYSTEM_ADMIN, HOSPITAL), ResidentScope()),  # admins: numbers, never records
        (actor(Role.CONSORTIUM_ADMIN, None, 1), ResidentScope()),
    ],
)
def test_the_residents_an_actor_may_see_are_one_scope_for_lists_and_records(
    who: Actor, scope: ResidentScope
) -> None:
    assert resident_scope(who) == scope


NAVIGATION = (
    "open_residents",
    "open_follow_up",
    "open_referrals",
    "open_admissions",
    "open_clinic_office",
    "see_consortium_numbers",
    "see_own_clinic",
    "see_consortium_overview",
    "see_directory_totals",
    "see_signed_counts",
)


@pytest.mark.parametrize(
    ("who", "shown"),
    [
        (
            actor(Role.FAMILY_DOCTOR, CENTRE),
            {"open_residents", "open_follow_up", "open_referrals", "open_admissions", "see_signed_counts"},
        ),
        (
            actor(Role.FAMILY_DOCTOR),
            {"open_residents", "open_follow_up", "open_referrals", "open_admissions"},
        ),
        (actor(Role.SPECIALIST, HOSPITAL), {"open_referrals", "open_admissions", "see_own_clinic"}),
        (actor(Role.CLINIC_OFFICE, HOSPITAL), {"open_clinic_office"}),
        (actor(Role.ADMISSION_OFFICE, HOSPITAL), {"open_admissions"}),
        (actor(Role.REGISTRATION, HOSPITAL), set()),
        (actor(Role.CONSORTIUM_ADMIN, None, 1), {"see_consortium_numbers", "see_consortium_overview"}),
        (actor(Role.SYSTEM_ADMIN), {"see_consortium_numbers", "see_directory_totals"}),
    ],
)
def test_the_menu_and_the_home_page_show_each_role_its_own_parts(who: Actor, shown: set[str]) -> None:
    assert {name for name in NAVIGATION if getattr(policy, f"may_{name}")(who)} == shown
