"""The admission queue's order and its explanation, the bed and request transition tables, and how
statuses and moves read (message ids). Pure.

Seed 003 (DESIGN §4 "Admission queue"): a patient who came through the regional platform is
tagged 社区签约 and is admitted ahead of others — within reason. The order of one ward's queue:

1. urgency class first: emergency, urgent, elective (classes never interleave);
2. then the effective request time, `requested_at − boost` for tagged patients (boost set per
   department, default 3 days), `requested_at` for the others;
3. then `requested_at` (and the request id, so that the order is total).

The database keeps the first two as columns (`urgency_rank`, `effective_at`, written only by
models.AdmissionRequest.place) and orders by them (AdmissionRequest.queue_order); a hypothesis test
on both engines holds that order equal to `queue` (tests/admissions/test_models.py).

The boost is bounded: a tagged patient passes only untagged patients who requested less than
`boost` before it, so nobody who requested `boost` or more earlier is ever passed, and a waiting
patient is passed by a finite number of patients only (nobody starves).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Final, NamedTuple

from yilian.core.i18n import N_, gettext

DEFAULT_BOOST_DAYS: Final = 3  # seed 003 / DESIGN §4: 3 days unless the department sets another
DEFAULT_OFFER_HOURS: Final = 4  # a bed offered and not answered goes to the next patient after this


class Urgency(StrEnum):
    EMERGENCY = "emergency"
    URGENT = "urgent"
    ELECTIVE = "elective"


URGENCY_RANK: Final = {Urgency.EMERGENCY: 0, Urgency.URGENT: 1, Urgency.ELECTIVE: 2}
URGENCY_OF: Final = {u.value: u for u in Urgency}  # a stored value → its member (Urgency(v) is slow)


class RequestStatus(StrEnum):
    WAITING = "waiting"  # in the queue
    OFFERED = "offered"  # a bed is offered, the answer is awaited (keeps its place meanwhile)
    ACCEPTED = "accepted"  # the offer is accepted: the bed is held until admission
    ADMITTED = "admitted"  # in a bed
    DISCHARGED = "discharged"
    TRANSFERRED = "transferred"  # moved to a partner hospital's ward (a new request there)
    CANCELLED = "cancelled"


IN_QUEUE: Final = frozenset({RequestStatus.WAITING, RequestStatus.OFFERED, RequestStatus.ACCEPTED})
# A request that is over: its care keeps the record open for policy.ADMISSION_AFTER_END more.
ENDED: Final = frozenset({RequestStatus.DISCHARGED, RequestStatus.TRANSFERRED, RequestStatus.CANCELLED})


class Action(StrEnum):
    OFFER = "offer"
    ACCEPT = "accept"
    DECLINE = "decline"
    EXPIRE = "expire"
    ADMIT = "admit"
    TRANSFER = "transfer"  # to another bed of the hospital
    TRANSFER_OUT = "transfer_out"  # to a partner hospital's ward: it joins that ward's queue
    DISCHARGE = "discharge"
    CANCEL = "cancel"


MOVES: Final = {
    (RequestStatus.WAITING, Action.OFFER): RequestStatus.OFFERED,
    (RequestStatus.OFFERED, Action.ACCEPT): RequestStatus.ACCEPTED,
    (RequestStatus.OFFERED, Action.DECLINE): RequestStatus.WAITING,  # keeps its place
    (RequestStatus.OFFERED, Action.EXPIRE): RequestStatus.WAITING,
    (RequestStatus.WAITING, Action.ADMIT): RequestStatus.ADMITTED,  # a bed assigned directly
    (RequestStatus.OFFERED, Action.ADMIT): RequestStatus.ADMITTED,  # came in: the offer is taken
    (RequestStatus.ACCEPTED, Action.ADMIT): RequestStatus.ADMITTED,
    (RequestStatus.ADMITTED, Action.TRANSFER): RequestStatus.ADMITTED,
    (RequestStatus.ADMITTED, Action.TRANSFER_OUT): RequestStatus.TRANSFERRED,
    (RequestStatus.ADMITTED, Action.DISCHARGE): RequestStatus.DISCHARGED,
    (RequestStatus.WAITING, Action.CANCEL): RequestStatus.CANCELLED,
    (RequestStatus.OFFERED, Action.CANCEL): RequestStatus.CANCELLED,
    (RequestStatus.ACCEPTED, Action.CANCEL): RequestStatus.CANCELLED,
}


def next_status(current: RequestStatus, action: Action) -> RequestStatus | None:
    """The request's status after `action`, or None when the move is not in the table."""
    return MOVES.get((current, action))


