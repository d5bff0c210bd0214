"""Directory refusals, each with a stable code."""

from __future__ import annotations

from typing import Any, ClassVar

from yilian.core.errors import Conflict, DomainError, Forbidden, Unprocessable
from yilian.core.i18n import N_


class DuplicateIdNumber(Conflict):
    code = "duplicate_id_number"
    title = N_("Resident already registered")
    message = N_("A resident with this ID number is already registered.")


class ContractExists(Conflict):
    code = "contract_exists"
    title = N_("Already signed")
    message = N_("This resident already has an active family-doctor contract.")


class InvalidIdNumber(Unprocessable):
    code = "invalid_id_number"
    title = N_("Invalid resident ID number")
    message = N_("The resident ID number is not valid: %(reason)s.")
    translated_params = ("reason",)


class ConsentMissing(Unprocessable):
    code = "consent_missing"
    title = N_("Consent missing")
    message = N_("The resident's consent to process health data must be recorded first.")


class InvalidPhone(Unprocessable):
    code = "invalid_phone"
    title = N_("Invalid phone number")
    message = N_("The phone number is not a mainland mobile or landline number.")


class NotSignedResident(Forbidden):
    """403 wherever it is refused (booking a kept slot, referring up): the contract is the care
    relationship that entitles a family doctor to act for the resident, and it is missing."""

    code = "not_signed_resident"
    title = N_("Not a signed resident")
    message = N_("Only residents with an active family-doctor contract at your centre.")


class NotInConsortium(Forbidden):
    """403: kept slots and referrals stay between institutions that share a consortium."""

    code = "not_in_consortium"
    title = N_("Not in the same consortium")
    message = N_("This institution does not share a consortium with yours.")


class IdentityMismatch(Conflict):
    """409: an ID number already registered under another name (nothing else is told)."""

    code = "identity_mismatch"
    title = N_("Name and ID number do not match")
    message = N_("This ID number is registered under another name: check the name and the ID number.")


# --- the registers: institutions, departments, practitioners, consortia and their members --------


class FieldConflict(Conflict):
    """409 naming the field that clashes (`errors`, as a 422 does), so that a form puts the
    message beside it."""

    field: ClassVar[str] = ""

    def problem(self, locale: str, instance: str | None = None) -> dict[str, Any]:
        body = super().problem(locale, instance)
        body["errors"] = [{"field": self.field, "message": body["detail"], "type": self.code}]
        return body


class DuplicateInstitutionName(FieldConflict):
    field = "body.name"
    code = "duplicate_institution_name"
    title = N_("Institution already registered")
    message = N_("An institution with this name is already registered.")


class DuplicateCreditCode(FieldConflict):
    field = "body.credit_code"
    code = "duplicate_credit_code"
    title = N_("Credit code already registered")
    message = N_("An institution with this unified social credit code is already registered.")


class DuplicateDepartment(FieldConflict):
    field = "body.name"
    code = "duplicate_department"
    title = N_("Department already exists")
    message = N_("This institution already has a department of this name.")


class DuplicateConsortium(FieldConflict):
    field = "body.name"
    code = "duplicate_consortium"
    title = N_("Consortium already exists")
    message = N_("A consortium of this name already exists.")


class AlreadyMember(FieldConflict):
    field = "body.institution_id"
    code = "already_member"
    title = N_("Already a member")
    message = N_("This institution is listed as a member of the consortium already.")


class InvalidRegisterValue(Unprocessable):
    """422 naming the field (`errors`), so that a form puts the reason beside it."""

    code = "invalid_register_value"
    title = N_("Invalid value")
    message = N_("%(reason)s")
    translated_params = ("reason",)


# --- the register workbook (批量导入) ---------------------------------------------------------


class WorkbookTooLarge(DomainError):
    code, status = "workbook_too_large", 413
    title = N_("File too large")
    message = N_("The file is larger than 20 MB.")


class NotAWorkbook(Unprocessable):
    code = "not_a_workbook"
    title = N_("Not a workbook")
    message = N_("This file is not an Excel workbook (.xlsx) or a CSV file.")


class WorkbookBomb(Unprocessable):
    code = "workbook_bomb"
    title = N_("Workbook refused")
    message = N_("This workbook would unpack to far more than it weighs: it is refused.")


class WorkbookHasErrors(Unprocessable):
    code = "workbook_has_errors"
    title = N_("The workbook has errors")
    message = N_("The workbook has %(count)s errors: correct them and upload it again; nothing was imported.")


class WorkbookAlreadyImported(Conflict):
    code = "workbook_already_imported"
    title = N_("Already imported")
    message = N_("This upload has been imported already.")
