"""Every route of the app × every role × an object of the actor's own or another institution.

A route the app serves that this matrix does not name fails the test, so a new route
cannot ship without saying who may call it.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute

from tests.admissions.conftest import keeping_matrix_objects, matrix_objects
from tests.factories import family_doctor_of, institution, resident_body, signed_resident
from tests.fixtures_app import Api
from tests.notices.test_events import stream_status
from tests.referrals.conftest import matrix_objects as referral_objects
from tests.scheduling.conftest import make_clinic
from yilian.auth.policy import Role
from yilian.core.db import Database
from yilian.notices import service as notices

ANON = "anonymous"
USERS = (
    ANON,
    "fd.tianlin",
    "fd.kangjian",
    "sp.sixth",
    "clinic.sixth",
    "admission.sixth",
    "reg.sixth",
    "admin.xuhui",
    "sysadmin",
    "it.sixth",
)
SIGNED_IN = frozenset(USERS) - {ANON}
TIANLIN, KANGJIAN = "田林社区卫生服务中心", "康健社区卫生服务中心"
# Routes that are not resources: the probes, the schema and the docs' own assets.
OPEN = frozenset(USERS)

Call = Callable[[httpx.AsyncClient, dict[str, Any]], Awaitable[httpx.Response]]


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    call: Call
    allowed: frozenset[str]
    ok: int = 200
    variant: str = ""  # "own" / "other": whose object the call touches (from 田林's side)
    refused: int = 403
    anonymous: int = 401
    extra: dict[str, int] = field(default_factory=dict)  # user -> status, where it differs
    page: bool = False  # a browser page: cookie session, CSRF token, HTML; signed-out → 303 /login
    fresh: bool = False  # the call changes who is signed in: give it a client of its own

    def expected(self, user: str) -> int:
        if user in self.extra:
            return self.extra[user]
        if user == ANON and ANON not in self.allowed:
            return self.anonymous
        return self.ok if user in self.allowed else self.refused


def get(path: str) -> Call:
    async def call(client: httpx.AsyncClient, objects: dict[str, Any]) -> httpx.Response:
        return await client.get(path.format(**objects))

    return call


def post(
    path: str, body: Callable[[dict[str, Any]], dict[str, Any]] | None = None, form: bool = False
) -> Call:
    async def call(client: httpx.AsyncClient, objects: dict[str, Any]) -> httpx.Response:
        payload = body(objects) if body else None
        if form:
            return await client.post(path.format(**objects), data=payload)
        return await client.post(path.format(**objects), json=payload)

    return call


def patch(path: str, body: Callable[[dict[str, Any]], dict[str, Any]]) -> Call:
    async def call(client: httpx.AsyncClient, objects: dict[str, Any]) -> httpx.Response:
        return await client.patch(path.format(**objects), json=body(objects))

    return call


def submit(path: str, fields: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> Call:
    """A page form, posted with the CSRF token as a browser would."""

    async def call(client: httpx.AsyncClient, objects: dict[str, Any]) -> httpx.Response:
        data = {**(fields(objects) if fields else {}), "csrf_token": client.cookies.get("yl_csrf", "")}
        return await client.post(path.format(**objects), data=data)

    return call


def page(path: str, allowed: frozenset[str], **kwargs: Any) -> Case:
    method = "POST" if kwargs.get("call") else "GET"
    call = kwargs.pop("call", None) or get(kwargs.pop("target", path))
    ok = kwargs.pop("ok", 303 if method == "POST" else 200)
    return Case(method, path, call, allowed, ok=ok, page=True, anonymous=303, **kwargs)


def resident_form(objects: dict[str, Any]) -> dict[str, Any]:
    return {**resident_body(), "consent": "true"}


async def logout_a_token_of_its_own(client: httpx.AsyncClient, objects: dict[str, Any]) -> httpx.Response:
    """Revoke a token of the same user made for this call (the client's own serves the other rows)."""
    me = await client.get("/api/v1/me")
    if me.status_code != 200:
        return await client.post("/api/v1/auth/logout")
    signed_in = await client.post(
        "/api/v1/auth/token",
        data={"username": me.json()["username"], "password": "yilian-demo"},
        headers={"Authorization": ""},
    )
    token = signed_in.json()["access_token"]
    return await client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})


