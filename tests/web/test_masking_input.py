"""The access log and the audit row's stored query mask an ID number or phone however it was
written: percent-encoded, glued to letters, after +86 (issue 11 §4)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from tests.factories import signed_resident
from tests.fixtures_app import Api
from yilian.auth.models import AuditEvent
from yilian.core.db import Database


async def test_access_log_and_audit_query_mask_numbers_however_written(
    api: Api, app_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    resident = await signed_resident(app_db, "田林社区卫生服务中心")
    assert resident.phone is not None
    number, phone = resident.id_number, resident.phone
    encoded = "".join(f"%25{ord(c):02X}" for c in number)  # the query holds "%33%31…" literally
    queries = [
        f"q={encoded}",
        f"q={number[:6]}%20{number[6:]}",
        f"q=abc{phone}xyz",
        f"q=%2B86{phone}",
        f"q=%2B86%20{phone[:3]}%20{phone[3:7]}%20{phone[7:]}",
        f"q=86-{phone}",
        f"q=x{number}y",
    ]
    client = await api.as_("fd.tianlin")
    with caplog.at_level(logging.INFO, logger="yilian.access"):
        for query in queries:
            assert (await client.get(f"/api/v1/residents?{query}")).status_code == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "yilian.access"]
    assert len(lines) >= len(queries)
    async with app_db.read() as session:
        rows = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "resident.list"))).all()
    stored = [str(row.detail.get("q")) for row in rows if row.detail and row.detail.get("q")]
    assert len(stored) >= len(queries)
    for text in lines + stored:
        flat = text.replace("%20", "").replace(" ", "").replace("-", "")
        assert number not in flat, text
        assert phone not in flat, text
        assert "".join(f"%{ord(c):02X}" for c in number[6:14]) not in text, text
