"""The persona matrix's world: one cast of people and one proposal in each state, made through the services.

Every private part carries a unique marker (``zq<part><nnn>x``) and every contact phone is a distinct
11-digit number (``139xxxxxxxx``), so a test can grep any page, JSON answer, search hit or notification
for what it shows. The oracle (``tests/access/test_matrix.py``) reads the facts back from the database and
decides from the rules document alone who may see which marker.

The cast (``PERSONAS``), on every proposal of the proposer ``P``:

- ``proposer`` P writes every proposal (except the two merged-in ones); ``cosigner`` S signs each of them;
  ``invitee`` I holds an open invitation on each; ``declined`` D declined on each;
- ``merged_proposer`` Mg wrote the two proposals merged into ``handling`` and ``published_worded``;
- ``other_deputy`` O (NPC) and ``other_member`` (CPPCC) have nothing to do with any of them;
- bureaus: B leads (``lead_handler``, ``lead_expert``), A co-handles (``co_handler``), C is the second
  separately-replying bureau of the 分办 proposals (``separate_handler``), U is never assigned
  (``unassigned_handler``, ``unassigned_expert``); ``staff`` and ``admin`` are the office.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from consult.models import Bureau, User
from consult.people.roles import Chamber, Role
from proposals import services
from proposals.models import Assignment, CoSigner, Proposal, ProposalSession, Reply
from search import indexing
from search.indexing import queue_change
from tests.factories import (
    BureauFactory,
    DeputyProfileFactory,
    ExpertProfileFactory,
    HandlerProfileFactory,
    UserFactory,
)

PERSONAS = (
    "proposer",
    "cosigner",
    "invitee",
    "declined",
    "merged_proposer",
    "other_deputy",
    "other_member",
    "lead_handler",
    "lead_expert",
    "co_handler",
    "separate_handler",
    "unassigned_handler",
    "unassigned_expert",
    "staff",
    "admin",
)

STATES = (
    "draft",
    "submitted",
    "registered",
    "assigned",
    "handling",
    "signoff",
    "review",
    "replied",
    "follow_up",
    "closed",
    "returned",
    "rehandling",
    "merged_into_handling",
    "merged_into_published",
    "published_worded",
    "published_default",
    "separate_review",
    "separate_published",
)

TITLE_WORD = "矩阵核查"  # every title of the world has it: searching it lists what a persona may find
MARKER_PATTERN = r"zq[a-z]+\d{3}x"
PHONE_PATTERN = r"139\d{8}"


class Marks:
    """Unique markers and phone numbers, handed out in order."""

    def __init__(self) -> None:
        self._n = itertools.count(1)
        self._phones = itertools.count(1)

    def __call__(self, part: str) -> str:
        return f"zq{part}{next(self._n):03d}x"

    def phone(self) -> str:
        return f"139{next(self._phones) + 52000000:08d}"


@dataclass
class World:
    people: dict[str, User]
    bureaus: dict[str, Bureau]
    proposals: dict[str, Proposal] = field(default_factory=dict)
    mark: Marks = field(default_factory=Marks)

    def __getitem__(self, persona: str) -> User:
        return self.people[persona]


def make_cast() -> World:
    bureaus = {
        code: BureauFactory(code=f"mx{code.lower()}", name=f"矩阵局{code}", full_name=f"海滨市矩阵局{code}")
        for code in ("A", "B", "C", "U")
    }

    def deputy(username: str, name: str, chamber: str = Chamber.NPC) -> User:
        return DeputyProfileFactory(user__username=username, user__full_name=name, chamber=chamber).user

    def handler(username: str, bureau: str) -> User:
        return HandlerProfileFactory(user__username=username, user__full_name=username, bureau=bureaus[bureau]).user

    def expert(username: str, bureau: str) -> User:
        return ExpertProfileFactory(user__username=username, user__full_name=username, bureau=bureaus[bureau]).user

    people = {
        "proposer": deputy("mx-proposer", "矩阵提出人"),
        "cosigner": deputy("mx-cosigner", "矩阵联名人"),
        "invitee": deputy("mx-invitee", "矩阵受邀人"),
        "declined": deputy("mx-declined", "矩阵谢绝人"),
        "merged_proposer": deputy("mx-merged", "矩阵并案人"),
        "other_deputy": deputy("mx-other", "矩阵旁人"),
        "other_member": deputy("mx-member", "矩阵委员", Chamber.CPPCC),
        "lead_handler": handler("mx-handler-b", "B"),
        "lead_expert": expert("mx-expert-b", "B"),
        "co_handler": handler("mx-handler-a", "A"),
        "separate_handler": handler("mx-handler-c", "C"),
        "unassigned_handler": handler("mx-handler-u", "U"),
        "unassigned_expert": expert("mx-expert-u", "U"),
        "staff": UserFactory(username="mx-staff", full_name="矩阵工作人员", role=Role.STAFF),
        "admin": UserFactory(
            username="mx-admin", full_name="矩阵管理员", role=Role.ADMIN, is_staff=True, is_superuser=True
        ),
    }
    for chamber, prefix in ((Chamber.NPC, "建"), (Chamber.CPPCC, "提")):
        ProposalSession.objects.get_or_create(
            chamber=chamber,
            year=2027,
            defaults={"name": f"矩阵会议{chamber}", "number_prefix": prefix, "is_open": True},
        )
    ProposalSession.objects.filter(year=2027).update(is_open=True)
    return World(people, bureaus)


# --- steps through the services --------------------------------------------------------------------


def new_draft(w: World, key: str, author: str = "proposer", *, attach: bool = True) -> Proposal:
    proposal = services.create_draft(
        actor=w[author],
        content=services.DraftContent(
            title=f"关于{TITLE_WORD}{key}事项的建议" + (f"（{w.mark('mtl')}）" if author == "merged_proposer" else ""),
            body=f"{w.mark('bdy')} 翠湖新村早晚高峰公交满载，建议增开区间车。",
            category="交通",
        ),
    )
    if attach:
        data = b"matrix attachment\n"
        services.attach(
            actor=w[author],
            proposal_id=proposal.pk,
            name=f"{w.mark('att')}.txt",
            size=len(data),
            stream=io.BytesIO(data),
        )
    return proposal


def with_cosigners(w: World, proposal: Proposal, *, keep_invitation_open: bool) -> None:
    """S signs, D declines; I is invited (still open only on the draft; see ``reopen_invitation``)."""
    p = w["proposer"]
    for persona in ("cosigner", "declined", "invitee"):
        services.invite_cosigner(actor=p, proposal_id=proposal.pk, deputy_id=w[persona].pk)
    services.cosign(actor=w["cosigner"], proposal_id=proposal.pk, sign=True)
    services.cosign(actor=w["declined"], proposal_id=proposal.pk, sign=False)
    if not keep_invitation_open:
        services.drop_cosigner(actor=p, proposal_id=proposal.pk, deputy_id=w["invitee"].pk)


def reopen_invitation(w: World, proposal: Proposal) -> None:
    """The services refuse to submit while an invitation is open, so the "invited co-signer" of a
    submitted proposal is made directly: the rules define the invitee's rights whatever the state."""
    CoSigner.objects.filter(proposal=proposal, deputy=w["invitee"]).update(
        status="invited", sign_by=timezone.now() + timedelta(days=7), responded_at=None
    )
    queue_change("proposal", proposal.pk)