API_CASES = [
    Case("GET", "/healthz", get("/healthz"), OPEN),
    Case("GET", "/readyz", get("/readyz"), OPEN),
    Case("GET", "/metrics", get("/metrics"), OPEN),
    Case("GET", "/openapi.json", get("/openapi.json"), OPEN),
    Case(
        "POST",
        "/api/v1/auth/token",
        post("/api/v1/auth/token", lambda o: {"username": "reg.sixth", "password": "yilian-demo"}, form=True),
        OPEN,
    ),
    Case("POST", "/api/v1/auth/logout", logout_a_token_of_its_own, SIGNED_IN, ok=204),
    Case("GET", "/api/v1/me", get("/api/v1/me"), SIGNED_IN),
    Case("GET", "/api/v1/audit-events", get("/api/v1/audit-events"), frozenset({"admin.xuhui", "sysadmin"})),
    Case("GET", "/api/v1/consortia", get("/api/v1/consortia"), SIGNED_IN),
    Case("GET", "/api/v1/consortia/{consortium_id}", get("/api/v1/consortia/{consortium_id}"), SIGNED_IN),
    Case("GET", "/api/v1/institutions", get("/api/v1/institutions"), SIGNED_IN),
    Case(
        "GET",
        "/api/v1/institutions/{institution_id}",
        get("/api/v1/institutions/{institution_id}"),
        SIGNED_IN,
    ),
    Case("GET", "/api/v1/departments", get("/api/v1/departments"), SIGNED_IN),
    Case("GET", "/api/v1/departments/{department_id}", get("/api/v1/departments/{department_id}"), SIGNED_IN),
    Case("GET", "/api/v1/practitioners", get("/api/v1/practitioners"), SIGNED_IN),
    Case(
        "GET",
        "/api/v1/practitioners/{practitioner_id}",
        get("/api/v1/practitioners/{practitioner_id}"),
        SIGNED_IN,
    ),
    Case("GET", "/api/v1/residents", get("/api/v1/residents"), SIGNED_IN),
    Case(
        "POST",
        "/api/v1/residents",
        post("/api/v1/residents", lambda o: resident_body()),
        frozenset({"fd.tianlin", "fd.kangjian"}),
        ok=201,
    ),
    Case(
        "GET",
        "/api/v1/residents/{resident_id}",
        get("/api/v1/residents/{own_resident}"),
        frozenset({"fd.tianlin"}),
        variant="own",
    ),
    Case(
        "GET",
        "/api/v1/residents/{resident_id}",
        get("/api/v1/residents/{other_resident}"),
        frozenset({"fd.kangjian"}),
        variant="other",
    ),
    Case(
        "POST",
        "/api/v1/residents/{resident_id}/reveal",
        post("/api/v1/residents/{own_resident}/reveal"),
        frozenset({"fd.tianlin"}),
        variant="own",
    ),
    Case(
        "POST",
        "/api/v1/residents/{resident_id}/reveal",
        post("/api/v1/residents/{other_resident}/reveal"),
        frozenset({"fd.kangjian"}),
        variant="other",
    ),
    Case(
        "POST",
        "/api/v1/contracts",
        post(
            "/api/v1/contracts",
            lambda o: {"resident_id": o["own_unsigned"], "practitioner_id": o["own_doctor"]},
        ),
        frozenset({"fd.tianlin"}),
        ok=201,
        variant="own",
    ),
    Case(
        "POST",
        "/api/v1/contracts",
        post(
            "/api/v1/contracts",
            lambda o: {"resident_id": o["other_unsigned"], "practitioner_id": o["other_doctor"]},
        ),
        frozenset({"fd.kangjian"}),
        ok=201,
        variant="other",
    ),
]
PAGE_CASES = [
    page("/", SIGNED_IN),
    page("/login", frozenset({ANON}), extra=dict.fromkeys(SIGNED_IN, 303)),  # signed in: straight on
    page(
        "/login",
        OPEN,
        fresh=True,
        call=submit("/login", lambda o: {"username": "reg.sixth", "password": "yilian-demo"}),
    ),
    page("/logout", OPEN, fresh=True, call=submit("/logout")),
    page("/lang", OPEN, call=submit("/lang", lambda o: {"locale": "zh_Hans", "next": "/"})),
    page("/docs", OPEN),
    page("/audit", frozenset({"admin.xuhui", "sysadmin"})),
    page("/consortia", SIGNED_IN),
    page("/consortia/{consortium_id}", SIGNED_IN),
    page("/institutions/{institution_id}", SIGNED_IN),
    page("/practitioners", SIGNED_IN),
    page("/practitioners/{practitioner_id}", SIGNED_IN),
    page("/residents", SIGNED_IN),  # the list holds only whom each may see (empty for most)
    page("/residents/new", frozenset({"fd.tianlin", "fd.kangjian"})),
    page("/residents/pick", SIGNED_IN),  # the picker finds only whom each may see (empty for most)
    page("/residents", frozenset({"fd.tianlin", "fd.kangjian"}), call=submit("/residents", resident_form)),
    page(
        "/residents/{resident_id}",
        frozenset({"fd.tianlin"}),
        target="/residents/{own_resident}",
        variant="own",
    ),
    page(
        "/residents/{resident_id}",
        frozenset({"fd.kangjian"}),
        target="/residents/{other_resident}",
        variant="other",
    ),
    page(
        "/residents/{resident_id}/reveal",
        frozenset({"fd.tianlin"}),
        ok=200,
        variant="own",
        call=submit("/residents/{own_resident}/reveal"),
    ),
    page(
        "/residents/{resident_id}/reveal",
        frozenset({"fd.kangjian"}),
        ok=200,
        variant="other",
        call=submit("/residents/{other_resident}/reveal"),
    ),
    page(
        "/contracts",
        frozenset({"fd.tianlin"}),
        variant="own",
        call=submit(
            "/contracts",
            lambda o: {"resident_id": o["own_unsigned_page"], "practitioner_id": o["own_doctor"]},
        ),
    ),
    page(
        "/contracts",
        frozenset({"fd.kangjian"}),
        variant="other",
        call=submit(
            "/contracts",
            lambda o: {"resident_id": o["other_unsigned_page"], "practitioner_id": o["other_doctor"]},
        ),
    ),
]
FAMILY_DOCTORS = frozenset({"fd.tianlin", "fd.kangjian"})
SCHEDULING_CASES = [
    Case("GET", "/api/v1/clinic-sessions", get("/api/v1/clinic-sessions"), SIGNED_IN),
    Case(
        "GET", "/api/v1/clinic-sessions/{session_id}", get("/api/v1/clinic-sessions/{session_id}"), SIGNED_IN
    ),
    Case(
        "GET",
        "/api/v1/clinic-sessions/{session_id}/slots",
        get("/api/v1/clinic-sessions/{session_id}/slots"),
        SIGNED_IN,
    ),
    # Each family doctor books for its own centre's signed resident: the other's is not_signed_resident.
    # Registration books by the patient's identity only (实名制, issue 11): a resident id is 403 to it.
    Case(
        "POST",
        "/api/v1/appointments",
        post(
            "/api/v1/appointments",
            lambda o: {"session_id": o["session_id"], "resident_id": o["own_resident"]},
        ),
        frozenset({"fd.tianlin"}),
        ok=201,
        variant="own",
    ),
    Case(
        "POST",
        "/api/v1/appointments",
        post(
            "/api/v1/appointments",
            lambda o: {"session_id": o["session_id"], "resident_id": o["other_resident"]},
        ),
        frozenset({"fd.kangjian"}),
        ok=201,
        variant="other",
    ),
    Case(
        "POST",
        "/api/v1/appointments",
        post("/api/v1/appointments", lambda o: {"session_id": o["session_id"], "patient": o["walk_in"]}),
        frozenset({"reg.sixth"}),
        ok=201,
        variant="walk-in",
    ),
    Case(
        "POST",
        "/api/v1/appointments/{appointment_id}/cancel",
        post("/api/v1/appointments/{own_appointment}/cancel"),
        frozenset({"fd.tianlin"}),
        variant="own",
    ),
]
# The hospital's clinic office sees every appointment of its sessions; its registration desk only
# those it booked itself (issue 11), so not the family doctors' kept-slot bookings below.
SIXTH_DESKS = frozenset({"clinic.sixth"})
BOOKING_PAGE_CASES = [
    Case("GET", "/api/v1/appointments", get("/api/v1/appointments"), SIGNED_IN),  # each sees its own
    page("/booking/practitioners/{practitioner_id}", SIGNED_IN, target="/booking/practitioners/{expert_id}"),
    page("/booking/sessions/{session_id}", SIGNED_IN, target="/booking/sessions/{page_session}"),
    # As in the API rows: the other centre's resident is not_signed_resident (403); the registration
    # desk books no resident id (403).
    page(
        "/booking/sessions/{session_id}",
        frozenset({"fd.tianlin"}),
        variant="own",
        call=submit("/booking/sessions/{page_session}", lambda o: {"resident_id": o["own_page_resident"]}),
    ),
    page(
        "/booking/sessions/{session_id}",
        frozenset({"fd.kangjian"}),
        variant="other",
        call=submit("/booking/sessions/{page_session}", lambda o: {"resident_id": o["other_page_resident"]}),
    ),
    page("/appointments", SIGNED_IN),  # the list holds only what each may see (empty for most)
    page(
        "/appointments/{appointment_id}",
        frozenset({"fd.tianlin"}) | SIXTH_DESKS,
        target="/appointments/{own_page_appointment}",
        variant="own",
    ),
    page(
        "/appointments/{appointment_id}",
        frozenset({"fd.kangjian"}) | SIXTH_DESKS,
        target="/appointments/{other_page_appointment}",
        variant="other",
    ),
    page(
        "/appointments/{appointment_id}/cancel",
        frozenset({"fd.tianlin"}),
        variant="own",
        call=submit("/appointments/{own_page_appointment}/cancel"),
    ),
    page(
        "/clinic/sessions/{session_id}", frozenset({"clinic.sixth"}), target="/clinic/sessions/{page_session}"
    ),
    # Before the session starts the clinic office passes the check and is told session_not_started.
    page(
        "/appointments/{appointment_id}/check-in",
        frozenset({"clinic.sixth"}),
        ok=409,
        call=submit("/appointments/{other_page_appointment}/check-in"),
    ),
    page(
        "/appointments/{appointment_id}/no-show",
        frozenset({"clinic.sixth"}),
        ok=409,
        call=submit("/appointments/{other_page_appointment}/no-show"),
    ),
]
NOTICE_CASES = [
    Case("GET", "/api/v1/notices", get("/api/v1/notices"), SIGNED_IN),
    # A notice is its recipient's only: anybody else is told it does not exist.
    Case(
        "POST",
        "/api/v1/notices/{notice_id}/read",
        post("/api/v1/notices/{own_notice}/read"),
        frozenset({"fd.tianlin"}),
        refused=404,
    ),
    Case(
        "POST",
        "/api/v1/clinic-sessions/{session_id}/stop",
        post("/api/v1/clinic-sessions/{session_to_stop}/stop", lambda o: {"reason": "专家外出会诊"}),
        frozenset({"clinic.sixth"}),
    ),
    page(
        "/clinic/sessions/{session_id}/stop",
        frozenset({"clinic.sixth"}),
        call=submit("/clinic/sessions/{session_to_stop_page}/stop", lambda o: {"reason": "设备检修"}),
    ),
]
REFERRAL_SIDES = frozenset({"fd.tianlin", "sp.sixth"})  # the two sides of 田林's up-referral to 六院
ADMINS = frozenset({"admin.xuhui", "sysadmin"})


def upload(path: str) -> Call:
    async def call(client: httpx.AsyncClient, objects: dict[str, Any]) -> httpx.Response:
        png = b"\x89PNG\r\n\x1a\n" + bytes(64)
        return await client.post(path.format(**objects), files={"file": ("ecg.png", png, "image/png")})

    return call


def events(path: str) -> Call:
    async def call(client: httpx.AsyncClient, objects: dict[str, Any]) -> httpx.Response:
        return await stream_status(client, path)

    return call


REFERRAL_CASES = [
    # 田林's own signed resident: 田林 refers up; 六院's specialist may not refer "up" to itself (422);
    # everyone else may not read the resident or refers for no institution (403).
    Case(
        "POST",
        "/api/v1/referrals",
        post("/api/v1/referrals", lambda o: o["referral_body"]),
        frozenset({"fd.tianlin"}),
        ok=201,
        extra={"sp.sixth": 422},
    ),
    Case("GET", "/api/v1/referrals", get("/api/v1/referrals"), SIGNED_IN),  # each sees its own (or none)
    Case("GET", "/api/v1/referrals/{referral_id}", get("/api/v1/referrals/{own_referral}"), REFERRAL_SIDES),
    # Accepting is the receiver's move: the referrer gets 403 too (the other side's move).
    Case(
        "POST",
        "/api/v1/referrals/{referral_id}/actions/{action}",
        post("/api/v1/referrals/{referral_to_accept}/actions/accept"),
        frozenset({"sp.sixth"}),
    ),
    Case(
        "POST",
        "/api/v1/referrals/{referral_id}/attachments",
        upload("/api/v1/referrals/{own_referral}/attachments"),
        REFERRAL_SIDES,
        ok=201,
    ),
    Case(
        "GET",
        "/api/v1/referrals/{referral_id}/attachments/{attachment_id}",
        get("/api/v1/referrals/{own_referral}/attachments/{own_attachment}"),
        REFERRAL_SIDES,
    ),
    Case("GET", "/api/v1/follow-up-tasks", get("/api/v1/follow-up-tasks"), SIGNED_IN),  # the centre's own
    Case(
        "POST",
        "/api/v1/follow-up-tasks/{task_id}/{outcome}",
        post("/api/v1/follow-up-tasks/{own_task}/done"),
        frozenset({"fd.tianlin"}),
    ),
    Case(
        "POST",
        "/api/v1/follow-up-tasks/{task_id}/referral",
        post(
            "/api/v1/follow-up-tasks/{own_task_to_refer}/referral",
            lambda o: {"target_institution_id": o["sixth_id"], "reason": "随访发现血压再次升高"},
        ),
        frozenset({"fd.tianlin"}),
        ok=201,
    ),
    Case("GET", "/api/v1/icd10", get("/api/v1/icd10?q=I10"), SIGNED_IN),
    Case("GET", "/api/v1/events", events("/api/v1/events"), SIGNED_IN),  # each its own notices
]


