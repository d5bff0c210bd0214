"""Sign-in rules: pure, no database, no web. Session lifetimes, whether an account may be used, and
how a token is kept (its digest only, never the token). Failed sign-ins are throttled (throttle.py),
not counted to a lock."""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from yilian.core.i18n import N_

# Refresh a session's last-seen time at most this often: a page view need not be a write.
LAST_SEEN_RESOLUTION: Final = timedelta(seconds=60)


@dataclass(frozen=True)
class LoginPolicy:
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=8)
    token_lifetime: timedelta = timedelta(hours=8)
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))


def account_open(*, is_active: bool, locked_until: datetime | None, now: datetime) -> bool:
    """A deactivated account, or one an administrator locked until later, signs nothing in: its
    sign-ins fail like a wrong password, and its sessions and tokens stop working."""
    return is_active and (locked_until is None or locked_until <= now)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- accounts: usernames and first passwords ---------------------------------------------------

USERNAME: Final = re.compile(r"[a-z0-9._-]{3,64}")
PASSWORD_MIN: Final = 10
PASSWORD_MAX: Final = 256
# Passwords too obvious to give anyone, whatever their length (compared case-insensitively).
OBVIOUS_PASSWORDS: Final = frozenset(
    {
        "1234567890",
        "0123456789",
        "12345678910",
        "123456789a",
        "a123456789",
        "qwertyuiop",
        "1qaz2wsx3edc",
        "password123",
        "password1234",
        "passw0rd123",
        "abcdefghij",
        "abc1234567",
        "aaaaaaaaaa",
        "yilian-demo",
        "yilian123456",
        "woaini1314",
        "iloveyou123",
        "admin12345",
        "administrator",
    }
)


def username_refusal(username: str) -> str | None:
    """Why a username cannot be used (a message id), or None: 3 to 64 lower-case letters,
    digits, `.`, `_` and `-`."""
    if USERNAME.fullmatch(username) is None:
        return N_("3 to 64 characters: lower-case letters, digits, “.”, “_” and “-”.")
    return None


def password_refusal(password: str, *, username: str, display_name: str = "") -> str | None:
    """Why a password cannot be set (a message id), or None: at least 10 characters, not the
    username or the name, not one character repeated, not a well-known one."""
    if len(password) < PASSWORD_MIN:
        return N_("At least 10 characters.")
    if len(password) > PASSWORD_MAX:
        return N_("At most 256 characters.")
    folded = password.casefold()
    if username and username.casefold() in folded:
        return N_("The password must not contain the username.")
    if display_name and display_name.casefold() == folded:
        return N_("The password must not be the name.")
    if len(set(folded)) <= 2 or folded in OBVIOUS_PASSWORDS or _a_run(folded):
        return N_("This password is too easy to guess.")
    return None


def _a_run(text: str) -> bool:
    """1234567890, abcdefghijk, 9876543210: one step up or down all the way."""
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(text)}
    return steps <= {1} or steps <= {-1}


# --- the audit trail in words: what each action name a service writes means ---------------------

