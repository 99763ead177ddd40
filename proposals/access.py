"""The one access policy of proposals: who sees a proposal, which of its parts, in which wording, and who may act.

Every layer asks here and nowhere else: the services refuse with ``require_*``, the API serialises through
``ProposalAccess``, the pages render through it, search documents take their ``acl`` from ``search_acl`` and
notifications go only to people ``visible_proposals`` lets see the proposal. The rules, as a table, are in
``docs``/README ("Who sees what of a proposal"); in short:

- **office** (staff, admins): every proposal but drafts, every part;
- **bureau** (experts and handlers of a bureau assigned in any round): its own work at every stage, the other
  bureaus' replies once sent, the lead's reply while it waits for its sign-off (会签), the co-handlers'
  opinions when it leads; experts read what handlers read, only handlers act;
- **recipients** (the proposer, signed co-signers, and the same people of proposals merged into it): the
  sent replies in the bureau's own wording with its contact, the communication records, their own ratings;
- **invitees** (a co-signature still open) see the proposal and its attachments;
- **readers** (former invitees; every deputy once it is published) see the state changes and the *published*
  wording of sent replies, never a contact detail.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from consult.kernel.exceptions import NotAllowed
from consult.people.roles import Chamber, Role
from consult.people.selectors import Viewer, bureau_id_of, is_office, role_of
from proposals.masking import strip_contact_details
from proposals.models.choices import (
    AssignmentRole,
    AssignmentStatus,
    Audience,
    CoSignerStatus,
    ProposalKind,
    ReplyStatus,
    Status,
)

if TYPE_CHECKING:
    from consult.models import User
    from proposals.models import (
        Assignment,
        Attachment,
        Communication,
        CoSigner,
        Feedback,
        Proposal,
        ProposalEvent,
        Reply,
    )

HIDDEN_ASSIGNMENTS = frozenset({AssignmentStatus.RETURNED, AssignmentStatus.WITHDRAWN})
# the office of each chamber handles its kind: 人大 建议, 政协 提案
KIND_OF_OFFICE: dict[str, str] = {Chamber.NPC: ProposalKind.SUGGESTION, Chamber.CPPCC: ProposalKind.PROPOSAL}


# --- which proposals ---------------------------------------------------------------------------------------


def office_kinds(user: Viewer) -> frozenset[str] | None:
    """The kinds an office member handles: with ``SEPARATE_OFFICES`` a staff member of the 人大 office handles
    建议 and of the 政协 office 提案; None (both) for one combined office, administrators and staff of neither."""
    if not settings.SEPARATE_OFFICES or role_of(user) != Role.STAFF:
        return None
    office = getattr(user, "office", "")
    return frozenset({KIND_OF_OFFICE[office]}) if office in KIND_OF_OFFICE else None


def visible_proposals(proposals: QuerySet[Proposal], user: Viewer) -> QuerySet[Proposal]:
    """The proposals ``user`` may see at all (lists, pages, the API, search re-checks, notifications)."""
    if is_office(user):
        kinds = office_kinds(user)
        if kinds is not None:  # the other office's proposals are theirs to handle and to see
            proposals = proposals.filter(kind__in=kinds)
        return proposals.exclude(status=Status.DRAFT)  # a draft (暂存) is the proposer's own until submitted
    if role_of(user) == Role.DEPUTY:
        # Subqueries, not joins: no DISTINCT over whole rows (bodies included) on every list.
        from proposals.models import CoSigner, Proposal

        invited = CoSigner.objects.filter(proposal=OuterRef("pk"), deputy_id=user.pk)
        merged_in = Proposal.objects.filter(merged_into=OuterRef("pk")).filter(
            Q(proposer_id=user.pk) | Q(cosigners__deputy_id=user.pk, cosigners__status=CoSignerStatus.SIGNED)
        )
        return proposals.filter(
            Q(proposer_id=user.pk) | Exists(invited) | Exists(merged_in) | Q(published_at__isnull=False)
        )
    bureau_id = bureau_id_of(user)
    if bureau_id is None:
        return proposals.none()
    from proposals.models import Assignment

    assigned = Assignment.objects.filter(proposal=OuterRef("pk"), bureau_id=bureau_id)
    return proposals.filter(Exists(assigned)).exclude(status=Status.DRAFT)


def recipients_of(proposal: Proposal) -> set[int]:
    """Who receives the reply and may rate it: the proposer, signed co-signers, and the same for merged ones."""
    from proposals.models import Proposal

    group = Proposal.objects.filter(Q(pk=proposal.pk) | Q(merged_into=proposal))
    people = set(group.values_list("proposer_id", flat=True))
    signed = group.filter(cosigners__status=CoSignerStatus.SIGNED)
    people |= set(signed.values_list("cosigners__deputy_id", flat=True))
    return people


def who_may_see(user_ids: Iterable[int], proposal: Proposal) -> set[int]:
    """The people among ``user_ids`` who may see ``proposal``: notifications about it go to them only."""
    from consult.models import User
    from proposals.models import Proposal

    people = User.objects.filter(pk__in=set(user_ids), is_active=True).select_related(
        "expert_profile", "handler_profile"
    )
    one = Proposal.objects.filter(pk=proposal.pk)
    return {person.pk for person in people if visible_proposals(one, person).exists()}


def search_acl(
    *,
    status: str,
    proposer_id: int,
    invited: Iterable[int],
    recipients: Iterable[int],
    bureaus: Iterable[int],
    published: bool,
    holds_internal_replies: bool,
) -> list[str]:
    """Who may find a proposal's search document: everyone who may read *all* of the document.

    Before publication the document holds the sent replies' own wording; former invitees may see the proposal
    but not that wording, so they find it through their list, not search, until it is published.
    """
    keys = {f"user:{proposer_id}"}
    if status == Status.DRAFT:
        return sorted(keys | {f"user:{deputy_id}" for deputy_id in invited})  # an invitee sees the draft too
    keys.add("office")
    keys.update(f"user:{person}" for person in recipients)
    if not holds_internal_replies:
        keys.update(f"user:{deputy_id}" for deputy_id in invited)
    keys.update(f"bureau:{bureau_id}" for bureau_id in bureaus)
    if published:
        keys.add("public")
    return sorted(keys)


def search_keys(user: Viewer, *, mine: bool = False) -> list[str]:
    """The acl keys a searcher holds (the other half of ``search_acl``); ``mine``: only their own proposals."""
    if is_office(user):
        return ["office"]
    if role_of(user) == Role.DEPUTY:
        return [f"user:{user.pk}"] if mine else [f"user:{user.pk}", "public"]
    bureau_id = bureau_id_of(user)
    return [f"bureau:{bureau_id}"] if bureau_id is not None else []


# --- what of one proposal ----------------------------------------------------------------------------------


class Wording(Enum):
    """How a reply is shown to a viewer."""

    INTERNAL = "internal"  # the bureau's own text, with its contact person and phone
    PUBLISHED = "published"  # the published text only, no contact details


@dataclass(frozen=True)
class ProposalAccess:
    """What one viewer may see of, and do on, one proposal they can see (``visible_proposals``).

    Built by ``access_of``; uses prefetched co-signers and assignments when the caller has them.
    """

    user: Viewer
    office: bool
    bureau_id: int | None  # the viewer's bureau, when it is assigned to this proposal (any round)
    handler: bool  # acts for that bureau (承办人), not only reads (专家)
    proposer: bool
    cosign: CoSigner | None  # the viewer's own co-signature, any status
    recipient: bool  # receives the reply and may rate it
    lead_bureaus: frozenset[int]
    co_bureaus: frozenset[int]

    # --- capacities --------------------------------------------------------------

    @property
    def actor(self) -> User:
        """The signed-in viewer, for the forms a page offers (pages that offer forms require a login)."""
        return cast("User", self.user)

    @property
    def invitee(self) -> bool:
        return self.cosign is not None and self.cosign.status == CoSignerStatus.INVITED

    @property
    def party(self) -> bool:
        """Takes part in the proposal: sees its attachments and the proposals merged into it."""
        return self.office or self.bureau_id is not None or self.recipient or self.invitee

    @property
    def rater(self) -> bool:
        return self.recipient and role_of(self.user) == Role.DEPUTY

    def body_of(self, proposal: Proposal) -> str:
        """The proposal's text: readers (who see it only because it is published) get it without contact details."""
        return proposal.body if self.party else strip_contact_details(proposal.body)

    def of_bureau(self, bureau_id: int) -> bool:
        """The office and that bureau: return reasons, extension requests, review notes, internal notes."""
        return self.office or self.bureau_id == bureau_id

    # --- parts ----------------------------------------------------------------------

    def sees_assignment(self, assignment: Assignment) -> bool:
        return assignment.status not in HIDDEN_ASSIGNMENTS or self.of_bureau(assignment.bureau_id)

    def sees_opinion_of(self, assignment: Assignment) -> bool:
        """A co-handler's opinion (会办意见) goes to the lead bureau; the office and its author read it too."""
        return self.of_bureau(assignment.bureau_id) or self.bureau_id in self.lead_bureaus

    def wording_of(self, reply: Reply) -> Wording | None:
        """How ``reply`` is shown to this viewer, or None when it is not shown at all."""
        if self.office:
            return Wording.INTERNAL
        sent = reply.status == ReplyStatus.SENT
        if self.bureau_id is not None:
            own = reply.assignment.bureau_id == self.bureau_id
            to_sign = reply.status == ReplyStatus.SIGNOFF and self.bureau_id in self.co_bureaus
            if own or sent or to_sign:
                return Wording.INTERNAL
        elif self.recipient and sent:
            return Wording.INTERNAL
        if sent and reply.public_body:
            return Wording.PUBLISHED
        return None

    def sees_review_of(self, reply: Reply) -> bool:
        """The review note and the class the bureau proposed: the office and the replying bureau."""
        return self.of_bureau(reply.assignment.bureau_id)

    def sees_communication(self, communication: Communication) -> bool:
        """Communication records carry the deputy's phone: the office, the bureau that recorded it, recipients."""
        return self.office or self.recipient or self.bureau_id == communication.assignment.bureau_id

    def sees_feedback(self, feedback: Feedback) -> bool:
        return self.of_bureau(feedback.reply.assignment.bureau_id) or feedback.rater_id == self.user.pk

    def timeline(self, proposal: Proposal) -> QuerySet[ProposalEvent]:
        from proposals.models import ProposalEvent

        return self.events(ProposalEvent.objects.filter(proposal=proposal).select_related("actor", "bureau"))

    def events(self, events: QuerySet[ProposalEvent]) -> QuerySet[ProposalEvent]:
        """The timeline: the office all; a bureau the shared entries and its own notes; recipients the shared
        entries; readers only the state changes (working notes carry people's contact details)."""
        if self.office:
            return events
        if self.bureau_id is not None:
            return events.filter(Q(audience=Audience.PUBLIC) | Q(audience=Audience.BUREAU, bureau_id=self.bureau_id))
        public = events.filter(audience=Audience.PUBLIC)
        return public if self.recipient or self.proposer else public.exclude(to_status="")

    def replies(self, replies: Iterable[Reply]) -> list[tuple[Reply, Wording]]:
        shown = ((reply, self.wording_of(reply)) for reply in replies)
        return [(reply, wording) for reply, wording in shown if wording is not None]

    # --- actions (who; the state is the transition table's) -----------------------------------------------

    def acts_for(self, assignment: Assignment) -> bool:
        return self.handler and self.bureau_id == assignment.bureau_id


