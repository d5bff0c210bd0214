"""Who reads which numbers (auth/policy/analytics.py), role by role: counts, never records."""

from __future__ import annotations

import pytest

from tests.auth.test_policy import HOSPITAL, actor
from yilian.auth.policy import (
    Actor,
    Role,
    may_choose_hospital,
    may_see_clinic_numbers,
    may_see_every_consortium,
    may_see_referral_numbers,
)


@pytest.mark.parametrize(
    ("who", "clinic", "referrals", "choose", "every"),
    [
        (actor(Role.CLINIC_OFFICE, HOSPITAL), True, False, False, False),
        (actor(Role.CLINIC_OFFICE), False, False, False, False),  # an office of no hospital
        (actor(Role.ADMISSION_OFFICE, HOSPITAL), False, False, False, False),
        (actor(Role.REGISTRATION, HOSPITAL), False, False, False, False),
        (actor(Role.SPECIALIST, HOSPITAL), False, False, False, False),
        (actor(Role.FAMILY_DOCTOR, HOSPITAL), False, False, False, False),
        (actor(Role.CONSORTIUM_ADMIN, None, 1), False, True, True, False),  # its own members'
        (actor(Role.SYSTEM_ADMIN), False, True, True, True),
    ],
)
def test_the_numbers_are_for_the_offices_and_the_admins(
    who: Actor, clinic: bool, referrals: bool, choose: bool, every: bool
) -> None:
    assert may_see_clinic_numbers(who) is clinic
    assert may_see_referral_numbers(who) is referrals
    assert may_choose_hospital(who) is choose
    assert may_see_every_consortium(who) is every
