"""The arithmetic every statistic shares: local months, their bounds, percentiles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from yilian.analytics.rules import month_bounds, month_of, percentile, shift_month

# Hypothesis takes naive bounds and puts the zone on each instant it draws.
INSTANTS = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001
    max_value=datetime(2099, 12, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 0.5) is None
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([float(n) for n in range(1, 11)], 0.9) == 9.0


def test_shift_month_crosses_years() -> None:
    assert shift_month("2026-01", -1) == "2025-12"
    assert shift_month("2026-12", 1) == "2027-01"
    assert shift_month("2026-11", 0) == "2026-11"


def test_a_month_starts_at_midnight_in_shanghai() -> None:
    """2026-11-30T16:30Z is 00:30 on 1 December in Shanghai: December's, not November's."""
    assert month_bounds("2026-12") == (
        datetime(2026, 11, 30, 16, 0, tzinfo=UTC),
        datetime(2026, 12, 31, 16, 0, tzinfo=UTC),
    )
    assert month_bounds("2026-11")[1] == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert month_of(datetime(2026, 11, 30, 16, 30, tzinfo=UTC)) == "2026-12"
    assert month_of(datetime(2026, 11, 30, 15, 59, tzinfo=UTC)) == "2026-11"


@given(INSTANTS, st.sampled_from(["Asia/Shanghai", "UTC", "America/New_York"]))
def test_an_instant_falls_in_the_bounds_of_its_month(instant: datetime, zone_name: str) -> None:
    """month_of and month_bounds are one rule: the month of an instant is the one that holds it."""
    zone = ZoneInfo(zone_name)
    month = month_of(instant, zone)
    start, end = month_bounds(month, zone)
    assert start <= instant < end
    assert month_bounds(shift_month(month, 1), zone)[0] == end
    assert month_of(end - timedelta(microseconds=1), zone) == month
