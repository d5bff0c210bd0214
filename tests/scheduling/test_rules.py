"""Quota arithmetic: kept counts, their spread, the weekly adjustment, booking windows."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yilian.scheduling import rules

SLOTS = st.integers(min_value=0, max_value=120)
SHARES = st.integers(min_value=0, max_value=rules.BASIS)


def test_the_seed_example_30_slots_keep_6_spread_over_the_morning() -> None:
    kept = rules.kept_count(30, rules.DEFAULT_SHARE)
    assert kept == 6
    assert rules.kept_numbers(30, kept) == {3, 8, 13, 18, 23, 28}


@pytest.mark.parametrize(
    ("slots", "share", "kept"),
    [(30, 1000, 3), (25, 1000, 3), (24, 1000, 2), (15, 2000, 3), (0, 2000, 0), (7, 0, 0), (7, 10000, 7)],
)
def test_kept_count_rounds_halves_up(slots: int, share: int, kept: int) -> None:
    assert rules.kept_count(slots, share) == kept


@given(SLOTS, SHARES)
def test_kept_numbers_are_distinct_in_range_and_evenly_spread(slots: int, share: int) -> None:
    kept = rules.kept_count(slots, share)
    numbers = sorted(rules.kept_numbers(slots, kept))
    assert len(numbers) == kept
    assert all(1 <= n <= slots for n in numbers)
    if kept >= 2:
        gaps = [b - a for a, b in itertools.pairwise(numbers)]
        # Evenly spread: gaps differ by at most one, and none is bunched at the end.
        assert max(gaps) - min(gaps) <= 1
        assert slots - numbers[-1] < slots // kept + 1
    if kept >= 1:
        # The first kept number sits in the middle of the first stretch (slots / kept long), so
        # neither the start of the session nor its end goes without kept slots.
        assert abs((numbers[0] - 1) - slots / (2 * kept)) < 1


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="share"):
        rules.kept_count(30, 10001)
    with pytest.raises(ValueError, match="kept"):
        rules.kept_numbers(3, 4)


@given(
    share=st.integers(min_value=1000, max_value=2000),
    offered=st.integers(min_value=0, max_value=200),
    data=st.data(),
)
def test_adjustment_stays_within_bounds_and_follows_use(
    share: int, offered: int, data: st.DataObject
) -> None:
    booked = data.draw(st.integers(min_value=0, max_value=offered))
    result = rules.adjust_share(share, minimum=1000, maximum=2000, kept_offered=offered, kept_booked=booked)
    assert 1000 <= result.share <= 2000
    if offered == 0:
        assert (result.share, result.reason) == (share, "unchanged_nothing_offered")
    elif booked / offered >= rules.HIGH_USE:
        assert result.share >= share
    elif booked / offered < rules.LOW_USE:
        assert result.share <= share
    else:
        assert result.share == share
    assert (result.share != share) == result.reason.startswith(("raised", "lowered"))


def test_adjustment_reasons() -> None:
    def adjust(share: int, offered: int, booked: int) -> tuple[int, str]:
        result = rules.adjust_share(
            share, minimum=1000, maximum=2000, kept_offered=offered, kept_booked=booked
        )
        return result.share, result.reason

    assert adjust(1500, 24, 22) == (1750, "raised_high_use")
    assert adjust(1900, 24, 24) == (2000, "raised_high_use")  # a step cut at the bound still moves
    assert adjust(2000, 24, 24) == (2000, "unchanged_at_maximum")
    assert adjust(1500, 24, 3) == (1250, "lowered_low_use")
    assert adjust(1000, 24, 0) == (1000, "unchanged_at_minimum")
    assert adjust(1500, 24, 15) == (1500, "unchanged_moderate_use")


def test_booking_windows_community_first_then_public_then_release() -> None:
    start = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)  # Monday 08:00 in Shanghai
    windows = rules.booking_windows(start)
    assert windows.community_opens == start - timedelta(days=14)
    assert windows.public_opens == start - timedelta(days=7)
    assert windows.release_at == start - timedelta(hours=48)
    assert windows.community_opens < windows.public_opens < windows.release_at < windows.cancel_until < start


def test_slot_windows_are_back_to_back() -> None:
    start = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
    windows = rules.slot_windows(start, 8, 30)
    assert windows[0] == (start, start + timedelta(minutes=8))
    assert windows[-1][1] == start + timedelta(minutes=240)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(windows))


def test_the_governing_policy_is_the_practitioners_then_the_departments_by_kind() -> None:
    from dataclasses import dataclass

    @dataclass
    class P:
        practitioner_id: int | None
        department_id: int | None
        kind: str | None

    own, other, dept_kind, dept_any, elsewhere = (
        P(7, 1, None),
        P(8, 1, None),
        P(None, 1, "expert"),
        P(None, 1, None),
        P(None, 2, None),
    )
    pick = rules.pick_policy
    assert pick([dept_any, dept_kind, own, other], practitioner_id=7, department_id=1, kind="expert") is own
    assert pick([dept_any, dept_kind, other], practitioner_id=7, department_id=1, kind="expert") is dept_kind
    assert pick([dept_any, dept_kind], practitioner_id=7, department_id=1, kind="general") is dept_any
    assert pick([other, elsewhere], practitioner_id=7, department_id=1, kind="expert") is None


def test_availability_is_said_of_the_pool_booked() -> None:
    """Bookable only inside the pool's window with a free slot in that pool; full only when that
    pool has none (the other pool's free slots named apart); stopped, started and released first."""
    opens, closes = datetime(2026, 11, 16, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC)
    inside = datetime(2026, 11, 24, tzinfo=UTC)

    def of(
        pool: rules.Pool,
        kept: int,
        public: int,
        *,
        now: datetime = inside,
        status: str = "open",
        released: bool = False,
    ) -> str:
        return rules.availability(
            status=status, pool=pool, released=released, kept_free=kept, public_free=public,
            now=now, opens=opens, closes=closes,
        )  # fmt: skip

    community, public = rules.Pool.COMMUNITY, rules.Pool.PUBLIC
    assert of(community, 1, 0) == of(public, 0, 1) == rules.Availability.FREE
    assert of(community, 0, 30) == of(public, 3, 0) == rules.Availability.POOL_FULL
    assert of(community, 0, 0) == of(public, 0, 0) == rules.Availability.FULL
    assert of(community, 0, 30, released=True) == rules.Availability.RELEASED
    assert of(public, 0, 30, released=True) == rules.Availability.FREE  # released slots are public ones
    assert of(community, 6, 24, status="stopped") == rules.Availability.STOPPED
    before = opens - timedelta(seconds=1)
    assert of(community, 6, 24, now=before) == rules.Availability.NOT_OPEN
    assert of(community, 6, 24, now=opens) == rules.Availability.FREE  # the window is [opens, closes)
    assert of(community, 0, 24, now=before) == rules.Availability.POOL_FULL  # full says more than later
    assert of(community, 6, 24, now=closes) == of(community, 0, 0, now=closes) == rules.Availability.STARTED
    # Bookable exactly when booking_refusal has nothing to say and the pool has a free slot.
    for now in (before, opens, inside, closes):
        for kept in (0, 1):
            bookable = of(community, kept, 5, now=now) == rules.Availability.FREE
            allowed = rules.booking_refusal(status="open", now=now, opens=opens, closes=closes) is None
            assert bookable == (allowed and kept > 0)
