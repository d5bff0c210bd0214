"""Bad input at every door (issue 11 §4): ids strict, malformed JSON a 400, field messages in
the caller's language, LIKE wildcards literal and NUL refused, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.factories import resident_body, signed_resident
from tests.fixtures_app import Api
from yilian.core.db import Database
from yilian.directory.models import Institution, Resident

TIANLIN = "田林社区卫生服务中心"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


async def residents(db: Database) -> int:
    async with db.read() as session:
        return (await session.scalar(select(func.count()).select_from(Resident))) or 0


async def test_ids_in_paths_and_queries_are_digits_only(api: Api, app_db: Database) -> None:
    mine = await signed_resident(app_db, TIANLIN)
    client = await api.as_("fd.tianlin")
    assert (await client.get(f"/api/v1/residents/{mine.id}")).status_code == 200
    for bad in (f"{mine.id}.0", f"{mine.id}e0", f"+{mine.id}", f"{mine.id}%20", "true", "１"):
        response = await client.get(f"/api/v1/residents/{bad}")
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["errors"][0]["field"] == "path.resident_id"
    listed = await client.get("/api/v1/practitioners", params={"institution_id": "1.0"})
    assert listed.status_code == 422, listed.text
    assert listed.json()["errors"][0]["field"] == "query.institution_id"


async def test_ids_in_json_bodies_are_json_integers(api: Api, app_db: Database) -> None:
    mine = await signed_resident(app_db, TIANLIN)
    client = await api.as_("fd.tianlin")
    for bad in (True, False, 1.5, str(mine.id), None, [mine.id]):
        response = await client.post("/api/v1/contracts", json={"resident_id": bad, "practitioner_id": 1})
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["errors"][0]["field"] == "body.resident_id"


async def test_malformed_json_is_a_400_malformed_request_and_writes_nothing(
    api: Api, app_db: Database
) -> None:
    client = await api.as_("fd.tianlin")
    before = await residents(app_db)
    for raw in (b'{"name": ', b"not json", b'{"name": "x",}'):
        response = await client.post(
            "/api/v1/residents", content=raw, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400, (raw, response.text)
        body = response.json()
        assert response.headers["content-type"].startswith("application/problem+json")
        assert (body["code"], body["status"]) == ("malformed_request", 400)
        assert CHINESE.search(body["detail"]), body
    english = await client.post(
        "/api/v1/residents",
        content=b"{",
        headers={"content-type": "application/json", "accept-language": "en"},
    )
    assert english.json()["detail"] == "The request body could not be read."
    assert await residents(app_db) == before


async def test_field_messages_are_in_the_callers_language(api: Api) -> None:
    client = await api.as_("fd.tianlin")
    body = {**resident_body(), "surprise": 1, "sex": "unknown", "name": "x" * 65}
    del body["consent_version"]
    chinese = (await client.post("/api/v1/residents", json=body)).json()
    messages = {e["field"]: e["message"] for e in chinese["errors"]}
    assert set(messages) == {"body.surprise", "body.sex", "body.name", "body.consent_version"}
    assert all(CHINESE.search(message) for message in messages.values()), messages
    assert messages["body.consent_version"] == "此字段为必填项。"
    assert messages["body.name"] == "最多 64 个字符。"
    english = (await client.post("/api/v1/residents", json=body, headers={"accept-language": "en"})).json()
    words = {e["field"]: e["message"] for e in english["errors"]}
    assert words["body.consent_version"] == "This field is required."
    assert words["body.name"] == "At most 64 characters."
    assert not any(CHINESE.search(message) for message in words.values())


async def test_like_wildcards_match_only_themselves(api: Api, app_db: Database) -> None:
    client = await api.as_("fd.tianlin")
    async with app_db.read() as session:
        institutions = (await session.scalar(select(func.count()).select_from(Institution))) or 0
    assert institutions > 1
    found = (await client.get("/api/v1/institutions", params={"q": "田林"})).json()
    assert found["total"] >= 1
    for wildcard in ("%", "_", "%%", "/", "田_", "%林"):
        for path in (
            "/api/v1/institutions",
            "/api/v1/departments",
            "/api/v1/practitioners",
            "/api/v1/residents",
        ):
            response = await client.get(path, params={"q": wildcard})
            assert response.status_code == 200, (path, wildcard, response.text)
            assert response.json()["total"] == 0, (path, wildcard)
    admin = await api.as_("sysadmin")
    assert (await admin.get("/api/v1/audit-events", params={"action": "resident"})).json()["total"] > 0
    for wildcard in ("%", "_"):
        audit = await admin.get("/api/v1/audit-events", params={"action": wildcard})
        assert audit.status_code == 200, audit.text
        assert audit.json()["total"] == 0


async def test_nul_is_refused_in_queries_bodies_and_forms_on_both_engines(api: Api, app_db: Database) -> None:
    client = await api.as_("fd.tianlin")
    before = await residents(app_db)
    for path in ("/api/v1/institutions", "/api/v1/residents"):
        response = await client.get(path, params={"q": "\x00"})
        assert response.status_code == 422, response.text
        error = response.json()["errors"][0]
        assert (error["field"], error["type"]) == ("query.q", "nul_character")
        assert response.json()["code"] == "nul_character"
        assert CHINESE.search(error["message"])
    for field in ("name", "address"):
        response = await client.post("/api/v1/residents", json={**resident_body(), field: "田\x00林"})
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == [f"body.{field}"]
    browser = await api.browser("fd.tianlin")
    form = {**resident_body(address="a\x00b"), "consent": "true", "csrf_token": browser.cookies["yl_csrf"]}
    page = await browser.post("/residents", data=form)
    assert page.status_code == 422, page.text
    assert await residents(app_db) == before


async def test_a_route_without_a_body_ignores_one_that_is_not_json(api: Api, app_db: Database) -> None:
    mine = await signed_resident(app_db, TIANLIN)
    client = await api.as_("fd.tianlin")
    response = await client.post(
        f"/api/v1/residents/{mine.id}/reveal",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
