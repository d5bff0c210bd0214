"""An admission request citing an appointment or referral that does not exist, or is another
resident's, is refused with a field error and nothing is queued (issue 11 §4)."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.admissions.conftest import make_ward
from tests.admissions.test_requests import request_body, signed_patient, walk_in_patient
from tests.fixtures_app import Api
from yilian.admissions.models import AdmissionRequest
from yilian.core.db import Database
from yilian.scheduling.models import Appointment


async def test_a_request_cites_a_source_of_its_own_resident(api: Api, app_db: Database) -> None:
    ward = await make_ward(app_db)
    patient, other = await signed_patient(api, app_db), await walk_in_patient(api, app_db)
    async with app_db.read() as session:
        theirs = await session.scalar(select(Appointment.id).where(Appointment.resident_id == patient))
        others = await session.scalar(select(Appointment.id).where(Appointment.resident_id == other))
        before = await session.scalar(select(func.count()).select_from(AdmissionRequest))
    assert theirs is not None
    assert others is not None
    specialist = await api.as_("sp.sixth")
    for source, source_id in (
        ("appointment", 2_000_000_000),
        ("referral", 2_000_000_000),
        ("appointment", others),
    ):
        body = request_body(ward.id, patient, source=source, source_id=source_id)
        refused = await specialist.post("/api/v1/admission-requests", json=body)
        assert refused.status_code == 422, (source, source_id, refused.text)
        assert refused.json()["code"] == "implausible_value"
        assert [e["field"] for e in refused.json()["errors"]] == ["body.source_id"]
    async with app_db.read() as session:
        assert await session.scalar(select(func.count()).select_from(AdmissionRequest)) == before
    body = request_body(ward.id, patient, source="appointment", source_id=theirs)
    made = await specialist.post("/api/v1/admission-requests", json=body)
    assert made.status_code == 201, made.text
