"""Templates ask the policy, never a role: `may.<x>` is policy.may_<x>(actor); the menu and the home
page each user sees, written out."""

from __future__ import annotations

import re

import pytest

from tests.fixtures_app import Api
from yilian.auth.policy import Actor, Role
from yilian.web.templating import May

DOCTOR = Actor(user_id=1, username="fd", roles=frozenset({Role.FAMILY_DOCTOR}), institution_id=10)


def test_may_answers_by_the_policy_and_no_actor_may_nothing() -> None:
    may = May(DOCTOR)
    assert may.open_residents is True
    assert may.see_consortium_numbers is False
    assert May(None).open_residents is False


def test_a_misspelt_permission_fails_instead_of_reading_as_no() -> None:
    with pytest.raises(NameError, match="may_open_residnets"):
        _ = May(DOCTOR).open_residnets
    assert not hasattr(May(DOCTOR), "__html__")  # Jinja's and markupsafe's probes stay probes


def nav_links(html: str) -> list[str]:
    nav = re.search(r'<nav class="sections[ "].*?</nav>', html, re.S)
    assert nav is not None
    return re.findall(r'href="([^"]+)"', nav.group(0))


EVERYONE = ["/practitioners", "/consortia"]


@pytest.mark.parametrize(
    ("username", "links", "home_links"),
    [
        (
            "fd.tianlin",
            ["/", "/residents", "/admissions", "/referrals", "/follow-up", *EVERYONE],
            {"/residents/new", "/appointments"},
        ),
        ("sp.sixth", ["/", "/admissions", "/referrals", *EVERYONE], {"/practitioners/"}),
        ("clinic.sixth", ["/", *EVERYONE, "/admin"], {"/clinic"}),
        ("admission.sixth", ["/", "/admissions", *EVERYONE, "/admin"], set()),
        (
            "admin.xuhui",
            ["/", *EVERYONE, "/referrals/stats", "/admissions/stats", "/audit", "/admin"],
            {"/audit"},
        ),
        (
            "sysadmin",
            ["/", *EVERYONE, "/referrals/stats", "/admissions/stats", "/audit", "/admin"],
            {"/docs"},
        ),
        ("it.sixth", ["/", *EVERYONE, "/admin"], set()),
    ],
)
async def test_each_user_sees_the_menu_and_home_of_its_work(
    api: Api, username: str, links: list[str], home_links: set[str]
) -> None:
    page = await (await api.browser(username)).get("/")
    assert page.status_code == 200
    assert nav_links(page.text) == links
    main = page.text.split("<main", 1)[1]
    for link in home_links:
        assert f'href="{link}' in main
    for link in {"/residents/new", "/clinic", "/docs"} - home_links:
        assert f'href="{link}"' not in main
