"""How statuses, urgencies and moves read (message ids; the pages and errors translate them)."""

from __future__ import annotations

from typing import Final

from yilian.core.i18n import N_

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
    "closed": N_("closed"),
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
    "close": N_("be closed"),
    "reopen": N_("be reopened"),
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
