"""Admission refusals, each with a stable code."""

from __future__ import annotations

from yilian.admissions import rules
from yilian.core.errors import Conflict, InvalidTransition, Unprocessable
from yilian.core.i18n import N_


class AlreadyWaiting(Conflict):
    code = "already_waiting"
    title = N_("Already waiting")
    message = N_("This resident is already in the queue of this ward (request %(id)s).")


class BedTaken(Conflict):
    code = "bed_taken"
    title = N_("Bed taken")
    message = N_("Bed %(bed)s is not free any more: someone else has just taken or offered it.")


class QueueEmpty(Conflict):
    code = "queue_empty"
    title = N_("Nobody to offer it to")
    message = N_("Nobody waiting in this ward fits this bed.")


class BedDoesNotFit(Conflict):
    code = "bed_does_not_fit"
    title = N_("Bed does not fit")
    message = N_("This bed's room is kept for patients of the other sex.")


class InvalidRequestMove(InvalidTransition):
    record = N_("admission request")
    status_words, action_words = rules.REQUEST_STATUS, rules.ACTION


class InvalidBedMove(InvalidTransition):
    record = N_("bed")
    status_words, action_words = rules.BED_STATUS, rules.ACTION


class OtherHospital(Unprocessable):
    code = "other_hospital"
    title = N_("Another hospital's bed")
    message = N_("The bed or ward belongs to another hospital than this request's.")


class NotPartnerWard(Unprocessable):
    code = "not_partner_ward"
    title = N_("Not a partner ward")
    message = N_("Patients are transferred only to this ward's partner ward.")


class WardNameTaken(Unprocessable):
    """A second ward of one name in one hospital (the unique constraint's answer)."""

    code, status = "ward_name_taken", 409
    title = N_("Name taken")
    message = N_("This hospital has a ward named %(name)s already.")


class BedLabelTaken(Unprocessable):
    """A second bed of one room and label in one ward (the unique constraint's answer)."""

    code, status = "bed_label_taken", 409
    title = N_("Bed exists")
    message = N_("This ward has a bed %(bed)s already.")


class BedInUse(Conflict):
    code = "bed_in_use"
    title = N_("Bed in use")
    message = N_("Bed %(bed)s holds a patient or is offered to one: it cannot be removed now.")


class RoomSexConflict(Conflict):
    code = "room_sex_conflict"
    title = N_("Room in use")
    message = N_("Room %(room)s has a patient of the other sex: it cannot be kept for %(sex)s now.")
    translated_params = ("sex",)
