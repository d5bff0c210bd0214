"""Fixtures of the numbers' tests: a clinic session to count (the scheduling tests' own)."""

from __future__ import annotations

import pytest

from tests.scheduling.conftest import make_clinic
from yilian.core.db import Database
from yilian.scheduling.models import ClinicSession


@pytest.fixture
async def clinic(app_db: Database) -> ClinicSession:
    return await make_clinic(app_db)