def target_of(action: Action) -> RequestStatus:
    """Where `action` leads (one status per action, whichever status it starts from)."""
    return next(status for (_, act), status in MOVES.items() if act == action)


def from_statuses(action: Action) -> list[RequestStatus]:
    """The statuses `action` may start from (the guard of its conditional UPDATE)."""
    return [status for (status, act) in MOVES if act == action]


def allowed_actions(current: RequestStatus) -> list[Action]:
    return [action for (status, action) in MOVES if status == current and action is not Action.EXPIRE]


class BedStatus(StrEnum):
    FREE = "free"
    OFFERED = "offered"  # held for a patient it was offered to (pending or accepted)
    OCCUPIED = "occupied"
    CLEANING = "cleaning"
    CLOSED = "closed"


class OfferStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"  # the request was cancelled while the offer stood


class BedAction(StrEnum):
    """What the admission office does to a bed by hand (offers and admissions move it too)."""

    READY = "ready"  # cleaned: free again
    CLOSE = "close"
    REOPEN = "reopen"


BED_MOVES: Final = {
    (BedStatus.CLEANING, BedAction.READY): BedStatus.FREE,
    (BedStatus.FREE, BedAction.CLOSE): BedStatus.CLOSED,
    (BedStatus.CLEANING, BedAction.CLOSE): BedStatus.CLOSED,
    (BedStatus.CLOSED, BedAction.REOPEN): BedStatus.FREE,
}


def bed_move(current: BedStatus, action: BedAction) -> BedStatus | None:
    """The bed's next status, or None when the move is not allowed from `current`."""
    return BED_MOVES.get((current, action))


def bed_actions(current: BedStatus) -> list[BedAction]:
    return [action for (status, action) in BED_MOVES if status == current]


# --- keeping a ward's beds: which may be removed, and the labels of a room typed at once -------

# A bed may leave the ward (removed, or kept out of use when its history names it) unless a patient
# holds it or it is offered to one: the guard of the conditional DELETE/UPDATE.
REMOVABLE: Final = frozenset({BedStatus.FREE, BedStatus.CLEANING, BedStatus.CLOSED})
ROOM_SEXES: Final = ("male", "female")  # or None: a room for anyone (不限)
MAX_BEDS_AT_ONCE: Final = 50
MAX_LABEL: Final = 16  # Bed.room and Bed.label are String(16)


def parse_labels(text: str) -> list[str]:
    """The beds of a room as typed: "1-4" (1, 2, 3, 4), "1,2,5", "A B C" or a mix ("，" and "、"
    too). A range is of whole numbers, lowest first. ValueError (a message id) when a label is
    repeated, a range is backwards, or there are none or too many."""
    labels: list[str] = []
    for token in text.replace("，", ",").replace("、", ",").replace(",", " ").split():
        low, dash, high = token.partition("-")
        if dash and low.isdigit() and high.isdigit():
            if int(low) > int(high) or int(high) - int(low) >= MAX_BEDS_AT_ONCE:
                raise ValueError(N_("Write a range lowest first, e.g. 1-4."))
            labels.extend(str(n) for n in range(int(low), int(high) + 1))
        else:
            labels.append(token)
    check_labels(labels)
    return labels


def check_labels(labels: Sequence[str]) -> None:
    """ValueError (a message id) unless there are 1 to MAX_BEDS_AT_ONCE distinct labels, each at
    most MAX_LABEL characters."""
    if not labels:
        raise ValueError(N_("Give the beds' numbers, e.g. 1-4."))
    if len(labels) > MAX_BEDS_AT_ONCE:
        raise ValueError(N_("At most 50 beds at once."))
    if any(len(label) > MAX_LABEL for label in labels):
        raise ValueError(N_("A bed's number is at most 16 characters."))
    if len(set(labels)) != len(labels):
        raise ValueError(N_("A bed's number is given twice."))


# --- who a bed is offered to, and why the patients ahead of that one were not ------------------

ROOM_KEPT_FOR: Final = {"male": N_("the room is kept for men"), "female": N_("the room is kept for women")}
OFFERED_ANOTHER_BED: Final = N_("already offered bed %(bed)s")
DECLINED_THIS_BED: Final = N_("declined this bed")
LET_THIS_BED_EXPIRE: Final = N_("did not answer the offer of this bed in time")
NOT_WAITING: Final = N_("not waiting any more")


def misfit(room_sex: str | None, patient_sex: str) -> str | None:
    """Why a bed does not fit a patient (a message id), None when it does: a bed in a room kept for
    one sex fits only patients of that sex; other rooms fit anyone."""
    if room_sex is None or room_sex == patient_sex:
        return None
    return ROOM_KEPT_FOR.get(room_sex, ROOM_KEPT_FOR["male"])


