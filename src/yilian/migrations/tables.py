"""Every table, imported once so that metadata (Alembic, tests) sees them all."""

from yilian.admissions.models import AdmissionEvent, AdmissionRequest, Bed, BedOffer, Ward
from yilian.auth.models import ApiToken, AuditEvent, BrowserSession, User, UserRole
from yilian.channels.models import (
    Channel,
    ChannelMember,
    ChannelPost,
    ChannelThread,
    PostAck,
    PostAttachment,
    PostEdit,
    PostMention,
)
from yilian.core.idempotency import IdempotencyRecord
from yilian.core.tables import Base
from yilian.directory.models import (
    Consortium,
    Contract,
    Department,
    Institution,
    Membership,
    Practitioner,
    Resident,
    WorkbookUpload,
)
from yilian.notices.models import Notice
from yilian.referrals.models import (
    FollowUpItem,
    FollowUpTask,
    Referral,
    ReferralAttachment,
    ReferralEvent,
)
from yilian.scheduling.models import (
    Appointment,
    ClinicClosure,
    ClinicSession,
    ClinicTemplate,
    HospitalRules,
    QuotaPolicy,
    ShareAdjustment,
    Slot,
    SlotRelease,
)

__all__ = [
    "AdmissionEvent",
    "AdmissionRequest",
    "ApiToken",
    "Appointment",
    "AuditEvent",
    "Base",
    "Bed",
    "BedOffer",
    "BrowserSession",
    "Channel",
    "ChannelMember",
    "ChannelPost",
    "ChannelThread",
    "ClinicClosure",
    "ClinicSession",
    "ClinicTemplate",
    "Consortium",
    "Contract",
    "Department",
    "FollowUpItem",
    "FollowUpTask",
    "HospitalRules",
    "IdempotencyRecord",
    "Institution",
    "Membership",
    "Notice",
    "PostAck",
    "PostAttachment",
    "PostEdit",
    "PostMention",
    "Practitioner",
    "QuotaPolicy",
    "Referral",
    "ReferralAttachment",
    "ReferralEvent",
    "Resident",
    "ShareAdjustment",
    "Slot",
    "SlotRelease",
    "User",
    "UserRole",
    "Ward",
    "WorkbookUpload",
]
