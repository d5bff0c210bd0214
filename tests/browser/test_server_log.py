"""The server's own output masks ID numbers and mobiles (DESIGN §4): a positive control for the
scan the live-server fixture makes at the end of the session (tests/browser/conftest.py).

A family doctor looks a resident up by the full ID number and by the full mobile (both sit in
the query string, which the access log records); the log then shows them masked only.
"""

from __future__ import annotations

import logging

import httpx
import pytest

from tests.browser.conftest import LiveServer, personal_data_in
from yilian.core.masking import mask_id_number, mask_phone


def test_searching_by_id_number_and_mobile_leaves_them_masked_in_the_log(
    live_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    # httpx logs each URL at INFO in this process, where tests/fixtures_app.py scans every log line.
    caplog.set_level(logging.WARNING, logger="httpx")
    headers = {"Authorization": f"Bearer {live_server.token('fd.tianlin')}"}
    with httpx.Client(base_url=live_server.base_url, headers=headers, timeout=10) as client:
        listed = client.get("/api/v1/residents", params={"limit": 20})
        assert listed.status_code == 200, listed.text
        resident = next(item for item in listed.json()["items"] if item["phone"])
        revealed = client.post(f"/api/v1/residents/{resident['id']}/reveal")
        assert revealed.status_code == 200, revealed.text
        id_number, phone = revealed.json()["id_number"], revealed.json()["phone"]
        assert "*" not in id_number + phone, "reveal shows the full ID number and phone"
        for query in (id_number, phone):
            found = client.get("/api/v1/residents", params={"q": query})
            assert found.status_code == 200, found.text
            assert [item["id"] for item in found.json()["items"]] == [resident["id"]]

    masked_id, masked_phone = f"q={mask_id_number(id_number)}", f"q={mask_phone(phone)}"
    output = live_server.output_with(masked_id, masked_phone)
    assert masked_id in output, "the access log shows no masked ID number search"
    assert masked_phone in output, "the access log shows no masked mobile search"
    assert id_number not in output
    assert phone not in output
    assert not personal_data_in(output)