def access_of(
    user: Viewer,
    proposal: Proposal,
    *,
    cosigners: Iterable[CoSigner] | None = None,
    assignments: Iterable[Assignment] | None = None,
) -> ProposalAccess:
    """The viewer's access to ``proposal``. Pass the co-signers/assignments already read to save their queries."""
    cosigners = list(proposal.cosigners.all() if cosigners is None else cosigners)
    assignments = list(proposal.assignments.all() if assignments is None else assignments)
    bureau = bureau_id_of(user)
    assigned = {a.bureau_id for a in assignments}
    signed_in = user.is_authenticated
    return ProposalAccess(
        user=user,
        office=is_office(user),
        bureau_id=bureau if bureau in assigned else None,
        handler=role_of(user) == Role.HANDLER,
        proposer=signed_in and proposal.proposer_id == user.pk,
        cosign=next((c for c in cosigners if signed_in and c.deputy_id == user.pk), None),
        recipient=signed_in and role_of(user) == Role.DEPUTY and user.pk in recipients_of(proposal),
        lead_bureaus=frozenset(a.bureau_id for a in assignments if a.role == AssignmentRole.LEAD),
        co_bureaus=frozenset(a.bureau_id for a in assignments if a.role == AssignmentRole.CO),
    )


def timeline_for(user: Viewer, proposal: Proposal) -> QuerySet[ProposalEvent]:
    """The timeline of one (visible) proposal as ``user`` may see it."""
    return access_of(user, proposal).timeline(proposal)


