"""Scheduling refusals, each with a stable code."""

from __future__ import annotations

from yilian.errors import Conflict, DomainError, Forbidden, Unprocessable
from yilian.i18n import N_


class SlotUnavailable(Conflict):
    code = "slot_unavailable"
    title = N_("No slot left")
    message = N_("No free slot is left in this session for this booking channel.")


class NotSignedResident(Forbidden):
    code = "not_signed_resident"
    title = N_("Not a signed resident")
    message = N_("Kept community slots are only for residents with an active contract at your centre.")


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


class InvalidTransition(Conflict):
    code = "invalid_transition"
    title = N_("Not possible now")
    message = N_("This appointment is %(status)s; it cannot be %(action)s.")


class PatientMismatch(Unprocessable):
    code = "patient_mismatch"
    title = N_("Patient does not match")
    message = N_("The name does not match the registered resident with this ID number.")


__all__ = [
    "AlreadyBooked",
    "BookingClosed",
    "CancelClosed",
    "DomainError",
    "InvalidTransition",
    "NotSignedResident",
    "PatientMismatch",
    "SlotUnavailable",
]
