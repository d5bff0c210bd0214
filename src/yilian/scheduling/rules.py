"""Reserved community slots: pure arithmetic, no database, no web.

Seed 003: the Sixth Hospital keeps 10%–20% of each expert session's slots for the
community's family doctors ("每次30个号会留出6个号源给社区平台": 30 slots at 20% → 6 kept),
and adjusts the share from actual booking ("根据实际预约情况对预留社区号源进行适当调整").
Shares are in basis points (2000 = 20%) so that the arithmetic is exact.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Final, Protocol, TypeVar

from yilian.core.i18n import N_

BASIS: Final = 10_000
DEFAULT_SHARE: Final = 2_000  # 20%: 30 slots → 6 kept (seed 003)
DEFAULT_MIN_SHARE: Final = 1_000  # 10% (seed 003: 10%–20%)
DEFAULT_MAX_SHARE: Final = 2_000  # 20%
ADJUST_STEP: Final = 250  # one weekly move: 2.5 percentage points
HIGH_USE: Final = 0.8  # at least 80% of the kept slots booked: keep more
LOW_USE: Final = 0.5  # under 50% booked: keep fewer


class Period(StrEnum):
    MORNING = "morning"  # 上午
    AFTERNOON = "afternoon"  # 下午
    EVENING = "evening"  # 晚上


class SessionKind(StrEnum):
    EXPERT = "expert"  # 专家门诊
    DISEASE = "disease"  # 专病门诊
    GENERAL = "general"  # 普通门诊


class Pool(StrEnum):
    COMMUNITY = "community"  # kept for family doctors
    PUBLIC = "public"


class SlotStatus(StrEnum):
    FREE = "free"
    BOOKED = "booked"


class SessionStatus(StrEnum):
    OPEN = "open"
    STOPPED = "stopped"  # 停诊


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    CHECKED_IN = "checked_in"
    NO_SHOW = "no_show"


def week_start(day: date) -> date:
    """The Monday of `day`'s week: share adjustments and the weekly use count by it."""
    return day - timedelta(days=day.weekday())


