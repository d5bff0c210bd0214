"""Who may do what in a case channel (auth/policy/channels.py): membership is the door."""

from __future__ import annotations

import pytest

from yilian.auth import policy
from yilian.auth.policy import Actor, Care, CareLink, ResidentLinks, Role

OWN, OTHER = 1, 2
NON_MEMBER, MEMBER, MODERATOR = None, False, True


def actor(role: Role, institution_id: int = OWN, user_id: int = 7) -> Actor:
    return Actor(user_id, "u", frozenset({role}), institution_id=institution_id)


@pytest.mark.parametrize("role", list(Role))
def test_only_members_read_and_post_whatever_the_role(role: Role) -> None:
    assert policy.may_read_channel(NON_MEMBER) is False
    assert policy.may_read_channel(MEMBER) is True
    assert policy.may_read_channel(MODERATOR) is True
    me = actor(role)
    assert policy.may_pin(MODERATOR)
    assert not policy.may_pin(MEMBER)
    assert not policy.may_pin(NON_MEMBER)
    # An administrator keeps the membership of its own institution's channels, not of others'.
    keeper = role is Role.SYSTEM_ADMIN or role is Role.INSTITUTION_ADMIN
    assert policy.may_create_channel(me, OWN) is keeper
    assert policy.may_create_channel(me, OTHER) is (role is Role.SYSTEM_ADMIN)
    assert policy.may_manage_members(me, NON_MEMBER, OWN) is keeper
    assert policy.may_manage_members(me, MODERATOR, OTHER) is True
    assert policy.may_manage_members(me, MEMBER, OTHER) is (role is Role.SYSTEM_ADMIN)


def test_the_author_edits_and_retracts_a_moderator_retracts_anyones() -> None:
    author, other = actor(Role.FAMILY_DOCTOR, user_id=7), actor(Role.SPECIALIST, user_id=8)
    assert policy.may_edit_post(author, MEMBER, 7)
    assert not policy.may_edit_post(author, NON_MEMBER, 7)  # left the channel
    assert not policy.may_edit_post(other, MODERATOR, 7)
    assert policy.may_retract(author, MEMBER, 7)
    assert not policy.may_retract(author, NON_MEMBER, 7)
    assert not policy.may_retract(other, MEMBER, 7)
    assert policy.may_retract(other, MODERATOR, 7)


def test_a_case_post_names_only_a_resident_the_author_cares_for() -> None:
    doctor = actor(Role.FAMILY_DOCTOR)
    signed = ResidentLinks((CareLink(Care.CONTRACT, 3, OWN, Role.FAMILY_DOCTOR),))
    elsewhere = ResidentLinks((CareLink(Care.CONTRACT, 3, OTHER, Role.FAMILY_DOCTOR),))
    assert policy.may_post_case(doctor, signed)
    assert not policy.may_post_case(doctor, elsewhere)
    assert not policy.may_post_case(doctor, ResidentLinks())
