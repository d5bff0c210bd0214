"""What every response carries: security headers, caching rules, problems; health and metrics."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.fixtures_app import Api


async def test_security_headers_everywhere_and_no_store_on_data(api: Api) -> None:
    client = await api.as_("fd.tianlin")
    for path in ("/api/v1/residents", "/healthz", "/api/v1/nothing-here"):
        response = await client.get(path)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
    assert (await client.get("/api/v1/residents")).headers["cache-control"] == "no-store"
    assert (await client.get("/api/v1/residents/1")).headers["cache-control"] == "no-store"


async def test_unknown_route_and_method_are_problems(api: Api) -> None:
    client = api.client()
    missing = await client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["code"] == "not_found"
    wrong_method = await client.delete("/api/v1/consortia")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["code"] == "method_not_allowed"


async def test_validation_errors_name_the_fields(api: Api) -> None:
    client = await api.as_("fd.tianlin")
    response = await client.get("/api/v1/practitioners", params={"limit": 0, "tier": 9})
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert {e["field"] for e in problem["errors"]} == {"query.limit", "query.tier"}


async def test_health_readiness_and_metrics(api: Api) -> None:
    client = api.client()
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ok"}
    await client.get("/api/v1/consortia")
    metrics = (await client.get("/metrics")).text
    assert 'yilian_http_requests_total{method="GET",route="/api/v1/consortia",status="401"} 1.0' in metrics
    assert 'yilian_http_request_duration_seconds_count{method="GET",route="/healthz"} 1.0' in metrics


async def test_openapi_describes_the_public_api(api: Api) -> None:
    spec = (await api.client().get("/openapi.json")).json()
    for path in ("/api/v1/me", "/api/v1/residents", "/api/v1/contracts", "/api/v1/auth/token"):
        assert path in spec["paths"]
    assert not any(path.startswith(("/login", "/residents")) for path in spec["paths"])


async def test_ids_out_of_range_are_422_not_500(api: Api) -> None:
    client = await api.as_("fd.tianlin")
    for path in (
        "/api/v1/institutions/9223372036854775808",
        "/api/v1/residents/25350115836",
        "/api/v1/consortia/0",
    ):
        response = await client.get(path)
        assert response.status_code == 422, path
        assert response.json()["code"] == "validation_error"
    page = await (await api.browser("fd.tianlin")).get("/residents/25350115836")
    assert page.status_code == 422


async def test_unreadable_body_is_a_problem(api: Api) -> None:
    client = await api.as_("fd.tianlin")
    response = await client.post(
        "/api/v1/residents", content=b"\x12\xff\xfe", headers={"Content-Type": "application/json"}
    )
    assert response.status_code in {400, 422}
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] in {"malformed_request", "validation_error"}


async def test_405_names_every_method_of_the_path(api: Api) -> None:
    response = await api.client().request("OPTIONS", "/api/v1/residents")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


async def test_dates_in_queries_are_iso_text_only(api: Api) -> None:
    client = await api.as_("sysadmin")
    assert (await client.get("/api/v1/audit-events", params={"until": "0.5"})).status_code == 422
    assert (await client.get("/api/v1/clinic-sessions", params={"date_to": "0"})).status_code == 422
    ok = await client.get("/api/v1/audit-events", params={"until": "2026-11-24T10:00:00+08:00"})
    assert ok.status_code == 200
    assert (await client.get("/api/v1/clinic-sessions", params={"date_to": "2026-12-01"})).status_code == 200


async def test_empty_credentials_are_a_validation_error(api: Api) -> None:
    response = await api.client().post("/api/v1/auth/token", data={"username": "", "password": ""})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


async def test_an_unexpected_failure_is_a_problem_too(app: FastAPI) -> None:
    async def boom() -> None:
        raise RuntimeError("310104199001011234 must not leak")

    app.add_api_route("/api/v1/boom", boom)
    # Starlette re-raises after answering (so that servers log it): take the answer instead.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        response = await client.get("/api/v1/boom")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "internal_error"
    assert "310104" not in response.text


async def test_openapi_declares_bearer_auth(api: Api) -> None:
    spec = (await api.client().get("/openapi.json")).json()
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert spec["paths"]["/api/v1/residents"]["get"]["security"] == [{"bearer": []}]
    assert "security" not in spec["paths"]["/api/v1/auth/token"]["post"]


async def test_unknown_query_parameters_are_refused_by_name(api: Api) -> None:
    client = await api.as_("fd.tianlin")
    response = await client.get("/api/v1/practitioners", params={"practitionerId": 5, "q": "更年期"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["query.practitionerId"]
    assert (await client.get("/api/v1/practitioners", params={"q": "更年期", "limit": 5})).status_code == 200


async def test_a_single_valued_query_parameter_given_twice_is_refused(api: Api) -> None:
    """`?action=a&action=b` would quietly keep the last: refused by name, as schemathesis found."""
    client = await api.as_("admin.xuhui")
    twice = await client.get("/api/v1/audit-events", params=[("action", "auth."), ("action", "resident.")])
    assert twice.status_code == 422
    assert [(e["field"], e["message"]) for e in twice.json()["errors"]] == [("query.action", "最多 1 项。")]
    assert (await client.get("/api/v1/audit-events", params={"action": "auth."})).status_code == 200


async def test_a_form_sent_by_script_gets_its_redirect_as_204_and_its_refusal_as_a_problem(api: Api) -> None:
    """app.js sends POST forms itself (issue 12 §2): a 303 would be followed blindly by fetch,
    losing the #fragment and costing a GET, so the script is told where to go instead; a refusal
    is problem+json naming the field; without the header the browser's form gets its 303."""
    client = await api.page_visitor()
    form = {"locale": "en", "next": "/referrals#open", "csrf_token": client.cookies["yl_csrf"]}
    inline = {"X-Inline-Form": "1", "Accept": "application/problem+json"}
    sent = await client.post("/lang", data=form, headers=inline)
    assert (sent.status_code, sent.headers["location"], sent.content) == (204, "/referrals#open", b"")
    assert "yl_lang=en" in sent.headers["set-cookie"]
    assert (await client.post("/lang", data=form)).status_code == 303
    refused = await client.post("/lang", data={**form, "locale": "fr"}, headers=inline)
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in refused.json()["errors"]] == ["body.locale"]
