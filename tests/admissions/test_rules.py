"""The queue order of one ward (seed 003, 合理插队) over random queues, and the transition tables."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from yilian.admissions import rules
from yilian.admissions.rules import (
    Action,
    BedAction,
    BedStatus,
    Candidate,
    Entry,
    OfferStatus,
    RequestStatus,
    Urgency,
)
from yilian.core.i18n import gettext

T0 = datetime(2026, 11, 1, tzinfo=UTC)
BOOSTS = st.integers(min_value=0, max_value=10)


@st.composite
def queues(draw: st.DrawFn) -> list[Entry]:
    size = draw(st.integers(min_value=0, max_value=30))
    # Hours over three weeks, with repeats: equal request times must be ordered too.
    hours = draw(st.lists(st.integers(min_value=0, max_value=21 * 24), min_size=size, max_size=size))
    return [
        Entry(
            id=index + 1,
            urgency=draw(st.sampled_from(list(Urgency))),
            requested_at=T0 + timedelta(hours=hour),
            community_signed=draw(st.booleans()),
        )
        for index, hour in enumerate(hours)
    ]


def test_the_seed_example() -> None:
    """A tagged patient stands ahead of an untagged one who applied two days earlier, not ahead of
    one who applied five days earlier."""
    five_days_earlier = Entry(1, Urgency.ELECTIVE, T0, community_signed=False)
    two_days_earlier = Entry(2, Urgency.ELECTIVE, T0 + timedelta(days=3), community_signed=False)
    tagged = Entry(3, Urgency.ELECTIVE, T0 + timedelta(days=5), community_signed=True)
    places = rules.queue([two_days_earlier, tagged, five_days_earlier], boost_days=3)
    assert [p.entry.id for p in places] == [1, 3, 2]
    assert rules.explain(places[2], "zh_Hans") == (
        "第3位：前面有1位患者申请时间早于您；前面有1位社区签约患者，其申请时间在您之后3天以内"
    )
    assert rules.explain(places[1], "zh_Hans") == (
        "第2位：前面有1位患者申请时间早于您；社区签约：按提前3天计算申请时间，因此排在1位较早申请的患者之前"
    )
    assert rules.explain(places[2], "en") == (
        "No. 3: 1 patients ahead of you applied before you; "
        "1 community-signed patients ahead of you applied within 3 days after you"
    )


def test_exactly_boost_earlier_is_not_passed() -> None:
    untagged = Entry(1, Urgency.ELECTIVE, T0, community_signed=False)
    tagged = Entry(2, Urgency.ELECTIVE, T0 + timedelta(days=3), community_signed=True)
    assert [e.id for e in rules.order([tagged, untagged], boost_days=3)] == [1, 2]


def test_more_urgent_classes_come_first_whatever_the_tag() -> None:
    elective = Entry(1, Urgency.ELECTIVE, T0, community_signed=True)
    emergency = Entry(2, Urgency.EMERGENCY, T0 + timedelta(days=9), community_signed=False)
    places = rules.queue([elective, emergency], boost_days=3)
    assert [p.entry.id for p in places] == [2, 1]
    assert places[1].more_urgent_ahead == 1
    assert rules.explain(places[0], "zh_Hans") == "第1位：您前面没有人"


@given(queues(), BOOSTS)
def test_urgency_classes_never_interleave(entries: list[Entry], boost: int) -> None:
    ranks = [rules.URGENCY_RANK[e.urgency] for e in rules.order(entries, boost)]
    assert ranks == sorted(ranks)


@given(queues(), BOOSTS)
def test_nobody_is_passed_by_a_tagged_patient_who_requested_more_than_boost_later(
    entries: list[Entry], boost: int
) -> None:
    ordered = rules.order(entries, boost)
    for ahead, behind in itertools.combinations(ordered, 2):
        if ahead.urgency == behind.urgency and ahead.community_signed and not behind.community_signed:
            later_by = ahead.requested_at - behind.requested_at
            # Passed (ahead though it requested later) only by less than the boost: never by more.
            assert later_by <= timedelta(0) or later_by < timedelta(days=boost)


@given(queues(), BOOSTS)
def test_untagged_keep_request_order_and_tagged_too(entries: list[Entry], boost: int) -> None:
    ordered = rules.order(entries, boost)
    for urgency, tagged in itertools.product(Urgency, (False, True)):
        group = [e for e in ordered if e.urgency == urgency and e.community_signed == tagged]
        assert group == sorted(group, key=lambda e: (e.requested_at, e.id))


@given(queues(), BOOSTS)
def test_nobody_starves(entries: list[Entry], boost: int) -> None:
    """Everyone ahead in the same class requested before `requested_at + boost`: a late tagged
    newcomer never goes ahead of someone who has waited longer than the boost."""
    ordered = rules.order(entries, boost)
    for index, entry in enumerate(ordered):
        for ahead in ordered[:index]:
            if ahead.urgency == entry.urgency:
                assert ahead.requested_at < entry.requested_at + timedelta(days=boost) or (
                    ahead.requested_at <= entry.requested_at
                )


@settings(max_examples=200)
@given(queues(), BOOSTS)
def test_the_explanations_counts_are_what_the_order_shows(entries: list[Entry], boost: int) -> None:
    places = rules.queue(entries, boost)
    assert [p.entry for p in places] == rules.order(entries, boost)
    for index, place in enumerate(places):
        me = place.entry
        ahead = [p.entry for p in places[:index]]
        behind = [p.entry for p in places[index + 1 :]]
        assert place.position == index + 1
        assert place.more_urgent_ahead + place.earlier_ahead + place.boosted_ahead == len(ahead)
        assert place.more_urgent_ahead == sum(
            1 for e in ahead if rules.URGENCY_RANK[e.urgency] < rules.URGENCY_RANK[me.urgency]
        )
        assert place.boosted_ahead == sum(
            1
            for e in ahead
            if e.urgency == me.urgency and e.community_signed and e.requested_at > me.requested_at
        )
        assert place.passed == sum(
            1
            for e in behind
            if e.urgency == me.urgency and not e.community_signed and e.requested_at < me.requested_at
        )
        if me.community_signed:
            assert place.boosted_ahead == 0  # tagged patients keep their order among themselves
        else:
            assert place.passed == 0
        text = rules.explain(place, "zh_Hans")
        assert text.startswith(f"第{place.position}位：")
        for count in (place.more_urgent_ahead, place.earlier_ahead, place.boosted_ahead, place.passed):
            if count:
                assert f"{count}位" in text


def test_request_transitions_form_one_table() -> None:
    for status, action in itertools.product(RequestStatus, Action):
        moved = rules.next_status(status, action)
        assert (moved is not None) == (status in rules.from_statuses(action))
        if action is not Action.EXPIRE:
            assert (moved is not None) == (action in rules.allowed_actions(status))
        if moved is not None:
            assert moved is rules.target_of(action)  # one target per action: the guard may be a set
    assert rules.next_status(RequestStatus.OFFERED, Action.DECLINE) is RequestStatus.WAITING
    assert rules.next_status(RequestStatus.CANCELLED, Action.ADMIT) is None
    assert rules.next_status(RequestStatus.DISCHARGED, Action.CANCEL) is None
    assert set(rules.from_statuses(Action.CANCEL)) == rules.IN_QUEUE


def test_bed_moves() -> None:
    assert rules.bed_move(BedStatus.CLEANING, BedAction.READY) is BedStatus.FREE
    assert rules.bed_move(BedStatus.OCCUPIED, BedAction.CLOSE) is None
    assert rules.bed_actions(BedStatus.CLOSED) == [BedAction.REOPEN]
    assert rules.fits(None, "male")
    assert rules.fits("female", "female")
    assert not rules.fits("female", "male")


def test_why_a_bed_passes_a_patient_over() -> None:
    """The rule the offer follows (its SQL twin: service.moves._first_fitting), with the reason
    for each patient it passes over; the first without a reason gets the bed."""
    waiting = RequestStatus.WAITING
    woman = Candidate(1, "female", waiting, None)
    assert rules.skip_reason("male", woman) == (rules.ROOM_KEPT_FOR["male"], {})
    assert rules.skip_reason("female", Candidate(2, "male", waiting, None)) == (
        rules.ROOM_KEPT_FOR["female"],
        {},
    )
    assert rules.skip_reason(None, woman) is None
    assert rules.skip_reason("female", woman) is None
    declined = Candidate(3, "male", waiting, OfferStatus.DECLINED)
    assert rules.skip_reason(None, declined) == (rules.DECLINED_THIS_BED, {})
    expired = Candidate(4, "male", waiting, OfferStatus.EXPIRED)
    assert rules.skip_reason(None, expired) == (rules.LET_THIS_BED_EXPIRE, {})
    elsewhere = Candidate(5, "male", RequestStatus.OFFERED, None, "301-2")
    assert rules.skip_reason(None, elsewhere) == (rules.OFFERED_ANOTHER_BED, {"bed": "301-2"})
    assert rules.skip_reason(None, Candidate(6, "male", RequestStatus.CANCELLED, None)) == (
        rules.NOT_WAITING,
        {},
    )
    man = Candidate(7, "male", waiting, None)
    queue = [woman, elsewhere, declined, man, Candidate(8, "female", waiting, None)]
    # Everybody ahead of the one offered is named, with why; nobody behind it.
    assert [(c.id, reason) for c, (reason, _) in rules.skipped("male", queue, 7)] == [
        (1, rules.ROOM_KEPT_FOR["male"]),
        (5, rules.OFFERED_ANOTHER_BED),
        (3, rules.DECLINED_THIS_BED),
    ]
    # Nobody offered: everyone, each with a reason.
    assert [c.id for c, _ in rules.skipped("female", [declined, man], None)] == [3, 7]
    # The reasons read in Chinese.
    assert gettext("zh_Hans", rules.ROOM_KEPT_FOR["male"]) == "该病室仅收男性患者"
    assert rules.fits(None, "male")
    assert not rules.fits("male", "female")
