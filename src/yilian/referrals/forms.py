"""How the referral form's fields read: ICD-10 lines, medication lines, the follow-up plan's rows.
The pages parse with these; a field that does not read is refused in words (422)."""

from __future__ import annotations

from datetime import date

from yilian.core.errors import Unprocessable
from yilian.core.i18n import N_
from yilian.referrals import icd10
from yilian.referrals.schemas import Diagnosis, Medication, PlanItemIn


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
