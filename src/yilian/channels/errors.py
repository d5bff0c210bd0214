"""Refusals of the case channels, each with a stable code."""

from __future__ import annotations

from yilian.core.errors import Conflict, Unprocessable
from yilian.core.i18n import N_


class AlreadyMember(Conflict):
    code = "already_member"
    title = N_("Already a member")
    message = N_("%(name)s is already a member of this channel.")


class NotMember(Conflict):
    code = "not_member"
    title = N_("Not a member")
    message = N_("This person is not a member of this channel.")


class EditWindowPassed(Conflict):
    code = "edit_window_passed"
    title = N_("Too late to edit")
    message = N_("A post can be edited within 5 minutes of posting; retract it and post again.")


class PostRetracted(Conflict):
    code = "post_retracted"
    title = N_("Post retracted")
    message = N_("This post has been retracted.")


class NotACasePost(Unprocessable):
    code = "not_a_case_post"
    title = N_("Not a case post")
    message = N_("Only a post that names a patient can become a referral.")


class BadAttachments(Unprocessable):
    code = "bad_attachments"
    title = N_("Attachments not found")
    message = N_("Upload the files to this channel first; each file belongs to one post.")

    def __init__(self) -> None:
        super().__init__(field="body.attachment_ids")


class DuplicateChannelName(Conflict):
    code = "duplicate_channel_name"
    title = N_("Channel already exists")
    message = N_("A channel named %(name)s already exists.")