def readable_attachment(user: Viewer, proposal_id: int, attachment_id: int) -> Attachment | None:
    """An attachment goes only to the proposal's parties, never through a public media URL."""
    from proposals.models import Attachment, Proposal

    proposal = Proposal.objects.visible_to(user).filter(pk=proposal_id).first()
    if proposal is None or not access_of(user, proposal).party:
        return None
    return Attachment.objects.filter(proposal=proposal, pk=attachment_id).first()


# --- refusals: the services' checks of who acts -------------------------------------------------------------


def require_office(actor: User, proposal: Proposal | None = None) -> None:
    """The office acts; with two offices (``SEPARATE_OFFICES``) only the office of the proposal's kind."""
    if not is_office(actor):
        raise NotAllowed(_("only the congress or CPPCC office may do this"))
    kinds = office_kinds(actor)
    if proposal is not None and kinds is not None and proposal.kind not in kinds:
        raise NotAllowed(_("this is for the other office to handle"))


def require_proposer(actor: User, proposal: Proposal) -> None:
    if proposal.proposer_id != actor.pk:
        raise NotAllowed(_("only the proposer may do this"))


def require_handler_of(actor: User, assignment: Assignment) -> None:
    """Only a handler (承办人) of the assigned bureau acts for it; experts answer consultations, not proposals."""
    if actor.role != Role.HANDLER or bureau_id_of(actor) != assignment.bureau_id:
        raise NotAllowed(_("only a handler of the assigned bureau may do this"))
