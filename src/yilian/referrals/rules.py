"""Referral rules, pure: the transition table, which side an actor stands on, deadlines, follow-up
dates, the attachment types we accept, and the words each status and move reads as (message
ids). No SQLAlchemy, no FastAPI (import-linter enforces it).

One table (MOVES) answers three questions: may this move happen now, which side makes it,
and what may this actor do next (the API's `allowed_actions`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Final

from yilian.auth import policy
from yilian.auth.policy import Actor
from yilian.core.i18n import N_


class Direction(StrEnum):
    UP = "up"  # 上转: community → hospital
    DOWN = "down"  # 下转: hospital → community centre or secondary hospital


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    REDIRECTED = "redirected"
    SCHEDULED = "scheduled"
    ARRIVED = "arrived"
    REPORTED = "reported"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Action(StrEnum):
    SUBMIT = "submit"
    ACCEPT = "accept"
    DECLINE = "decline"
    REDIRECT = "redirect"
    SCHEDULE = "schedule"
    ARRIVE = "arrive"
    REPORT = "report"
    CLOSE = "close"
    CANCEL = "cancel"
    # Made by the deadline job only, never through the API:
    EXPIRE = "expire"
    RETURN = "return"  # a scheduled patient did not come: back to the referrer


PUBLIC_ACTIONS: Final = (
    Action.SUBMIT,
    Action.ACCEPT,
    Action.DECLINE,
    Action.REDIRECT,
    Action.SCHEDULE,
    Action.ARRIVE,
    Action.REPORT,
    Action.CLOSE,
    Action.CANCEL,
)


# The worklists a user sees its referrals in (referrals.queries says what each one holds).
BOXES: Final = ("new", "overdue", "mine", "sent", "received", "open", "closed")


class Side(StrEnum):
    REFERRER = "referrer"
    RECEIVER = "receiver"
    SYSTEM = "system"


class Urgency(StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"
    EMERGENCY = "emergency"


class Service(StrEnum):
    """What the referrer asks of the receiving side."""

    OUTPATIENT = "outpatient"
    ADMISSION = "admission"
    EXAMINATION = "examination"
    FOLLOW_UP = "follow_up"  # a down-referral: follow the patient up in the community


AWAITING_ANSWER: Final = frozenset({Status.SUBMITTED, Status.REDIRECTED})
OPEN: Final = frozenset(
    {
        Status.DRAFT,
        Status.SUBMITTED,
        Status.ACCEPTED,
        Status.REDIRECTED,
        Status.SCHEDULED,
        Status.ARRIVED,
        Status.REPORTED,
        Status.DECLINED,
    }
)
FINAL: Final = frozenset({Status.CLOSED, Status.CANCELLED, Status.EXPIRED})

_R, _H, _S = Side.REFERRER, Side.RECEIVER, Side.SYSTEM


def _answering(status: Status) -> dict[tuple[Status, Action], tuple[Status, Side]]:
    """A referral waiting for an answer: the receiver accepts, declines or passes it on; the
    referrer may still withdraw it; the deadline job expires it when nobody answers."""
    return {
        (status, Action.ACCEPT): (Status.ACCEPTED, _H),
        (status, Action.DECLINE): (Status.DECLINED, _H),
        (status, Action.REDIRECT): (Status.REDIRECTED, _H),
        (status, Action.CANCEL): (Status.CANCELLED, _R),
        (status, Action.EXPIRE): (Status.EXPIRED, _S),
    }


_COMMON: Final = {
    (Status.DRAFT, Action.SUBMIT): (Status.SUBMITTED, _R),
    (Status.DRAFT, Action.CANCEL): (Status.CANCELLED, _R),
    **_answering(Status.SUBMITTED),
    **_answering(Status.REDIRECTED),
    # Once accepted the referrer no longer withdraws it (so an accept and a cancel sent at once
    # cannot both win); it may close one that stalls there (a patient who did not come).
    (Status.ACCEPTED, Action.CLOSE): (Status.CLOSED, _R),
    (Status.ARRIVED, Action.REPORT): (Status.REPORTED, _H),
    (Status.REPORTED, Action.CLOSE): (Status.CLOSED, _R),
    (Status.DECLINED, Action.CLOSE): (Status.CLOSED, _R),  # the referrer has read the refusal
}

MOVES: Final[dict[Direction, dict[tuple[Status, Action], tuple[Status, Side]]]] = {
    # Up: the hospital books the patient in, sees them, and writes its report back.
    Direction.UP: {
        **_COMMON,
        (Status.ACCEPTED, Action.SCHEDULE): (Status.SCHEDULED, _H),
        (Status.SCHEDULED, Action.ARRIVE): (Status.ARRIVED, _H),
        (Status.SCHEDULED, Action.RETURN): (Status.ACCEPTED, _S),
    },
    # Down: the centre takes the patient on (the plan becomes its tasks), sees them, and writes
    # back how the follow-up goes; the hospital closes the loop.
    Direction.DOWN: {
        **_COMMON,
        (Status.ACCEPTED, Action.ARRIVE): (Status.ARRIVED, _H),
    },
}


def next_status(direction: Direction, current: Status, action: Action, side: Side) -> Status | None:
    """The status after `action` by `side`, or None when the table has no such move."""
    move = MOVES[direction].get((current, action))
    if move is None or move[1] is not side:
        return None
    return move[0]


def mover(direction: Direction, current: Status, action: Action) -> Side | None:
    """Which side may make this move now (None: nobody, it is not in the table)."""
    move = MOVES[direction].get((current, action))
    return move[1] if move else None


def allowed_actions(direction: Direction, current: Status, side: Side | None) -> list[Action]:
    """What this side may do now, in the order of PUBLIC_ACTIONS (the API's `allowed_actions`)."""
    if side is None:
        return []
    return [a for a in PUBLIC_ACTIONS if next_status(direction, current, a, side) is not None]


# --- who acts for an institution ---------------------------------------------------------------


def may_refer(direction: Direction, *, origin_tier: int, target_tier: int) -> bool:
    """Up goes to a higher tier, down to a lower one (seed 003: 3+2+1)."""
    if direction is Direction.UP:
        return target_tier > origin_tier
    return target_tier < origin_tier


@dataclass(frozen=True)
class Parties:
    origin_institution_id: int
    origin_tier: int
    target_institution_id: int
    target_tier: int
    target_department_id: int | None = None
    target_practitioner_id: int | None = None


def side_of(actor: Actor, parties: Parties) -> Side | None:
    """The side an actor stands on for one referral, or None for an outsider: the referring
    institution's acting role (policy.may_act_for), or the receivers (policy.may_receive: the
    department or practitioner named, else the receiving institution's acting role)."""
    if policy.may_act_for(actor, parties.origin_institution_id, parties.origin_tier):
        return Side.REFERRER
    if policy.may_receive(
        actor,
        parties.target_institution_id,
        parties.target_tier,
        department_id=parties.target_department_id,
        practitioner_id=parties.target_practitioner_id,
    ):
        return Side.RECEIVER
    return None


@dataclass(frozen=True)
class DueIn:
    """How long until an answer is due, or how long past it, in one rounded-down unit (at least
    1): "还剩 3 小时", "已超时 2 小时"."""

    overdue: bool
    amount: int
    unit: str  # "minutes", "hours" or "days"


def due_in(status: Status, due: datetime | None, now: datetime) -> DueIn | None:
    """The worklist's countdown for a referral waiting for an answer (None for any other): minutes
    under an hour, hours under two days, days beyond; overdue exactly as is_overdue says."""
    if status not in AWAITING_ANSWER or due is None:
        return None
    span = abs(due - now)
    if span < timedelta(hours=1):
        amount, unit = span // timedelta(minutes=1), "minutes"
    elif span < timedelta(hours=48):
        amount, unit = span // timedelta(hours=1), "hours"
    else:
        amount, unit = span // timedelta(days=1), "days"
    return DueIn(overdue=is_overdue(status, due, now), amount=max(1, amount), unit=unit)


# --- answering now -----------------------------------------------------------------------------

# An urgent or emergency patient is not booked into a clinic session days later: the receiver
# takes them in now, at the emergency department or the department itself.
ACCEPTED_NOW: Final = frozenset({Urgency.URGENT, Urgency.EMERGENCY})


def accepted_now(urgency: Urgency) -> bool:
    """Whether the accept form takes the patient in now (a time of now and a place) instead of
    offering a clinic session."""
    return urgency in ACCEPTED_NOW


def seen_at_emergency(urgency: Urgency, department_named: bool) -> bool:
    """Where a patient taken in now goes: an emergency, or a referral naming no department, to
    the emergency department; an urgent one to the department it names."""
    return urgency is Urgency.EMERGENCY or not department_named


# --- deadlines ---------------------------------------------------------------------------------

ANSWER_WITHIN: Final = {
    Urgency.EMERGENCY: timedelta(minutes=30),
    Urgency.URGENT: timedelta(hours=24),
    Urgency.ROUTINE: timedelta(hours=72),
}
# Unanswered this long past its deadline (and escalated meanwhile): expired, and the referrer told.
EXPIRE_AFTER_DUE: Final = timedelta(days=7)
# A scheduled patient not marked arrived this long after the appointment goes back to the referrer.
NO_SHOW_GRACE: Final = timedelta(hours=24)


def answer_due(urgency: Urgency, sent_at: datetime) -> datetime:
    """When the receiving side must have answered: emergency 30 min, urgent 24 h, routine 72 h
    (issue 5's defaults). A redirect starts the clock again for the new receiver."""
    return sent_at + ANSWER_WITHIN[urgency]


def is_overdue(status: Status, due: datetime | None, now: datetime) -> bool:
    """Waiting for an answer at or past its deadline: flagged on the lists, escalated by the job,
    expired a week later. Its SQL twin is models.Referral.overdue_at (tests/referrals/test_models.py
    holds the two equal on both engines)."""
    return status in AWAITING_ANSWER and due is not None and now >= due


# --- the referral's appointment ---------------------------------------------------------------


class AppointmentState(StrEnum):
    """What a referral's appointment reads as on its page."""

    BOOKED = "booked"
    ARRIVED = "arrived"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


def appointment_state(status: Status, *, arrived: bool, booking: str | None) -> AppointmentState:
    """The one rule for a referral's appointment (a kept slot or a stated time and place), from
    the referral (its status, whether the patient arrived) and the clinic booking behind it, if
    any (scheduling's appointment status: booked, checked_in, no_show, cancelled). The referral's
    arrival wins over a booking nobody checked in; it reads as booked only while the referral is
    scheduled and the booking stands; a referral that left SCHEDULED without an arrival (returned
    by the no-show job, then perhaps closed) had a patient who did not come."""
    if arrived or status in (Status.ARRIVED, Status.REPORTED) or booking == "checked_in":
        return AppointmentState.ARRIVED
    if booking == "cancelled" or status in (Status.CANCELLED, Status.EXPIRED):
        return AppointmentState.CANCELLED
    if status is Status.SCHEDULED and booking in (None, "booked"):
        return AppointmentState.BOOKED
    return AppointmentState.NO_SHOW


# --- follow-up plans ---------------------------------------------------------------------------


# A referral is scheduled within a year of the day it is scheduled (either side: a visit that
# already took place may be recorded late).
MAX_SCHEDULE_SPAN: Final = timedelta(days=366)


def schedule_refusal(at: datetime, now: datetime) -> str | None:
    """Why a referral's appointment time is implausible (a message id), or None."""
    if abs(at - now) > MAX_SCHEDULE_SPAN:
        return N_("a referral is scheduled within one year of today")
    return None


MAX_PLAN_SPAN: Final = timedelta(days=731)  # a follow-up plan covers at most two years


def follow_up_dates(*, start: date, every_days: int, until: date) -> list[date]:
    """The dates of one plan item: every `every_days` from `start` (the first one period after it)
    up to `until` (and never beyond two years). Blood pressure every 2 weeks for 3 months → 6 dates."""
    if every_days < 1:
        raise ValueError("every_days must be at least 1")
    until = min(until, start + MAX_PLAN_SPAN)
    dates: list[date] = []
    day = start + timedelta(days=every_days)
    while day <= until:
        dates.append(day)
        day += timedelta(days=every_days)
    return dates


class TaskStatus(StrEnum):
    """What a follow-up task row stores: open until its family doctor answers done or missed."""

    OPEN = "open"
    DONE = "done"
    MISSED = "missed"


# The answers a family doctor gives a task (the API's TaskOutcome).
TASK_OUTCOMES: Final = (TaskStatus.DONE, TaskStatus.MISSED)


class TaskState(StrEnum):
    # What a task shows: its status, and overdue for an open one past its day (no docstring: the
    # API's schema is this enum, as it has always read).
    OPEN = "open"
    OVERDUE = "overdue"
    DONE = "done"
    MISSED = "missed"


def task_state(status: str, due_on: date, today: date) -> TaskState:
    """What a follow-up task shows: done, missed, overdue (open past its day) or open."""
    if status == TaskStatus.OPEN and due_on < today:
        return TaskState.OVERDUE
    return TaskState(status)


# --- attachments -------------------------------------------------------------------------------

MAX_ATTACHMENT_BYTES: Final = 10 * 1024 * 1024
# Magic bytes: what the content is, whatever the name says.
SIGNATURES: Final = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
)
# The names each type may have; the first is the one a download is given.
EXTENSIONS: Final = {
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "application/pdf": (".pdf",),
}


