"""Referral test helpers: the demo's parties (田林 → 六院 up, 六院 → 田林 down) and quick rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select

from tests.factories import institution, signed_resident
from tests.fixtures_app import Api
from yilian.core.db import Database
from yilian.directory.models import Department, Practitioner
from yilian.referrals.models import Referral
from yilian.referrals.rules import Direction, Status

TIANLIN = "田林社区卫生服务中心"
KANGJIAN = "康健社区卫生服务中心"
SIXTH = "上海市第六人民医院"
EIGHTH = "上海市第八人民医院"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def sixth_department(db: Database) -> Department:
    """sp.sixth's department at 六院."""
    async with db.read() as session:
        from yilian.auth.models import User

        user = await session.scalar(select(User).where(User.username == "sp.sixth"))
        assert user is not None
        doctor = await session.get(Practitioner, user.practitioner_id)
        assert doctor is not None
        department = await session.get(Department, doctor.department_id)
        assert department is not None
        return department


async def up_body(db: Database, *, nth: int = 0, **overrides: Any) -> dict[str, Any]:
    resident = await signed_resident(db, TIANLIN, nth=nth)
    sixth = await institution(db, SIXTH)
    department = await sixth_department(db)
    body = {
        "direction": "up",
        "resident_id": resident.id,
        "target_institution_id": sixth.id,
        "target_department_id": department.id,
        "urgency": "urgent",
        "service": "outpatient",
        "reason": "血压控制不佳，伴胸闷",
        "summary": "高血压10年，近两周血压160/100mmHg，服药后仍高。心电图示ST段改变。",
        "diagnoses": [{"code": "I10", "text": "原发性高血压"}],
    }
    return {**body, **overrides}


async def refer_up(
    api: Api, db: Database, *, submit: bool = True, nth: int = 0, **overrides: Any
) -> dict[str, Any]:
    doctor = await api.as_("fd.tianlin")
    response = await doctor.post(
        "/api/v1/referrals", json=await up_body(db, nth=nth, submit=submit, **overrides)
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def act(client: httpx.AsyncClient, referral_id: int, action: str, **body: Any) -> httpx.Response:
    return await client.post(f"/api/v1/referrals/{referral_id}/actions/{action}", json=body)


async def insert_referral(
    db: Database, *, direction: Direction, status: Status, now: datetime, resident_id: int | None = None
) -> int:
    """A referral row straight in a given status (for the transition table test)."""
    tianlin, sixth = await institution(db, TIANLIN), await institution(db, SIXTH)
    resident = resident_id or (await signed_resident(db, TIANLIN)).id
    async with db.transaction() as session:
        from yilian.auth.models import User

        author = await session.scalar(
            select(User.id).where(
                User.username == ("fd.tianlin" if direction is Direction.UP else "sp.sixth")
            )
        )
        assert author is not None
        up = direction is Direction.UP
        row = Referral(
            direction=direction,
            status=status,
            urgency="routine",
            service="outpatient" if up else "follow_up",
            resident_id=resident,
            origin_institution_id=tianlin.id if up else sixth.id,
            created_by=author,
            target_institution_id=sixth.id if up else tianlin.id,
            reason="测试",
            created_at=now,
            updated_at=now,
            submitted_at=None if status is Status.DRAFT else now,
        )
        session.add(row)
        await session.flush()
        return row.id


async def matrix_objects(api: Api, db: Database) -> dict[str, Any]:
    """What the authorization matrix's referral rows touch: an up-referral 田林 → 六院 with an
    attachment, a fresh one for 六院 to accept, and 田林's follow-up tasks from a down-referral."""
    tianlin, specialist = await api.as_("fd.tianlin"), await api.as_("sp.sixth")
    own = await refer_up(api, db, nth=2)
    to_accept = await refer_up(api, db, nth=3)
    page_to_accept = await refer_up(api, db, nth=5)
    upload = await tianlin.post(
        f"/api/v1/referrals/{own['id']}/attachments", files={"file": ("ecg.png", PNG, "image/png")}
    )
    assert upload.status_code == 201, upload.text
    tianlin_centre = await institution(db, TIANLIN)
    down = await specialist.post(
        "/api/v1/referrals",
        json={
            "direction": "down",
            "resident_id": own["resident"]["id"],
            "target_institution_id": tianlin_centre.id,
            "reason": "病情稳定，转社区随访",
            "plan": [{"what": "测血压", "every_days": 7, "until": "2027-01-31"}],
            "submit": True,
        },
    )
    assert down.status_code == 201, down.text
    accepted = await act(tianlin, down.json()["id"], "accept")
    tasks = accepted.json()["tasks"]
    assert len(tasks) >= 3, accepted.text
    sixth = await institution(db, SIXTH)
    return {
        "own_referral": own["id"],
        "referral_to_accept": to_accept["id"],
        "own_attachment": upload.json()["id"],
        "own_task": tasks[0]["id"],
        "own_task_to_refer": tasks[1]["id"],
        "own_task_page": tasks[2]["id"],
        "page_referral_to_accept": page_to_accept["id"],
        "referral_form": {
            "direction": "up",
            "resident_id": str((await signed_resident(db, TIANLIN, nth=6)).id),
            "target": f"{sixth.id}:",
            "reason": "胸闷",
        },
        "referral_body": await up_body(db, nth=4, submit=True),
        "sixth_id": sixth.id,
    }
