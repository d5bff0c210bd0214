"""The pure referral rules: the whole transition table, deadlines, follow-up dates, file types."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yilian.auth.policy import Actor, Role
from yilian.referrals import rules
from yilian.referrals.rules import Action, Direction, Parties, Side, Status, Urgency

# The chain, written out once more by hand: the table must say exactly this.
EXPECTED = {
    (Status.DRAFT, Action.SUBMIT, Side.REFERRER): Status.SUBMITTED,
    (Status.DRAFT, Action.CANCEL, Side.REFERRER): Status.CANCELLED,
    (Status.SUBMITTED, Action.ACCEPT, Side.RECEIVER): Status.ACCEPTED,
    (Status.SUBMITTED, Action.DECLINE, Side.RECEIVER): Status.DECLINED,
    (Status.SUBMITTED, Action.REDIRECT, Side.RECEIVER): Status.REDIRECTED,
    (Status.SUBMITTED, Action.CANCEL, Side.REFERRER): Status.CANCELLED,
    (Status.SUBMITTED, Action.EXPIRE, Side.SYSTEM): Status.EXPIRED,
    (Status.REDIRECTED, Action.ACCEPT, Side.RECEIVER): Status.ACCEPTED,
    (Status.REDIRECTED, Action.DECLINE, Side.RECEIVER): Status.DECLINED,
    (Status.REDIRECTED, Action.REDIRECT, Side.RECEIVER): Status.REDIRECTED,
    (Status.REDIRECTED, Action.CANCEL, Side.REFERRER): Status.CANCELLED,
    (Status.REDIRECTED, Action.EXPIRE, Side.SYSTEM): Status.EXPIRED,
    (Status.ACCEPTED, Action.CLOSE, Side.REFERRER): Status.CLOSED,
    (Status.ARRIVED, Action.REPORT, Side.RECEIVER): Status.REPORTED,
    (Status.REPORTED, Action.CLOSE, Side.REFERRER): Status.CLOSED,
    (Status.DECLINED, Action.CLOSE, Side.REFERRER): Status.CLOSED,
}
UP_ONLY = {
    (Status.ACCEPTED, Action.SCHEDULE, Side.RECEIVER): Status.SCHEDULED,
    (Status.SCHEDULED, Action.ARRIVE, Side.RECEIVER): Status.ARRIVED,
    (Status.SCHEDULED, Action.RETURN, Side.SYSTEM): Status.ACCEPTED,
}
DOWN_ONLY = {(Status.ACCEPTED, Action.ARRIVE, Side.RECEIVER): Status.ARRIVED}
EXPECTED_BY_DIRECTION = {Direction.UP: EXPECTED | UP_ONLY, Direction.DOWN: EXPECTED | DOWN_ONLY}


@pytest.mark.parametrize("direction", list(Direction))
def test_every_status_action_side_triple(direction: Direction) -> None:
    expected = EXPECTED_BY_DIRECTION[direction]
    for status, action, side in itertools.product(Status, Action, Side):
        assert rules.next_status(direction, status, action, side) == expected.get((status, action, side)), (
            direction,
            status,
            action,
            side,
        )


def test_final_statuses_have_no_way_out() -> None:
    for direction, status, action, side in itertools.product(Direction, rules.FINAL, Action, Side):
        assert rules.next_status(direction, status, action, side) is None


def test_allowed_actions_are_the_public_moves_of_the_side() -> None:
    assert rules.allowed_actions(Direction.UP, Status.SUBMITTED, Side.RECEIVER) == [
        Action.ACCEPT,
        Action.DECLINE,
        Action.REDIRECT,
    ]
    assert rules.allowed_actions(Direction.UP, Status.SUBMITTED, Side.REFERRER) == [Action.CANCEL]
    assert rules.allowed_actions(Direction.UP, Status.SCHEDULED, Side.SYSTEM) == []  # RETURN is not public
    assert rules.allowed_actions(Direction.UP, Status.SUBMITTED, None) == []
    assert rules.allowed_actions(Direction.DOWN, Status.ACCEPTED, Side.RECEIVER) == [Action.ARRIVE]


def test_sides_follow_institution_and_its_acting_role() -> None:
    def at(institution_id: int | None, role: Role) -> Actor:
        return Actor(user_id=1, username="u", roles=frozenset({role}), institution_id=institution_id)

    doctor, specialist = Role.FAMILY_DOCTOR, Role.SPECIALIST
    up = Parties(origin_institution_id=1, origin_tier=1, target_institution_id=2, target_tier=3)
    assert rules.side_of(at(1, doctor), up) is Side.REFERRER
    assert rules.side_of(at(2, specialist), up) is Side.RECEIVER
    assert rules.side_of(at(2, Role.CLINIC_OFFICE), up) is None  # the wrong role at the right place
    assert rules.side_of(at(3, doctor), up) is None
    assert rules.side_of(at(None, doctor), up) is None
    down = Parties(origin_institution_id=2, origin_tier=3, target_institution_id=1, target_tier=1)
    assert rules.side_of(at(2, specialist), down) is Side.REFERRER
    assert rules.side_of(at(1, doctor), down) is Side.RECEIVER


def test_a_referral_naming_a_department_is_received_by_that_department_and_the_named_doctor() -> None:
    """A 妇产科 expert does not answer a 心内科 referral; the doctor named does, whatever its
    department; a referral naming neither goes to the hospital's specialists (policy.may_receive)."""

    def specialist(department_id: int | None, practitioner_id: int | None = None) -> Actor:
        return Actor(
            user_id=1,
            username="u",
            roles=frozenset({Role.SPECIALIST}),
            institution_id=2,
            department_id=department_id,
            practitioner_id=practitioner_id,
        )

    cardiology, gynaecology = 30, 31
    to_cardiology = Parties(1, 1, 2, 3, target_department_id=cardiology)
    assert rules.side_of(specialist(cardiology), to_cardiology) is Side.RECEIVER
    assert rules.side_of(specialist(gynaecology), to_cardiology) is None
    assert rules.side_of(specialist(None), to_cardiology) is None
    to_a_doctor = Parties(1, 1, 2, 3, target_department_id=cardiology, target_practitioner_id=40)
    assert rules.side_of(specialist(gynaecology, 40), to_a_doctor) is Side.RECEIVER
    assert rules.side_of(specialist(gynaecology, 41), to_a_doctor) is None
    assert rules.side_of(specialist(cardiology, 41), to_a_doctor) is Side.RECEIVER
    anywhere = Parties(1, 1, 2, 3)
    assert rules.side_of(specialist(gynaecology), anywhere) is Side.RECEIVER
    assert rules.side_of(specialist(None), anywhere) is Side.RECEIVER