def submit_file(path: str) -> Call:
    async def call(client: httpx.AsyncClient, objects: dict[str, Any]) -> httpx.Response:
        png = b"\x89PNG\r\n\x1a\n" + bytes(64)
        data = {"csrf_token": client.cookies.get("yl_csrf", "")}
        return await client.post(
            path.format(**objects), data=data, files={"file": ("ecg.png", png, "image/png")}
        )

    return call


REFERRAL_PAGE_CASES = [
    page("/referrals", SIGNED_IN),  # each its own worklist (empty for most)
    page("/referrals/new", SIGNED_IN),  # the form; creating is checked on POST
    page(
        "/referrals",
        frozenset({"fd.tianlin"}),
        extra={"sp.sixth": 422},
        call=submit("/referrals", lambda o: o["referral_form"]),
    ),
    page("/referrals/{referral_id}", REFERRAL_SIDES, target="/referrals/{own_referral}"),
    page("/referrals/{referral_id}/print", REFERRAL_SIDES, target="/referrals/{own_referral}/print"),
    page(
        "/referrals/{referral_id}/actions/{action}",
        frozenset({"sp.sixth"}),
        call=submit("/referrals/{page_referral_to_accept}/actions/accept"),
    ),
    page(
        "/referrals/{referral_id}/attachments",
        REFERRAL_SIDES,
        call=submit_file("/referrals/{own_referral}/attachments"),
    ),
    page(
        "/referrals/{referral_id}/attachments/{attachment_id}/picture",
        REFERRAL_SIDES,
        target="/referrals/{own_referral}/attachments/{own_attachment}/picture",
    ),
    page("/follow-up", SIGNED_IN),  # the centre's own tasks (none for most)
    page(
        "/follow-up/{task_id}/{outcome}",
        frozenset({"fd.tianlin"}),
        call=submit("/follow-up/{own_task_page}/done"),
    ),
    page("/notices", SIGNED_IN),
    page("/notices/read-all", SIGNED_IN, call=submit("/notices/read-all")),  # each its own notices
    page(
        "/notices/{notice_id}/read",
        frozenset({"fd.tianlin"}),
        refused=404,
        call=submit("/notices/{own_notice}/read"),
    ),
]
SIXTH_ADMISSIONS = frozenset({"admission.sixth"})
SIXTH_STAFF = frozenset({"sp.sixth", "admission.sixth"})  # the hospital's admission office and specialists
ADMISSION_CASES = [
    Case(
        "POST",
        "/api/v1/admission-requests",
        post(
            "/api/v1/admission-requests",
            lambda o: {
                "ward_id": o["fresh_ward"],
                "resident_id": o["creation_resident"],
                "diagnosis": "膝骨关节炎",
                "urgency": "elective",
                "expected_days": 7,
            },
        ),
        frozenset({"sp.sixth"}),
        ok=201,
    ),
    Case("GET", "/api/v1/admission-requests", get("/api/v1/admission-requests"), SIGNED_IN),  # each its own
    Case(
        "GET",
        "/api/v1/admission-requests/{request_id}",
        get("/api/v1/admission-requests/{admission_own}"),
        SIXTH_STAFF | {"fd.tianlin"},
        variant="own",
    ),
    Case(
        "GET",
        "/api/v1/admission-requests/{request_id}",
        get("/api/v1/admission-requests/{admission_other}"),
        SIXTH_STAFF | {"fd.kangjian"},
        variant="other",
    ),
    # The specialist cancels first; the office then finds it cancelled already (past the check).
    Case(
        "POST",
        "/api/v1/admission-requests/{request_id}/cancel",
        post("/api/v1/admission-requests/{admission_cancel}/cancel", lambda o: {"reason": "患者要求"}),
        frozenset({"sp.sixth"}),
        extra={"admission.sixth": 409},
    ),
    Case(
        "POST",
        "/api/v1/admission-requests/{request_id}/admit",
        post("/api/v1/admission-requests/{admission_admit}/admit", lambda o: {"bed_id": o["bed_admit"]}),
        SIXTH_ADMISSIONS,
    ),
    Case(
        "POST",
        "/api/v1/admission-requests/{request_id}/transfer",
        post(
            "/api/v1/admission-requests/{admission_transfer}/transfer",
            lambda o: {"bed_id": o["bed_transfer"]},
        ),
        SIXTH_ADMISSIONS,
    ),
    Case(
        "POST",
        "/api/v1/admission-requests/{request_id}/discharge",
        post("/api/v1/admission-requests/{admission_discharge}/discharge"),
        SIXTH_ADMISSIONS,
    ),
    Case("GET", "/api/v1/wards", get("/api/v1/wards"), SIGNED_IN),
    # The same values as before (the department's boost stays 3): the other rows' queues keep their order.
    Case(
        "PATCH",
        "/api/v1/wards/{ward_id}",
        patch("/api/v1/wards/{fresh_ward}", lambda o: {"boost_days": 3, "offer_hours": 4}),
        SIXTH_ADMISSIONS,
    ),
    Case("GET", "/api/v1/wards/{ward_id}/queue", get("/api/v1/wards/{ward}/queue"), SIXTH_STAFF),
    Case("GET", "/api/v1/wards/{ward_id}/beds", get("/api/v1/wards/{ward}/beds"), SIXTH_ADMISSIONS),
    Case(
        "POST",
        "/api/v1/beds/{bed_id}/offer-next",
        post("/api/v1/beds/{bed_offer}/offer-next"),
        SIXTH_ADMISSIONS,
    ),
    Case(
        "POST",
        "/api/v1/beds/{bed_id}/moves",
        post("/api/v1/beds/{bed_close}/moves", lambda o: {"action": "close"}),
        SIXTH_ADMISSIONS,
    ),
    Case(
        "POST",
        "/api/v1/bed-offers/{offer_id}/{answer}",
        post("/api/v1/bed-offers/{offer}/accept"),
        SIXTH_ADMISSIONS,
    ),
]
ADMISSION_PAGE_CASES = [
    page("/admissions", SIGNED_IN),  # each sees the requests it follows (none for most)
    page("/admissions/wards/{ward_id}", SIXTH_STAFF, target="/admissions/wards/{ward}"),
    page(
        "/admissions/requests/{request_id}",
        SIXTH_STAFF | {"fd.tianlin"},
        target="/admissions/requests/{admission_own}",
        variant="own",
    ),
    page(
        "/admissions/requests/{request_id}",
        SIXTH_STAFF | {"fd.kangjian"},
        target="/admissions/requests/{admission_other}",
        variant="other",
    ),
    # Where a discharge notice leads (the request itself while it has no down-referral).
    page(
        "/admissions/requests/{request_id}/down-referral",
        SIXTH_STAFF | {"fd.tianlin"},
        target="/admissions/requests/{admission_own}/down-referral",
        ok=303,
        variant="own",
    ),
    page(
        "/admissions/requests/{request_id}/down-referral",
        SIXTH_STAFF | {"fd.kangjian"},
        target="/admissions/requests/{admission_other}/down-referral",
        ok=303,
        variant="other",
    ),
    page("/admissions/new", frozenset({"sp.sixth"})),
    page(
        "/admissions/new",
        frozenset({"sp.sixth"}),
        call=submit(
            "/admissions/new",
            lambda o: {
                "ward_id": o["fresh_page_ward"],
                "resident_id": o["creation_resident"],
                "diagnosis": "半月板损伤",
                "urgency": "elective",
                "expected_days": "5",
            },
        ),
    ),
    page(
        "/admissions/wards/{ward_id}/settings",
        SIXTH_ADMISSIONS,
        call=submit(
            "/admissions/wards/{fresh_page_ward}/settings", lambda o: {"boost_days": "3", "offer_hours": "4"}
        ),
    ),
    page(
        "/admissions/beds/{bed_id}/offer-next",
        SIXTH_ADMISSIONS,
        call=submit("/admissions/beds/{page_bed_offer}/offer-next"),
    ),
    page(
        "/admissions/beds/{bed_id}/moves",
        SIXTH_ADMISSIONS,
        call=submit("/admissions/beds/{page_bed_close}/moves", lambda o: {"move": "close"}),
    ),
    page(
        "/admissions/offers/{offer_id}/{answer}",
        SIXTH_ADMISSIONS,
        call=submit("/admissions/offers/{page_offer}/decline"),
    ),
    page(
        "/admissions/requests/{request_id}/admit",
        SIXTH_ADMISSIONS,
        call=submit("/admissions/requests/{page_admit}/admit", lambda o: {"bed_id": o["page_bed_admit"]}),
    ),
    page(
        "/admissions/requests/{request_id}/transfer",
        SIXTH_ADMISSIONS,
        call=submit(
            "/admissions/requests/{page_transfer}/transfer", lambda o: {"ward_id": o["partner_ward"]}
        ),
    ),
    page(
        "/admissions/requests/{request_id}/discharge",
        SIXTH_ADMISSIONS,
        call=submit("/admissions/requests/{page_discharge}/discharge"),
    ),
    page(
        "/admissions/requests/{request_id}/cancel",
        frozenset({"sp.sixth"}),
        extra={"admission.sixth": 409},
        call=submit("/admissions/requests/{page_cancel}/cancel", lambda o: {"reason": "已转他院"}),
    ),
]
# Issue 13, wards and beds: the hospital's admission office (admission.sixth) and the system admin.
# Every call names something new (a counter), so that each allowed caller's call succeeds.
WARD_KEEPERS = frozenset({"admission.sixth", "sysadmin"})
_kept = itertools.count(1)


