"""Who may do what in a case channel (专病群). The facts are the actor's membership of the channel
(None: not a current member; else whether a moderator) and the channel's owner institution.
Membership is the door: a non-member neither reads nor posts, whatever the role."""

from __future__ import annotations

from yilian.auth.policy.actors import Actor, Role
from yilian.auth.policy.care import ResidentLinks, care_for

CLINICAL_ROLES = frozenset({Role.FAMILY_DOCTOR, Role.SPECIALIST})


def may_open_channels(actor: Actor) -> bool:
    """专病群 in the menu: the clinicians, who post, and the administrators, who set channels up."""
    return bool(actor.roles & (CLINICAL_ROLES | {Role.SYSTEM_ADMIN, Role.INSTITUTION_ADMIN}))


def may_create_channel(actor: Actor, owner_institution_id: int) -> bool:
    """A channel is set up by its owner's administrator (信息科) or the system administrator."""
    return actor.has(Role.SYSTEM_ADMIN) or (
        actor.has(Role.INSTITUTION_ADMIN) and actor.institution_id == owner_institution_id
    )


def may_manage_members(actor: Actor, moderator: bool | None, owner_institution_id: int) -> bool:
    """Invite (add), remove, make moderator: the channel's moderators and the owner's administrators."""
    return bool(moderator) or may_create_channel(actor, owner_institution_id)


def may_read_channel(moderator: bool | None) -> bool:
    """Read and post: current members only (a member who left reads no more)."""
    return moderator is not None


def may_pin(moderator: bool | None) -> bool:
    return bool(moderator)


def may_retract(actor: Actor, moderator: bool | None, author_id: int) -> bool:
    """The author retracts a post, a moderator anyone's (the text stays for the audit trail)."""
    return moderator is not None and (actor.user_id == author_id or bool(moderator))


def may_edit_post(actor: Actor, moderator: bool | None, author_id: int) -> bool:
    """Only the author, only while still a member (the window is the channel's rule and its UPDATE)."""
    return moderator is not None and actor.user_id == author_id


def may_post_case(actor: Actor, links: ResidentLinks) -> bool:
    """A case post names a resident the actor cares for now (any relationship `care_for` names)."""
    return care_for(actor, links) is not None
