"""Directory refusals, each with a stable code."""

from __future__ import annotations

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