def _new(prefix: str) -> str:
    return f"{prefix}{next(_kept)}"


def _put(path: str, body: Callable[[dict[str, Any]], dict[str, Any]]) -> Call:
    async def call(client: httpx.AsyncClient, objects: dict[str, Any]) -> httpx.Response:
        return await client.put(path.format(**objects), json=body(objects))

    return call


def _delete(path: str) -> Call:
    async def call(client: httpx.AsyncClient, objects: dict[str, Any]) -> httpx.Response:
        return await client.delete(path.format(**objects))

    return call


WARD_KEEPING_CASES = [
    Case(
        "POST",
        "/api/v1/wards",
        post("/api/v1/wards", lambda o: {"department_id": o["keep_department"], "name": _new("矩阵新病区")}),
        WARD_KEEPERS,
        ok=201,
    ),
    Case(
        "PATCH",
        "/api/v1/wards/{ward_id}",
        patch("/api/v1/wards/{keep_ward}", lambda o: {"name": _new("矩阵维护病区")}),
        WARD_KEEPERS,
        variant="keep",
    ),
    Case(
        "PUT",
        "/api/v1/wards/{ward_id}/rooms/{room}",
        _put("/api/v1/wards/{keep_ward}/rooms/90", lambda o: {"room_sex": "male"}),
        WARD_KEEPERS,
    ),
    Case(
        "POST",
        "/api/v1/wards/{ward_id}/beds",
        post("/api/v1/wards/{keep_ward}/beds", lambda o: {"room": "92", "labels": [_new("a")]}),
        WARD_KEEPERS,
        ok=201,
    ),
    Case(
        "PATCH",
        "/api/v1/beds/{bed_id}",
        patch("/api/v1/beds/{keep_bed}", lambda o: {"label": _new("b")}),
        WARD_KEEPERS,
    ),
    Case(
        "DELETE", "/api/v1/beds/{bed_id}", _delete("/api/v1/beds/{keep_named_bed}"), WARD_KEEPERS
    ),  # kept closed
    page("/admissions/wards/manage", WARD_KEEPERS),  # the system admin picks the hospital first
    page(
        "/admissions/wards/manage",
        WARD_KEEPERS,
        call=submit(
            "/admissions/wards/manage",
            lambda o: {"department_id": o["keep_department"], "name": _new("页新病区")},
        ),
    ),
    page("/admissions/wards/{ward_id}/manage", WARD_KEEPERS, target="/admissions/wards/{keep_ward}/manage"),
    page(
        "/admissions/wards/{ward_id}/manage",
        WARD_KEEPERS,
        call=submit(
            "/admissions/wards/{keep_ward}/manage",
            lambda o: {
                "name": _new("页维护病区"),
                "department_id": o["keep_department"],
                "partner_ward_id": "",
            },
        ),
    ),
    page(
        "/admissions/wards/{ward_id}/rooms",
        WARD_KEEPERS,
        call=submit("/admissions/wards/{keep_ward}/rooms", lambda o: {"room": "90", "room_sex": ""}),
    ),
    page(
        "/admissions/wards/{ward_id}/beds",
        WARD_KEEPERS,
        call=submit("/admissions/wards/{keep_ward}/beds", lambda o: {"room": "93", "labels": _new("c")}),
    ),
    page(
        "/admissions/beds/{bed_id}/relabel",
        WARD_KEEPERS,
        call=submit("/admissions/beds/{keep_bed}/relabel", lambda o: {"room": "90", "label": _new("d")}),
    ),
    page(
        "/admissions/beds/{bed_id}/remove",
        WARD_KEEPERS,
        call=submit("/admissions/beds/{keep_named_bed}/remove"),
    ),
]
ANALYTICS_CASES = [
    page("/clinic", frozenset({"clinic.sixth"})),
    page(
        "/clinic/policies/{practitioner_id}",
        frozenset({"clinic.sixth"}),
        variant="own",
        call=submit(
            "/clinic/policies/{expert_id}", lambda o: {"share": "20", "min_share": "10", "max_share": "20"}
        ),
    ),
    page(
        "/clinic/policies/{practitioner_id}",
        frozenset(),
        variant="other",
        call=submit(
            "/clinic/policies/{stranger_expert}",
            lambda o: {"share": "20", "min_share": "10", "max_share": "20"},
        ),
    ),
    Case(
        "GET",
        "/api/v1/admission-stats",
        get("/api/v1/admission-stats?institution_id={hospital}&month=2026-11"),
        SIXTH_ADMISSIONS | {"admin.xuhui", "sysadmin"},
    ),
    page("/admissions/stats", SIXTH_ADMISSIONS | {"admin.xuhui", "sysadmin"}),  # the office: its own hospital
    Case("GET", "/api/v1/referral-stats/monthly", get("/api/v1/referral-stats/monthly"), ADMINS),
    page("/referrals/stats", ADMINS),
]
# --- issue 13, user accounts (auth/api.py, auth/pages/accounts.py): the institution's administrator
# keeps its own institution's accounts, the system administrator everyone's; everyone signed in
# changes its own password (asked here with a wrong current password: 422, nothing changes).
ACCOUNT_KEEPERS = frozenset({"it.sixth", "sysadmin"})
_new_usernames = itertools.count(1)


def new_account_body(objects: dict[str, Any]) -> dict[str, Any]:
    return {
        "username": f"matrix.new{next(_new_usernames)}",
        "display_name": "矩阵新账号",
        "password": "Matrix-first-2026",
        "roles": ["specialist"],
        "institution_id": objects["institution_id"],
    }


def wrong_password_change(objects: dict[str, Any]) -> dict[str, Any]:
    return {
        "current_password": "not-the-password",
        "new_password": "Matrix-own-2026",
        "new_password_again": "Matrix-own-2026",
    }


async def account_objects(api: Api, institution_id: int) -> dict[str, Any]:
    """A 六院 account (not a user of the matrix) for the account routes to change."""
    created = await (await api.as_("it.sixth")).post(
        "/api/v1/accounts",
        json={
            "username": "matrix.target",
            "display_name": "矩阵账号",
            "password": "Matrix-first-2026",
            "roles": ["specialist"],
            "institution_id": institution_id,
        },
    )
    assert created.status_code == 201, created.text
    return {"account_id": created.json()["id"]}


