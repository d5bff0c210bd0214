"""Full ID numbers and phones stay out of logs (the suite-wide scan is in fixtures_app)."""

from __future__ import annotations

import logging
import sys

import pytest

from tests.factories import signed_resident
from tests.fixtures_app import Api, unmasked
from yilian.core.db import Database
from yilian.core.logs import MaskingFormatter, install_record_masking
from yilian.core.masking import mask_id_number, mask_phone, mask_text

NUMBER = "310104199001011234"


async def test_access_log_masks_an_id_number_in_the_query(
    api: Api, app_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    resident = await signed_resident(app_db, "田林社区卫生服务中心")
    assert resident.phone is not None
    client = await api.as_("fd.tianlin")
    with caplog.at_level(logging.INFO, logger="yilian.access"):
        await client.get("/api/v1/residents", params={"q": resident.id_number})
        await client.get("/api/v1/residents", params={"q": resident.phone})
    lines = [r.getMessage() for r in caplog.records if r.name == "yilian.access"]
    assert any(mask_id_number(resident.id_number) in line for line in lines), lines
    assert any(mask_phone(resident.phone) in line for line in lines), lines
    assert not any(resident.id_number in line or resident.phone in line for line in lines)


def test_records_are_masked_where_they_are_made(caplog: pytest.LogCaptureFixture) -> None:
    install_record_masking()
    with caplog.at_level(logging.INFO):
        logging.getLogger("yilian.test").info("resident %s phone %s", NUMBER, "13812341234")
    assert caplog.records[-1].getMessage() == "resident 310104********1234 phone 138****1234"


def test_tracebacks_are_masked_by_the_formatter() -> None:
    try:
        raise ValueError(f"Key (id_number)=({NUMBER}) already exists.")  # noqa: TRY301
    except ValueError:
        record = logging.LogRecord("db", logging.ERROR, __file__, 1, "insert failed", None, sys.exc_info())
    line = MaskingFormatter("%(message)s").format(record)
    assert "310104********1234" in line
    assert NUMBER not in line


def test_the_scanner_finds_what_it_must() -> None:
    assert unmasked(f"q={NUMBER}&x=1") == [NUMBER]
    assert unmasked("tel 13812341234.") == ["13812341234"]
    assert unmasked("310104********1234 138****1234") == []


def test_tracebacks_are_masked_for_any_handler(caplog: pytest.LogCaptureFixture) -> None:
    install_record_masking()
    try:
        raise ValueError(f"Key (id_number)=({NUMBER}) already exists.")  # noqa: TRY301
    except ValueError:
        logging.getLogger("yilian.test").exception("insert failed")
    assert NUMBER not in caplog.text
    assert "310104********1234" in caplog.text


def test_an_access_line_keeps_a_phone_at_the_end_of_the_query_apart_from_the_status_and_time() -> None:
    """A slow request (1247.7 ms) after `?q=<phone>`: the digits of status and time must not join
    the phone into an ID-number-shaped run (that masked the wrong digits and left the line unread)."""
    from yilian.web.middleware import ACCESS_FORMAT

    line = mask_text(ACCESS_FORMAT % ("GET", "/api/v1/residents", "?q=15340867416", 200, 1247.7))
    assert line == "GET /api/v1/residents?q=153****7416 200 in 1247.7 ms"


def test_the_leak_scan_counts_id_numbers_not_credit_codes() -> None:
    """The suites' scan (tests/fixtures_app.unmasked) flags whatever has an ID number's shape (a
    check digit that does not match included), but not a digits-only 统一社会信用代码 of the
    directory (an institution's code is public, not personal data)."""
    from tests.fixtures_app import unmasked

    assert unmasked(f"id {NUMBER}") == [NUMBER]
    assert unmasked("code 123101040425000152 of 上海市第六人民医院") == []