def fits(room_sex: str | None, patient_sex: str) -> bool:
    return misfit(room_sex, patient_sex) is None


class Candidate(NamedTuple):
    """A queued request as the bed's offer looks at it."""

    id: int
    sex: str
    status: RequestStatus
    refused: OfferStatus | None  # its answer to an offer of this bed since the bed came free
    offered_bed: str | None = None  # the bed of its pending offer


Reason = tuple[str, dict[str, str]]  # a message id and its parameters


def skip_reason(room_sex: str | None, candidate: Candidate) -> Reason | None:
    """Why a free bed is not offered to this queued request (None: it may be). A bed goes to the
    first request of the queue without a reason; the SQL twin is service.moves._first_fitting
    (parity: tests/admissions/test_beds.py)."""
    if candidate.status is RequestStatus.OFFERED:
        return OFFERED_ANOTHER_BED, {"bed": candidate.offered_bed or ""}
    if candidate.status is not RequestStatus.WAITING:
        return NOT_WAITING, {}
    unfit = misfit(room_sex, candidate.sex)
    if unfit is not None:
        return unfit, {}
    if candidate.refused is OfferStatus.DECLINED:
        return DECLINED_THIS_BED, {}
    if candidate.refused is OfferStatus.EXPIRED:
        return LET_THIS_BED_EXPIRE, {}
    return None


def skipped(
    room_sex: str | None, in_order: Iterable[Candidate], offered_id: int | None
) -> list[tuple[Candidate, Reason]]:
    """The requests ahead of the one offered the bed (all of them when nobody was), each with why it
    was passed over."""
    passed: list[tuple[Candidate, Reason]] = []
    for candidate in in_order:
        if candidate.id == offered_id:
            break
        reason = skip_reason(room_sex, candidate)
        if reason is not None:
            passed.append((candidate, reason))
    return passed


# --- the order ----------------------------------------------------------------------------------


class Entry(NamedTuple):
    """What the order needs to know of one waiting request (a tuple: hundreds are made per look)."""

    id: int
    urgency: Urgency
    requested_at: datetime
    community_signed: bool


def effective_at(requested_at: datetime, community_signed: bool, boost_days: int) -> datetime:
    """The time the queue counts: the request time, `boost_days` earlier for a tagged patient."""
    return requested_at - timedelta(days=boost_days) if community_signed else requested_at


def sort_key(entry: Entry, boost_days: int) -> tuple[int, datetime, datetime, int]:
    """Where an entry stands: urgency, effective time, request time, id (SQL: queue_order)."""
    return (
        URGENCY_RANK[entry.urgency],
        effective_at(entry.requested_at, entry.community_signed, boost_days),
        entry.requested_at,
        entry.id,
    )


@dataclass(frozen=True)
class Place:
    """One entry's place, with the counts that explain it (all within what stands ahead/behind)."""

    entry: Entry
    position: int  # 1-based
    more_urgent_ahead: int  # ahead because their urgency class is higher
    earlier_ahead: int  # same class, requested at or before this entry
    boosted_ahead: int  # same class, tagged, requested after this entry (less than `boost` after)
    passed: int  # same class, untagged, requested before this tagged entry but now behind it
    boost_days: int


def queue(entries: Iterable[Entry], boost_days: int) -> list[Place]:
    """The ward's queue in order, each entry with its place explained. O(n log n)."""
    ordered = sorted(entries, key=lambda e: sort_key(e, boost_days))
    boost = timedelta(days=boost_days)
    # Request times per class and tag, sorted: who passed whom is a count in a time window.
    times: dict[tuple[Urgency, bool], list[datetime]] = {}
    for entry in ordered:  # within a class and tag the order is request order already
        times.setdefault((entry.urgency, entry.community_signed), []).append(entry.requested_at)
    places: list[Place] = []
    more_urgent = 0
    class_start = 0
    for index, entry in enumerate(ordered):
        if index and ordered[index - 1].urgency != entry.urgency:
            more_urgent, class_start = index, index
        me = entry.requested_at
        # Tagged patients ahead who requested after me: within (me, me + boost), none if I am tagged.
        boosted = (
            0 if entry.community_signed else _between(times.get((entry.urgency, True), []), me, me + boost)
        )
        # Untagged patients behind me who requested before me: within (me − boost, me).
        passed = (
            _between(times.get((entry.urgency, False), []), me - boost, me) if entry.community_signed else 0
        )
        places.append(
            Place(
                entry=entry,
                position=index + 1,
                more_urgent_ahead=more_urgent,
                earlier_ahead=index - class_start - boosted,
                boosted_ahead=boosted,
                passed=passed,
                boost_days=boost_days,
            )
        )
    return places