ACCOUNT_CASES = [
    Case("GET", "/api/v1/accounts", get("/api/v1/accounts"), ACCOUNT_KEEPERS),
    Case("POST", "/api/v1/accounts", post("/api/v1/accounts", new_account_body), ACCOUNT_KEEPERS, ok=201),
    Case("GET", "/api/v1/accounts/{account_id}", get("/api/v1/accounts/{account_id}"), ACCOUNT_KEEPERS),
    Case(
        "PATCH",
        "/api/v1/accounts/{account_id}",
        patch("/api/v1/accounts/{account_id}", lambda o: {"display_name": "矩阵账号"}),
        ACCOUNT_KEEPERS,
    ),
    Case(
        "POST",
        "/api/v1/accounts/{account_id}/password",
        post("/api/v1/accounts/{account_id}/password", lambda o: {"password": "Matrix-reset-2026"}),
        ACCOUNT_KEEPERS,
    ),
    Case(
        "POST",
        "/api/v1/accounts/{account_id}/deactivate",
        post("/api/v1/accounts/{account_id}/deactivate"),
        ACCOUNT_KEEPERS,
    ),
    Case(
        "POST",
        "/api/v1/accounts/{account_id}/reactivate",
        post("/api/v1/accounts/{account_id}/reactivate"),
        ACCOUNT_KEEPERS,
    ),
    Case(
        "POST",
        "/api/v1/me/password",
        post(
            "/api/v1/me/password",
            lambda o: {"current_password": "not-the-password", "new_password": "Matrix-own-2026"},
        ),
        SIGNED_IN,
        ok=422,
    ),
    page("/admin/accounts", ACCOUNT_KEEPERS),
    page("/admin/accounts/new", ACCOUNT_KEEPERS),
    page(
        "/admin/accounts",
        ACCOUNT_KEEPERS,
        call=submit("/admin/accounts", lambda o: {**new_account_body(o), "roles": "specialist"}),
    ),
    page("/admin/accounts/{account_id}", ACCOUNT_KEEPERS, target="/admin/accounts/{account_id}"),
    page(
        "/admin/accounts/{account_id}",
        ACCOUNT_KEEPERS,
        call=submit(
            "/admin/accounts/{account_id}", lambda o: {"display_name": "矩阵账号", "roles": "specialist"}
        ),
    ),
    page(
        "/admin/accounts/{account_id}/password",
        ACCOUNT_KEEPERS,
        call=submit("/admin/accounts/{account_id}/password", lambda o: {"password": "Matrix-reset-2027"}),
    ),
    page(
        "/admin/accounts/{account_id}/deactivate",
        ACCOUNT_KEEPERS,
        call=submit("/admin/accounts/{account_id}/deactivate"),
    ),
    page(
        "/admin/accounts/{account_id}/reactivate",
        ACCOUNT_KEEPERS,
        call=submit("/admin/accounts/{account_id}/reactivate"),
    ),
    page("/password", SIGNED_IN),
    page("/password", SIGNED_IN, ok=422, call=submit("/password", wrong_password_change)),
]


# --- issue 13, clinic templates and closures (scheduling): the hospital's clinic office and the
# system admin keep them; 六院's office is refused 金山's. Each create varies its weekday and period
# (a practitioner has one template a weekday and period), closures fall on days with no session.
SIXTH_CLINIC_KEEPERS = frozenset({"clinic.sixth", "sysadmin"})
SYSADMIN = frozenset({"sysadmin"})


def gone_after(user: str) -> dict[str, int]:
    """A lifted closure is gone: whoever comes after the user who lifted it is told 404."""
    return dict.fromkeys(USERS[USERS.index(user) + 1 :], 404)