def kept_count(slot_count: int, share: int) -> int:
    """round(N × share), halves rounding up: 30 × 20% = 6, 25 × 10% = 2.5 → 3."""
    if slot_count < 0 or not 0 <= share <= BASIS:
        raise ValueError("slot count must be ≥ 0 and share within 0..10000 basis points")
    return (slot_count * share + BASIS // 2) // BASIS


def kept_numbers(slot_count: int, kept: int) -> frozenset[int]:
    """Which numbered slots (1-based 号序) are kept: spread evenly over the session, each in
    the middle of its stretch, so community patients are not all sent to the end of the morning.

    30 slots, 6 kept → {3, 8, 13, 18, 23, 28}.
    """
    if not 0 <= kept <= slot_count:
        raise ValueError("kept must be between 0 and the slot count")
    return frozenset((2 * i + 1) * slot_count // (2 * kept) + 1 for i in range(kept))


def clamp_share(share: int, minimum: int, maximum: int) -> int:
    return max(minimum, min(maximum, share))


@dataclass(frozen=True)
class Adjustment:
    share: int
    reason: str  # a code the report translates: raised_high_use, lowered_low_use, ...
    use: float | None


def adjust_share(
    share: int, *, minimum: int, maximum: int, kept_offered: int, kept_booked: int, step: int = ADJUST_STEP
) -> Adjustment:
    """The next week's share from the last weeks' use of the kept slots, within the bounds.

    High use (≥ 80% booked) → one step more; low use (< 50%) → one step less; else unchanged.
    """
    if kept_offered <= 0:
        return Adjustment(share, "unchanged_nothing_offered", None)
    use = kept_booked / kept_offered
    if use >= HIGH_USE:
        proposed, reason = share + step, "raised_high_use"
    elif use < LOW_USE:
        proposed, reason = share - step, "lowered_low_use"
    else:
        return Adjustment(share, "unchanged_moderate_use", use)
    bounded = clamp_share(proposed, minimum, maximum)
    if bounded == share:
        return Adjustment(share, "unchanged_at_maximum" if proposed > share else "unchanged_at_minimum", use)
    return Adjustment(bounded, reason, use)


@dataclass(frozen=True)
class Windows:
    """When a session's slots may be booked (per pool), released and cancelled (per hospital).

    Stored on the session row when it is made: the booking statement of either engine compares
    these columns, so a change here reaches both (a session made earlier keeps its windows).
    """

    community_opens: datetime
    community_closes: datetime
    public_opens: datetime
    public_closes: datetime
    release_at: datetime
    cancel_until: datetime

    def of(self, pool: Pool) -> tuple[datetime, datetime]:
        """When booking through `pool` opens and closes."""
        if pool is Pool.COMMUNITY:
            return self.community_opens, self.community_closes
        return self.public_opens, self.public_closes


def booking_windows(
    starts_at: datetime,
    *,
    community_days: int = 14,
    public_days: int = 7,
    release_hours: int = 48,
    cancel_hours: int = 24,
) -> Windows:
    """Community booking opens before public booking (defaults 14 and 7 days); both close when the
    session starts; unused kept slots go public `release_hours` before the session (default 48 h)."""
    return Windows(
        community_opens=starts_at - timedelta(days=community_days),
        community_closes=starts_at,
        public_opens=starts_at - timedelta(days=public_days),
        public_closes=starts_at,
        release_at=starts_at - timedelta(hours=release_hours),
        cancel_until=starts_at - timedelta(hours=cancel_hours),
    )


def slot_windows(starts_at: datetime, slot_minutes: int, slot_count: int) -> list[tuple[datetime, datetime]]:
    length = timedelta(minutes=slot_minutes)
    return [(starts_at + i * length, starts_at + (i + 1) * length) for i in range(slot_count)]


def booking_refusal(*, status: str, now: datetime, opens: datetime, closes: datetime) -> str | None:
    """Why a session cannot be booked at `now` through a pool whose window is [opens, closes) (a
    message id), or None when it can. The PostgreSQL statement holds the same comparisons
    (service/booking/postgresql.py); tests/scheduling/test_booking_grid.py holds them equal."""
    if status != SessionStatus.OPEN:
        return N_("the session is stopped")
    if now >= closes:
        return N_("the session has started")  # booking closes when the session starts
    if now < opens:
        return N_("booking has not opened yet for this channel")
    return None


class Availability(StrEnum):
    """What a session offers the one booking it, through the pool it books, now."""

    FREE = "free"  # a free slot in that pool, and its window is open: bookable
    POOL_FULL = "pool_full"  # that pool is full; the other pool still has free slots
    FULL = "full"  # no free slot in either pool
    RELEASED = "released"  # kept slots went public 48 h before: none left to keep
    NOT_OPEN = "not_open"  # that pool's booking opens later
    STARTED = "started"  # booking closed when the session started
    STOPPED = "stopped"  # 停诊


def availability(
    *,
    status: str,
    pool: Pool,
    released: bool,
    kept_free: int,
    public_free: int,
    now: datetime,
    opens: datetime,
    closes: datetime,
) -> Availability:
    """One rule for the words beside a session's numbers and for its 预约 button: bookable only
    when booking_refusal allows it and the pool the actor books (kept for a family doctor, public
    otherwise) has a free slot; "full" only of that pool, said apart from a session full in both,
    so that "已约满" never stands beside free slots of the same pool."""
    if status != SessionStatus.OPEN:
        return Availability.STOPPED
    if now >= closes:
        return Availability.STARTED
    if pool is Pool.COMMUNITY and released:
        return Availability.RELEASED
    own, other = (kept_free, public_free) if pool is Pool.COMMUNITY else (public_free, kept_free)
    if own <= 0:
        return Availability.POOL_FULL if other > 0 else Availability.FULL
    if now < opens:
        return Availability.NOT_OPEN
    return Availability.FREE


class PolicyScope(Protocol):
    practitioner_id: int | None
    department_id: int | None
    kind: str | None


P = TypeVar("P", bound=PolicyScope)


def pick_policy(policies: Iterable[P], *, practitioner_id: int, department_id: int, kind: str) -> P | None:
    """The quota policy that governs a practitioner's session: its own, else its department's for
    the session kind, else its department's for any kind; None means the 20% default."""

    def rank(policy: P) -> int:
        if policy.practitioner_id is not None:
            return 0 if policy.practitioner_id == practitioner_id else 9
        if policy.department_id != department_id:
            return 9
        return 1 if policy.kind == kind else 2 if policy.kind is None else 9

    best = min(policies, key=rank, default=None)
    return best if best is not None and rank(best) < 9 else None


# --- the clinic office's registers: templates and closures (停诊 for a date range) ---------------

MIN_SLOTS: Final = 1
MAX_SLOTS: Final = 200
MIN_SLOT_MINUTES: Final = 5
MAX_SLOT_MINUTES: Final = 60
MAX_CLOSURE_DAYS: Final = 92  # a quarter: longer is not a closure but the end of a clinic


@dataclass(frozen=True)
class Refusal:
    """Why a value cannot be kept (a message id), and the field it is about."""

    field: str
    message: str


def template_refusal(
    *, weekday: int, starts_local: time, slot_count: int, slot_minutes: int
) -> Refusal | None:
    """A clinic template's numbers: weekday 0–6 (Monday first), 1–200 slots of 5–60 minutes,
    and the session ends the day it starts (the last slot ends by midnight)."""
    if not 0 <= weekday <= 6:
        return Refusal("weekday", N_("Choose a weekday from Monday to Sunday."))
    if not MIN_SLOTS <= slot_count <= MAX_SLOTS:
        return Refusal("slot_count", N_("A session has from 1 to 200 slots."))
    if not MIN_SLOT_MINUTES <= slot_minutes <= MAX_SLOT_MINUTES:
        return Refusal("slot_minutes", N_("A slot lasts from 5 to 60 minutes."))
    start = starts_local.hour * 60 + starts_local.minute
    if start + slot_count * slot_minutes > 24 * 60:
        return Refusal(
            "slot_count",
            N_("The session must end the same day: fewer slots, shorter ones or an earlier start."),
        )
    return None


def closure_refusal(*, starts_on: date, ends_on: date, reason: str, today: date) -> Refusal | None:
    """A closure (停诊) runs from its first to its last day, both kept, at most 92 days, not all
    past, and says why (the family doctors read it)."""
    if ends_on < starts_on:
        return Refusal("ends_on", N_("The last day cannot come before the first day."))
    if (ends_on - starts_on).days + 1 > MAX_CLOSURE_DAYS:
        return Refusal("ends_on", N_("A closure lasts at most 92 days."))
    if ends_on < today:
        return Refusal("ends_on", N_("This closure is already over: its last day has passed."))
    if not reason.strip():
        return Refusal("reason", N_("Say why the clinics close: the doctors who booked will read it."))
    return None


def closed_days(ranges: Iterable[tuple[date, date]], *, since: date, until: date) -> frozenset[date]:
    """The days of [since, until) that one of the closures' [starts_on, ends_on] covers."""
    days: set[date] = set()
    for starts_on, ends_on in ranges:
        day = max(starts_on, since)
        while day <= ends_on and day < until:
            days.add(day)
            day += timedelta(days=1)
    return frozenset(days)
