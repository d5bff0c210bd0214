"""Scheduling refusals, each with a stable code."""

from __future__ import annotations

from typing import Final

from yilian.core.errors import Conflict, DomainError, InvalidTransition, Unprocessable
from yilian.core.i18n import N_


class SlotUnavailable(Conflict):
    code = "slot_unavailable"
    title = N_("No slot left")
    message = N_("No free slot is left in this session for this booking channel.")


class AlreadyBooked(Conflict):
    code = "already_booked"
    title = N_("Already booked")
    message = N_("This resident already holds an appointment in this session.")


class BookingClosed(Conflict):
    code = "booking_closed"
    title = N_("Booking is not open")
    message = N_("This session cannot be booked now: %(why)s.")
    translated_params = ("why",)


class CancelClosed(Conflict):
    code = "cancel_closed"
    title = N_("Too late to cancel")
    message = N_("Appointments can be cancelled until %(until)s.")


STATUS_WORDS: Final = {
    "booked": N_("Booked"),
    "cancelled": N_("Cancelled"),
    "checked_in": N_("Checked in"),
    "no_show": N_("Did not come"),
    "open": N_("Open"),
    "stopped": N_("Stopped"),
}
ACTION_WORDS: Final = {
    "cancel": N_("Cancel"),
    "check_in": N_("Check in"),
    "no_show": N_("Did not come"),
    "stop": N_("Stop the session"),
}


class InvalidAppointmentMove(InvalidTransition):
    record = N_("appointment")
    status_words, action_words = STATUS_WORDS, ACTION_WORDS


class InvalidSessionMove(InvalidTransition):
    record = N_("clinic session")
    status_words, action_words = STATUS_WORDS, ACTION_WORDS


class InvalidShare(Unprocessable):
    code = "invalid_share"
    title = N_("Invalid share")
    message = N_(
        "The kept share must lie between its minimum and its maximum, all between 0 and 100 per cent"
        " (got minimum %(minimum)s, share %(share)s, maximum %(maximum)s)."
    )


class SessionNotStarted(Conflict):
    code = "session_not_started"
    title = N_("Session not started")
    message = N_("Check-in and no-show are recorded once the session has started (%(starts)s).")


class PatientMismatch(Unprocessable):
    code = "patient_mismatch"
    title = N_("Patient does not match")
    message = N_("The name does not match the registered resident with this ID number.")


class DuplicateTemplate(Conflict):
    code = "duplicate_template"
    title = N_("Already has a clinic then")
    message = N_(
        "This practitioner already has a clinic template on that weekday and period"
        " (an inactive one can be edited and used again)."
    )


__all__ = [
    "AlreadyBooked",
    "BookingClosed",
    "CancelClosed",
    "DomainError",
    "DuplicateTemplate",
    "InvalidAppointmentMove",
    "InvalidSessionMove",
    "InvalidShare",
    "PatientMismatch",
    "SessionNotStarted",
    "SlotUnavailable",
]
