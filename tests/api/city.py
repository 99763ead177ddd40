"""The data the API contract run works on: the demo city plus a few live objects, and who signs in.

The demo city (``seed_people``, ``seed_proposals``, ``seed_consultations``) gives proposals in every state
and past consultations; a draft, a registered proposal and an open consultation made through the services
give the action endpoints something they may act on. ``known`` lists the ids that exist, by path parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from chat.models import Message
from consult.demo.city import DEMO_LOGINS, seed_people
from consult.demo.desk import seed_consultations
from consult.desk import services as desk
from consult.models import Bureau, Consultation, ExpertPresence, PresenceStatus, User
from consult.people import tokens
from proposals import services as proposal_services
from proposals.demo import seed_proposals
from proposals.models import Attachment, Proposal
from proposals.workdays import seed_calendar
from tests.sockets import session_cookie

PROPOSALS = 40
CONSULTATIONS = 12
CSRF_TOKEN = "contractcontractcontractcontract"  # a fixed 32-character CSRF secret, sent as cookie and header


@dataclass
class City:
    users: dict[str, User]
    known: dict[str, list[Any]]

    def credentials(self, role: str) -> tuple[dict[str, str], dict[str, str]]:
        """Headers and cookies a signed-in ``role`` sends.

        The deputy a browser session with its CSRF token (the pages' way), everyone else a personal API token
        (a script's way); anonymous sends nothing.
        """
        if role == "anonymous":
            return {}, {}
        user = self.users[role]
        if role == "deputy":
            name, value = session_cookie(user).split("=", 1)
            return {"X-CSRFToken": CSRF_TOKEN}, {name: value, "csrftoken": CSRF_TOKEN}
        _, secret = tokens.issue_token(actor=user, owner=user, name="contract run")
        return {"Authorization": f"Token {secret}"}, {}


def build_city() -> City:
    seed_people()
    seed_calendar()
    seed_proposals(count=PROPOSALS)
    seed_consultations(CONSULTATIONS)
    users = {login.username: User.objects.get(username=login.username) for login in DEMO_LOGINS}
    _live_objects(users)
    return City(users=users, known=_known_ids())


def _live_objects(users: dict[str, User]) -> None:
    """A fresh draft, a submitted and a registered proposal of the demo deputy, and an open consultation."""
    content = proposal_services.DraftContent(
        title="关于完善社区卫生服务中心夜间门诊的建议",
        body="翠湖街道社区卫生服务中心夜间无门诊，居民夜间就医需前往十公里外的医院。建议试点夜间门诊。",
        category="医疗卫生",
    )
    deputy, staff = users["deputy"], users["staff"]
    proposal_services.create_draft(actor=deputy, content=content)
    submitted = proposal_services.create_draft(actor=deputy, content=content)
    proposal_services.submit(actor=deputy, proposal_id=submitted.pk)
    registered = proposal_services.create_draft(actor=deputy, content=content)
    proposal_services.submit(actor=deputy, proposal_id=registered.pk)
    proposal_services.register(actor=staff, proposal_id=registered.pk)
    expert = users["expert"]
    ExpertPresence.objects.update_or_create(
        expert=expert.expert_profile,
        defaults={"status": PresenceStatus.ONLINE, "connections": 1, "last_seen": timezone.now()},
    )
    bureau = expert.expert_profile.bureau
    desk.start_consultation(actor=deputy, bureau_id=bureau.pk, topic="课后服务收费标准")
    desk.route_bureau(bureau_id=bureau.pk)


def _known_ids() -> dict[str, list[Any]]:
    """Existing ids by ``resource.parameter`` (or just ``parameter``), newest first, a handful of each."""

    def ids(queryset: Any, column: str = "pk", n: int = 8) -> list[Any]:
        return list(queryset.order_by(f"-{column}").values_list(column, flat=True).distinct()[:n])

    bureaus = ids(Bureau.objects.all())
    consultations = ids(Consultation.objects.all())
    return {
        "proposals.id": ids(Proposal.objects.all(), n=16),
        "attachment_id": ids(Attachment.objects.all()),
        "bureaus.id": bureaus,
        "bureau_id": bureaus,
        "experts.id": ids(User.objects.filter(expert_profile__isnull=False)),
        "deputies.id": ids(User.objects.filter(deputy_profile__isnull=False)),
        "consultations.id": consultations,
        "consultation_id": consultations,
        "message_id": ids(Message.objects.all()),
    }
