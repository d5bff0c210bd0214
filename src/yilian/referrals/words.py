"""How referral and task codes read in messages (message ids; the problem details translate them).
The same ids as the pages' words (templates/referrals/_words.html), so a refusal names the
status and the button as the page shows them."""

from __future__ import annotations

from typing import Final

from yilian.core.i18n import N_

STATUS: Final = {
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
ACTION: Final = {
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
TASK: Final = {"open": N_("To do"), "done": N_("Done"), "missed": N_("Missed")}