def test_up_goes_to_a_higher_tier_and_down_to_a_lower_one() -> None:
    assert rules.may_refer(Direction.UP, origin_tier=1, target_tier=3)
    assert not rules.may_refer(Direction.UP, origin_tier=1, target_tier=1)
    assert rules.may_refer(Direction.DOWN, origin_tier=3, target_tier=2)
    assert not rules.may_refer(Direction.DOWN, origin_tier=2, target_tier=3)


def test_answer_deadlines_by_urgency() -> None:
    sent = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    assert rules.answer_due(Urgency.EMERGENCY, sent) == sent + timedelta(minutes=30)
    assert rules.answer_due(Urgency.URGENT, sent) == sent + timedelta(hours=24)
    assert rules.answer_due(Urgency.ROUTINE, sent) == sent + timedelta(hours=72)
    due = rules.answer_due(Urgency.URGENT, sent)
    assert not rules.is_overdue(Status.SUBMITTED, due, due - timedelta(seconds=1))
    assert rules.is_overdue(Status.SUBMITTED, due, due)
    assert not rules.is_overdue(Status.ACCEPTED, due, due + timedelta(days=1))  # answered


def test_blood_pressure_every_two_weeks_for_three_months() -> None:
    start = date(2026, 11, 24)
    dates = rules.follow_up_dates(start=start, every_days=14, until=date(2027, 2, 24))
    assert dates[0] == date(2026, 12, 8)
    assert len(dates) == 6
    assert all(b - a == timedelta(days=14) for a, b in itertools.pairwise(dates))


def test_a_plan_never_runs_past_two_years() -> None:
    start = date(2026, 1, 1)
    dates = rules.follow_up_dates(start=start, every_days=1, until=date(9999, 12, 31))
    assert dates[-1] <= start + rules.MAX_PLAN_SPAN


@given(every=st.integers(1, 60), span=st.integers(0, 400))
def test_follow_up_dates_stay_inside_the_plan(every: int, span: int) -> None:
    start = date(2026, 1, 1)
    until = start + timedelta(days=span)
    dates = rules.follow_up_dates(start=start, every_days=every, until=until)
    assert len(dates) == span // every
    assert all(start < d <= until for d in dates)


def test_task_states() -> None:
    today = date(2026, 11, 24)
    assert rules.task_state("open", today, today) == "open"
    assert rules.task_state("open", today - timedelta(days=1), today) == "overdue"
    assert rules.task_state("done", today - timedelta(days=1), today) == "done"


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 20
PDF = b"%PDF-1.7\n" + b"\x00" * 20


def test_jpeg_bytes_named_png_are_a_mismatch_whatever_the_unspecific_type() -> None:
    for declared in (None, "", "application/octet-stream"):
        assert rules.attachment_refusal("ecg.png", declared, JPEG) == "mismatch", declared


