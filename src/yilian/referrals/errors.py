"""Referral refusals, each with a stable code."""

from __future__ import annotations

from yilian.core.errors import Conflict, DomainError, InvalidTransition, Unprocessable
from yilian.core.i18n import N_
from yilian.referrals import rules


class InvalidReferralMove(InvalidTransition):
    record = N_("referral")
    status_words, action_words = rules.STATUS_WORDS, rules.ACTION_WORDS


class InvalidTaskMove(InvalidTransition):
    record = N_("follow-up task")
    status_words = action_words = rules.TASK_WORDS


class BadTarget(Unprocessable):
    code = "bad_referral_target"
    title = N_("Cannot refer there")
    message = N_("%(why)s")
    translated_params = ("why",)


class MissingDetail(Unprocessable):
    code = "missing_detail"
    title = N_("Something is missing")
    message = N_("%(what)s is required for this action.")
    translated_params = ("what",)


class AttachmentRefused(Unprocessable):
    code = "attachment_refused"
    title = N_("File refused")
    message = N_("%(why)s")
    translated_params = ("why",)


class AttachmentTooLarge(DomainError):
    code, status = "attachment_too_large", 413
    title = N_("File too large")
    message = N_("A file may be at most %(limit)s MB.")


class BadAdmissionRequest(Unprocessable):
    code = "bad_admission_request"
    title = N_("Cannot refer from this admission")
    message = N_("%(why)s")
    translated_params = ("why",)


class NotDischarged(Conflict):
    code = "not_discharged"
    title = N_("Not discharged yet")
    message = N_(
        "The patient of admission request %(id)s has not been discharged: refer down after the discharge."
    )


class DownReferralExists(Conflict):
    code = "down_referral_exists"
    title = N_("Down-referral already made")
    message = N_("This admission already has its down-referral (referral %(id)s).")
