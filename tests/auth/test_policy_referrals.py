"""auth/policy/referrals.py: who acts for an institution on referrals, who may start which
referral, who works a centre's follow-up tasks."""

from __future__ import annotations

from yilian.auth import policy
from yilian.auth.policy import Actor, Role

CENTRE, SECONDARY, TERTIARY = 1, 2, 3


def actor(role: Role, institution_id: int | None = 10) -> Actor:
    return Actor(user_id=1, username="u", roles=frozenset({role}), institution_id=institution_id)


def test_an_institution_acts_through_the_role_of_its_tier() -> None:
    assert policy.may_act_for(actor(Role.FAMILY_DOCTOR), 10, CENTRE)
    assert not policy.may_act_for(actor(Role.SPECIALIST), 10, CENTRE)
    for hospital in (SECONDARY, TERTIARY):
        assert policy.may_act_for(actor(Role.SPECIALIST), 10, hospital)
        assert not policy.may_act_for(actor(Role.FAMILY_DOCTOR), 10, hospital)
        assert not policy.may_act_for(actor(Role.CLINIC_OFFICE), 10, hospital)
    assert not policy.may_act_for(actor(Role.SPECIALIST), 11, TERTIARY)  # another hospital's
    assert not policy.may_act_for(actor(Role.SPECIALIST, None), None, TERTIARY)
    assert not policy.may_act_for(actor(Role.SPECIALIST), 10, None)


def test_up_from_every_tier_but_the_top_and_down_from_every_tier_but_the_centres() -> None:
    """What the API accepts (rules.may_refer: a higher tier up, a lower one down), so the page's
    buttons follow it: a secondary hospital's specialist refers both ways."""
    family_doctor, specialist = actor(Role.FAMILY_DOCTOR), actor(Role.SPECIALIST)
    assert (policy.may_refer_up(family_doctor, CENTRE), policy.may_refer_down(family_doctor, CENTRE)) == (
        True,
        False,
    )
    assert (policy.may_refer_up(specialist, SECONDARY), policy.may_refer_down(specialist, SECONDARY)) == (
        True,
        True,
    )
    assert (policy.may_refer_up(specialist, TERTIARY), policy.may_refer_down(specialist, TERTIARY)) == (
        False,
        True,
    )
    assert not policy.may_refer_up(specialist, CENTRE)  # not the centre's acting role
    assert not policy.may_refer_down(family_doctor, TERTIARY)
    for other in (Role.CLINIC_OFFICE, Role.ADMISSION_OFFICE, Role.REGISTRATION, Role.CONSORTIUM_ADMIN):
        assert not policy.may_refer_up(actor(other), SECONDARY)
        assert not policy.may_refer_down(actor(other), SECONDARY)
    assert not policy.may_refer_up(family_doctor, None)


def test_a_centres_follow_up_is_its_family_doctors() -> None:
    assert policy.may_follow_up(actor(Role.FAMILY_DOCTOR), 10)
    assert not policy.may_follow_up(actor(Role.FAMILY_DOCTOR), 11)
    assert not policy.may_follow_up(actor(Role.SPECIALIST), 10)
    assert not policy.may_follow_up(actor(Role.FAMILY_DOCTOR, None), None)


def test_the_receivers_are_the_named_department_and_practitioner() -> None:
    """A 妇产科 expert does not receive a 心内科 referral; nobody outside the hospital's acting
    role receives one, department or not; a referral naming neither goes to the acting role."""
    cardiology, gynaecology, named = 30, 31, 40

    def at(role: Role, department: int | None, practitioner: int | None = None, place: int = 10) -> Actor:
        return Actor(
            user_id=1,
            username="u",
            roles=frozenset({role}),
            institution_id=place,
            department_id=department,
            practitioner_id=practitioner,
        )

    def receives(actor: Actor, department: int | None, practitioner: int | None = None) -> bool:
        return policy.may_receive(actor, 10, TERTIARY, department_id=department, practitioner_id=practitioner)

    cardiologist, gynaecologist = at(Role.SPECIALIST, cardiology), at(Role.SPECIALIST, gynaecology)
    assert receives(cardiologist, cardiology)
    assert not receives(gynaecologist, cardiology)
    assert not receives(at(Role.SPECIALIST, None), cardiology)
    assert receives(at(Role.SPECIALIST, gynaecology, named), cardiology, named)  # the doctor named
    assert receives(at(Role.SPECIALIST, None, named), None, named)
    assert not receives(cardiologist, None, named)  # a named doctor only: not its colleagues
    assert receives(gynaecologist, None)
    assert receives(at(Role.SPECIALIST, None), None)
    assert not receives(at(Role.CLINIC_OFFICE, cardiology), cardiology)  # not the acting role
    assert not receives(at(Role.SPECIALIST, cardiology, place=11), cardiology)  # another hospital
    assert not policy.may_receive(cardiologist, 10, None, department_id=cardiology, practitioner_id=None)