def test_the_size_limit_is_ten_mebibytes_inclusive() -> None:
    limit = 10 * 1024 * 1024  # written out: a change of the constant must show here
    assert rules.attachment_refusal("lab.pdf", None, PDF + bytes(limit - len(PDF))) is None
    assert rules.attachment_refusal("lab.pdf", None, PDF + bytes(limit - len(PDF) + 1)) == "too_large"


def test_attachments_are_judged_by_their_content() -> None:
    assert rules.attachment_refusal("ecg.png", "image/png", PNG) is None
    assert rules.attachment_refusal("ecg.JPG", "image/jpeg", JPEG) is None
    assert rules.attachment_refusal("lab.pdf", "application/pdf", PDF) is None
    assert rules.attachment_refusal("ecg.png", None, PNG) is None
    assert rules.attachment_refusal("ecg.png", "image/png", PDF) == "mismatch"  # a PDF named .png
    assert rules.attachment_refusal("ecg.jpg", "image/png", JPEG) == "mismatch"  # declared PNG, is JPEG
    assert rules.attachment_refusal("run.exe", "image/png", b"MZ\x90\x00") == "unsupported"
    assert (
        rules.attachment_refusal("big.pdf", None, PDF + b"\x00" * rules.MAX_ATTACHMENT_BYTES) == "too_large"
    )


def test_urgent_and_emergency_patients_are_taken_in_now() -> None:
    """Not booked into a clinic session days later: the emergency department, or for an urgent
    referral the department it names."""
    assert [u for u in Urgency if rules.accepted_now(u)] == [Urgency.URGENT, Urgency.EMERGENCY]
    assert rules.seen_at_emergency(Urgency.EMERGENCY, department_named=True)
    assert rules.seen_at_emergency(Urgency.URGENT, department_named=False)
    assert not rules.seen_at_emergency(Urgency.URGENT, department_named=True)


def test_the_worklist_countdown() -> None:
    due = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    before = {
        timedelta(hours=3, minutes=40): (False, 3, "hours"),
        timedelta(minutes=20): (False, 20, "minutes"),
        timedelta(seconds=20): (False, 1, "minutes"),
        timedelta(hours=47, minutes=59): (False, 47, "hours"),
        timedelta(hours=72): (False, 3, "days"),
        timedelta(0): (True, 1, "minutes"),  # due now is overdue, as is_overdue says
        -timedelta(hours=2, minutes=10): (True, 2, "hours"),
        -timedelta(days=5): (True, 5, "days"),
    }
    for left, (overdue, amount, unit) in before.items():
        assert rules.due_in(Status.SUBMITTED, due, due - left) == rules.DueIn(overdue, amount, unit), left
    assert rules.due_in(Status.REDIRECTED, due, due) is not None
    assert rules.due_in(Status.ACCEPTED, due, due + timedelta(days=1)) is None  # answered
    assert rules.due_in(Status.DRAFT, None, due) is None


def test_a_referrals_appointment_reads_as_the_referral_stands() -> None:
    """Arrived reads 已到诊 whatever the clinic booking still says; a cancelled booking never reads
    as booked; a referral that left SCHEDULED without its patient did not come."""
    state = rules.appointment_state
    booked, arrived = rules.AppointmentState.BOOKED, rules.AppointmentState.ARRIVED
    no_show, cancelled = rules.AppointmentState.NO_SHOW, rules.AppointmentState.CANCELLED
    for booking in (None, "booked"):
        assert state(Status.SCHEDULED, arrived=False, booking=booking) is booked
        assert state(Status.ARRIVED, arrived=True, booking=booking) is arrived
        assert state(Status.REPORTED, arrived=True, booking=booking) is arrived
        assert state(Status.CLOSED, arrived=True, booking=booking) is arrived
        assert state(Status.ACCEPTED, arrived=False, booking=booking) is no_show  # returned by the job
        assert state(Status.CLOSED, arrived=False, booking=booking) is no_show
    assert state(Status.SCHEDULED, arrived=False, booking="checked_in") is arrived
    assert state(Status.SCHEDULED, arrived=False, booking="cancelled") is cancelled
    assert state(Status.SCHEDULED, arrived=False, booking="no_show") is no_show
    every = {
        state(status, arrived=came, booking=booking)
        for status in Status
        for came in (False, True)
        for booking in (None, "booked", "checked_in", "no_show", "cancelled")
    }
    assert every == set(rules.AppointmentState)
    # Booked only while the referral is scheduled, nobody arrived, and the booking stands.
    assert {
        (status, came, booking)
        for status in Status
        for came in (False, True)
        for booking in (None, "booked", "checked_in", "no_show", "cancelled")
        if state(status, arrived=came, booking=booking) is booked
    } == {(Status.SCHEDULED, False, None), (Status.SCHEDULED, False, "booked")}
