"""The tour's walk opens one page of each kind (yilian.tour): numbers and query values do not make
a new kind; the screenshots are named by account, order and kind."""

from __future__ import annotations

from yilian import tour


def test_a_kind_of_page_is_its_path_with_numbers_as_hash_and_its_query_names() -> None:
    assert tour.kind_of("/residents/12") == tour.kind_of("/residents/240") == "/residents/#"
    assert tour.kind_of("/referrals?box=new") == tour.kind_of("/referrals?box=mine") == "/referrals?box"
    assert tour.kind_of("/audit?offset=50&action=x") == "/audit?action&offset"
    assert tour.kind_of("/") != tour.kind_of("/residents")


def test_screenshots_are_named_by_account_order_and_kind() -> None:
    assert (
        tour.file_name("fd.tianlin", 3, "/residents/12?offset=20") == "fd.tianlin-03-residents-id-offset.png"
    )
    assert tour.file_name("sysadmin", 1, "/") == "sysadmin-01-home.png"


def test_the_tour_signs_in_as_every_demo_account_and_skips_what_is_no_page() -> None:
    assert tour.ROLES[0] == "fd.tianlin"
    assert {"admin.xuhui", "sysadmin", "reg.sixth"} <= set(tour.ROLES)
    assert all(path.startswith(tour.SKIPPED) for path in ("/logout", "/api/v1/me", "/docs", "/lang"))