def _between(sorted_times: list[datetime], after: datetime, before: datetime) -> int:
    """How many of the times are strictly after `after` and strictly before `before`."""
    return max(0, bisect_left(sorted_times, before) - bisect_right(sorted_times, after))


def order(entries: Iterable[Entry], boost_days: int) -> list[Entry]:
    return [place.entry for place in queue(entries, boost_days)]


# --- the explanation, in the reader's language ------------------------------------------------

POSITION: Final = N_("No. %(position)s")
MORE_URGENT: Final = N_("%(count)s patients ahead of you are more urgent")
EARLIER: Final = N_("%(count)s patients ahead of you applied before you")
BOOSTED: Final = N_("%(count)s community-signed patients ahead of you applied within %(days)s days after you")
PASSED: Final = N_(
    "community-signed: counted as applied %(days)s days earlier, ahead of %(count)s patients "
    "who applied before you"
)
SIGNED: Final = N_("community-signed: counted as applied %(days)s days earlier")
FIRST: Final = N_("nobody is ahead of you")


def explanation_parts(place: Place) -> list[tuple[str, dict[str, int]]]:
    """The sentence as message ids and their numbers (what `explain` translates)."""
    parts: list[tuple[str, dict[str, int]]] = []
    if place.more_urgent_ahead:
        parts.append((MORE_URGENT, {"count": place.more_urgent_ahead}))
    if place.earlier_ahead:
        parts.append((EARLIER, {"count": place.earlier_ahead}))
    if place.boosted_ahead:
        parts.append((BOOSTED, {"count": place.boosted_ahead, "days": place.boost_days}))
    if place.entry.community_signed:
        if place.passed:
            parts.append((PASSED, {"count": place.passed, "days": place.boost_days}))
        else:
            parts.append((SIGNED, {"days": place.boost_days}))
    if place.position == 1 and not place.entry.community_signed:
        parts.append((FIRST, {}))
    return parts


@cache
def _template(locale: str, message: str) -> str:
    """The message in the locale, looked up once (a queue of hundreds is explained per look)."""
    return gettext(locale, message)


def explain(place: Place, locale: str) -> str:
    """E.g. "第5位：前面有2位社区签约患者，其申请时间在您之后3天以内" (Chinese), or in English."""
    chinese = locale != "en"
    head = _template(locale, POSITION) % {"position": place.position}
    body = ("；" if chinese else "; ").join(
        _template(locale, message) % numbers if numbers else _template(locale, message)
        for message, numbers in explanation_parts(place)
    )
    return head + ("：" if chinese else ": ") + body


def positions(places: Sequence[Place]) -> dict[int, Place]:
    return {place.entry.id: place for place in places}


# --- how statuses, urgencies and moves read (message ids; the pages and errors translate them) --

REQUEST_STATUS: Final = {
    "waiting": N_("waiting for a bed"),
    "offered": N_("offered a bed"),
    "accepted": N_("holding an accepted bed"),
    "admitted": N_("admitted"),
    "discharged": N_("discharged"),
    "transferred": N_("transferred out"),
    "cancelled": N_("cancelled"),
}
BED_STATUS: Final = {
    "free": N_("bed free"),
    "offered": N_("held for an offer"),
    "occupied": N_("occupied"),
    "cleaning": N_("being cleaned"),
    "closed": N_("out of use"),
}
URGENCY: Final = {"emergency": N_("emergency"), "urgent": N_("urgent"), "elective": N_("elective")}
ACTION: Final = {
    "offer": N_("be offered a bed"),
    "accept": N_("accept an offer"),
    "decline": N_("decline an offer"),
    "expire": N_("let an offer expire"),
    "admit": N_("be admitted"),
    "transfer": N_("be transferred"),
    "transfer_out": N_("be transferred"),
    "discharge": N_("be discharged"),
    "cancel": N_("be cancelled"),
    "ready": N_("be made ready"),
    "close": N_("be taken out of use"),
    "reopen": N_("be put back in use"),
}
EVENT: Final = {
    "create": N_("Requested"),
    "offer": N_("Bed offered"),
    "accept": N_("Offer accepted"),
    "decline": N_("Offer declined"),
    "expire": N_("Offer timed out"),
    "admit": N_("Admitted"),
    "transfer": N_("Moved to another bed"),
    "transfer_out": N_("Transferred to the partner ward"),
    "discharge": N_("Discharged"),
    "cancel": N_("Cancelled"),
}
