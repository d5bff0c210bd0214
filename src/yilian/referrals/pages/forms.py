"""How the referral pages' form fields read: where to (institution:department), a local time,
ICD-10 lines, medication lines, the follow-up plan's rows. A field that does not read is refused
in words (422) naming the form's field, so that the form shows the message beside it; a
service's refusal that names no field is given the field it is about (`refusals_of`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from yilian.core.errors import Unprocessable
from yilian.core.i18n import N_
from yilian.referrals.errors import AttachmentTooLarge, BadTarget
from yilian.referrals.queries import icd10
from yilian.referrals.schemas import Diagnosis, Medication, PlanItemIn

M = TypeVar("M", bound=BaseModel)
# A schema's field → the form's field that holds it (the same name unless said here).
FORM_FIELDS: Mapping[str, str] = {
    "target_institution_id": "target",
    "target_department_id": "target",
    "diagnoses": "diagnosis",
    "plan": "plan_what",
}
PLAN_FIELDS: Mapping[str, str] = {"what": "plan_what", "every_days": "plan_every", "until": "plan_until"}
# The one refusal of the plan the referral service names by its reason (a BadTarget).
PLAN_REFUSAL = N_("a follow-up plan ends after today and within two years")


def target(value: str) -> tuple[int, int | None]:
    """ "12:34" → institution 12, department 34; "12:" → institution 12, no department."""
    institution, _, department = value.partition(":")
    try:
        return int(institution), int(department) if department else None
    except ValueError:
        raise Unprocessable(N_("Choose where to refer to."), field="target") from None


def local_time(value: str, zone: ZoneInfo) -> datetime | None:
    """A datetime-local field (the consortium's time) as an aware instant."""
    if not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.strip()).replace(tzinfo=zone)
    except ValueError:
        raise Unprocessable(N_("The time is not valid."), field="scheduled_at") from None


def known_diagnosis(value: str) -> icd10.Code | None:
    """An ICD-10 line ("I10 原发性高血压" or "I10") as the list's entry; None when blank; refused
    when it is not on the list."""
    code = value.split(" ", 1)[0].strip().upper()
    if not code:
        return None
    known = icd10.known(code)
    if known is None:
        raise Unprocessable(N_("Choose diagnoses from the ICD-10 list."), field="diagnosis")
    return known


def diagnoses(lines: list[str]) -> list[Diagnosis]:
    return [Diagnosis(code=c.code, text=c.text) for line in lines if (c := known_diagnosis(line))]


def report_diagnosis(value: str) -> str:
    """The report's diagnosis, picked from the same ICD-10 list: "I10 原发性高血压", or blank."""
    known = known_diagnosis(value)
    return f"{known.code} {known.text}" if known else ""


def medications(text: str) -> list[Medication]:
    meds = []
    for line in text.splitlines():
        if line.strip():
            name, _, dose = line.strip().partition(" ")
            meds.append(Medication(name=name[:100], dose=dose.strip()[:100]))
    return meds


def plan(what: list[str], every: list[str], until: list[str]) -> list[PlanItemIn]:
    """The rows filled in (a row left empty is skipped); a row that does not read is refused beside
    its field at fault."""
    return [
        schema(PlanItemIn, PLAN_FIELDS, what=w, every_days=e.strip(), until=u.strip())
        for w, e, u in zip(what, every, until, strict=False)
        if w.strip() or e.strip() or u.strip()
    ]


def schema(model: type[M], names: Mapping[str, str], **values: Any) -> M:
    """The service's input from the form's values; a refusal names the form's field (`body.x`),
    as FastAPI's own refusal of a form field does, and is answered in words by the same handler."""
    try:
        return model(**values)
    except ValidationError as exc:
        raise RequestValidationError([_on_form(error, names) for error in exc.errors()]) from None


def _on_form(error: Any, names: Mapping[str, str]) -> dict[str, Any]:
    """A schema's error as the form's: its field's name, and a blank text said as missing."""
    field = str(error["loc"][0])
    blank = error["type"] == "string_too_short" and error.get("ctx", {}).get("min_length") == 1
    return {**error, "loc": ("body", names.get(field, field)), "type": "missing" if blank else error["type"]}


@contextmanager
def refusals_of(
    field: str | None, about: tuple[type[Unprocessable], ...] = (Unprocessable,)
) -> Iterator[None]:
    """A service's refusal of the kinds `about` that names no field is given the form's `field`
    (a refused plan, the plan's end date); a file over the limit is refused beside it as well."""
    try:
        yield
    except AttachmentTooLarge as exc:  # 413 to the API; to the form, a refusal beside the file
        refused = Unprocessable(exc.message, field=field, **exc.params)
        refused.after_rollback = exc.after_rollback
        raise refused from exc
    except about as exc:
        if exc.field is None:
            plan = isinstance(exc, BadTarget) and exc.params.get("why") == PLAN_REFUSAL
            exc.field = "plan_until" if plan else field
        raise
