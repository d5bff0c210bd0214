"""The resident picker of every form (issue 12, point 1) on both engines: found by name, by pinyin
initials, by the last four of the ID number or phone, over exactly the residents the actor reaches;
recent residents first; audited; the forms prefilled with `?resident_id=`; and the resident's page
offering what this actor may start there."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

import yilian.app  # noqa: F401 — every domain registers where residents have business
from tests import factories
from tests.conftest import FIXED_NOW
from tests.directory.conftest import TIANLIN, actor
from tests.fixtures_app import Api
from yilian.auth import policy
from yilian.auth.models import AuditEvent
from yilian.core import masking
from yilian.core.db import Database
from yilian.directory import queries, rules, service
from yilian.directory.models import Resident

TODAY = date(2026, 11, 24)
HTMX = {"HX-Request": "true"}


# --- the rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "initials"),
    [
        ("王丽萍", "wlp"),
        ("张三 ", "zs"),
        ("阿依古丽·买买提", "ayglmmt"),
        ("曾小明", "cxm zxm"),  # 曾 as a surname is zēng: both spellings find it
        ("单田芳", "dtf stf"),
        ("", ""),
    ],
)
def test_the_initials_of_a_name(name: str, initials: str) -> None:
    assert rules.name_initials(name) == initials


def test_what_a_query_means() -> None:
    assert rules.read_search(" WLP ") == rules.ResidentSearch("WLP", "wlp", None, None)
    assert rules.read_search("123x").suffix == "123X"
    assert rules.read_search("5678").suffix == "5678"
    assert rules.read_search("13912345678").whole == "13912345678"
    assert rules.read_search("丽萍") == rules.ResidentSearch("丽萍", None, None, None)
    assert rules.last_four("31010419800517123x") == "123X"
    assert rules.last_four(None) is None


# --- the search -----------------------------------------------------------------------------------


async def register(db: Database, username: str, name: str, *, phone: str | None = None) -> Resident:
    """A resident registered (and so reached for a while) by the centre of `username`."""
    async with db.transaction() as session:
        view = await service.register_resident(
            session,
            name=name,
            sex="female",
            birth_date=date(1960, 3, 8),
            id_number=factories.id_number(date(1960, 3, 8), male=False),
            phone=phone,
            address="",
            consent_version=rules.CONSENT_VERSION,
            actor=await actor(db, username),
            now=FIXED_NOW,
        )
    async with db.read() as session:
        found = await session.get(Resident, view.id)
    assert found is not None
    return found


async def pick(db: Database, username: str, q: str | None) -> queries.Picks:
    async with db.transaction() as session:
        return await queries.pick_residents(
            session, actor=await actor(db, username), now=FIXED_NOW, today=TODAY, q=q, limit=50
        )


async def test_found_by_initials_name_and_last_four_within_reach(demo_db: Database) -> None:
    ours = await register(demo_db, "fd.tianlin", "王丽萍", phone="13987654321")
    theirs = await register(demo_db, "fd.kangjian", "王琳佩")  # wlp too, at another centre
    assert (ours.name_initials, ours.phone_last4) == ("wlp", "4321")
    assert ours.id_last4 == ours.id_number[-4:]

    for q in ("wlp", "WLP", "wl", "丽萍", "王丽萍", ours.id_number[-4:], "4321", "13987654321"):
        found = await pick(demo_db, "fd.tianlin", q)
        ids = {p.resident.id for p in found.items}
        assert ours.id in ids, q
        assert theirs.id not in ids, q  # another centre's resident is never found
    assert theirs.id in {p.resident.id for p in (await pick(demo_db, "fd.kangjian", "wlp")).items}

    # Whatever matches a suffix matches it really, and everything found is within reach.
    doctor = await actor(demo_db, "fd.tianlin")
    found = await pick(demo_db, "fd.tianlin", "4321")
    async with demo_db.read() as session:
        for item in found.items:
            row = await session.get(Resident, item.resident.id)
            assert row is not None
            assert "4321" in (row.id_last4, row.phone_last4)
            links = await queries.resident_links(session, resident_id=row.id, now=FIXED_NOW, today=TODAY)
            assert policy.may_view_resident(doctor, links)
    assert (await pick(demo_db, "fd.tianlin", "wlpx")).items == []

    # Shown masked, with age; the search is audited with the query masked.
    shown = next(
        p for p in (await pick(demo_db, "fd.tianlin", "13987654321")).items if p.resident.id == ours.id
    )
    assert shown.resident.id_number == masking.mask_id_number(ours.id_number)
    assert shown.resident.phone == "139****4321"
    assert shown.age == 66
    async with demo_db.read() as session:
        row = await session.scalar(
            select(AuditEvent)
            .where(AuditEvent.action == "resident.list")
            .order_by(AuditEvent.id.desc())
            .limit(1)
        )
    assert row is not None
    assert row.detail is not None
    assert row.detail["q"] == "139****4321"
    assert ours.id in row.detail["resident_ids"]


async def test_no_query_lists_the_recent_residents_first(demo_db: Database) -> None:
    doctor = await actor(demo_db, "fd.tianlin")
    before = await pick(demo_db, "fd.tianlin", None)
    assert before.recent
    assert before.total > 10
    last_by_name = before.items[-1].resident
    async with demo_db.read() as session:
        reached = (
            await queries.list_residents(
                session, actor=doctor, now=FIXED_NOW, today=TODAY, q=None, limit=500, offset=0
            )
        ).items
    latest = reached[-1]  # the last by name: never among the first few unless touched
    async with demo_db.transaction() as session:
        await queries.get_resident(session, resident_id=latest.id, actor=doctor, now=FIXED_NOW, today=TODAY)
    after = await pick(demo_db, "fd.tianlin", None)
    assert after.items[0].resident.id == latest.id
    assert before.items[0].resident.id != latest.id or last_by_name.id == latest.id
    # Another doctor's recent residents are its own.
    assert (await pick(demo_db, "fd.kangjian", None)).items[0].resident.id != latest.id


# --- the doors ------------------------------------------------------------------------------------


async def test_the_pick_endpoint_answers_html_within_reach(api: Api, app_db: Database) -> None:
    ours = await register(app_db, "fd.tianlin", "王丽萍")
    theirs = await register(app_db, "fd.kangjian", "王琳佩")
    doctor = await api.browser("fd.tianlin")
    found = await doctor.get("/residents/pick", params={"q": "wlp"}, headers=HTMX)
    assert found.status_code == 200
    assert found.headers["content-type"].startswith("text/html")
    assert "<html" not in found.text
    assert f'data-picker-option="{ours.id}"' in found.text
    assert masking.mask_id_number(ours.id_number) in found.text
    assert ours.id_number not in found.text
    assert f'data-picker-option="{theirs.id}"' not in found.text
    other = await (await api.browser("fd.kangjian")).get("/residents/pick", params={"q": "wlp"}, headers=HTMX)
    assert f'data-picker-option="{ours.id}"' not in other.text
    # The residents page searches as the picker does; the API's `q` keeps its documented meaning
    # (name contains, or the whole ID number or phone: DESIGN §5).
    listed = await doctor.get("/residents", params={"q": "wlp"}, headers=HTMX)
    assert f'href="/residents/{ours.id}"' in listed.text
    bearer = await api.as_("fd.tianlin")
    for q, found_by_api in (("wlp", False), (ours.id_number[-4:], False), ("王丽萍", True)):
        items = (await bearer.get("/api/v1/residents", params={"q": q})).json()["items"]
        assert (ours.id in {r["id"] for r in items}) is found_by_api, q
    # The system administrator cares for nobody: an empty list, not an error.
    office = await (await api.browser("sysadmin")).get("/residents/pick", headers=HTMX)
    assert office.status_code == 200
    assert "data-picker-option" not in office.text


async def test_the_forms_come_prefilled_and_start_empty_otherwise(api: Api, app_db: Database) -> None:
    ours = await register(app_db, "fd.tianlin", "王丽萍")
    doctor = await api.browser("fd.tianlin")
    prefilled = await doctor.get("/referrals/new", params={"resident_id": ours.id})
    assert prefilled.status_code == 200
    assert f'name="resident_id" value="{ours.id}"' in prefilled.text
    assert "王丽萍" in prefilled.text
    empty = await doctor.get("/referrals/new")
    assert 'name="resident_id" value=""' in empty.text
    assert 'hx-get="/residents/pick"' in empty.text
    # Another centre's resident cannot be prefilled.
    theirs = await register(app_db, "fd.kangjian", "王琳佩")
    assert (await doctor.get("/referrals/new", params={"resident_id": theirs.id})).status_code == 403

    specialist = await api.browser("sp.sixth")
    admission = await specialist.get("/admissions/new")
    assert 'name="resident_id" value=""' in admission.text  # 请选择: nobody chosen for the user
    patient = re.search(
        r'data-picker-option="(\d+)"', (await specialist.get("/residents/pick", headers=HTMX)).text
    )
    assert patient is not None
    chosen = await specialist.get("/admissions/new", params={"resident_id": patient[1]})
    assert f'name="resident_id" value="{patient[1]}"' in chosen.text


@pytest.mark.parametrize(
    ("username", "book", "refer_up", "admit"),
    [("fd.tianlin", True, True, False), ("sp.sixth", False, False, True)],
)
async def test_the_residents_page_offers_what_this_actor_may_start(
    api: Api, app_db: Database, username: str, book: bool, refer_up: bool, admit: bool
) -> None:
    client = await api.browser(username)
    if username == "fd.tianlin":
        resident_id = (await factories.signed_resident(app_db, TIANLIN)).id
    else:
        found = re.search(
            r'data-picker-option="(\d+)"', (await client.get("/residents/pick", headers=HTMX)).text
        )
        assert found is not None
        resident_id = int(found[1])
    page = await client.get(f"/residents/{resident_id}")
    assert page.status_code == 200
    assert (f'href="/practitioners?resident_id={resident_id}"' in page.text) is book
    assert (f'href="/referrals/new?resident_id={resident_id}"' in page.text) is refer_up
    assert (f'href="/admissions/new?resident_id={resident_id}"' in page.text) is admit


async def test_book_an_expert_carries_the_resident_to_the_booking_form(api: Api, app_db: Database) -> None:
    resident = await factories.signed_resident(app_db, TIANLIN)
    doctor = await api.browser("fd.tianlin")
    experts = await doctor.get("/practitioners", params={"resident_id": resident.id})
    link = re.search(rf'href="/practitioners/(\d+)\?resident_id={resident.id}"', experts.text)
    assert link is not None
    profile = await doctor.get(f"/practitioners/{link[1]}", params={"resident_id": resident.id})
    assert f'hx-get="/booking/practitioners/{link[1]}?resident_id={resident.id}"' in profile.text


async def test_an_unsigned_resident_is_offered_neither_booking_nor_referral(
    api: Api, app_db: Database
) -> None:
    """Kept slots and a centre's up-referrals are for its signed residents: a resident registered
    but not signed is not offered them (the services would refuse)."""
    unsigned = await register(app_db, "fd.tianlin", "未签约")
    page = await (await api.browser("fd.tianlin")).get(f"/residents/{unsigned.id}")
    assert page.status_code == 200
    assert "/practitioners?resident_id=" not in page.text
    assert "/referrals/new?resident_id=" not in page.text
