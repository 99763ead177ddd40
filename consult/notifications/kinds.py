"""The kinds of notification, grouped in families people choose from, and how each title is worded.

A notification is stored as its ``kind`` and ``params`` (JSON) and its title is rendered when it is read, in
the reader's language (``render_title``); the wording stored at the time (``Notification.title``) is the
fallback for a kind not listed here (written by a newer or older version). The families are what the
preferences page offers: someone who turns a family off gets no notification of its kinds, in any channel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Family:
    key: str
    label: Promise
    help: Promise


FAMILIES: tuple[Family, ...] = (
    Family("my_proposals", _("My proposals"), _("registration, merging, co-signers' answers, handling again")),
    Family("cosign", _("Co-sign invitations"), _("a deputy invites you to co-sign a proposal")),
    Family("replies", _("Replies to rate"), _("a bureau replied to your proposal")),
    Family("work", _("Work to do"), _("assignments, returns, opinions, sign-off, review, registration")),
    Family("deadlines", _("Deadlines"), _("a deadline is coming or has passed, reminders to hurry")),
    Family("desk", _("Consultations"), _("a consultation waits in your bureau's queue")),
    Family("other", _("Other"), _("everything else")),
)
FAMILY_KEYS = frozenset(family.key for family in FAMILIES)

# kind -> (family, the title's English template, marked for translation)
_KINDS: dict[str, tuple[str, Promise]] = {
    "proposal.registered": ("my_proposals", _("Your proposal was registered")),
    "proposal.not_registered": ("my_proposals", _("Your proposal was not registered")),
    "proposal.merged": ("my_proposals", _("Your proposal is handled together with another")),
    "proposal.letter": ("my_proposals", _("Your proposal is handled as a letter")),
    "proposal.rehandling": ("my_proposals", _("Your proposal is being handled again")),
    "cosign.answered": ("my_proposals", _("A co-signer answered")),
    "extension.approved": ("my_proposals", _("The reply deadline was extended")),
    "cosign.invited": ("cosign", _("You are invited to co-sign")),
    "reply.sent": ("replies", _("You received a reply; please rate it")),
    "reply.follow_up": ("replies", _("You received a follow-up reply")),
    "consultation.rate": ("replies", _("The expert ended the consultation; please rate it")),
    "proposal.submitted": ("work", _("New proposal to register")),
    "assignment.new": ("work", _("New proposal assigned to your bureau")),
    "assignment.returned": ("work", _("A bureau returned a proposal")),
    "opinion.new": ("work", _("A co-handler gave its opinion")),
    "extension.requested": ("work", _("A bureau asks for more time")),
    "extension.decided": ("work", _("Your extension request was decided")),
    "reply.signoff": ("work", _("A reply awaits your sign-off")),
    "reply.review": ("work", _("A reply awaits review")),
    "reply.returned": ("work", _("Your reply was returned")),
    "feedback.unsatisfied": ("work", _("A deputy is not satisfied with a reply")),
    "deadline.soon": ("deadlines", _("Due soon")),
    "deadline.handler": ("deadlines", _("Overdue")),
    "deadline.lead": ("deadlines", _("Overdue")),
    "deadline.staff": ("deadlines", _("Overdue")),
    "deadline.follow_up": ("deadlines", _("Follow-up: report progress")),
    "deadline.moved": ("deadlines", _("A deadline moved with the calendar")),
    "publication.soon": ("deadlines", _("Publication due")),
    "publication.overdue": ("deadlines", _("Publication overdue")),
    "supervision.urged": ("deadlines", _("The office urges your bureau to reply")),
    "consultation.waiting": ("desk", _("A consultation waits in your bureau's queue")),
    "consultation.waiting_for_you": ("desk", _("A deputy asks for you by name")),
    "consultation.call_invite": ("desk", _("You are invited into a call")),
}
# Kinds other parts add later fall in a family by their first word.
_FAMILY_OF_PREFIX = {
    "proposal": "my_proposals",
    "cosign": "cosign",
    "reply": "replies",
    "assignment": "work",
    "deadline": "deadlines",
    "publication": "deadlines",
    "reminder": "deadlines",
    "supervision": "deadlines",
    "consultation": "desk",
}


def family_of(kind: str) -> str:
    known = _KINDS.get(kind)
    if known is not None:
        return known[0]
    return _FAMILY_OF_PREFIX.get(kind.split(".", 1)[0], "other")


def known_kinds() -> list[str]:
    return sorted(_KINDS)


def render_title(kind: str, params: Mapping[str, Any] | None, fallback: str) -> str:
    """The title in the active language: the kind's wording, the due date, then what it is about."""
    known = _KINDS.get(kind)
    if known is None or not params:
        return fallback
    what = str(known[1])
    if params.get("due"):
        what = f"{what} {params['due']}"
    subject = params.get("subject")
    if subject:
        return gettext("%(what)s: %(subject)s") % {"what": what, "subject": subject}
    return what
