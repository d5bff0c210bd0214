"""The pure access policy, role by role."""

from __future__ import annotations

import pytest

from yilian.auth import policy
from yilian.auth.policy import (
    Actor,
    Care,
    CareLink,
    ResidentLinks,
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
)

CENTRE, OTHER_CENTRE, HOSPITAL = 10, 11, 20


CARDIOLOGY, ORTHOPAEDICS, EXPERT, OTHER_EXPERT = 30, 31, 40, 41


def actor(
    role: Role,
    institution: int | None = None,
    consortium: int | None = None,
    *,
    department: int | None = None,
    practitioner: int | None = None,
) -> Actor:
    return Actor(
        user_id=1,
        username="u",
        roles=frozenset({role}),
        institution_id=institution,
        consortium_id=consortium,
        department_id=department,
        practitioner_id=practitioner,
    )


def links(*care: CareLink) -> ResidentLinks:
    return ResidentLinks(care=care)


SIGNED_HERE = links(CareLink(Care.CONTRACT, 1, CENTRE, Role.FAMILY_DOCTOR))
REGISTERED_HERE = links(CareLink(Care.REGISTRATION, 7, CENTRE, Role.FAMILY_DOCTOR))
REFERRED_TO_CARDIOLOGY = links(
    CareLink(Care.CONTRACT, 1, OTHER_CENTRE, Role.FAMILY_DOCTOR),
    CareLink(Care.REFERRAL, 3, OTHER_CENTRE, Role.FAMILY_DOCTOR),
    CareLink(Care.REFERRAL, 3, HOSPITAL, Role.SPECIALIST, department_id=CARDIOLOGY),
)
BOOKED_WITH_EXPERT = links(
    CareLink(Care.APPOINTMENT, 5, HOSPITAL, Role.SPECIALIST, practitioner_id=EXPERT),
    CareLink(Care.APPOINTMENT, 5, HOSPITAL, Role.CLINIC_OFFICE),
)
WAITING_FOR_A_BED = links(
    CareLink(Care.ADMISSION, 9, HOSPITAL, Role.ADMISSION_OFFICE),
    CareLink(Care.ADMISSION, 9, HOSPITAL, Role.SPECIALIST, department_id=ORTHOPAEDICS),
)
NO_CARE = links()


@pytest.mark.parametrize(
    ("who", "care", "view", "reveal"),
    [
        (actor(Role.FAMILY_DOCTOR, CENTRE), SIGNED_HERE, True, True),
        (actor(Role.FAMILY_DOCTOR, CENTRE), REGISTERED_HERE, True, False),
        (actor(Role.FAMILY_DOCTOR, OTHER_CENTRE), SIGNED_HERE, False, False),
        (actor(Role.FAMILY_DOCTOR, CENTRE), REFERRED_TO_CARDIOLOGY, False, False),
        (actor(Role.FAMILY_DOCTOR, OTHER_CENTRE), REFERRED_TO_CARDIOLOGY, True, True),
        (actor(Role.SPECIALIST, HOSPITAL, department=CARDIOLOGY), REFERRED_TO_CARDIOLOGY, True, False),
        # The receiving department, not the whole receiving hospital.
        (actor(Role.SPECIALIST, HOSPITAL, department=ORTHOPAEDICS), REFERRED_TO_CARDIOLOGY, False, False),
        (actor(Role.SPECIALIST, HOSPITAL), REFERRED_TO_CARDIOLOGY, False, False),
        (actor(Role.ADMISSION_OFFICE, HOSPITAL), REFERRED_TO_CARDIOLOGY, False, False),
        # The session's practitioner and the clinic office, no other specialist.
        (actor(Role.SPECIALIST, HOSPITAL, practitioner=EXPERT), BOOKED_WITH_EXPERT, True, False),
        (actor(Role.SPECIALIST, HOSPITAL, practitioner=OTHER_EXPERT), BOOKED_WITH_EXPERT, False, False),
        (actor(Role.CLINIC_OFFICE, HOSPITAL), BOOKED_WITH_EXPERT, True, False),
        (actor(Role.CLINIC_OFFICE, OTHER_CENTRE), BOOKED_WITH_EXPERT, False, False),
        # The registration desk is named by no relationship: it never reads nor reveals a record.
        (actor(Role.REGISTRATION, HOSPITAL), BOOKED_WITH_EXPERT, False, False),
        (actor(Role.ADMISSION_OFFICE, HOSPITAL), WAITING_FOR_A_BED, True, False),
        (actor(Role.SPECIALIST, HOSPITAL, department=ORTHOPAEDICS), WAITING_FOR_A_BED, True, False),
        (actor(Role.SPECIALIST, HOSPITAL, department=CARDIOLOGY), WAITING_FOR_A_BED, False, False),
        (actor(Role.CLINIC_OFFICE, HOSPITAL), WAITING_FOR_A_BED, False, False),
        (actor(Role.FAMILY_DOCTOR, CENTRE), NO_CARE, False, False),
        (actor(Role.CONSORTIUM_ADMIN, None, 1), SIGNED_HERE, False, False),
        (actor(Role.SYSTEM_ADMIN), SIGNED_HERE, False, False),
        (actor(Role.SYSTEM_ADMIN, HOSPITAL), BOOKED_WITH_EXPERT, False, False),
    ],
)
def test_who_sees_and_who_reveals(who: Actor, care: ResidentLinks, view: bool, reveal: bool) -> None:
    assert may_view_resident(who, care) is view
    assert may_reveal_identity(who, care) is reveal


def test_a_read_is_named_by_the_first_relationship_that_opens_it() -> None:
    doctor = actor(Role.FAMILY_DOCTOR, OTHER_CENTRE)
    assert policy.care_name(doctor, REFERRED_TO_CARDIOLOGY) == "contract:1"
    newer = links(
        CareLink(Care.REFERRAL, 3, HOSPITAL, Role.SPECIALIST, department_id=CARDIOLOGY),
        CareLink(Care.REFERRAL, 8, HOSPITAL, Role.SPECIALIST, department_id=CARDIOLOGY),
    )
    assert policy.care_name(actor(Role.SPECIALIST, HOSPITAL, department=CARDIOLOGY), newer) == "referral:8"
    assert policy.care_name(doctor, NO_CARE) is None


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
