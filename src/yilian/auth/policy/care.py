"""Access follows care (DESIGN §3): a resident's record is open to an actor only through a care
relationship the system can name, for a bounded time.

Each domain that makes care (a contract, a referral, an appointment, an admission) states its
relationships as rows (`CareLink`): which resident, which relationship, and to whom it opens the
record — the staff of one institution in one role, narrowed to one department or one
practitioner. The bounds in time are the constants below, applied by each domain's SQL when it
lists the relationships that hold now; whether a link opens the record to an actor is `opens_to`
(and its SQL twin, `directory.queries.care.opens_to_clause`, parity-tested).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Final

from yilian.auth.policy.actors import Actor, Role


class Care(StrEnum):
    """The relationships that open a resident's record, in the order one is named for a read."""

    CONTRACT = "contract"  # the contract centre's family doctors, while it is current
    REGISTRATION = "registration"  # the registering centre's family doctors, to sign the contract
    ADMISSION = "admission"  # the admission office, the ward's department, the requesting specialist
    REFERRAL = "referral"  # the referring side and the receiving department
    APPOINTMENT = "appointment"  # the session's practitioner and the hospital's clinic office
    CASE = "case"  # a case post in a channel: that post only, never the record (named in the audit)


# How long a relationship keeps the record open after it ends.
REFERRAL_AFTER_END: Final = timedelta(days=30)
APPOINTMENT_AFTER_SESSION: Final = timedelta(days=30)
ADMISSION_AFTER_END: Final = timedelta(days=90)
REGISTRATION_WINDOW: Final = timedelta(days=30)  # from registration to the first contract


@dataclass(frozen=True)
class CareLink:
    """One care relationship that holds now, and whom it opens the record to."""

    care: Care
    ref_id: int  # the contract's, referral's, appointment's, admission request's or resident's id
    institution_id: int
    role: Role
    department_id: int | None = None  # only this department's staff
    practitioner_id: int | None = None  # only this practitioner

    @property
    def name(self) -> str:
        """How the audit trail names it: "referral:12"."""
        return f"{self.care.value}:{self.ref_id}"


def opens_to(link: CareLink, actor: Actor) -> bool:
    return (
        actor.institution_id == link.institution_id
        and link.role in actor.roles
        and (link.department_id is None or link.department_id == actor.department_id)
        and (link.practitioner_id is None or link.practitioner_id == actor.practitioner_id)
    )


def care_for(actor: Actor, links: ResidentLinks) -> CareLink | None:
    """The relationship through which `actor` reaches the resident (the first by `Care` order,
    then the newest), or None: no care, no access."""
    order = list(Care)
    usable = [link for link in links.care if opens_to(link, actor)]
    if not usable:
        return None
    return min(usable, key=lambda link: (order.index(link.care), -link.ref_id))


def care_name(actor: Actor, links: ResidentLinks) -> str | None:
    """How the audit row of a read names the relationship it went through ("referral:12")."""
    link = care_for(actor, links)
    return link.name if link else None


@dataclass(frozen=True)
class ResidentLinks:
    """The care relationships of one resident that hold now, as the services found them."""

    care: tuple[CareLink, ...] = ()

    @property
    def contract_institution_ids(self) -> frozenset[int]:
        """The centres whose current contract the resident holds."""
        return frozenset(link.institution_id for link in self.care if link.care == Care.CONTRACT)
