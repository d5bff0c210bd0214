"""Referral pages (filled in below): the phone-usable form, worklists, timeline, printable sheet,
follow-up tasks, and the consortium's monthly counts."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