def submitted(w: World, key: str) -> Proposal:
    proposal = new_draft(w, key)
    with_cosigners(w, proposal, keep_invitation_open=False)
    services.submit(actor=w["proposer"], proposal_id=proposal.pk)
    reopen_invitation(w, proposal)
    return proposal


def registered(w: World, key: str) -> Proposal:
    proposal = submitted(w, key)
    services.register(actor=w["staff"], proposal_id=proposal.pk)
    return proposal


def assigned(w: World, key: str, *, separate: bool = False) -> Proposal:
    proposal = registered(w, key)
    b = w.bureaus
    if separate:
        services.assign(actor=w["staff"], proposal_id=proposal.pk, separate=[b["B"].pk, b["C"].pk])
    else:
        services.assign(actor=w["staff"], proposal_id=proposal.pk, lead=b["B"].pk, co=[b["A"].pk])
    return proposal


def assignment(proposal: Proposal, bureau: Bureau) -> Assignment:
    found = proposal.assignments.filter(bureau=bureau, status__in=["pending", "accepted"]).order_by("-round").first()
    assert found is not None, f"{bureau.name} holds no open assignment on {proposal.title}"
    return found


def accept_all(w: World, proposal: Proposal) -> None:
    for persona, code in (("lead_handler", "B"), ("co_handler", "A"), ("separate_handler", "C")):
        open_one = proposal.assignments.filter(bureau=w.bureaus[code], status="pending").first()
        if open_one is not None:
            services.accept_assignment(actor=w[persona], proposal_id=proposal.pk, assignment_id=open_one.pk)


