"""Who keeps which register (auth/policy/administration.py), every role against own and other."""

from __future__ import annotations

import pytest

from yilian.auth import policy
from yilian.auth.policy import Actor, Role

OWN, OTHER = 1, 2


def actor(role: Role, institution_id: int | None = OWN, consortium_id: int | None = None) -> Actor:
    return Actor(1, "u", frozenset({role}), institution_id=institution_id, consortium_id=consortium_id)


@pytest.mark.parametrize("role", list(Role))
def test_each_register_has_its_keeper_and_no_one_else(role: Role) -> None:
    me = actor(role, consortium_id=OWN)
    system = role is Role.SYSTEM_ADMIN
    assert policy.may_administer_consortia(me) is system
    assert policy.may_administer_membership(me, OWN) is (system or role is Role.CONSORTIUM_ADMIN)
    assert policy.may_administer_membership(me, OTHER) is system
    assert policy.may_administer_institution(me, OWN) is (system or role is Role.INSTITUTION_ADMIN)
    assert policy.may_administer_institution(me, OTHER) is system
    assert policy.may_keep_clinic_templates(me, OWN) is (system or role is Role.CLINIC_OFFICE)
    assert policy.may_keep_clinic_templates(me, OTHER) is system
    assert policy.may_keep_wards(me, OWN) is (system or role is Role.ADMISSION_OFFICE)
    assert policy.may_keep_wards(me, OTHER) is system
    keepers = {Role.SYSTEM_ADMIN, Role.CONSORTIUM_ADMIN, Role.INSTITUTION_ADMIN}
    assert policy.may_import_registers(me) is (role in keepers)
    assert policy.may_open_administration(me) is (
        role in keepers | {Role.CLINIC_OFFICE, Role.ADMISSION_OFFICE}
    )


def test_an_institutions_administrator_gives_its_staff_roles_only() -> None:
    it = actor(Role.INSTITUTION_ADMIN)
    assert {r for r in Role if policy.may_grant_role(it, r)} == set(policy.INSTITUTION_ROLES)
    assert not policy.may_grant_role(it, Role.SYSTEM_ADMIN)
    assert not policy.may_grant_role(it, Role.CONSORTIUM_ADMIN)
    assert all(policy.may_grant_role(actor(Role.SYSTEM_ADMIN, None), r) for r in Role)
    assert not any(policy.may_grant_role(actor(Role.CLINIC_OFFICE), r) for r in Role)
