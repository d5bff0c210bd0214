"""Sign-in, tokens, browser sessions, CSRF and the audit trail, through the real app."""

from __future__ import annotations

from sqlalchemy import select

from tests.fixtures_app import Api, SettableClock
from yilian.auth.models import AuditEvent
from yilian.core.db import Database


async def sign_in_rows(db: Database, username: str) -> list[AuditEvent]:
    async with db.read() as session:
        query = select(AuditEvent).where(AuditEvent.action == "auth.sign_in", AuditEvent.username == username)
        return list((await session.scalars(query.order_by(AuditEvent.id))).all())


async def test_token_and_me(api: Api) -> None:
    response = await api.client().post(
        "/api/v1/auth/token", data={"username": "sp.sixth", "password": "yilian-demo"}
    )
    assert response.status_code == 200
    token = response.json()
    assert token["token_type"] == "bearer"
    assert token["expires_in"] == 8 * 3600
    me = await api.client(headers={"Authorization": f"Bearer {token['access_token']}"}).get("/api/v1/me")
    body = me.json()
    assert body["username"] == "sp.sixth"
    assert body["roles"] == ["specialist"]
    assert body["institution_id"] is not None
    assert body["practitioner_id"] is not None


async def test_token_expires(api: Api, clock: SettableClock) -> None:
    client = await api.as_("fd.tianlin")
    assert (await client.get("/api/v1/me")).status_code == 200
    clock.advance(hours=8, seconds=1)
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_wrong_password_and_unknown_user_look_the_same(api: Api, app_db: Database) -> None:
    client = api.client()
    wrong = await client.post("/api/v1/auth/token", data={"username": "fd.tianlin", "password": "nope"})
    unknown = await client.post("/api/v1/auth/token", data={"username": "nobody", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["code"] == unknown.json()["code"] == "invalid_credentials"
    assert [r.outcome for r in await sign_in_rows(app_db, "fd.tianlin")] == ["denied"]
    assert [r.outcome for r in await sign_in_rows(app_db, "nobody")] == ["denied"]


async def test_browser_session_cookie_flags_and_sign_out(api: Api) -> None:
    client = await api.browser("fd.tianlin")
    cookie = next(c for c in client.cookies.jar if c.name == "yl_session")
    assert cookie.secure
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert str(cookie.get_nonstandard_attr("SameSite")).lower() == "lax"
    assert (await client.get("/api/v1/me")).status_code == 200
    token = cookie.value
    response = await client.post("/logout", data={"csrf_token": client.cookies["yl_csrf"]})
    assert response.status_code == 303
    # The old cookie no longer works, even if someone kept it.
    replay = api.client(cookies={"yl_session": token})
    assert (await replay.get("/api/v1/me")).status_code == 401


async def test_each_sign_in_gets_a_new_session_id(api: Api) -> None:
    first = await api.browser("fd.tianlin")
    second = await api.browser("fd.tianlin")
    assert first.cookies["yl_session"] != second.cookies["yl_session"]


async def test_session_idle_and_absolute_limits(api: Api, clock: SettableClock) -> None:
    client = await api.browser("fd.tianlin")
    clock.advance(minutes=29)
    assert (await client.get("/api/v1/me")).status_code == 200
    clock.advance(minutes=29)  # active again within 30 min: still signed in
    assert (await client.get("/api/v1/me")).status_code == 200
    clock.advance(minutes=31)
    assert (await client.get("/api/v1/me")).status_code == 401
    busy = await api.browser("fd.tianlin")
    for _ in range(17):  # active every 29 minutes, past the 8-hour absolute limit
        clock.advance(minutes=29)
        last = await busy.get("/api/v1/me")
    assert last.status_code == 401


async def test_cookie_authenticated_writes_need_the_csrf_token(api: Api) -> None:
    client = await api.browser("fd.tianlin")
    body = {"resident_id": 1, "practitioner_id": 1}
    refused = await client.post("/api/v1/contracts", json=body)
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    wrong = await client.post("/api/v1/contracts", json=body, headers={"X-CSRF-Token": "x" * 43})
    assert wrong.json()["code"] == "csrf_failed"
    passed = await client.post(
        "/api/v1/contracts", json=body, headers={"X-CSRF-Token": client.cookies["yl_csrf"]}
    )
    assert passed.json().get("code") != "csrf_failed"


async def test_sign_in_form_needs_the_csrf_token(api: Api) -> None:
    client = api.client()
    await client.get("/login")
    response = await client.post("/login", data={"username": "fd.tianlin", "password": "yilian-demo"})
    assert response.status_code == 403
    assert "yl_session" not in client.cookies


async def test_audit_trail_for_admins_scoped_by_consortium(api: Api) -> None:
    doctor = await api.as_("fd.tianlin")
    await doctor.get("/api/v1/residents")
    jinshan = await api.as_("fd.jinshanwei")
    await jinshan.get("/api/v1/residents")
    system = (
        await (await api.as_("sysadmin")).get("/api/v1/audit-events", params={"action": "resident.list"})
    ).json()
    assert {e["username"] for e in system["items"]} == {"fd.tianlin", "fd.jinshanwei"}
    admin = await api.as_("admin.xuhui")
    scoped = (await admin.get("/api/v1/audit-events", params={"action": "resident.list"})).json()
    assert {e["username"] for e in scoped["items"]} == {"fd.tianlin"}
    filtered = (
        await admin.get("/api/v1/audit-events", params={"username": "fd.tianlin", "outcome": "denied"})
    ).json()
    assert filtered["total"] == 0
    refused = await doctor.get("/api/v1/audit-events")
    assert refused.status_code == 403


async def test_a_signed_out_page_comes_back_with_its_query_after_sign_in(api: Api) -> None:
    visitor = await api.page_visitor()
    response = await visitor.get("/residents", params={"q": "王"})
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fresidents%3Fq%3D%25E7%258E%258B"
    await visitor.get(response.headers["location"])
    signed_in = await visitor.post(
        "/login",
        data={
            "username": "fd.tianlin",
            "password": "yilian-demo",
            "next": "/residents?q=王",
            "csrf_token": visitor.cookies["yl_csrf"],
        },
    )
    assert signed_in.headers["location"] == "/residents?q=%E7%8E%8B"