def communicate(w: World, proposal: Proposal, persona: str, code: str) -> None:
    services.record_communication(
        actor=w[persona],
        proposal_id=proposal.pk,
        assignment_id=assignment(proposal, w.bureaus[code]).pk,
        channel="phone",
        occurred_on=timezone.localdate(),
        summary=f"电话联系代表（手机{w.mark.phone()}），{w.mark('com')} 商定现场查看。",
    )


def opinion(w: World, proposal: Proposal) -> None:
    services.submit_opinion(
        actor=w["co_handler"],
        proposal_id=proposal.pk,
        assignment_id=assignment(proposal, w.bureaus["A"]).pk,
        body=f"{w.mark('opn')} 同意增开区间车。",
    )


def draft_reply(w: World, proposal: Proposal, persona: str, code: str, outcome_class: str = "A") -> Reply:
    phone = w.mark.phone()
    return services.draft_reply(
        actor=w[persona],
        proposal_id=proposal.pk,
        assignment_id=assignment(proposal, w.bureaus[code]).pk,
        outcome_class=outcome_class,
        body=f"{w.mark('rpl')} 已增开区间车。联系人电话{phone}。",
        contact_person=w.mark("cp"),
        contact_phone=phone,
    )


def submit_reply(w: World, proposal: Proposal, persona: str, code: str) -> None:
    services.submit_reply(
        actor=w[persona], proposal_id=proposal.pk, assignment_id=assignment(proposal, w.bureaus[code]).pk
    )


def sign_off(w: World, proposal: Proposal, reply: Reply) -> None:
    services.sign_off_reply(
        actor=w["co_handler"],
        proposal_id=proposal.pk,
        reply_id=reply.pk,
        assignment_id=assignment(proposal, w.bureaus["A"]).pk,
    )


def review(w: World, proposal: Proposal, reply: Reply, *, approve: bool = True, outcome_class: str = "") -> None:
    services.review_reply(
        actor=w["staff"],
        proposal_id=proposal.pk,
        reply_id=reply.pk,
        approve=approve,
        outcome_class=outcome_class,
        note=w.mark("rvn"),
    )


def rate(w: World, proposal: Proposal, reply: Reply, persona: str, result: str = "satisfied") -> None:
    services.rate_reply(
        actor=w[persona],
        proposal_id=proposal.pk,
        reply_id=reply.pk,
        contact="satisfied",
        attitude="satisfied",
        result=result,
        comment=f"{w.mark('rtc')} 评价意见。",
    )


def extensions(w: World, proposal: Proposal) -> None:
    """B asks for more time twice: the first is refused with a note, the second waits."""
    lead = assignment(proposal, w.bureaus["B"])
    assert lead.reply_due is not None
    for days, decide in ((10, True), (20, False)):
        request = services.request_extension(
            actor=w["lead_handler"],
            proposal_id=proposal.pk,
            assignment_id=lead.pk,
            requested_due=lead.reply_due + timedelta(days=days),
            reason=f"{w.mark('ext')} 需要协调用地。",
        )
        if decide:
            services.decide_extension(
                actor=w["staff"], proposal_id=proposal.pk, request_id=request.pk, approve=False, note=w.mark("dcn")
            )


