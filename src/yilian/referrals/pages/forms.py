"""How the referral pages' form fields read: where to (institution:department), a local time,
ICD-10 lines, medication lines, the follow-up plan's rows. A field that does not read is refused
in words (422)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from yilian.core.errors import Unprocessable
from yilian.core.i18n import N_
from yilian.referrals.queries import icd10
from yilian.referrals.schemas import Diagnosis, Medication, PlanItemIn


def target(value: str) -> tuple[int, int | None]:
    """ "12:34" → institution 12, department 34; "12:" → institution 12, no department."""
    institution, _, department = value.partition(":")
    try:
        return int(institution), int(department) if department else None
    except ValueError:
        raise Unprocessable(N_("Choose where to refer to.")) from None


def local_time(value: str, zone: ZoneInfo) -> datetime | None:
    """A datetime-local field (the consortium's time) as an aware instant."""
    if not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.strip()).replace(tzinfo=zone)
    except ValueError:
        raise Unprocessable(N_("The time is not valid.")) from None


def diagnoses(codes: list[str]) -> list[Diagnosis]:
    found = []
    for value in codes:
        code = value.split(" ", 1)[0].strip().upper()
        known = icd10.known(code)
        if code and known:
            found.append(Diagnosis(code=known.code, text=known.text))
        elif code:
            raise Unprocessable(N_("Choose diagnoses from the ICD-10 list."))
    return found


def medications(text: str) -> list[Medication]:
    meds = []
    for line in text.splitlines():
        if line.strip():
            name, _, dose = line.strip().partition(" ")
            meds.append(Medication(name=name[:100], dose=dose.strip()[:100]))
    return meds


def plan(what: list[str], every: list[str], until: list[str]) -> list[PlanItemIn]:
    items = []
    for w, e, u in zip(what, every, until, strict=False):
        if w.strip() and e.strip() and u.strip():
            try:
                items.append(
                    PlanItemIn(what=w.strip(), every_days=int(e), until=date.fromisoformat(u.strip()))
                )
            except ValueError:
                raise Unprocessable(N_("The follow-up plan is not valid.")) from None
    return items
