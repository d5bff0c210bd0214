"""User accounts kept without code: create, first password changed at the first sign-in, reset,
deactivate (sessions and tokens end on the very next request) and reactivate, through the real app
on both engines."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.factories import institution
from tests.fixtures_app import Api
from yilian.auth.models import AuditEvent, User
from yilian.auth.rules import password_refusal, username_refusal
from yilian.core.db import Database
from yilian.directory.models import Practitioner

SIXTH, TIANLIN = "上海市第六人民医院", "田林社区卫生服务中心"
FIRST = "Liu-first-2026"
OWN = "Kaoshi-mima-88"


async def practitioner_of(db: Database, name: str, nth: int = 0) -> int:
    place = await institution(db, name)
    async with db.read() as session:
        found = await session.scalars(
            select(Practitioner.id).where(Practitioner.institution_id == place.id).order_by(Practitioner.id)
        )
        return list(found)[nth]


async def audit_rows(db: Database, action: str) -> list[AuditEvent]:
    async with db.read() as session:
        query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        return list((await session.scalars(query)).all())


async def new_account(api: Api, db: Database, username: str = "sp.liu", **fields: Any) -> dict[str, Any]:
    admin = await api.as_("it.sixth")
    sixth = await institution(db, SIXTH)
    body = {
        "username": username,
        "display_name": "刘医生",
        "password": FIRST,
        "roles": ["specialist"],
        "institution_id": sixth.id,
        "practitioner_id": await practitioner_of(db, SIXTH),
        **fields,
    }
    response = await admin.post("/api/v1/accounts", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def sign_in(api: Api, username: str, password: str) -> httpx.AsyncClient:
    client = await api.page_visitor()
    response = await client.post(
        "/login", data={"username": username, "password": password, "csrf_token": client.cookies["yl_csrf"]}
    )
    assert response.status_code == 303, response.text
    return client


async def change_password(
    client: httpx.AsyncClient, current: str, new: str, again: str | None = None
) -> httpx.Response:
    return await client.post(
        "/password",
        data={
            "current_password": current,
            "new_password": new,
            "new_password_again": new if again is None else again,
            "csrf_token": client.cookies["yl_csrf"],
        },
        headers={"Accept": "application/problem+json"},  # as app.js sends a form: errors inline
    )


async def token_of(api: Api, username: str, password: str) -> httpx.Response:
    return await api.client().post("/api/v1/auth/token", data={"username": username, "password": password})


async def ready_account(
    api: Api, db: Database, username: str = "sp.liu"
) -> tuple[dict[str, Any], httpx.AsyncClient]:
    """An account past its first sign-in: its browser client, signed in with its own password."""
    account = await new_account(api, db, username)
    browser = await sign_in(api, username, FIRST)
    assert (await change_password(browser, FIRST, OWN)).status_code == 303
    return account, browser


# --- rules -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["abc", "sp.liu", "fd_01", "a-b.c_d", "x" * 64])
def test_usernames_allowed(name: str) -> None:
    assert username_refusal(name) is None


@pytest.mark.parametrize("name", ["ab", "Sp.Liu", "刘医生", "sp liu", "sp@liu", "x" * 65, ""])
def test_usernames_refused(name: str) -> None:
    assert username_refusal(name) is not None


@pytest.mark.parametrize(
    "password",
    ["short-1", "sp.liu-2026!", "1234567890", "abcdefghijk", "9876543210", "aaaaaaaaaaaa", "Password123"],
)
def test_obvious_passwords_refused(password: str) -> None:
    assert password_refusal(password, username="sp.liu") is not None


def test_a_fair_password_passes() -> None:
    assert password_refusal(FIRST, username="sp.liu", display_name="刘医生") is None
    assert password_refusal("刘医生", username="sp.liu", display_name="刘医生") is not None


# --- create ------------------------------------------------------------------------------------


async def test_an_institution_admin_creates_an_account_that_must_change_its_password(
    api: Api, app_db: Database
) -> None:
    account = await new_account(api, app_db)
    assert account["must_change_password"] is True
    assert account["roles"] == ["specialist"]
    rows = await audit_rows(app_db, "account.create")
    assert [(r.username, r.outcome, r.detail["username"]) for r in rows] == [
        ("it.sixth", "allowed", "sp.liu")
    ]
    assert all(FIRST not in str(r.detail) for r in rows)


async def test_a_username_clash_is_decided_by_the_database(api: Api, app_db: Database) -> None:
    await new_account(api, app_db)
    admin = await api.as_("it.sixth")
    sixth = await institution(app_db, SIXTH)
    again = await admin.post(
        "/api/v1/accounts",
        json={
            "username": "sp.liu",
            "display_name": "另一个",
            "password": FIRST,
            "roles": ["specialist"],
            "institution_id": sixth.id,
        },
    )
    assert again.status_code == 409
    assert again.json()["code"] == "username_taken"
    assert again.json()["errors"][0]["field"] == "username"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"username": "Sp Liu"}, "username"),
        ({"password": "sp.liu12345"}, "password"),
        ({"password": "123"}, "password"),
        ({"practitioner_id": "tianlin"}, "practitioner_id"),
    ],
)
async def test_bad_input_is_refused_by_field_and_changes_nothing(
    api: Api, app_db: Database, change: dict[str, Any], field: str
) -> None:
    admin = await api.as_("it.sixth")
    sixth = await institution(app_db, SIXTH)
    body = {
        "username": "sp.liu",
        "display_name": "刘医生",
        "password": FIRST,
        "roles": ["specialist"],
        "institution_id": sixth.id,
        **change,
    }
    if body.get("practitioner_id") == "tianlin":
        body["practitioner_id"] = await practitioner_of(app_db, TIANLIN)
    response = await admin.post("/api/v1/accounts", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
    async with app_db.read() as session:
        assert await session.scalar(select(User).where(User.username == body["username"])) is None


async def test_a_role_the_admin_may_not_give_is_refused_and_audited(api: Api, app_db: Database) -> None:
    admin = await api.as_("it.sixth")
    sixth = await institution(app_db, SIXTH)
    response = await admin.post(
        "/api/v1/accounts",
        json={
            "username": "boss",
            "display_name": "老板",
            "password": FIRST,
            "roles": ["system_admin"],
            "institution_id": sixth.id,
        },
    )
    assert response.status_code == 403
    rows = await audit_rows(app_db, "account.create")
    assert [(r.username, r.outcome) for r in rows] == [("it.sixth", "denied")]


async def test_an_institution_admin_keeps_its_own_institution_only(api: Api, app_db: Database) -> None:
    admin = await api.as_("it.sixth")
    tianlin = await institution(app_db, TIANLIN)
    response = await admin.post(
        "/api/v1/accounts",
        json={
            "username": "fd.new",
            "display_name": "新医生",
            "password": FIRST,
            "roles": ["family_doctor"],
            "institution_id": tianlin.id,
        },
    )
    assert response.status_code == 403
    assert (await admin.get("/api/v1/accounts", params={"institution_id": tianlin.id})).status_code == 403
    own = (await admin.get("/api/v1/accounts", params={"limit": 200})).json()
    sixth = await institution(app_db, SIXTH)
    assert own["total"] >= 1
    assert {item["institution_id"] for item in own["items"]} == {sixth.id}
    fd = (await (await api.as_("sysadmin")).get("/api/v1/accounts", params={"q": "fd.tianlin"})).json()
    assert [item["username"] for item in fd["items"]] == ["fd.tianlin"]
    assert (await admin.get(f"/api/v1/accounts/{fd['items'][0]['id']}")).status_code == 403


async def test_a_consortium_office_needs_its_consortium(api: Api, app_db: Database) -> None:
    sysadmin = await api.as_("sysadmin")
    response = await sysadmin.post(
        "/api/v1/accounts",
        json={
            "username": "office.new",
            "display_name": "医联办",
            "password": FIRST,
            "roles": ["consortium_admin"],
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "roles"


async def test_roles_and_practitioner_are_changed_as_the_admin_may(api: Api, app_db: Database) -> None:
    account = await new_account(api, app_db)
    admin = await api.as_("it.sixth")
    path = f"/api/v1/accounts/{account['id']}"
    changed = await admin.patch(
        path, json={"roles": ["specialist", "clinic_office"], "practitioner_id": None}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["roles"] == ["clinic_office", "specialist"]
    assert changed.json()["practitioner_id"] is None
    assert (await admin.patch(path, json={"roles": ["consortium_admin"]})).status_code == 403
    elsewhere = await admin.patch(path, json={"practitioner_id": await practitioner_of(app_db, TIANLIN)})
    assert elsewhere.status_code == 422
    assert [r.outcome for r in await audit_rows(app_db, "account.update")] == ["allowed", "denied"]


# --- the first sign-in -------------------------------------------------------------------------


async def test_the_first_sign_in_leads_to_the_password_page_and_nowhere_else(
    api: Api, app_db: Database
) -> None:
    await new_account(api, app_db)
    refused = await token_of(api, "sp.liu", FIRST)
    assert refused.status_code == 403
    assert refused.json()["code"] == "password_change_required"
    browser = await sign_in(api, "sp.liu", FIRST)
    for path in ("/", "/referrals", "/practitioners"):
        response = await browser.get(path)
        assert (response.status_code, response.headers["location"]) == (303, "/password"), path
    assert (await browser.get("/password")).status_code == 200
    api_call = await browser.get("/api/v1/practitioners")
    assert (api_call.status_code, api_call.json()["code"]) == (403, "password_change_required")

    mismatch = await change_password(browser, FIRST, OWN, again=OWN + "x")
    assert mismatch.status_code == 422
    assert mismatch.json()["errors"][0]["field"] == "new_password_again"
    same = await change_password(browser, FIRST, FIRST)
    assert same.json()["errors"][0]["field"] == "new_password"
    wrong = await change_password(browser, "not-the-password", OWN)
    assert wrong.json()["errors"][0]["field"] == "current_password"

    done = await change_password(browser, FIRST, OWN)
    assert (done.status_code, done.headers["location"]) == (303, "/")
    assert (await browser.get("/")).status_code == 200
    assert (await token_of(api, "sp.liu", OWN)).status_code == 200
    changes = await audit_rows(app_db, "password.change")
    assert [(r.username, r.outcome) for r in changes] == [("sp.liu", "allowed")]
    everything = [str(r.detail) for r in await audit_rows(app_db, "account.create") + changes]
    assert all(FIRST not in text and OWN not in text for text in everything)


async def test_me_password_with_a_token(api: Api, app_db: Database) -> None:
    await ready_account(api, app_db)
    token = (await token_of(api, "sp.liu", OWN)).json()["access_token"]
    client = api.client(headers={"Authorization": f"Bearer {token}"})
    changed = await client.post(
        "/api/v1/me/password", json={"current_password": OWN, "new_password": "Another-pass-77"}
    )
    assert changed.status_code == 204
    assert (await token_of(api, "sp.liu", "Another-pass-77")).status_code == 200


# --- reset, deactivate, reactivate -------------------------------------------------------------


async def test_a_reset_ends_the_sessions_and_asks_for_a_change_again(api: Api, app_db: Database) -> None:
    account, browser = await ready_account(api, app_db)
    token = (await token_of(api, "sp.liu", OWN)).json()["access_token"]
    bearer = api.client(headers={"Authorization": f"Bearer {token}"})
    assert (await bearer.get("/api/v1/me")).status_code == 200  # now in the token cache
    admin = await api.as_("it.sixth")
    reset = await admin.post(
        f"/api/v1/accounts/{account['id']}/password", json={"password": "Second-first-99"}
    )
    assert reset.status_code == 200, reset.text
    assert reset.json()["must_change_password"] is True
    assert (await bearer.get("/api/v1/me")).status_code == 401
    assert (await browser.get("/")).headers["location"].startswith("/login")
    assert (await token_of(api, "sp.liu", "Second-first-99")).status_code == 403
    rows = await audit_rows(app_db, "account.reset_password")
    assert [r.outcome for r in rows] == ["allowed"]
    assert "Second-first-99" not in str(rows[0].detail)


async def test_deactivation_refuses_the_same_cookie_and_token_on_the_next_request(
    api: Api, app_db: Database
) -> None:
    account, browser = await ready_account(api, app_db)
    token = (await token_of(api, "sp.liu", OWN)).json()["access_token"]
    bearer = api.client(headers={"Authorization": f"Bearer {token}"})
    assert (await bearer.get("/api/v1/me")).status_code == 200  # cached for up to 30 s
    assert (await browser.get("/")).status_code == 200
    admin = await api.as_("it.sixth")
    off = await admin.post(f"/api/v1/accounts/{account['id']}/deactivate")
    assert off.status_code == 200, off.text
    assert off.json()["is_active"] is False
    assert off.json()["deactivated_at"] is not None
    assert (await bearer.get("/api/v1/me")).status_code == 401
    assert (await browser.get("/")).headers["location"].startswith("/login")
    assert (await token_of(api, "sp.liu", OWN)).status_code == 401
    listed = (await admin.get("/api/v1/accounts", params={"active": "false"})).json()
    assert [item["username"] for item in listed["items"]] == ["sp.liu"]

    on = await admin.post(f"/api/v1/accounts/{account['id']}/reactivate")
    assert on.json()["is_active"] is True
    assert (await bearer.get("/api/v1/me")).status_code == 401  # its old token stays ended
    assert (await token_of(api, "sp.liu", OWN)).status_code == 200
    assert [r.action for r in await audit_rows(app_db, "account.deactivate")] == ["account.deactivate"]
    assert [r.outcome for r in await audit_rows(app_db, "account.reactivate")] == ["allowed"]


async def test_an_admin_cannot_deactivate_itself(api: Api, app_db: Database) -> None:
    admin = await api.as_("it.sixth")
    me = (await admin.get("/api/v1/accounts", params={"q": "it.sixth"})).json()["items"][0]
    response = await admin.post(f"/api/v1/accounts/{me['id']}/deactivate")
    assert (response.status_code, response.json()["code"]) == (409, "own_account")


async def test_the_pages_create_and_deactivate(api: Api, app_db: Database) -> None:
    admin = await api.browser("it.sixth")
    csrf = admin.cookies["yl_csrf"]
    assert (await admin.get("/admin/accounts")).status_code == 200
    assert "刘医生" not in (await admin.get("/admin/accounts")).text
    form = (await admin.get("/admin/accounts/new")).text
    assert 'value="specialist"' in form
    assert 'value="system_admin"' not in form
    created = await admin.post(
        "/admin/accounts",
        data={
            "username": "sp.liu",
            "display_name": "刘医生",
            "password": FIRST,
            "roles": ["specialist"],
            "institution_id": str((await institution(app_db, SIXTH)).id),
            "practitioner_id": str(await practitioner_of(app_db, SIXTH)),
            "csrf_token": csrf,
        },
    )
    assert created.status_code == 303, created.text
    page = await admin.get(created.headers["location"])
    assert page.status_code == 200
    assert "data-confirm" in page.text
    account_id = int(created.headers["location"].split("/")[-1].split("?")[0])
    off = await admin.post(f"/admin/accounts/{account_id}/deactivate", data={"csrf_token": csrf})
    assert off.status_code == 303
    assert "刘医生" in (await admin.get("/admin/accounts", params={"active": "no"})).text


async def test_an_institution_admin_cannot_take_over_a_higher_account(api: Api, app_db: Database) -> None:
    sixth = await institution(app_db, SIXTH)
    higher = await (await api.as_("sysadmin")).post(
        "/api/v1/accounts",
        json={
            "username": "root.sixth",
            "display_name": "六院平台管理",
            "password": FIRST,
            "roles": ["system_admin"],
            "institution_id": sixth.id,
        },
    )
    assert higher.status_code == 201, higher.text
    admin = await api.as_("it.sixth")
    account = higher.json()["id"]
    assert (await admin.get(f"/api/v1/accounts/{account}")).status_code == 403
    reset = await admin.post(f"/api/v1/accounts/{account}/password", json={"password": "Taken-over-2026"})
    assert reset.status_code == 403
    assert (await admin.post(f"/api/v1/accounts/{account}/deactivate")).status_code == 403
    assert [r.outcome for r in await audit_rows(app_db, "account.reset_password")] == ["denied"]


async def test_the_system_admin_picks_the_institution_and_its_practitioners_follow(
    api: Api, app_db: Database
) -> None:
    sysadmin = await api.browser("sysadmin")
    tianlin = await institution(app_db, TIANLIN)
    doctor = await practitioner_of(app_db, TIANLIN)
    form = await sysadmin.get("/admin/accounts/new", params={"institution_id": tianlin.id})
    assert form.status_code == 200
    assert f'<option value="{doctor}">' in form.text
    assert f'<option value="{tianlin.id}" selected>' in form.text
    it_sixth = await (await api.browser("it.sixth")).get(
        "/admin/accounts/new", params={"institution_id": tianlin.id}
    )
    assert f'<option value="{doctor}">' not in it_sixth.text  # its own institution's only
