"""What the numbers' API gives: a hospital's month by department, the referrals by month."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class MonthStatsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    department_id: int
    department_name: str
    month: str
    requests: int
    admitted: int
    median_wait_days_signed: float | None
    p90_wait_days_signed: float | None
    median_wait_days_other: float | None
    p90_wait_days_other: float | None
    places_gained: int = Field(description="Places gained by 社区签约 patients in the queue")
    longest_wait_days_now: float | None


class MonthOut(BaseModel):
    month: str
    up: int
    down: int
    closed: int
