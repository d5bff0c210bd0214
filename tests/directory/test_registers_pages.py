"""The administration pages: /admin lists what each actor keeps (links as the policy allows); the
forms answer inline (a refusal names its field); leaving asks once."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import institution
from tests.fixtures_app import Api
from yilian.core.db import Database
from yilian.directory.pages.registers import served_paths

SIXTH = "上海市第六人民医院"
OTHER_PARTS = ("/admin/accounts", "/admin/imports", "/clinic/templates", "/admissions/wards/manage")
INLINE = {"Accept": "application/problem+json", "X-Inline-Form": "1"}


def served(app: FastAPI, path: str) -> bool:
    return path in served_paths(app.router.routes)


async def stand_in() -> dict[str, str]:
    return {}


async def submit(client: httpx.AsyncClient, path: str, data: dict[str, str]) -> httpx.Response:
    return await client.post(path, data={**data, "csrf_token": client.cookies["yl_csrf"]}, headers=INLINE)


@pytest.mark.parametrize(
    ("username", "shown", "hidden"),
    [
        ("sysadmin", ["/admin/consortia", "/admin/institutions", "/admin/accounts", "/admin/imports"],
         ["/clinic/templates", "/admissions/wards/manage"]),
        ("it.sixth", ["/admin/institutions/", "/admin/accounts", "/admin/imports"],
         ["/admin/consortia", 'href="/admin/institutions"', "/clinic/templates"]),
        ("admin.xuhui", ["/admin/consortia", "/admin/imports"], ["/admin/accounts", "/admin/institutions"]),
        ("clinic.sixth", ["/clinic/templates"], ["/admin/accounts", "/admin/consortia", "/admin/imports"]),
        ("admission.sixth", ["/admissions/wards/manage"], ["/admin/accounts", "/clinic/templates"]),
    ],
)  # fmt: skip
async def test_the_administration_home_lists_what_each_keeps(
    api: Api, app: FastAPI, username: str, shown: list[str], hidden: list[str]
) -> None:
    for path in OTHER_PARTS:  # built beside the registers; a stand-in where one is not there yet
        if not served(app, path):
            app.add_api_route(path, stand_in, include_in_schema=False)
    page = await (await api.browser(username)).get("/admin")
    assert page.status_code == 200
    assert 'href="/admin"' in page.text  # the menu's 管理
    for link in shown:
        assert link in page.text, link
    for link in hidden:
        assert link not in page.text, link


async def test_a_page_not_served_is_not_linked(api: Api, app: FastAPI) -> None:
    page = (await (await api.browser("sysadmin")).get("/admin")).text
    for path in OTHER_PARTS:
        shown = served(app, path) and path in {"/admin/accounts", "/admin/imports"}  # the system admin's
        assert (f'href="{path}"' in page) is shown
    # /admissions/wards/{ward_id} does not serve /admissions/wards/manage
    wards = (await (await api.browser("admission.sixth")).get("/admin")).text
    assert ('href="/admissions/wards/manage"' in wards) is served(app, "/admissions/wards/manage")


async def test_a_family_doctor_has_no_administration(api: Api) -> None:
    doctor = await api.browser("fd.tianlin")
    assert (await doctor.get("/admin")).status_code == 403
    assert 'href="/admin"' not in (await doctor.get("/")).text


async def test_the_institution_forms_answer_beside_the_field(api: Api, app_db: Database) -> None:
    sixth = await institution(app_db, SIXTH)
    it = await api.browser("it.sixth")
    page = await it.get(f"/admin/institutions/{sixth.id}")
    assert page.status_code == 200
    assert "主任医师" in page.text  # the titles to choose from
    added = await submit(
        it, f"/admin/institutions/{sixth.id}/departments", {"name": "睡眠医学科", "subject_code": "03"}
    )
    assert added.status_code == 204, added.text
    twice = await submit(it, f"/admin/institutions/{sixth.id}/departments", {"name": "睡眠医学科"})
    assert (twice.status_code, twice.json()["errors"][0]["field"]) == (409, "body.name")
    bad = await submit(
        it, f"/admin/institutions/{sixth.id}/practitioners", {"name": "林医生", "title": "神医"}
    )
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "body.title")
    assert bad.json()["errors"][0]["message"] == "请从列表中选择职称"
    made = await submit(
        it,
        f"/admin/institutions/{sixth.id}/practitioners",
        {"name": "林医生", "title": "主任医师", "specialties": "失眠、睡眠呼吸暂停", "expert": "true"},
    )
    assert made.status_code == 204, made.text
    shown = (await it.get(f"/admin/institutions/{sixth.id}")).text
    assert "林医生" in shown
    assert "睡眠呼吸暂停" in shown
    other = await institution(app_db, "复旦大学附属金山医院")
    assert (await it.get(f"/admin/institutions/{other.id}")).status_code == 403


async def test_leaving_asks_once(api: Api) -> None:
    office = await api.browser("admin.xuhui")
    listed = await office.get("/admin/consortia")
    assert listed.status_code == 200
    consortium = listed.text.split('href="/admin/consortia/', 1)[1].split('"', 1)[0]
    page = await office.get(f"/admin/consortia/{consortium}")
    assert page.status_code == 200
    assert "data-confirm=" in page.text
    assert "/leave" in page.text