def another_slot(
    fields: dict[str, Any], key: str, start: int = 0
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A template body of a weekday and period not used yet (Saturday or Sunday, any period): the
    n-th call of the case (one a user, in USERS' order) in this test's objects has its own."""

    def body(objects: dict[str, Any]) -> dict[str, Any]:
        n = objects.get(key, start)
        objects[key] = n + 1
        period = ("morning", "afternoon", "evening")[n // 2 % 3]
        return {**fields, "practitioner_id": objects["expert_id"], "weekday": 5 + n % 2, "period": period}

    return body


TEMPLATE_BODY = {
    "starts_local": "08:00",
    "slot_count": 10,
    "slot_minutes": 10,
    "kind": "expert",
    "place": "门诊楼",
}
TEMPLATE_FORM = {k: str(v) for k, v in TEMPLATE_BODY.items()}
PAGE_SLOT = another_slot(TEMPLATE_BODY, "page_slot", start=1)  # not the API case's weekdays and periods
CLOSURE_FORM = {"starts_on": "2027-01-25", "ends_on": "2027-01-26", "reason": "院庆"}
CLINIC_REGISTER_CASES = [
    Case(
        "GET",
        "/api/v1/clinic-templates",
        get("/api/v1/clinic-templates?institution_id={institution_id}"),
        SIXTH_CLINIC_KEEPERS,
    ),
    Case(
        "POST",
        "/api/v1/clinic-templates",
        post("/api/v1/clinic-templates", another_slot(TEMPLATE_BODY, "api_slot")),
        SIXTH_CLINIC_KEEPERS,
        ok=201,
        variant="own",
    ),
    Case(
        "POST",
        "/api/v1/clinic-templates",
        post(
            "/api/v1/clinic-templates",
            lambda o: {
                **TEMPLATE_BODY,
                "practitioner_id": o["stranger_expert"],
                "weekday": 6,
                "period": "evening",
            },
        ),
        SYSADMIN,
        ok=201,
        variant="other",
    ),
    Case(
        "PATCH",
        "/api/v1/clinic-templates/{template_id}",
        patch("/api/v1/clinic-templates/{own_template}", lambda o: {"place": "门诊楼3楼"}),
        SIXTH_CLINIC_KEEPERS,
        variant="own",
    ),
    Case(
        "PATCH",
        "/api/v1/clinic-templates/{template_id}",
        patch("/api/v1/clinic-templates/{other_template}", lambda o: {"place": "门诊楼"}),
        SYSADMIN,
        variant="other",
    ),
    Case(
        "GET",
        "/api/v1/clinic-closures",
        get("/api/v1/clinic-closures?institution_id={institution_id}"),
        SIXTH_CLINIC_KEEPERS,
    ),
    Case(
        "POST",
        "/api/v1/clinic-closures",
        post(
            "/api/v1/clinic-closures",
            lambda o: {
                "institution_id": o["institution_id"],
                "starts_on": "2027-01-20",
                "ends_on": "2027-01-21",
                "reason": "院庆",
            },
        ),
        SIXTH_CLINIC_KEEPERS,
        ok=201,
    ),
    Case(
        "POST",
        "/api/v1/clinic-closures/{closure_id}/lift",
        post("/api/v1/clinic-closures/{own_closure}/lift"),
        frozenset({"clinic.sixth"}),
        variant="own",
        extra=gone_after("clinic.sixth"),
    ),
    Case(
        "POST",
        "/api/v1/clinic-closures/{closure_id}/lift",
        post("/api/v1/clinic-closures/{other_closure}/lift"),
        SYSADMIN,
        variant="other",
        extra=gone_after("sysadmin"),
    ),
    page(
        "/clinic/templates",
        SIXTH_CLINIC_KEEPERS,
        target="/clinic/templates?institution_id={institution_id}",
    ),
    page(
        "/clinic/templates",
        SIXTH_CLINIC_KEEPERS,
        call=submit("/clinic/templates", lambda o: {k: str(v) for k, v in PAGE_SLOT(o).items()}),
    ),
    page(
        "/clinic/templates/{template_id}",
        SIXTH_CLINIC_KEEPERS,
        variant="own",
        call=submit(
            "/clinic/templates/{own_template}",
            lambda o: {
                **TEMPLATE_FORM,
                "weekday": "0",
                "period": "morning",
                "slot_count": "30",
                "slot_minutes": "8",
            },
        ),
    ),
    page(
        "/clinic/templates/{template_id}/deactivate",
        SYSADMIN,
        variant="other",
        call=submit("/clinic/templates/{other_template}/deactivate"),
    ),
    page(
        "/clinic/closures",
        SIXTH_CLINIC_KEEPERS,
        target="/clinic/closures?institution_id={institution_id}",
    ),
    page(
        "/clinic/closures/preview",
        SIXTH_CLINIC_KEEPERS,
        call=submit(
            "/clinic/closures/preview", lambda o: {**CLOSURE_FORM, "institution_id": str(o["institution_id"])}
        ),
    ),
    page(
        "/clinic/closures/confirm",
        SIXTH_CLINIC_KEEPERS,
        target="/clinic/closures/confirm?starts_on=2027-01-25&ends_on=2027-01-26&reason=院庆&institution_id={institution_id}",
    ),
    page(
        "/clinic/closures",
        SIXTH_CLINIC_KEEPERS,
        call=submit(
            "/clinic/closures", lambda o: {**CLOSURE_FORM, "institution_id": str(o["institution_id"])}
        ),
    ),
    page(
        "/clinic/closures/{closure_id}/lift",
        frozenset({"clinic.sixth"}),
        extra=gone_after("clinic.sixth"),
        call=submit("/clinic/closures/{own_closure_page}/lift"),
    ),
]


async def clinic_register_objects(db: Database) -> dict[str, Any]:
    """六院's and 金山's first templates, and a closure of each (one more of 六院's for the page)."""
    from sqlalchemy import select

    from yilian.directory.models import Institution
    from yilian.scheduling.models import ClinicClosure, ClinicTemplate

    async with db.transaction() as session:
        ids = {}
        for key, name in (("own", "上海市第六人民医院"), ("other", "复旦大学附属金山医院")):
            hospital = await session.scalar(select(Institution.id).where(Institution.name == name))
            assert hospital is not None
            ids[f"{key}_template"] = await session.scalar(
                select(ClinicTemplate.id)
                .where(ClinicTemplate.institution_id == hospital)
                .order_by(ClinicTemplate.id)
            )
            for suffix in ("", "_page"):
                closure = ClinicClosure(
                    institution_id=hospital,
                    starts_on=date(2027, 2, 1),
                    ends_on=date(2027, 2, 2),
                    reason="春节",
                    created_at=datetime(2026, 11, 24, tzinfo=UTC),
                )
                session.add(closure)
                await session.flush()
                ids[f"{key}_closure{suffix}"] = closure.id
    return ids


# --- issue 13, the registers (directory.api.registers, directory.pages.registers) -------------------
# Each allowed call writes a name of its own (a counter), so that the second allowed user's call is
# not a clash; members join from spare institutions made for the purpose.
REGISTRARS = frozenset({"sysadmin"})
SIXTH_KEEPERS = frozenset({"it.sixth", "sysadmin"})
XUHUI_KEEPERS = frozenset({"admin.xuhui", "sysadmin"})
ADMINISTRATION = frozenset({"sysadmin", "admin.xuhui", "it.sixth", "clinic.sixth", "admission.sixth"})
INSTITUTION_FIELDS = (
    "name",
    "short_name",
    "tier",
    "district",
    "district_code",
    "credit_code",
    "address",
    "description",
)
_registered = itertools.count(1)


def _n() -> int:
    return next(_registered)


def _spare(o: dict[str, Any]) -> int:
    spare: int = o["register_spares"].pop()
    return spare


def _institution_form(o: dict[str, Any]) -> dict[str, Any]:
    return {k: v if v is not None else "" for k, v in o["sixth_fields"].items()}


def _practitioner_form(o: dict[str, Any]) -> dict[str, Any]:
    return {**o["sixth_expert_fields"], "specialties": "、".join(o["sixth_expert_fields"]["specialties"])}


async def register_objects(db: Database) -> dict[str, Any]:
    """The 徐汇 consortium (its fields, a member to change), 六院's fields, one of its departments
    and experts, and spare institutions to join."""
    from sqlalchemy import select

    from tests.conftest import FIXED_NOW
    from yilian.auth.models import User
    from yilian.auth.service import actor_of
    from yilian.directory.models import Consortium, Department, Institution, Practitioner
    from yilian.directory.service import registers

    async with db.transaction() as session:
        xuhui = await session.scalar(select(Consortium).where(Consortium.name == "徐汇区—市六医院医疗联合体"))
        sixth = await session.scalar(select(Institution).where(Institution.name == "上海市第六人民医院"))
        assert xuhui is not None
        assert sixth is not None
        member = next(m for m in xuhui.memberships if m.institution.name == "龙华社区卫生服务中心")
        department = await session.scalar(
            select(Department).where(Department.institution_id == sixth.id).order_by(Department.id)
        )
        expert = await session.scalar(
            select(Practitioner).where(Practitioner.institution_id == sixth.id, Practitioner.expert.is_(True))
        )
        assert department is not None
        assert expert is not None
        root = await session.scalar(select(User).where(User.username == "sysadmin"))
        assert root is not None
        admin = actor_of(root)
        spares = [
            (
                await registers.create_institution(
                    session, name=f"矩阵备用机构{n}", tier=1, district="徐汇区", actor=admin, now=FIXED_NOW
                )
            ).id
            for n in range(len(USERS) * 2)
        ]
        return {
            "xuhui": xuhui.id,
            "xuhui_fields": {
                "name": xuhui.name, "kind": xuhui.kind, "lead_institution_id": xuhui.lead_institution_id,
                "description": xuhui.description,
            },
            "xuhui_member": member.id,
            "xuhui_member_joined": member.joined_on.isoformat(),
            "sixth_fields": {name: getattr(sixth, name) for name in INSTITUTION_FIELDS},
            "sixth_department": department.id,
            "sixth_department_name": department.name,
            "sixth_expert": expert.id,
            "sixth_expert_fields": {
                "name": expert.name, "title": expert.title, "department_id": expert.department_id or "",
                "specialties": list(expert.specialties), "expert": "true", "profile": expert.profile,
            },
            "register_spares": spares,
        }  # fmt: skip


REGISTER_CASES = [
    Case(
        "POST",
        "/api/v1/institutions",
        post("/api/v1/institutions", lambda o: {"name": f"矩阵机构{_n()}", "tier": 1, "district": "徐汇区"}),
        REGISTRARS,
        ok=201,
    ),
    Case(
        "PATCH",
        "/api/v1/institutions/{institution_id}",
        patch("/api/v1/institutions/{institution_id}", lambda o: {"address": o["sixth_fields"]["address"]}),
        SIXTH_KEEPERS,
    ),
    Case(
        "POST",
        "/api/v1/departments",
        post(
            "/api/v1/departments", lambda o: {"institution_id": o["institution_id"], "name": f"矩阵科{_n()}"}
        ),
        SIXTH_KEEPERS,
        ok=201,
    ),
    Case(
        "PATCH",
        "/api/v1/departments/{department_id}",
        patch("/api/v1/departments/{sixth_department}", lambda o: {"name": o["sixth_department_name"]}),
        SIXTH_KEEPERS,
    ),
    Case(
        "POST",
        "/api/v1/practitioners",
        post(
            "/api/v1/practitioners",
            lambda o: {"institution_id": o["institution_id"], "name": "矩阵医生", "title": "主治医师"},
        ),
        SIXTH_KEEPERS,
        ok=201,
    ),
    Case(
        "PATCH",
        "/api/v1/practitioners/{practitioner_id}",
        patch("/api/v1/practitioners/{sixth_expert}", lambda o: {"expert": True}),
        SIXTH_KEEPERS,
    ),
    Case(
        "POST",
        "/api/v1/consortia",
        post(
            "/api/v1/consortia",
            lambda o: {
                "name": f"矩阵联盟{_n()}",
                "kind": "specialty",
                "lead_institution_id": o["institution_id"],
            },
        ),
        REGISTRARS,
        ok=201,
    ),
    Case(
        "PATCH",
        "/api/v1/consortia/{consortium_id}",
        patch("/api/v1/consortia/{xuhui}", lambda o: {"description": o["xuhui_fields"]["description"]}),
        REGISTRARS,
    ),
    Case(
        "POST",
        "/api/v1/consortia/{consortium_id}/members",
        post("/api/v1/consortia/{xuhui}/members", lambda o: {"institution_id": _spare(o), "role": "member"}),
        XUHUI_KEEPERS,
        ok=201,
    ),
    Case(
        "PATCH",
        "/api/v1/consortia/{consortium_id}/members/{member_id}",
        patch("/api/v1/consortia/{xuhui}/members/{xuhui_member}", lambda o: {"role": "member"}),
        XUHUI_KEEPERS,
    ),
    page("/admin", ADMINISTRATION),
    page("/admin/consortia", XUHUI_KEEPERS),
    page(
        "/admin/consortia",
        REGISTRARS,
        call=submit(
            "/admin/consortia",
            lambda o: {
                "name": f"矩阵页联盟{_n()}",
                "kind": "regional",
                "lead_institution_id": o["institution_id"],
            },
        ),
    ),
    page("/admin/consortia/{consortium_id}", XUHUI_KEEPERS, target="/admin/consortia/{xuhui}"),
    page(
        "/admin/consortia/{consortium_id}",
        REGISTRARS,
        call=submit("/admin/consortia/{xuhui}", lambda o: o["xuhui_fields"]),
    ),
    page(
        "/admin/consortia/{consortium_id}/members",
        XUHUI_KEEPERS,
        call=submit(
            "/admin/consortia/{xuhui}/members",
            lambda o: {"institution_id": _spare(o), "role": "member", "joined_on": "2026-11-01"},
        ),
    ),
    page(
        "/admin/consortia/{consortium_id}/members/{member_id}",
        XUHUI_KEEPERS,
        call=submit(
            "/admin/consortia/{xuhui}/members/{xuhui_member}",
            lambda o: {"role": "member", "joined_on": o["xuhui_member_joined"]},
        ),
    ),
    page(
        "/admin/consortia/{consortium_id}/members/{member_id}/leave",
        XUHUI_KEEPERS,
        call=submit(
            "/admin/consortia/{xuhui}/members/{xuhui_member}/leave", lambda o: {"left_on": "2030-01-01"}
        ),
    ),
    page("/admin/institutions", REGISTRARS),
    page(
        "/admin/institutions",
        REGISTRARS,
        call=submit(
            "/admin/institutions", lambda o: {"name": f"矩阵页机构{_n()}", "tier": "1", "district": "徐汇区"}
        ),
    ),
    page("/admin/institutions/{institution_id}", SIXTH_KEEPERS),
    page(
        "/admin/institutions/{institution_id}",
        SIXTH_KEEPERS,
        call=submit("/admin/institutions/{institution_id}", _institution_form),
    ),
    page(
        "/admin/institutions/{institution_id}/departments",
        SIXTH_KEEPERS,
        call=submit(
            "/admin/institutions/{institution_id}/departments", lambda o: {"name": f"矩阵页科{_n()}"}
        ),
    ),
    page(
        "/admin/departments/{department_id}",
        SIXTH_KEEPERS,
        call=submit("/admin/departments/{sixth_department}", lambda o: {"name": o["sixth_department_name"]}),
    ),
    page(
        "/admin/institutions/{institution_id}/practitioners",
        SIXTH_KEEPERS,
        call=submit(
            "/admin/institutions/{institution_id}/practitioners",
            lambda o: {"name": "矩阵页医生", "title": "医师"},
        ),
    ),
    page(
        "/admin/practitioners/{practitioner_id}",
        SIXTH_KEEPERS,
        call=submit("/admin/practitioners/{sixth_expert}", _practitioner_form),
    ),
]


# --- the register workbook (批量导入, issue 13's import part): upload, dry run, commit, templates,
# exports; each keeper may upload, every row is then asked for (tests/directory/test_imports.py).
KEEPERS = frozenset({"admin.xuhui", "sysadmin", "it.sixth"})


def _workbook() -> bytes:
    from yilian.directory.rules import files
    from yilian.directory.rules.workbook import Kind

    return files.write_template([Kind.DEPARTMENTS])  # its example row names no known institution


def upload_workbook(then: str = "", page: bool = False) -> Call:
    """Upload a workbook (with errors: its commit is refused whole), then GET or commit it; a
    caller refused the upload commits upload 1, which it may not."""

    async def call(client: httpx.AsyncClient, objects: dict[str, Any]) -> httpx.Response:
        base = "/admin/imports" if page else "/api/v1/imports"
        data = {"csrf_token": client.cookies.get("yl_csrf", "")} if page else None
        files = {"file": ("科室.xlsx", _workbook(), "application/octet-stream")}
        sent = await client.post(base, data=data, files=files)
        if not then:
            return sent
        if sent.status_code in (201, 303):
            upload_id = sent.json()["id"] if not page else sent.headers["location"].rsplit("/", 1)[-1]
        else:
            upload_id = "1"
        if then == "get":
            return await client.get(f"{base}/{upload_id}")
        return await client.post(f"{base}/{upload_id}/commit", data=data)

    return call


IMPORT_CASES = [
    Case("POST", "/api/v1/imports", upload_workbook(), KEEPERS, ok=201),
    Case("GET", "/api/v1/imports/{upload_id}", upload_workbook("get"), KEEPERS,
         extra=dict.fromkeys(SIGNED_IN - KEEPERS, 404)),  # another's upload is not found
    Case("POST", "/api/v1/imports/{upload_id}/commit", upload_workbook("commit"), KEEPERS, ok=422),
    Case("GET", "/api/v1/imports/templates/{kind}", get("/api/v1/imports/templates/all"), SIGNED_IN),
    Case("GET", "/api/v1/exports/{kind}", get("/api/v1/exports/departments"), KEEPERS),
    page("/admin/imports", KEEPERS),
    page("/admin/imports", KEEPERS, call=upload_workbook(page=True)),
    Case("GET", "/admin/imports/{upload_id}", upload_workbook("get", page=True), KEEPERS, page=True,
         anonymous=303, extra=dict.fromkeys(SIGNED_IN - KEEPERS, 404)),
    page("/admin/imports/{upload_id}/commit", KEEPERS, call=upload_workbook("commit", page=True), ok=422),
]  # fmt: skip

# --- case channels (issue 14): a 徐汇 channel owned by 六院, 田林's doctor a member, 六院's expert
# its moderator, 金山's cardiologist (no matrix user) a member to remove. Membership is the door:
# the owner's administrators see the channel and keep its members, but read no post.
CHANNEL_MEMBERS = frozenset({"fd.tianlin", "sp.sixth"})
CHANNEL_KEEPERS = frozenset({"sp.sixth", "sysadmin", "it.sixth"})
CHANNEL_SEERS = CHANNEL_MEMBERS | CHANNEL_KEEPERS
_channel_names = itertools.count(1)


def _new_channel(objects: dict[str, Any]) -> dict[str, Any]:
    return {"name": f"矩阵专病群{next(_channel_names)}", "owner_institution_id": objects["institution_id"]}


def _ecg_upload(path: str) -> Call:
    async def call(client: httpx.AsyncClient, objects: dict[str, Any]) -> httpx.Response:
        from tests.channels.conftest import PNG

        return await client.post(path.format(**objects), files={"file": ("ecg.png", PNG, "image/png")})

    return call


def _member_round_trip(remove: bool) -> Call:
    """Add 金山卫镇's doctor, or remove 金山's cardiologist, and undo it with the same client, so
    that every keeper finds the same membership."""

    async def call(client: httpx.AsyncClient, objects: dict[str, Any]) -> httpx.Response:
        members = "/api/v1/channels/{channel_id}/members".format(**objects)
        target = objects["channel_outsider" if remove else "channel_newcomer"]
        if remove:
            answer = await client.delete(f"{members}/{target}")
            if answer.status_code == 204:
                await client.post(members, json={"user_id": target})
            return answer
        answer = await client.post(members, json={"user_id": target})
        if answer.status_code == 201:
            await client.delete(f"{members}/{target}")
        return answer

    return call


def _delete(path: str) -> Call:
    async def call(client: httpx.AsyncClient, objects: dict[str, Any]) -> httpx.Response:
        return await client.delete(path.format(**objects))

    return call


async def channel_objects(api: Api, db: Database) -> dict[str, Any]:
    from tests.channels.conftest import PNG, user_id

    sixth = await institution(db, "上海市第六人民医院")
    admin = await api.as_("sysadmin")
    body = {"name": "矩阵徐汇群", "owner_institution_id": sixth.id}
    channel = (await admin.post("/api/v1/channels", json=body)).json()
    members = f"/api/v1/channels/{channel['id']}/members"
    for username, role in (("sp.sixth", "moderator"), ("fd.tianlin", "member"), ("cardio.jinshan", "member")):
        added = await admin.post(members, json={"user_id": await user_id(db, username), "role": role})
        assert added.status_code == 201, added.text
    doctor = await api.as_("fd.tianlin")
    base = f"/api/v1/channels/{channel['id']}"
    upload = (await doctor.post(f"{base}/attachments", files={"file": ("ecg.png", PNG, "image/png")})).json()
    own = await signed_resident(db, TIANLIN)
    case = await doctor.post(
        f"{base}/posts", json={"body": "胸闷一周", "resident_id": own.id, "attachment_ids": [upload["id"]]}
    )
    assert case.status_code == 201, case.text
    to_retract = (await doctor.post(f"{base}/posts", json={"body": "发错了"})).json()
    return {
        "channel_id": channel["id"],
        "channel_post": case.json()["id"],
        "channel_attachment": upload["id"],
        "channel_post_to_retract": to_retract["id"],
        "channel_outsider": await user_id(db, "cardio.jinshan"),
        "channel_newcomer": await user_id(db, "fd.jinshanwei"),
    }


CH, POSTS = "/api/v1/channels", "/api/v1/channels/posts"
CHANNEL_CASES = [
    Case("GET", CH, get(CH), SIGNED_IN),
    Case("POST", CH, post(CH, _new_channel), frozenset({"sysadmin", "it.sixth"}), ok=201),
    Case("GET", f"{CH}/{{channel_id}}", get(f"{CH}/{{channel_id}}"), CHANNEL_SEERS),
    Case("GET", f"{CH}/{{channel_id}}/members", get(f"{CH}/{{channel_id}}/members"), CHANNEL_SEERS),
    Case("POST", f"{CH}/{{channel_id}}/members", _member_round_trip(remove=False), CHANNEL_KEEPERS, ok=201),
    Case(
        "DELETE",
        f"{CH}/{{channel_id}}/members/{{user_id}}",
        _member_round_trip(remove=True),
        CHANNEL_KEEPERS,
        ok=204,
    ),
    Case("GET", f"{CH}/{{channel_id}}/posts", get(f"{CH}/{{channel_id}}/posts"), CHANNEL_MEMBERS),
    Case(
        "POST",
        f"{CH}/{{channel_id}}/posts",
        post(f"{CH}/{{channel_id}}/posts", lambda o: {"body": "矩阵消息"}),
        CHANNEL_MEMBERS,
        ok=201,
    ),
    Case(
        "POST",
        f"{CH}/{{channel_id}}/attachments",
        _ecg_upload(f"{CH}/{{channel_id}}/attachments"),
        CHANNEL_MEMBERS,
        ok=201,
    ),
    Case(
        "POST",
        f"{CH}/{{channel_id}}/read",
        post(f"{CH}/{{channel_id}}/read", lambda o: {"post_id": o["channel_post"]}),
        CHANNEL_MEMBERS,
        ok=204,
    ),
    Case("GET", f"{POSTS}/{{post_id}}", get(f"{POSTS}/{{channel_post}}"), CHANNEL_MEMBERS),
    # Only the author edits (within 5 minutes: the matrix's clock stands still).
    Case(
        "PATCH",
        f"{POSTS}/{{post_id}}",
        patch(f"{POSTS}/{{channel_post}}", lambda o: {"body": "胸闷一周，加重"}),
        frozenset({"fd.tianlin"}),
    ),
    # The author retracts first; the moderator then finds it retracted.
    Case(
        "POST",
        f"{POSTS}/{{post_id}}/retract",
        post(f"{POSTS}/{{channel_post_to_retract}}/retract"),
        CHANNEL_MEMBERS,
        extra={"sp.sixth": 409},
    ),
    Case("POST", f"{POSTS}/{{post_id}}/pin", post(f"{POSTS}/{{channel_post}}/pin"), frozenset({"sp.sixth"})),
    Case(
        "POST", f"{POSTS}/{{post_id}}/unpin", post(f"{POSTS}/{{channel_post}}/unpin"), frozenset({"sp.sixth"})
    ),
    Case("GET", f"{POSTS}/{{post_id}}/replies", get(f"{POSTS}/{{channel_post}}/replies"), CHANNEL_MEMBERS),
    Case(
        "POST",
        f"{POSTS}/{{post_id}}/replies",
        post(f"{POSTS}/{{channel_post}}/replies", lambda o: {"body": "收到"}),
        CHANNEL_MEMBERS,
        ok=201,
    ),
    Case("GET", f"{POSTS}/{{post_id}}/acks", get(f"{POSTS}/{{channel_post}}/acks"), CHANNEL_MEMBERS),
    Case("POST", f"{POSTS}/{{post_id}}/acks", post(f"{POSTS}/{{channel_post}}/acks"), CHANNEL_MEMBERS),
    # 田林's doctor refers its own signed resident up to 六院; 六院's expert refers nothing "up" (422).
    Case(
        "POST",
        f"{POSTS}/{{post_id}}/referral",
        post(f"{POSTS}/{{channel_post}}/referral"),
        frozenset({"fd.tianlin"}),
        ok=201,
        extra={"sp.sixth": 422},
    ),
    Case(
        "GET",
        f"{CH}/attachments/{{attachment_id}}",
        get(f"{CH}/attachments/{{channel_attachment}}"),
        CHANNEL_MEMBERS,
    ),
    Case(
        "GET",
        f"{CH}/attachments/{{attachment_id}}/picture",
        get(f"{CH}/attachments/{{channel_attachment}}/picture"),
        CHANNEL_MEMBERS,
    ),
]
CASES = (
    API_CASES
    + PAGE_CASES
    + SCHEDULING_CASES
    + BOOKING_PAGE_CASES
    + NOTICE_CASES
    + REFERRAL_CASES
    + REFERRAL_PAGE_CASES
    + ADMISSION_CASES
    + ADMISSION_PAGE_CASES
    + WARD_KEEPING_CASES
    + ANALYTICS_CASES
    + ACCOUNT_CASES
    + CLINIC_REGISTER_CASES
    + REGISTER_CASES
    + IMPORT_CASES
    + CHANNEL_CASES
)


def served_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves, however routers are nested."""
    routes: set[tuple[str, str]] = set()

    def visit(route: Any) -> None:
        if hasattr(route, "effective_route_contexts"):
            for context in route.effective_route_contexts():
                # a context's path carries the prefixes of the routers it was included through
                for method in getattr(context, "methods", None) or ():
                    if method != "HEAD":
                        routes.add((method, context.path))
                if not getattr(context, "methods", None):
                    visit(context.original_route)
        elif isinstance(route, APIRoute) or hasattr(route, "methods"):
            for method in route.methods or ():
                if method != "HEAD":
                    routes.add((method, route.path))

    for route in app.routes:
        visit(route)
    return routes


async def make_objects(api: Api, db: Database) -> dict[str, Any]:
    own, other = await signed_resident(db, TIANLIN), await signed_resident(db, KANGJIAN)
    own_doctor, other_doctor = await family_doctor_of(db, TIANLIN), await family_doctor_of(db, KANGJIAN)
    tianlin = await api.as_("fd.tianlin")
    kangjian = await api.as_("fd.kangjian")
    own_unsigned, own_unsigned_page = [
        (await tianlin.post("/api/v1/residents", json=resident_body())).json()["id"] for _ in range(2)
    ]
    other_unsigned, other_unsigned_page = [
        (await kangjian.post("/api/v1/residents", json=resident_body())).json()["id"] for _ in range(2)
    ]
    clinic = await make_clinic(db)
    second = await signed_resident(db, TIANLIN, nth=1)
    own_appointment = await tianlin.post(
        "/api/v1/appointments", json={"session_id": clinic.id, "resident_id": second.id}
    )
    assert own_appointment.status_code == 201, own_appointment.text
    walk_in_body = resident_body()
    assert (await kangjian.post("/api/v1/residents", json=walk_in_body)).status_code == 201
    walk_in = {"name": walk_in_body["name"], "id_number": walk_in_body["id_number"]}
    sixth = await institution(db, "上海市第六人民医院")
    consortia = (await tianlin.get("/api/v1/consortia")).json()["items"]
    departments = (await tianlin.get("/api/v1/departments", params={"institution_id": sixth.id})).json()
    # The pages book into a session of their own, a week later (community booking open, public not
    # yet): each centre's first signed resident by the page, its second beforehand by the API.
    page_session = await make_clinic(db, day=clinic.date + timedelta(weeks=1))
    booked_here = await tianlin.post(
        "/api/v1/appointments", json={"session_id": page_session.id, "resident_id": second.id}
    )
    other_second = await signed_resident(db, KANGJIAN, nth=1)
    booked_there = await kangjian.post(
        "/api/v1/appointments", json={"session_id": page_session.id, "resident_id": other_second.id}
    )
    assert booked_here.status_code == booked_there.status_code == 201, booked_here.text + booked_there.text
    # A notice for 田林's family doctors; a session two weeks on waits for the 停诊 row.
    to_stop, to_stop_page = [await make_clinic(db, day=clinic.date + timedelta(weeks=n)) for n in (2, 3)]
    async with db.transaction() as session:
        await notices.notify_role_at(
            session,
            institution_ids={own_doctor.institution_id},
            role=Role.FAMILY_DOCTOR,
            kind="test",
            title="通知",
            body="",
            link=None,
            now=clinic.starts_at,
        )
    own_notice = (await tianlin.get("/api/v1/notices")).json()["items"][0]["id"]
    jinshan = await institution(db, "复旦大学附属金山医院")
    strangers = (await tianlin.get("/api/v1/practitioners", params={"institution_id": jinshan.id})).json()
    admissions = await matrix_objects(api, db, own_resident=second.id, other_resident=other_second.id)
    return {
        **await referral_objects(api, db),
        **admissions,
        **await account_objects(api, sixth.id),
        **await keeping_matrix_objects(db),  # issue 13: wards and beds
        **await register_objects(db),
        "expert_id": clinic.practitioner_id,
        "page_session": page_session.id,
        "own_page_resident": own.id,
        "other_page_resident": other.id,
        "own_page_appointment": booked_here.json()["id"],
        "other_page_appointment": booked_there.json()["id"],
        "stranger_expert": strangers["items"][0]["id"],
        "own_resident": own.id,
        "other_resident": other.id,
        "own_doctor": own_doctor.id,
        "other_doctor": other_doctor.id,
        "own_unsigned": own_unsigned,
        "other_unsigned": other_unsigned,
        "own_unsigned_page": own_unsigned_page,
        "other_unsigned_page": other_unsigned_page,
        "consortium_id": consortia[0]["id"],
        "institution_id": sixth.id,
        "department_id": departments["items"][0]["id"],
        "practitioner_id": own_doctor.id,
        "session_id": clinic.id,
        "own_appointment": own_appointment.json()["id"],
        "walk_in": walk_in,
        "own_notice": own_notice,
        "session_to_stop": to_stop.id,
        "session_to_stop_page": to_stop_page.id,
        **await clinic_register_objects(db),  # issue 13, clinic templates and closures
        **await channel_objects(api, db),  # issue 14, case channels
    }


class Clients:
    """One client per user and kind (bearer for the API, browser for pages), reused across cases."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.cache: dict[tuple[str, bool], httpx.AsyncClient] = {}

    async def new(self, user: str, *, page: bool) -> httpx.AsyncClient:
        if not page:
            return self.api.client() if user == ANON else await self.api.as_(user)
        return await self.api.page_visitor() if user == ANON else await self.api.browser(user)

    async def get(self, case: Case, user: str) -> httpx.AsyncClient:
        if case.fresh:
            return await self.new(user, page=case.page)
        if (user, case.page) not in self.cache:
            self.cache[user, case.page] = await self.new(user, page=case.page)
        return self.cache[user, case.page]


async def test_every_route_is_in_the_matrix(app: FastAPI) -> None:
    named = {(case.method, case.path) for case in CASES}
    served = served_routes(app) - {("GET", "/static")}
    assert served - named == set(), "routes with no row in the authorization matrix"
    assert named - served == set(), "matrix rows for routes the app does not serve"


async def test_every_role_gets_what_the_matrix_says(api: Api, app_db: Database) -> None:
    objects = await make_objects(api, app_db)
    clients = Clients(api)
    wrong = []
    for case in CASES:
        for user in USERS:
            response = await case.call(await clients.get(case, user), objects)
            if response.status_code != case.expected(user):
                wrong.append(
                    f"{case.method} {case.path} [{case.variant or '-'}] as {user}: "
                    f"{response.status_code}, expected {case.expected(user)}: {response.text[:120]}"
                )
    assert wrong == [], "\n".join(wrong)