# Every action written to the audit trail (`audit.record`, `audit.require`, `audit.event`, the
# booking statements), as a phrase: "陈佳怡 (田林社区卫生服务中心) 查看居民档案 王*萍".
# tests/auth/test_audit_words.py finds every action name in the code and insists it is here.
ACTION_WORDS: Final[dict[str, str]] = {
    "auth.sign_in": N_("signed in"),
    "audit.browse": N_("browsed the audit log"),
    "resident.list": N_("listed residents"),
    "resident.read": N_("opened a resident's record"),
    "resident.reveal": N_("revealed an ID number and phone"),
    "resident.create": N_("registered a resident"),
    "resident.identify": N_("checked a patient's identity"),
    "contract.sign": N_("signed a family-doctor contract"),
    "quota_policy.set": N_("set an expert's kept-slot share"),
    "appointment.create": N_("booked an appointment"),
    "appointment.cancel": N_("cancelled an appointment"),
    "appointment.read": N_("opened an appointment"),
    "appointment.list": N_("listed appointments"),
    "appointment.check_in": N_("recorded an arrival"),
    "appointment.no_show": N_("recorded a no-show"),
    "session.stop": N_("stopped a clinic session"),
    "clinic_template.view": N_("opened the clinic templates"),
    "clinic_template.create": N_("added a clinic template"),
    "clinic_template.update": N_("edited a clinic template"),
    "clinic_template.deactivate": N_("deactivated a clinic template"),
    "clinic_closure.view": N_("opened the clinic closures"),
    "clinic_closure.create": N_("closed clinics for a date range"),
    "clinic_closure.lift": N_("lifted a clinic closure"),
    "clinic.view": N_("opened the clinic numbers"),
    "clinic.session.view": N_("opened a session's attendance"),
    "referral.create": N_("created a referral"),
    "referral.read": N_("opened a referral"),
    "referral.list": N_("listed referrals"),
    "referral.stats": N_("opened the referral numbers"),
    "referral.attach": N_("attached a file to a referral"),
    "referral.attachment.read": N_("opened a referral's attachment"),
    "referral.escalate": N_("escalated an unanswered referral"),
    "referral.submit": N_("sent a referral"),
    "referral.accept": N_("accepted a referral"),
    "referral.decline": N_("declined a referral"),
    "referral.redirect": N_("redirected a referral"),
    "referral.schedule": N_("booked a referral's appointment"),
    "referral.arrive": N_("recorded a referred patient's arrival"),
    "referral.report": N_("wrote a referral's report back"),
    "referral.close": N_("closed a referral"),
    "referral.cancel": N_("cancelled a referral"),
    "referral.expire": N_("let a referral expire"),
    "referral.return": N_("returned a referral to its sender"),
    "follow_up.list": N_("listed follow-up tasks"),
    "follow_up.open": N_("reopened a follow-up task"),
    "follow_up.done": N_("completed a follow-up task"),
    "follow_up.missed": N_("marked a follow-up task missed"),
    "follow_up.refer_up": N_("referred up from a follow-up task"),
    "admission.create": N_("requested an admission"),
    "admission.read": N_("opened an admission request"),
    "admission.list": N_("listed admission requests"),
    "admission.queue": N_("opened a ward's queue"),
    "admission.stats": N_("opened the admission numbers"),
    "admission.settings": N_("changed a ward's admission settings"),
    "admission.offer": N_("offered a bed"),
    "admission.accept": N_("recorded a bed offer accepted"),
    "admission.decline": N_("recorded a bed offer declined"),
    "admission.expire": N_("let a bed offer lapse"),
    "admission.admit": N_("admitted a patient"),
    "admission.transfer": N_("transferred a patient"),
    "admission.transfer_out": N_("transferred a patient to a partner hospital"),
    "admission.discharge": N_("discharged a patient"),
    "admission.cancel": N_("cancelled an admission request"),
    "bed.list": N_("opened a ward's bed board"),
    "bed.move": N_("changed a bed's state"),
    "account.create": N_("created a user account"),
    "account.update": N_("changed a user account"),
    "account.reset_password": N_("reset a user account's password"),
    "account.deactivate": N_("deactivated a user account"),
    "account.reactivate": N_("reactivated a user account"),
    "account.list": N_("listed user accounts"),
    "account.read": N_("opened a user account"),
    "password.change": N_("changed their own password"),
    "ward.create": N_("created a ward"),
    "ward.update": N_("changed a ward"),
    "bed.create": N_("added beds"),
    "bed.update": N_("renamed a bed"),
    "bed.remove": N_("removed a bed"),
    # the registers (directory.service.registers)
    "institution.create": N_("added an institution"),
    "institution.update": N_("changed an institution's details"),
    "department.create": N_("added a department"),
    "department.update": N_("changed a department"),
    "practitioner.create": N_("added a practitioner"),
    "practitioner.update": N_("changed a practitioner's details"),
    "consortium.create": N_("set up a consortium"),
    "consortium.update": N_("changed a consortium's details"),
    "membership.join": N_("added a member to a consortium"),
    "membership.update": N_("changed a member's role or dates"),
    "membership.leave": N_("recorded a member leaving a consortium"),
    "register.upload": N_("uploaded a register workbook (dry run)"),
    "register.import": N_("imported a register workbook"),
    "register.export": N_("exported a register to a workbook"),
    # the case channels (channels.service, channels.queries)
    "channel.create": N_("set up a case channel"),
    "channel.member.add": N_("invited a member to a case channel"),
    "channel.member.remove": N_("removed a member from a case channel"),
    "channel.leave": N_("left a case channel"),
    "channel.read": N_("opened a case channel"),
    "channel.attach": N_("uploaded a file to a case channel"),
    "channel.attachment.read": N_("opened a file in a case channel"),
    "channel.post": N_("posted in a case channel"),
    "channel.case.read": N_("read a case post"),
    "channel.ack": N_("acknowledged a post"),
    "channel.edit": N_("edited a post"),
    "channel.retract": N_("retracted a post"),
    "channel.pin": N_("pinned or unpinned a post"),
    "channel.refer": N_("made an up-referral from a case post"),
}
UNKNOWN_ACTION: Final = N_("did something not described yet")

# The record an action was about, from its audit row's detail: the first of these it names.
RECORD_WORDS: Final = (
    ("referral_id", N_("referral #%(id)s")),
    ("request_id", N_("admission request #%(id)s")),
    ("session_id", N_("clinic session #%(id)s")),
    ("task_id", N_("follow-up task #%(id)s")),
    ("contract_id", N_("contract #%(id)s")),
    ("bed_id", N_("bed #%(id)s")),
    ("offer_id", N_("bed offer #%(id)s")),
    ("account_id", N_("user account #%(id)s")),
    ("post_id", N_("post #%(id)s")),
    ("channel_id", N_("case channel #%(id)s")),
)

# The care relationship a read went through (`policy.care.CareLink.name`, "referral:12").
CARE_WORDS: Final[dict[str, str]] = {
    "contract": N_("family-doctor contract #%(id)s"),
    "registration": N_("registered at this centre"),
    "admission": N_("admission request #%(id)s"),
    "referral": N_("referral #%(id)s"),
    "appointment": N_("appointment #%(id)s"),
    "case": N_("case post #%(id)s"),
}
UNKNOWN_CARE: Final = N_("another care relationship")


def action_words(action: str) -> str:
    return ACTION_WORDS.get(action, UNKNOWN_ACTION)


def record_words(detail: dict[str, object] | None) -> tuple[str, int] | None:
    """The message id and number of the record an audit row's detail names, if any."""
    for key, words in RECORD_WORDS:
        value = (detail or {}).get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return words, value
    return None


def care_words(care: str | None) -> tuple[str, int | None] | None:
    """ "referral:12" → ("referral #%(id)s", 12); None when the row names no relationship."""
    if not care:
        return None
    kind, _, ref = care.partition(":")
    return CARE_WORDS.get(kind, UNKNOWN_CARE), int(ref) if ref.isdigit() else None