def handled(w: World, key: str) -> Proposal:
    """Lead B and co A accepted; both recorded a communication; A gave its opinion; extensions."""
    proposal = assigned(w, key)
    accept_all(w, proposal)
    communicate(w, proposal, "lead_handler", "B")
    communicate(w, proposal, "co_handler", "A")
    opinion(w, proposal)
    extensions(w, proposal)
    return proposal


def lead_reply_in_signoff(w: World, key: str, outcome_class: str = "B") -> tuple[Proposal, Reply]:
    proposal = handled(w, key)
    reply = draft_reply(w, proposal, "lead_handler", "B", outcome_class)
    submit_reply(w, proposal, "lead_handler", "B")
    return proposal, reply


def lead_reply_in_review(w: World, key: str, outcome_class: str = "B") -> tuple[Proposal, Reply]:
    proposal, reply = lead_reply_in_signoff(w, key, outcome_class)
    sign_off(w, proposal, reply)
    return proposal, reply


def lead_reply_sent(w: World, key: str, outcome_class: str = "A", merge: str = "") -> tuple[Proposal, Reply]:
    """Sent with the office's class (the bureau proposed B, the office may keep or change it)."""
    proposal = handled(w, key)
    if merge:
        merged_into(w, proposal, merge)
    reply = draft_reply(w, proposal, "lead_handler", "B", "B")
    submit_reply(w, proposal, "lead_handler", "B")
    sign_off(w, proposal, reply)
    review(w, proposal, reply, outcome_class=outcome_class)
    return proposal, reply


def merged_into(w: World, target: Proposal, key: str) -> Proposal:
    """Mg's proposal (its own attachment, a marker in its title) merged into ``target``; kept as ``key``."""
    merged = new_draft(w, key, author="merged_proposer")
    services.submit(actor=w["merged_proposer"], proposal_id=merged.pk)
    services.merge(actor=w["staff"], proposal_id=merged.pk, into_id=target.pk)
    w.proposals[key] = merged
    return merged


def publish(w: World, proposal: Proposal, reply: Reply, *, worded: bool) -> None:
    wording = f"{w.mark('pub')} 已增开区间车，详见交通委网站。" if worded else ""
    services.publish(actor=w["staff"], proposal_id=proposal.pk, reply_id=reply.pk, public_body=wording)


# --- the world ---------------------------------------------------------------------------------------