def sniff(content: bytes) -> str | None:
    """The type the bytes are (JPEG, PNG or PDF), or None for anything else."""
    for magic, kind in SIGNATURES:
        if content.startswith(magic):
            return kind
    return None


def attachment_refusal(filename: str, declared: str | None, content: bytes) -> str | None:
    """Why a file is refused (a message id), or None: it must be a JPEG, PNG or PDF by its
    content, its name and declared type must say the same, and it must fit the size limit."""
    if len(content) > MAX_ATTACHMENT_BYTES:
        return "too_large"
    actual = sniff(content)
    if actual is None:
        return "unsupported"
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix not in EXTENSIONS[actual]:
        return "mismatch"
    if declared and declared.split(";")[0].strip().lower() not in (actual, "application/octet-stream"):
        return "mismatch"
    return None


# --- words -------------------------------------------------------------------------------------
# How referral and task codes read in messages (message ids; the problem details translate them).
# The same ids as the pages' words (templates/referrals/_words.html), so a refusal names the
# status and the button as the page shows them.

STATUS_WORDS: Final = {
    "draft": N_("Draft"),
    "submitted": N_("Submitted"),
    "accepted": N_("Accepted"),
    "declined": N_("Declined"),
    "redirected": N_("Redirected"),
    "scheduled": N_("Scheduled"),
    "arrived": N_("Arrived"),
    "reported": N_("Reported"),
    "closed": N_("Closed"),
    "cancelled": N_("Cancelled"),
    "expired": N_("Expired"),
}
ACTION_WORDS: Final = {
    "submit": N_("Submit"),
    "accept": N_("Accept"),
    "decline": N_("Decline"),
    "redirect": N_("Redirect"),
    "schedule": N_("Schedule"),
    "arrive": N_("Patient arrived"),
    "report": N_("Write report"),
    "close": N_("Close"),
    "cancel": N_("Withdraw"),
    "expire": N_("Expired"),
    "return": N_("Returned (did not come)"),
    "attach": N_("Attach"),
}
TASK_WORDS: Final = {"open": N_("To do"), "done": N_("Done"), "missed": N_("Missed")}
