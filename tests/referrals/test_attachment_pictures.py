"""An attachment shown in the referral's page: an image as it is, a PDF's first page rendered on
the server as a PNG (bounded, rendered once per file), to the referral's two sides only, audited
as a read; the file's hash kept in its details."""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from collections import OrderedDict

import pytest
from sqlalchemy import select

from tests.fixtures_app import Api
from tests.referrals.conftest import PDF, PNG, refer_up
from yilian.auth.models import AuditEvent
from yilian.core.db import Database
from yilian.referrals.service import attachments

A4 = (595, 842)  # points


def one_page_pdf(box: tuple[int, int, int, int], size: tuple[int, int] = A4) -> bytes:
    """A real PDF, written out by hand: one page with a black box (x, y from the bottom, w, h)."""
    stream = b"0 0 0 rg %d %d %d %d re f" % box
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents 4 0 R >>" % size,
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and RGB rows of an 8-bit RGB PNG (every PNG row filter undone)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, chunks = 8, {}
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        assert struct.unpack(">I", data[at + 8 + length : at + 12 + length])[0] == zlib.crc32(kind + body)
        chunks[kind] = chunks.get(kind, b"") + body
        at += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 2)
    raw, rows, previous, line = zlib.decompress(chunks[b"IDAT"]), [], bytes(width * 3), width * 3 + 1
    for y in range(height):
        kind, row = raw[y * line], bytearray(raw[y * line + 1 : (y + 1) * line])
        for i in range(len(row)):
            left = row[i - 3] if i >= 3 else 0
            up, corner = previous[i], previous[i - 3] if i >= 3 else 0
            guess = left + up - corner
            paeth = min((abs(guess - left), left), (abs(guess - up), up), (abs(guess - corner), corner))[1]
            row[i] = (row[i] + (0, left, up, (left + up) // 2, paeth)[kind]) & 0xFF
        rows.append(bytes(row))
        previous = bytes(row)
    return width, height, rows


def pixel(rows: list[bytes], x: int, y: int) -> bytes:
    return rows[y][x * 3 : x * 3 + 3]


async def upload(api: Api, referral_id: int, name: str, content: bytes, kind: str) -> int:
    doctor = await api.as_("fd.tianlin")
    url = f"/api/v1/referrals/{referral_id}/attachments"
    response = await doctor.post(url, files={"file": (name, content, kind)})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def test_a_pdf_report_shows_its_first_page_as_a_png(api: Api, app_db: Database) -> None:
    referral = await refer_up(api, app_db)
    report = one_page_pdf((100, 600, 200, 100))  # 100 pt from the left, 142 pt from the top
    attachment = await upload(api, referral["id"], "化验单.pdf", report, "application/pdf")
    specialist = await api.browser("sp.sixth")
    shown = await specialist.get(f"/referrals/{referral['id']}/attachments/{attachment}/picture")
    assert shown.status_code == 200, shown.text
    assert shown.headers["content-type"] == "image/png"
    assert shown.headers["x-content-type-options"] == "nosniff"
    width, height, rows = decode_png(shown.content)
    assert width == 1000  # bounded: 1000 px wide
    assert abs(height - 1000 * 842 / 595) <= 1  # A4's shape (PDFium rounds the pixels up)
    scale = 1000 / 595
    inside = (round(200 * scale), round(192 * scale))  # the box's middle
    assert pixel(rows, *inside) == b"\x00\x00\x00"
    assert pixel(rows, 20, 20) == b"\xff\xff\xff"  # white behind, not transparent black
    assert pixel(rows, round(350 * scale), round(192 * scale)) == b"\xff\xff\xff"  # right of the box
    async with app_db.read() as session:
        reads = (
            await session.scalars(
                select(AuditEvent.username).where(
                    AuditEvent.action == "referral.attachment.read", AuditEvent.outcome == "allowed"
                )
            )
        ).all()
    assert reads == ["sp.sixth"]


async def test_an_image_is_shown_as_it_is_and_the_page_keeps_its_hash_in_the_details(
    api: Api, app_db: Database
) -> None:
    referral = await refer_up(api, app_db)
    attachment = await upload(api, referral["id"], "心电图.png", PNG, "image/png")
    doctor = await api.browser("fd.tianlin")
    picture = f"/referrals/{referral['id']}/attachments/{attachment}/picture"
    shown = await doctor.get(picture)
    assert (shown.status_code, shown.headers["content-type"], shown.content) == (200, "image/png", PNG)
    assert shown.headers["content-disposition"] == "inline"  # opens full size, never a download
    page = (await doctor.get(f"/referrals/{referral['id']}")).text
    assert f'<a href="{picture}" target="_blank"' in page  # a tap opens it full size
    assert f'<img src="{picture}"' in page
    digest = hashlib.sha256(PNG).hexdigest()
    details = re.search(r'<details class="attachment-info">.*?</details>', page, re.S)
    assert details is not None
    assert "文件信息" in details[0]
    assert digest in details[0]
    assert page.count(digest[:12]) == 1  # nowhere else in front of the clinician


async def test_a_pdf_is_rendered_once_and_kept(
    api: Api, app_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: list[int] = []
    render = attachments.first_page_png

    def counted(content: bytes, width: int) -> bytes:
        rendered.append(width)
        return render(content, width)

    monkeypatch.setattr(attachments, "first_page_png", counted)
    monkeypatch.setattr(attachments, "_rendered", OrderedDict())  # nothing kept from other tests
    referral = await refer_up(api, app_db)
    report = one_page_pdf((50, 50, 77, 33))
    attachment = await upload(api, referral["id"], "lab.pdf", report, "application/pdf")
    doctor = await api.browser("fd.tianlin")
    for _ in range(3):
        shown = await doctor.get(f"/referrals/{referral['id']}/attachments/{attachment}/picture")
        assert shown.status_code == 200
    assert rendered == [attachments.PREVIEW_WIDTH]


async def test_a_pdf_that_cannot_be_read_is_refused_in_words(api: Api, app_db: Database) -> None:
    referral = await refer_up(api, app_db)
    attachment = await upload(api, referral["id"], "broken.pdf", PDF, "application/pdf")  # no page
    doctor = await api.browser("fd.tianlin")
    shown = await doctor.get(f"/referrals/{referral['id']}/attachments/{attachment}/picture")
    assert shown.status_code == 422
    assert "无法显示" in shown.text


async def test_outsiders_get_no_picture_and_the_attempt_is_audited(api: Api, app_db: Database) -> None:
    referral = await refer_up(api, app_db)
    report = one_page_pdf((10, 10, 20, 20))
    attachment = await upload(api, referral["id"], "lab.pdf", report, "application/pdf")
    for outsider in ("fd.kangjian", "reg.sixth"):
        client = await api.browser(outsider)
        refused = await client.get(f"/referrals/{referral['id']}/attachments/{attachment}/picture")
        assert refused.status_code == 403
        assert b"\x89PNG" not in refused.content
    async with app_db.read() as session:
        denied = (
            await session.scalars(
                select(AuditEvent.username).where(
                    AuditEvent.action == "referral.attachment.read", AuditEvent.outcome == "denied"
                )
            )
        ).all()
    assert sorted(denied) == ["fd.kangjian", "reg.sixth"]