def build_world() -> World:
    w = make_cast()
    p = w.proposals

    draft = new_draft(w, "draft")
    with_cosigners(w, draft, keep_invitation_open=True)
    p["draft"] = draft
    p["submitted"] = submitted(w, "submitted")
    p["registered"] = registered(w, "registered")
    p["assigned"] = assigned(w, "assigned")

    # handling: the lead's reply was returned for revision by the office (a review note on a draft)
    handling = handled(w, "handling")
    merged_into(w, handling, "merged_into_handling")
    reply = draft_reply(w, handling, "lead_handler", "B")
    submit_reply(w, handling, "lead_handler", "B")
    sign_off(w, handling, reply)
    review(w, handling, reply, approve=False)
    p["handling"] = handling

    p["signoff"], _ = lead_reply_in_signoff(w, "signoff")
    p["review"], _ = lead_reply_in_review(w, "review")

    replied, reply = lead_reply_sent(w, "replied")
    rate(w, replied, reply, "proposer")  # the co-signer has not rated yet: still replied
    p["replied"] = replied

    follow_up, reply = lead_reply_sent(w, "follow_up", "B")
    rate(w, follow_up, reply, "proposer")
    rate(w, follow_up, reply, "cosigner")
    p["follow_up"] = follow_up

    closed, reply = lead_reply_sent(w, "closed", "C")
    rate(w, closed, reply, "proposer")
    rate(w, closed, reply, "cosigner")
    services.send_follow_up_reply(
        actor=w["lead_handler"],
        proposal_id=closed.pk,
        assignment_id=reply.assignment_id,
        body=f"{w.mark('fup')} 区间车已开通。",
    )
    p["closed"] = closed

    # returned: co-handler A returns its part; C is added as a co-handler and withdrawn by the office
    returned = assigned(w, "returned")
    services.accept_assignment(
        actor=w["lead_handler"], proposal_id=returned.pk, assignment_id=assignment(returned, w.bureaus["B"]).pk
    )
    services.return_assignment(
        actor=w["co_handler"],
        proposal_id=returned.pk,
        assignment_id=assignment(returned, w.bureaus["A"]).pk,
        reason=f"{w.mark('ret')} 不属我委职责。",
    )
    services.assign(actor=w["staff"], proposal_id=returned.pk, co=[w.bureaus["C"].pk])
    services.withdraw_assignment(
        actor=w["staff"],
        proposal_id=returned.pk,
        assignment_id=assignment(returned, w.bureaus["C"]).pk,
        reason=f"{w.mark('wdr')} 改由他委会办。",
    )
    p["returned"] = returned

    # rehandling: unsatisfied, confirmed; the lead drafts its second reply
    rehandling, reply = lead_reply_sent(w, "rehandling")
    rate(w, rehandling, reply, "proposer", result="unsatisfied")
    services.review_dissatisfaction(actor=w["staff"], proposal_id=rehandling.pk, confirm=True, reason="确认不满意")
    draft_reply(w, rehandling, "lead_handler", "B")
    p["rehandling"] = rehandling

    worded, reply = lead_reply_sent(w, "published_worded", merge="merged_into_published")
    rate(w, worded, reply, "proposer")
    publish(w, worded, reply, worded=True)
    p["published_worded"] = worded

    default, reply = lead_reply_sent(w, "published_default")
    publish(w, default, reply, worded=False)
    p["published_default"] = default

    # 分办: C's reply sent, B's under review
    separate = assigned(w, "separate_review", separate=True)
    accept_all(w, separate)
    communicate(w, separate, "lead_handler", "B")
    communicate(w, separate, "separate_handler", "C")
    reply_c = draft_reply(w, separate, "separate_handler", "C")
    submit_reply(w, separate, "separate_handler", "C")
    review(w, separate, reply_c)
    draft_reply(w, separate, "lead_handler", "B")
    submit_reply(w, separate, "lead_handler", "B")
    p["separate_review"] = separate

    # 分办 published: both sent, only B's reply published (with its wording); C's never published
    separate = assigned(w, "separate_published", separate=True)
    accept_all(w, separate)
    communicate(w, separate, "lead_handler", "B")
    communicate(w, separate, "separate_handler", "C")
    replies = {}
    for persona, code in (("lead_handler", "B"), ("separate_handler", "C")):
        replies[code] = draft_reply(w, separate, persona, code)
        submit_reply(w, separate, persona, code)
        review(w, separate, replies[code])
    publish(w, separate, replies["B"], worded=True)
    p["separate_published"] = separate

    indexing.drain()
    w.proposals = {key: Proposal.objects.get(pk=p[key].pk) for key in STATES}
    statuses = {key: proposal.status for key, proposal in w.proposals.items()}
    assert statuses == EXPECTED_STATUS, statuses
    return w


EXPECTED_STATUS = {
    "draft": "draft",
    "submitted": "submitted",
    "registered": "registered",
    "assigned": "assigned",
    "handling": "handling",
    "signoff": "reply_review",
    "review": "reply_review",
    "replied": "replied",
    "follow_up": "follow_up",
    "closed": "closed",
    "returned": "handling",
    "rehandling": "rehandling",
    "merged_into_handling": "merged",
    "merged_into_published": "merged",
    "published_worded": "replied",
    "published_default": "replied",
    "separate_review": "reply_review",
    "separate_published": "replied",
}
